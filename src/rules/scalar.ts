// Rank-0 constants for rules, tracing and the interpreter: a concrete scalar tensor of a dtype
// (staged as an inline literal). They need no primitive, so they sit in the lowest kernel layer,
// where the trace (a Literal read back as a tensor) and the interpreter can use them too.

import { ShapedArray } from "../core/aval.js";
import { type DType, allocArray, castNumber } from "../core/dtype.js";
import { Tensor } from "../core/tensor.js";

/** A concrete rank-0 tensor (staged as an inline literal). */
export function scalar(value: number, dtype: DType, weak = false): Tensor {
  const d = allocArray(dtype, 1);
  d[0] = castNumber(dtype, value);
  return new Tensor(new ShapedArray([], dtype, weak), d);
}

/** A rank-0 constant with the dtype of `like`. */
export function scalarLike(like: { aval: ShapedArray } | ShapedArray, value: number): Tensor {
  const a = like instanceof ShapedArray ? like : like.aval;
  return scalar(value, a.dtype);
}
