// The programs an ONNX export serializes, built by the existing transforms exactly as the module
// export (aot/export.ts) builds them: trace at argument specs and optimize; the split VJP is
// partial evaluation of the JVP program (forward: outputs + residuals) and the transpose of its
// unknown part (backward: residuals + output cotangents -> argument cotangents); the JVP program
// takes primals then tangents.

import { isFloat } from "../core/dtype.js";
import { ArgumentError } from "../core/errors.js";
import type { Program } from "../ir/program.js";
import { optimize } from "../passes/pipeline.js";
import { type Traced, traceAtSpecs } from "../aot/export.js";
import { jvpProgram, partialEvalProgram, transposedProgram } from "../transforms/program.js";

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
  const n = t.inAvals.length;
  const jp = jvpProgram(t.program, mask);
  if (jp.outNonZero.some((z) => !z)) throw new ArgumentError(`${what}: some outputs do not depend on the differentiable arguments`);
  const pe = partialEvalProgram(jp.program, [...new Array(n).fill(false), ...mask.map(() => true)]);
  const nOut = t.program.outputs.length;
  if (pe.outUnknown.slice(0, nOut).some(Boolean)) throw new ArgumentError(`${what}: a primal output depends on a tangent`);
  const forward = optimize(pe.known);
  const linear = pe.unknown.inputs.map((_, i) => i >= pe.numResiduals);
  const backward = optimize(transposedProgram(pe.unknown, linear));
  return { forward, backward, numOutputs: nOut, numResiduals: pe.numResiduals };
}

/** jvp(primals..., tangents...) -> [outs..., outTangents...] */
export function jvpOf(t: TracedSpecs, what: string): Program {
  const mask = t.inAvals.map((a) => isFloat(a.dtype));
  if (!mask.every(Boolean)) throw new ArgumentError(`${what}: every argument must be float (tangents are taken for all of them)`);
  return optimize(jvpProgram(t.program, mask, t.program.outputs.map(() => true)).program);
}
