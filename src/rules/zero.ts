// Symbolic zeros: a tangent or cotangent known to be zero, carried as just its abstract value so
// that no arithmetic is spent on it (JAX's ad.Zero). Also the marker for a primal input that a
// transpose rule must produce a cotangent for (JAX's UndefinedPrimal).

import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";

export class Zero {
  readonly symbolicZero = true; // makes the type distinct: a Tensor is not a Zero
  constructor(readonly aval: ShapedArray) {}
  toString(): string {
    return `Zero<${this.aval}>`;
  }
}

/** A tangent or cotangent: a tensor, or a symbolic zero. */
export type Tangent = Tensor | Zero;

export function isZero(t: unknown): t is Zero {
  return t instanceof Zero;
}

/** In a transpose rule: the input the linear function is linear in (its value is unknown). */
export class LinearIn {
  readonly linearIn = true; // distinct, as for Zero
  constructor(readonly aval: ShapedArray) {}
}

export function isLinearIn(x: unknown): x is LinearIn {
  return x instanceof LinearIn;
}
