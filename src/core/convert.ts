// Converting pytree leaves (tensors, JS numbers and booleans) to tensors at transformation
// boundaries. Numbers become weakly typed float32 scalars, so they adopt the dtype of the
// tensors they are combined with.

import { ShapedArray } from "./aval.js";
import { ArgumentError } from "./errors.js";
import { Tensor } from "./tensor.js";

/** A JS number as a weak float32 scalar that remembers its exact value (see Tensor._exact). */
export function weakNumber(x: number): Tensor {
  const t = new Tensor(new ShapedArray([], "float32", true), Float32Array.of(x));
  t._exact = x;
  return t;
}

export function leafToTensor(x: unknown, what: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number") return weakNumber(x);
  if (typeof x === "boolean") return new Tensor(new ShapedArray([], "bool", false), Uint8Array.of(x ? 1 : 0));
  const kind = x === null ? "null" : Array.isArray(x) ? "array" : typeof x === "object" ? (x as object).constructor?.name ?? "object" : typeof x;
  throw new ArgumentError(`${what}: expected a Tensor, number or boolean leaf, got ${kind}`);
}
