// The programs an ONNX export serializes, built by the existing transforms exactly as the module
// export (aot/export.ts) builds them: trace at argument specs and optimize; the split VJP is
// transforms/vjp.ts's `vjpSplit` (forward: outputs + residuals; backward: residuals + output
// cotangents -> argument cotangents); the JVP program takes primals then tangents.

import { isFloat } from "../core/dtype.js";
import { ArgumentError } from "../core/errors.js";
import type { Program } from "../ir/program.js";
import { optimize } from "../passes/pipeline.js";
import { type Traced, traceAtSpecs } from "../aot/export.js";
import { jvpProgram } from "../transforms/program.js";
import { vjpSplit } from "../transforms/vjp.js";

export type TracedSpecs = Traced;
export { traceAtSpecs };

export interface SplitVjp {
  forward: Program;
  backward: Program;
  numOutputs: number;
  numResiduals: number;
}

/** forward(args) -> [outs, residuals]; backward(residuals, outBars) -> argBars (float args). */
export function splitVjp(t: TracedSpecs, what: string): SplitVjp {
  const mask = t.inAvals.map((a) => isFloat(a.dtype));
  if (!mask.every(Boolean)) throw new ArgumentError(`${what}: every argument must be float (cotangents are returned for all of them)`);
  const split = vjpSplit(t.program, mask);
  if (split.outZero.some(Boolean)) throw new ArgumentError(`${what}: some outputs do not depend on the differentiable arguments`);
  return { forward: optimize(split.forward), backward: optimize(split.backward), numOutputs: split.numOutputs, numResiduals: split.numResiduals };
}

/** jvp(primals..., tangents...) -> [outs..., outTangents...] */
export function jvpOf(t: TracedSpecs, what: string): Program {
  const mask = t.inAvals.map((a) => isFloat(a.dtype));
  if (!mask.every(Boolean)) throw new ArgumentError(`${what}: every argument must be float (tangents are taken for all of them)`);
  return optimize(jvpProgram(t.program, mask, t.program.outputs.map(() => true)).program);
}
