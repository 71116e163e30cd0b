// Small building blocks used by derivative and batching rules, written with primitives:
// materialized zeros, symbolic-zero arithmetic, and the broadcast/unbroadcast pair that moves
// (co)tangents between an operand's shape and an output's shape. They live with the primitives
// (not in rules/, which needs no primitive) so that the kernel's folders import one way only.

import type { ShapedArray } from "../core/aval.js";
import type { DType } from "../core/dtype.js";
import { type Shape, shapeEq } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { InternalError } from "../core/errors.js";
import { scalar } from "../rules/scalar.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import { add } from "./binary.js";
import { neg } from "./unary.js";
import { broadcastInDim, moveAxis } from "./shape.js";
import { reduceSum } from "./reduce.js";

/** A tensor filled with `value` (a broadcast of a literal, so it costs nothing to stage). */
export function full(shape: Shape, dtype: DType, value: number): Tensor {
  const s = scalar(value, dtype);
  return shape.length === 0 ? s : broadcastInDim(s, shape, []);
}

export function zerosLike(a: ShapedArray): Tensor {
  return full(a.shape, a.dtype, 0);
}

/** Materializes a symbolic zero. */
export function instantiate(t: Tangent): Tensor {
  return isZero(t) ? zerosLike(t.aval) : t;
}

export function addTangents(a: Tangent, b: Tangent): Tangent {
  if (isZero(a)) return b;
  if (isZero(b)) return a;
  return add(a, b);
}

export function negTangent(a: Tangent): Tangent {
  return isZero(a) ? a : neg(a);
}

/** Broadcasts a rank-0 value up to `shape` (identity when the shape already matches). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (shapeEq(x.aval.shape, shape)) return x;
  if (x.aval.shape.length !== 0) {
    throw new InternalError(`broadcastTo from ${x.aval} to [${shape}] (only scalars broadcast implicitly)`);
  }
  return broadcastInDim(x, shape, []);
}

/** Sums a cotangent of an elementwise output back to an operand's aval (scalar operands). */
export function unbroadcast(ct: Tangent, to: ShapedArray): Tangent {
  if (isZero(ct)) return new Zero(to);
  if (shapeEq(ct.aval.shape, to.shape)) return ct;
  if (to.shape.length !== 0) throw new InternalError(`unbroadcast ${ct.aval} to ${to}`);
  return reduceSum(ct, ct.aval.shape.map((_, i) => i));
}

/** Moves the batch axis of a batched value to `to` (or adds a broadcast axis if unbatched). */
export function moveBatchAxis(x: Tensor, from: number | null, to: number, size: number): Tensor {
  if (from === null) {
    const shape = [...x.aval.shape];
    shape.splice(to, 0, size);
    const dims = x.aval.shape.map((_, i) => (i < to ? i : i + 1));
    return broadcastInDim(x, shape, dims);
  }
  return from === to ? x : moveAxis(x, from, to);
}
