// The programs an ONNX export serializes, built by the existing transforms exactly as the module
// export (aot/export.ts) builds them: trace at argument specs and optimize; the split VJP is
// partial evaluation of the JVP program (forward: outputs + residuals) and the transpose of its
// unknown part (backward: residuals + output cotangents -> argument cotangents); the JVP program
// takes primals then tangents. As with grad's argnums, only float arguments are differentiated:
// int32 and bool arguments are inputs of the forward (and JVP) program but get no tangent input
// and no cotangent output (`mask` says which arguments do).

import { isFloat } from "../core/dtype.js";
import { ArgumentError } from "../core/errors.js";
import type { Program } from "../ir/program.js";
import { optimize } from "../passes/pipeline.js";
import { type Traced, traceAtSpecs } from "../aot/export.js";
import { jvpProgram, partialEvalProgram, transposedProgram } from "../transforms/program.js";

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
  const n = t.inAvals.length;
  const jp = jvpProgram(t.program, mask);
  if (jp.outNonZero.some((z) => !z)) {
    const which = jp.outNonZero.flatMap((z, i) => (z ? [] : [`${i} (${t.program.outAvals[i]})`]));
    throw new ArgumentError(`${what}: output${which.length > 1 ? "s" : ""} ${which.join(", ")} do${which.length > 1 ? "" : "es"} not depend on the float arguments, so they have no cotangent`);
  }
  const pe = partialEvalProgram(jp.program, [...new Array(n).fill(false), ...mask.filter(Boolean).map(() => true)]);
  const nOut = t.program.outputs.length;
  if (pe.outUnknown.slice(0, nOut).some(Boolean)) throw new ArgumentError(`${what}: a primal output depends on a tangent`);
  const forward = optimize(pe.known);
  const linear = pe.unknown.inputs.map((_, i) => i >= pe.numResiduals);
  const backward = optimize(transposedProgram(pe.unknown, linear));
  return { mask, forward, backward, numOutputs: nOut, numResiduals: pe.numResiduals };
}

/** jvp(primals..., tangents of the float primals...) -> [outs..., outTangents...] */
export function jvpOf(t: TracedSpecs, what: string): { program: Program; mask: boolean[] } {
  const mask = floatMask(t, what);
  return { program: optimize(jvpProgram(t.program, mask, t.program.outputs.map(() => true)).program), mask };
}
