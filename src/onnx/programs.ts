// The programs an ONNX export serializes, built by the existing transforms exactly as the module
// export (aot/export.ts) builds them: trace at argument specs and optimize; the split VJP is
// transforms/vjp.ts's `vjpSplit` (forward: outputs + residuals; backward: residuals + output
// cotangents -> argument cotangents); the JVP program takes primals then tangents. As with grad's
// argnums, only float arguments are differentiated: int32 and bool arguments are inputs of the
// forward (and JVP) program but get no tangent input and no cotangent output (`mask` says which
// arguments do).

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
  /** per argument leaf: whether it is float (has a cotangent output in backward) */
  mask: boolean[];
  forward: Program;
  backward: Program;
  numOutputs: number;
  numResiduals: number;
}

/** Which argument leaves are differentiated (float); an error when none is. */
export function floatMask(t: TracedSpecs, what: string): boolean[] {
  const mask = t.inAvals.map((a) => isFloat(a.dtype));
  if (!mask.some(Boolean)) {
    throw new ArgumentError(`${what}: no float argument to differentiate (arguments are ${t.inAvals.map((a) => a.dtype).join(", ") || "none"}); int32 and bool arguments get no (co)tangent`);
  }
  return mask;
}

/** forward(args) -> [outs, residuals]; backward(residuals, outBars) -> argBars (float args only). */
export function splitVjp(t: TracedSpecs, what: string): SplitVjp {
  const mask = floatMask(t, what);
  const split = vjpSplit(t.program, mask);
  if (split.outZero.some(Boolean)) {
    const which = split.outZero.flatMap((z, i) => (z ? [`${i} (${t.program.outAvals[i]})`] : []));
    throw new ArgumentError(`${what}: output${which.length > 1 ? "s" : ""} ${which.join(", ")} do${which.length > 1 ? "" : "es"} not depend on the float arguments, so they have no cotangent`);
  }
  return { mask, forward: optimize(split.forward), backward: optimize(split.backward), numOutputs: split.numOutputs, numResiduals: split.numResiduals };
}

/** jvp(primals..., tangents of the float primals...) -> [outs..., outTangents...] */
export function jvpOf(t: TracedSpecs, what: string): { program: Program; mask: boolean[] } {
  const mask = floatMask(t, what);
  return { program: optimize(jvpProgram(t.program, mask, t.program.outputs.map(() => true)).program), mask };
}
