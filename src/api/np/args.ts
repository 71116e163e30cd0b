// Validation of the non-tensor arguments np functions take (shapes, axes, dtypes, integers), so
// that every function reports bad input the same way: a typed error naming the function.

import { SymDim } from "../../core/shape.js";
import { type DType, isDType } from "../../core/dtype.js";
import { ArgumentError, ShapeError } from "../../core/errors.js";
import { normalizeAxis } from "../../core/shape.js";
import { type Schema, is } from "../../core/options.js";

/** Schemas of np's options objects (checked with core/options checkOptions). */
export const axisOptions: Schema = { axis: is.nullable(is.axes) };
export const reduceOptions: Schema = { axis: is.nullable(is.axes), keepdims: is.boolean };
export const dtypeOptions: Schema = { dtype: is.any }; // dtypeArg checks the value with its own message

/** A shape given as a number or a list of non-negative integers. */
/**
 * A shape argument: non-negative integers, or symbolic dimensions taken from a traced tensor's
 * shape (shape-polymorphic programs). Typed as number[] because that is what users pass.
 */
export function shapeArg(name: string, shape: unknown): number[] {
  const list = typeof shape === "number" || shape instanceof SymDim ? [shape] : shape;
  if (!Array.isArray(list) || !list.every((d) => d instanceof SymDim || (Number.isInteger(d) && d >= 0))) {
    throw new ArgumentError(`${name}: shape must be a non-negative integer or a list of them, got ${JSON.stringify(shape)}`);
  }
  return list.slice();
}

export function dtypeArg(name: string, dtype: unknown): DType | undefined {
  if (dtype === undefined || dtype === null) return undefined;
  if (!isDType(dtype)) {
    throw new ArgumentError(`${name}: unknown dtype ${JSON.stringify(dtype)} (use "float32", "float64", "int32" or "bool")`);
  }
  return dtype;
}

export function intArg(name: string, what: string, v: unknown, min = -Infinity): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new ArgumentError(`${name}: ${what} must be an integer${min > -Infinity ? ` >= ${min}` : ""}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** One axis, normalized (negative counts from the end); ShapeError when out of range. */
export function axisArg(name: string, axis: unknown, ndim: number, shapeDesc?: string): number {
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new ArgumentError(`${name}: axis must be an integer, got ${JSON.stringify(axis)}`);
  }
  const a = normalizeAxis(axis, ndim);
  if (a < 0) throw new ShapeError(`${name}: axis ${axis} is out of range for ${shapeDesc ?? `an array of rank ${ndim}`}`);
  return a;
}

/** A list of distinct axes (or one axis), normalized. */
export function axesArg(name: string, axes: unknown, ndim: number, shapeDesc?: string): number[] {
  const list = Array.isArray(axes) ? axes : [axes];
  const out = list.map((a) => axisArg(name, a, ndim, shapeDesc));
  if (new Set(out).size !== out.length) throw new ArgumentError(`${name}: repeated axis in ${JSON.stringify(axes)}`);
  return out;
}

export const range = (n: number, start = 0): number[] => Array.from({ length: n }, (_, i) => start + i);
