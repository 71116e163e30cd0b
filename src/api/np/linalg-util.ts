// Building blocks of np.linalg: argument checks (float square stacks of matrices), masks built from
// iota, and masked row/column reads and writes. The factorizations run as loops whose index is a
// traced scalar, so a row or column is read with a select + sum over a one-hot mask (exact: no
// multiplication by 0 that would turn an Inf into NaN) and written with a select; every step is
// then O(n^2) elementwise work over the whole (batched) matrix, and the loop body is one program
// whatever n is.

import { isFloat } from "../../core/dtype.js";
import { DTypeError, ShapeError } from "../../core/errors.js";
import { dimEq, shapeToString } from "../../core/shape.js";
import type { Tensor } from "../../core/tensor.js";
import { arange, eye } from "./creation.js";
import { equal, greater, greaterEqual, multiply, subtract, where } from "./elementwise.js";
import { sum } from "./reductions.js";
import { asTensor } from "./coerce.js";
import { broadcastTo, expandDims, reshape, squeeze, swapaxes } from "./shape.js";
import { matmul } from "./linalg.js";
import { broadcastShapes } from "../../core/shape.js";

export type X = Tensor | number | readonly unknown[];

/** The public name of a linalg function, for error messages. */
export const fname = (f: string) => `np.linalg.${f}`;

/** A float tensor of rank >= minRank (ints and bools are refused: the precision would be a guess). */
export function floatArg(f: string, x: unknown, minRank: number, what = "a"): Tensor {
  const t = asTensor(x, fname(f));
  if (!isFloat(t.aval.dtype)) {
    throw new DTypeError(`${fname(f)}: ${what} must be float32 or float64, got ${t.aval}; convert it first, e.g. np.astype(${what}, "float64")`);
  }
  if (t.aval.ndim < minRank) {
    throw new ShapeError(`${fname(f)}: ${what} must have at least ${minRank} dimensions, got ${t.aval}`);
  }
  return t;
}

/** A float stack of square matrices [..., n, n]; returns it and n (a concrete size). */
export function squareArg(f: string, x: unknown, what = "a"): [Tensor, number] {
  const t = floatArg(f, x, 2, what);
  const s = t.aval.shape;
  const [m, n] = s.slice(-2);
  if (typeof n !== "number" || typeof m !== "number") {
    throw new ShapeError(`${fname(f)}: the matrix dimensions of ${what} must be concrete, got ${shapeToString(s)}`);
  }
  if (!dimEq(m, n)) throw new ShapeError(`${fname(f)}: ${what} must be a (stack of) square matrices, got shape ${shapeToString(s)}`);
  return [t, n];
}

/** Broadcasts the batch dimensions of a [..., n, n] and b [..., n, k] against each other. */
export function broadcastBatch(f: string, a: Tensor, b: Tensor): [Tensor, Tensor] {
  const as = a.aval.shape;
  const bs = b.aval.shape;
  const batch = broadcastShapes(as.slice(0, -2), bs.slice(0, -2));
  if (!batch) throw new ShapeError(`${fname(f)}: batch dimensions of ${shapeToString(as)} and ${shapeToString(bs)} cannot be broadcast`);
  return [broadcastTo(a, [...batch, ...as.slice(-2)] as number[]), broadcastTo(b, [...batch, ...bs.slice(-2)] as number[])];
}

