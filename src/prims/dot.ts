// dot_general: the one contraction primitive (matmul, batched matmul, inner/outer products).
// Output axes are [batch..., lhs free..., rhs free...]. It is bilinear; its transposes are again
// dot_generals with rearranged dimension numbers, so reverse mode never builds explicit
// transposed copies of a matrix for a plain matmul.

import { ShapedArray } from "../core/aval.js";
import { type TypedArray, allocArray, isFloat } from "../core/dtype.js";
import { DTypeError, InternalError, ShapeError } from "../core/errors.js";
import { concreteSize, dimEq, stridesOf } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { addTangents } from "./rule-helpers.js";
import { Zero, isLinearIn, isZero } from "../rules/zero.js";
import { definePrimitive, type Primitive } from "./primitive.js";
import { permuteData } from "./ref/strided.js";
import { matmul } from "./ref/matmul.js";
import { moveAxis, transpose } from "./shape.js";

export interface DotParams {
  lhsContract: number[];
  rhsContract: number[];
  lhsBatch: number[];
  rhsBatch: number[];
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const freeAxes = (ndim: number, contract: number[], batch: number[]) =>
  range(ndim).filter((i) => !contract.includes(i) && !batch.includes(i));

function dotAval([x, y]: ShapedArray[], p: DotParams): ShapedArray {
  if (x!.dtype !== y!.dtype) throw new DTypeError(`dot_general: operand dtypes ${x!.dtype} and ${y!.dtype} differ`);
  if (x!.dtype === "bool") throw new DTypeError("dot_general: bool operands are not supported");
  const fail = (why: string) =>
    new ShapeError(
      `dot_general: cannot contract ${x} (axes [${p.lhsContract}], batch [${p.lhsBatch}]) with ${y} ` +
        `(axes [${p.rhsContract}], batch [${p.rhsBatch}]): ${why}`,
    );
  if (p.lhsContract.length !== p.rhsContract.length) throw fail("different numbers of contracting axes");
  if (p.lhsBatch.length !== p.rhsBatch.length) throw fail("different numbers of batch axes");
  const all = [...p.lhsContract, ...p.lhsBatch];
  const allR = [...p.rhsContract, ...p.rhsBatch];
  if (all.some((a) => a < 0 || a >= x!.ndim) || allR.some((a) => a < 0 || a >= y!.ndim)) throw fail("axis out of range");
  if (new Set(all).size !== all.length || new Set(allR).size !== allR.length) throw fail("repeated axis");
  p.lhsContract.forEach((a, i) => {
    if (!dimEq(x!.shape[a]!, y!.shape[p.rhsContract[i]!]!)) {
      throw fail(`contracting sizes ${x!.shape[a]} and ${y!.shape[p.rhsContract[i]!]} differ`);
    }
  });
  p.lhsBatch.forEach((a, i) => {
    if (!dimEq(x!.shape[a]!, y!.shape[p.rhsBatch[i]!]!)) throw fail(`batch sizes differ`);
  });
  const shape = [
    ...p.lhsBatch.map((a) => x!.shape[a]!),
    ...freeAxes(x!.ndim, p.lhsContract, p.lhsBatch).map((a) => x!.shape[a]!),
    ...freeAxes(y!.ndim, p.rhsContract, p.rhsBatch).map((a) => y!.shape[a]!),
  ];
  return new ShapedArray(shape, x!.dtype, x!.weak && y!.weak);
}

/** Strides of a group of axes read as one flattened axis, or null when they do not flatten. */
function groupStride(shape: number[], strides: number[], axes: number[]): number | null {
  const live = axes.filter((a) => shape[a] !== 1);
  for (let i = 0; i + 1 < live.length; i++) {
    if (strides[live[i]!] !== strides[live[i + 1]!]! * shape[live[i + 1]!]!) return null;
  }
  return live.length ? strides[live[live.length - 1]!]! : 0;
}

/** An operand as (data, offset, strides of [batch, rows, cols]), permuting a copy only if needed. */
function asMatrix(x: Tensor, batch: number[], rows: number[], cols: number[]): { data: TypedArray; strides: [number, number, number] } {
  const s = x.aval.shape as number[];
  const st = stridesOf(s);
  const g = [batch, rows, cols].map((axes) => groupStride(s, st, axes));
  if (g.every((v) => v !== null)) return { data: x.data, strides: g as [number, number, number] };
  const perm = [...batch, ...rows, ...cols];
  const out = allocArray(x.dtype, x.data.length);
  permuteData(x.data, s, perm, out);
  const ps = perm.map((p) => s[p]!);
  const pst = stridesOf(ps);
  const nb = batch.length;
  const nr = rows.length;
  const pick = (from: number, n: number) => (n ? pst[from + n - 1]! : 0);
  return { data: out, strides: [pick(0, nb), pick(nb, nr), pick(nb + nr, cols.length)] };
}

function dotImpl([x, y]: Tensor[], p: DotParams, [o]: ShapedArray[]) {
  const xs = x!.aval.shape as number[];
  const ys = y!.aval.shape as number[];
  const xFree = freeAxes(xs.length, p.lhsContract, p.lhsBatch);
  const yFree = freeAxes(ys.length, p.rhsContract, p.rhsBatch);
  const B = concreteSize(p.lhsBatch.map((a) => xs[a]!));
  const M = concreteSize(xFree.map((a) => xs[a]!));
  const K = concreteSize(p.lhsContract.map((a) => xs[a]!));
  const N = concreteSize(yFree.map((a) => ys[a]!));
  const a = asMatrix(x!, p.lhsBatch, xFree, p.lhsContract); // [B, M, K]
  const b = asMatrix(y!, p.rhsBatch, p.rhsContract, yFree); // [B, K, N]
  const out = allocArray(o!.dtype, B * M * N);
  const f = isFloat(o!.dtype);
  matmul({ f64: o!.dtype === "float64", B, M, N, K, a: a.data, aOff: 0, aStrides: a.strides, b: b.data, bOff: 0, bStrides: b.strides, out, outOff: 0 }, f);
  return [out];
}

/** Consecutive index ranges with the given lengths: [[0..a), [a..a+b), ...]. */
function rangesLike(...lens: number[]): number[][] {
  let start = 0;
  return lens.map((n) => {
    const r = range(n).map((i) => i + start);
    start += n;
    return r;
  });
}

const argsort = (xs: number[]) => range(xs.length).sort((i, j) => xs[i]! - xs[j]!);

/** Cotangent of the lhs: contract g with y over y's free axes, then put axes in x's order. */
function transposeLhs(g: Tensor, x: ShapedArray, y: Tensor, p: DotParams): Tensor {
  const xKept = freeAxes(x.ndim, p.lhsContract, p.lhsBatch);
  const yKept = freeAxes(y.aval.ndim, p.rhsContract, p.rhsBatch);
  const [ansBatch, , ansY] = rangesLike(p.lhsBatch.length, xKept.length, yKept.length) as [number[], number[], number[]];
  const dims: DotParams = { lhsContract: ansY, rhsContract: yKept, lhsBatch: ansBatch, rhsBatch: p.rhsBatch };
  const contractSortedByY = argsort(p.rhsContract).map((i) => p.lhsContract[i]!);
  const outAxes = argsort([...p.lhsBatch, ...xKept, ...contractSortedByY]);
  return transpose(dotGeneral(g, y, dims), outAxes);
}

/**
 * Cotangent of the rhs: contract x with g over x's free axes, so the result comes out as
 * [batch, y's contracting axes, y's free axes] -- already in y's order for a plain matmul,
 * which is why x^T g needs no transposed copy of anything.
 */
function transposeRhs(g: Tensor, x: Tensor, y: ShapedArray, p: DotParams): Tensor {
  const xKept = freeAxes(x.aval.ndim, p.lhsContract, p.lhsBatch);
  const yKept = freeAxes(y.ndim, p.rhsContract, p.rhsBatch);
  const [ansBatch, ansX] = rangesLike(p.lhsBatch.length, xKept.length, yKept.length) as [number[], number[]];
  const dims: DotParams = { lhsContract: xKept, rhsContract: ansX, lhsBatch: p.lhsBatch, rhsBatch: ansBatch };
  // result axes, named by the y axis each one is
  const xContractSorted = [...p.lhsContract].sort((a, b) => a - b);
  const yAxisOfResult = [...p.rhsBatch, ...xContractSorted.map((c) => p.rhsContract[p.lhsContract.indexOf(c)]!), ...yKept];
  return transpose(dotGeneral(x, g, dims), argsort(yAxisOfResult));
}

export const dotGeneralP: Primitive<DotParams> = definePrimitive<DotParams>({
  name: "dot_general",
  linear: true,
  abstractEval: (ins, p) => [dotAval(ins, p)],
  impl: dotImpl,
  jvp: ([x, y], [tx, ty], p) => {
    const out = dotGeneral(x!, y!, p);
    const a = isZero(tx) ? new Zero(out.aval) : dotGeneral(tx!, y!, p);
    const b = isZero(ty) ? new Zero(out.aval) : dotGeneral(x!, ty!, p);
    return [[out], [addTangents(a, b)]];
  },
  transpose: ([ct], [x, y], p) => {
    if (isLinearIn(x) && isLinearIn(y)) throw new InternalError("dot_general: both operands linear");
    if (isLinearIn(x)) return [isZero(ct) ? new Zero(x.aval) : transposeLhs(ct!, x.aval, y as Tensor, p), null];
    const ya = (y as { aval: ShapedArray }).aval;
    return [null, isZero(ct) ? new Zero(ya) : transposeRhs(ct!, x as Tensor, ya, p)];
  },
  batch: ([x, y], [dx, dy], p) => {
    const shift = (axes: number[]) => axes.map((a) => a + 1);
    if (dx !== null && dy !== null) {
      const q: DotParams = {
        lhsContract: shift(p.lhsContract),
        rhsContract: shift(p.rhsContract),
        lhsBatch: [0, ...shift(p.lhsBatch)],
        rhsBatch: [0, ...shift(p.rhsBatch)],
      };
      return [[dotGeneral(moveAxis(x!, dx, 0), moveAxis(y!, dy, 0), q)], [0]];
    }
    if (dx !== null) {
      // the batch axis becomes lhs's first free axis, placed right after the batch axes
      const q = { ...p, lhsContract: shift(p.lhsContract), lhsBatch: shift(p.lhsBatch) };
      return [[dotGeneral(moveAxis(x!, dx, 0), y!, q)], [p.lhsBatch.length]];
    }
    const q = { ...p, rhsContract: shift(p.rhsContract), rhsBatch: shift(p.rhsBatch) };
    const lhsFree = freeAxes(x!.aval.ndim, p.lhsContract, p.lhsBatch).length;
    return [[dotGeneral(x!, moveAxis(y!, dy!, 0), q)], [p.rhsBatch.length + lhsFree]];
  },
});

export function dotGeneral(x: Tensor, y: Tensor, p: DotParams): Tensor {
  return dotGeneralP.bind1([x, y], p);
}
