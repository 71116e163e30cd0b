// The programs an ONNX export serializes, built by the existing transforms exactly as the module
// export (aot/export.ts) builds them: trace at argument specs and optimize; the split VJP is
// partial evaluation of the JVP program (forward: outputs + residuals) and the transpose of its
// unknown part (backward: residuals + output cotangents -> argument cotangents); the JVP program
// takes primals then tangents.

import type { ShapedArray } from "../core/aval.js";
import { isFloat } from "../core/dtype.js";
import { ArgumentError } from "../core/errors.js";
import { ArgSpec } from "../core/spec.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import type { Program } from "../ir/program.js";
import { optimize } from "../passes/pipeline.js";
import { traceFlat } from "../trace/make-program.js";
import { jvpProgram, partialEvalProgram, transposedProgram } from "../transforms/program.js";

export interface TracedSpecs {
  program: Program;
  inDef: TreeDef;
  inAvals: ShapedArray[];
  outTree: TreeDef;
}

export function traceAtSpecs(f: (...a: any[]) => unknown, argSpecs: unknown[], what: string): TracedSpecs {
  if (!Array.isArray(argSpecs)) throw new ArgumentError(`${what}: argSpecs must be an array (one entry per argument)`);
  const [leaves, inDef] = flatten(argSpecs);
  const inAvals = leaves.map((l, i) => {
    if (!(l instanceof ArgSpec)) throw new ArgumentError(`${what}: argument leaf ${i} is not a spec(dtype, shape)`);
    return l.aval;
  });
  const t = traceFlat((xs) => f(...(unflatten(inDef, xs) as unknown[])), inAvals, what);
  if (t.tracerConsts.length) throw new ArgumentError(`${what}: the function closes over values of an enclosing transformation`);
  return { program: optimize(t.program), inDef, inAvals, outTree: t.outTree };
}

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