export const mT = (x: Tensor): Tensor => swapaxes(x, -1, -2);
export const iota = (n: number): Tensor => arange(0, n, 1, { dtype: "int32" });
/** Bool [n]: position == k (k an int32 scalar, or [...] giving [..., n]). */
export const oneHot = (n: number, k: Tensor | number): Tensor => equal(iota(n), typeof k === "number" ? k : expandDims(k, -1));
/** Row k (mask [n] or [..., n]) of M [..., n, c] -> [..., c]. */
export const rowAt = (m: Tensor, mask: Tensor): Tensor => sum(where(expandDims(mask, -1), m, 0), { axis: -2 });
/** Column k of M [..., r, n] -> [..., r]. */
export const colAt = (m: Tensor, mask: Tensor): Tensor => sum(where(expandDims(mask, -2), m, 0), { axis: -1 });
/** Element k of v [..., n] -> [...]. */
export const entryAt = (v: Tensor, mask: Tensor): Tensor => sum(where(mask, v, 0), { axis: -1 });
/** M with row k replaced by r [..., c]. */
export const setRow = (m: Tensor, mask: Tensor, r: Tensor): Tensor => where(expandDims(mask, -1), expandDims(r, -2), m);
/** M with column k replaced by c [..., r]. */
export const setCol = (m: Tensor, mask: Tensor, c: Tensor): Tensor => where(expandDims(mask, -2), expandDims(c, -1), m);

/** Bool [n, m]: j - i >= k, the entries triu(., k) keeps. */
export function upperMask(n: number, m: number, k = 0): Tensor {
  return greaterEqual(subtract(reshape(iota(m), [1, m]), reshape(iota(n), [n, 1])), k);
}
/** Bool [n, m]: j - i <= k, the entries tril(., k) keeps. */
export function lowerMask(n: number, m: number, k = 0): Tensor {
  return greaterEqual(subtract(reshape(iota(n), [n, 1]), reshape(iota(m), [1, m])), -k);
}
export const tril = (x: Tensor, k = 0): Tensor => where(lowerMask(x.shape.at(-2)!, x.shape.at(-1)!, k), x, 0);
export const triu = (x: Tensor, k = 0): Tensor => where(upperMask(x.shape.at(-2)!, x.shape.at(-1)!, k), x, 0);

/** The diagonal [..., n] of a stack of square matrices. */
export const diagOf = (x: Tensor): Tensor => sum(where(eye(x.shape.at(-1)!, null, { dtype: "bool" }), x, 0), { axis: -1 });
/** A stack of diagonal matrices from v [..., n]. */
export const diagMat = (v: Tensor): Tensor => where(eye(v.shape.at(-1)!, null, { dtype: "bool" }), expandDims(v, -1), 0);
/** The identity in x's dtype, broadcast to x's batch shape: [..., n, n]. */
export function eyeLike(x: Tensor, n: number): Tensor {
  return broadcastTo(eye(n, null, { dtype: x.aval.dtype }), [...x.shape.slice(0, -2), n, n]);
}

/** Matrix-vector product M [..., r, c] v [..., c] -> [..., r]. */
export const matvec = (m: Tensor, v: Tensor): Tensor => squeeze(matmul(m, expandDims(v, -1)), -1);
/** Row-vector-matrix product v [..., r] M [..., r, c] -> [..., c]. */
export const vecmat = (v: Tensor, m: Tensor): Tensor => squeeze(matmul(expandDims(v, -2), m), -2);

/**
 * The permutation that sorts v [..., n] (ascending, or descending), stable, as a float matrix P
 * [..., n, n] with sorted = v @ P: P[i, r] = 1 when element i goes to position r. Built from
 * pairwise comparisons (O(n^2)), enough for the n of a dense factorization.
 */
export function sortPermutation(v: Tensor, descending: boolean): Tensor {
  const n = v.shape.at(-1)!;
  const a = expandDims(v, -1); // v_i along rows
  const b = expandDims(v, -2); // v_j along columns
  const before = descending ? greater(b, a) : greater(a, b); // j sorts before i (strictly)
  const tieBefore = multiply(equal(a, b), greater(reshape(iota(n), [n, 1]), reshape(iota(n), [1, n]))); // ties keep index order
  const rank = sum(where(before, 1, tieBefore), { axis: -1 }); // [..., n]
  return where(equal(expandDims(rank, -1), iota(n)), 1, 0).astype(v.dtype);
}
