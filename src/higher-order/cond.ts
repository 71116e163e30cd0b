// cond: run one of several branch Programs chosen by an int32 index (operands: [index, ...args]).
// All branches share input and output types. JVP and partial evaluation make every branch agree
// on which outputs have tangents / are unknown; a batched index turns into running every branch
// and selecting per example; the transpose is a cond of transposed branches.

import { DTypeError, ShapeError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import type { Program } from "../ir/program.js";
import { runProgram } from "./runner.js";
import { scalar } from "../rules/scalar.js";
import { zerosLike } from "../prims/rule-helpers.js";
import { Zero, isLinearIn, isZero } from "../rules/zero.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { jvpProgram, partialEvalProgram, transposedProgram, vmapProgram } from "../transforms/program.js";
import { compare, select } from "../prims/compare.js";
import { definePrimitive, type Primitive } from "../prims/primitive.js";
import { broadcastInDim, moveAxis } from "../prims/shape.js";
import { convert } from "../prims/unary.js";

export interface CondParams {
  branches: Program[];
}

const union = (ms: boolean[][]) => ms[0]!.map((_, i) => ms.some((m) => m[i]));

export const condP: Primitive<CondParams> = definePrimitive<CondParams>({
  name: "cond",
  traits: { higherOrder: true },
  linear: true,
  abstractEval: ([index, ...ops], { branches }) => {
    if (index!.dtype !== "int32" || index!.ndim !== 0) throw new DTypeError(`cond: the branch index must be an int32 scalar, got ${index}`);
    const want = branches[0]!.inAvals;
    if (ops.length !== want.length) throw new ShapeError(`cond: got ${ops.length} operands, the branches take ${want.length}`);
    ops.forEach((a, i) => {
      if (!a.strong().equals(want[i]!.strong())) throw new ShapeError(`cond: operand ${i} is ${a}, the branches expect ${want[i]}`);
    });
    return branches[0]!.outAvals.map((a) => a.strong());
  },
  impl: ([index, ...ops], { branches }) => {
    const i = Math.min(Math.max(index!.data[0]!, 0), branches.length - 1);
    return runProgram(branches[i]!, ops).map((t) => t.data);
  },
  jvp: ([index, ...ops], [, ...ts], { branches }) => {
    const nz = ts.map((t) => !isZero(t));
    const outNz = union(branches.map((b) => jvpProgram(b, nz).outNonZero));
    const jb = branches.map((b) => jvpProgram(b, nz, outNz).program);
    const outs = condP.bind([index!, ...ops, ...(ts.filter((t) => !isZero(t)) as Tensor[])], { branches: jb });
    const n = branches[0]!.outputs.length;
    let k = n;
    const avals = branches[0]!.outAvals;
    return [outs.slice(0, n), outNz.map((z, i) => (z ? outs[k++]! : new Zero(avals[i]!.strong())))];
  },
  batch: ([index, ...ops], [di, ...dims], { branches }, size) => {
    if (di === null) {
      const bb = branches.map((b) => vmapProgram(b, dims, size));
      const outs = condP.bind([index!, ...ops], { branches: bb });
      return [outs, outs.map(() => 0)];
    }
    // a different branch per example: run them all, then pick per example
    const idx = moveAxis(index!, di!, 0);
    const results = branches.map((b) => evalProgram(vmapProgram(b, dims, size), ops));
    const outs = results[results.length - 1]!.map((_, j) => {
      let acc = results[results.length - 1]![j]!;
      for (let k = results.length - 2; k >= 0; k--) {
        const y = results[k]![j]!;
        const pick = broadcastInDim(compare(idx, scalar(k, "int32"), "eq"), y.aval.shape, [0]);
        acc = select(pick, y, acc);
      }
      return acc;
    });
    return [outs, outs.map(() => 0)];
  },
  transpose: (cts, [index, ...ops], { branches }) => {
    const linear = ops.map(isLinearIn);
    const tb = branches.map((b) => transposedProgram(b, linear));
    const nonLin = ops.filter((x) => !isLinearIn(x)) as Tensor[];
    const avals = branches[0]!.outAvals;
    const res = condP.bind([index as Tensor, ...nonLin, ...cts.map((c, i) => (isZero(c) ? zerosLike(avals[i]!.strong()) : c))], {
      branches: tb,
    });
    let k = 0;
    return [null, ...ops.map((x) => (isLinearIn(x) ? res[k++]! : null))];
  },
  partialEval: (ctx, [index, ...ops], { branches }) => {
    if (ctx.isUnknown(index!)) throw new DTypeError("cond: the branch index cannot depend on a differentiated value");
    const uk = ops.map((x) => ctx.isUnknown(x));
    const outUk = union(branches.map((b) => partialEvalProgram(b, uk).outUnknown));
    const pes = branches.map((b) => partialEvalProgram(b, uk, outUk));
    // every known branch outputs the residuals of all branches (zeros in the others' slots)
    const resAvals = pes.map((pe) => pe.known.outAvals.slice(pe.known.outputs.length - pe.numResiduals));
    const knownIns = ops.filter((_, i) => !uk[i]);
    const known = pes.map((pe, k) =>
      traceFlat(
        (xs) => {
          const outs = evalProgram(pe.known, xs);
          const nOut = outs.length - pe.numResiduals;
          const slots = resAvals.flatMap((as, j) => (j === k ? outs.slice(nOut) : as.map((a) => zerosLike(a))));
          return [...outs.slice(0, nOut), ...slots];
        },
        knownIns.map((x) => x.aval),
        "cond partial eval",
      ).program,
    );
    const knownOuts = ctx.known(() => condP.bind([index!, ...knownIns], { branches: known }));
    const nKnownOut = outUk.filter((u) => !u).length;
    const residuals = knownOuts.slice(nKnownOut);
    const ukIns = ops.filter((_, i) => uk[i]);
    const offsets = resAvals.map((_, k) => resAvals.slice(0, k).reduce((n, a) => n + a.length, 0));
    const unknown = pes.map((pe, k) =>
      traceFlat(
        (xs) => {
          const res = xs.slice(offsets[k]!, offsets[k]! + pe.numResiduals);
          return evalProgram(pe.unknown, [...res, ...xs.slice(residuals.length)]);
        },
        [...residuals.map((r) => r.aval), ...ukIns.map((x) => x.aval)],
        "cond partial eval",
      ).program,
    );
    const ukOuts = ctx.stage(condP, [index!, ...residuals, ...ukIns], { branches: unknown });
    let a = 0;
    let b = 0;
    return outUk.map((u) => (u ? ukOuts[b++]! : knownOuts[a++]!));
  },
});

/** An int32 branch index from a bool predicate (true -> 1). */
export function predicateIndex(pred: Tensor): Tensor {
  if (pred.aval.ndim !== 0) throw new ShapeError(`cond: the predicate must be a scalar, got ${pred.aval}`);
  return pred.aval.dtype === "int32" ? pred : condIndexOf(pred);
}

function condIndexOf(pred: Tensor): Tensor {
  const b = pred.aval.dtype === "bool" ? pred : compare(pred, scalar(0, pred.aval.dtype), "ne");
  return convert(b, "int32");
}
