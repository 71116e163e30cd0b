// How np functions accept their arguments: converting JS numbers, booleans and nested arrays to
// tensors, NumPy/JAX dtype promotion (plain numbers are weakly typed) and NumPy broadcasting.
// Every np function goes through these, so error messages are uniform.

import { ShapedArray } from "../../core/aval.js";
import { type DType, type TypeInfo, allocArray, floatOf, isDType, isFloat, numberType, promoteTypes, castNumber } from "../../core/dtype.js";
import { ArgumentError, DTypeError, ShapeError } from "../../core/errors.js";
import { type Shape, SymDim, broadcastShapes, shapeEq, shapeToString } from "../../core/shape.js";
import { dimValue } from "../../prims/dim.js";
import { Tensor, type TensorLike } from "../../core/tensor.js";
import { broadcastInDim } from "../../prims/shape.js";
import { convert } from "../../prims/unary.js";

/** What np functions accept as array data: tensors, numbers, booleans, nested arrays, typed arrays. */
export type ArrayInput = TensorLike | readonly ArrayInput[] | Float32Array | Float64Array | Int32Array | Uint8Array;
type Indexable = { readonly length: number; readonly [i: number]: unknown };

function inferShape(data: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = data;
  while (Array.isArray(cur) || ArrayBuffer.isView(cur)) {
    const len = (cur as Indexable).length;
    shape.push(len);
    if (len === 0) break;
    cur = (cur as Indexable)[0];
  }
  return shape;
}

/** Builds a concrete tensor from nested JS arrays / typed arrays / scalars. */
export function arrayFromData(data: unknown, dtype?: DType, what = "array"): Tensor {
  if (dtype !== undefined && !isDType(dtype)) throw new ArgumentError(`${what}: unknown dtype ${JSON.stringify(dtype)}`);
  if (data instanceof Tensor) return dtype && dtype !== data.dtype ? convert(data, dtype) : data;
  const shape = inferShape(data);
  if (shape.length === 1 && ArrayBuffer.isView(data) && !(data instanceof DataView || data instanceof BigInt64Array || data instanceof BigUint64Array)) return fromTypedArray(data as unknown as Indexable & ArrayLike<number>, dtype);
  const flat: number[] = [];
  let sawBool = false;
  let sawNumber = false;
  const rec = (x: unknown, axis: number): void => {
    if (axis === shape.length) {
      if (typeof x === "boolean") {
        sawBool = true;
        flat.push(x ? 1 : 0);
      } else if (typeof x === "number") {
        sawNumber = true;
        flat.push(x);
      } else if (x instanceof Tensor && x.size === 1 && x.isConcrete) {
        sawNumber = true;
        flat.push(x.item());
      } else {
        throw new ArgumentError(`${what}: ragged or non-numeric data (found ${typeof x} at depth ${axis})`);
      }
      return;
    }
    const xs = x as Indexable;
    if (!(Array.isArray(xs) || ArrayBuffer.isView(xs)) || xs.length !== shape[axis]) {
      throw new ArgumentError(`${what}: ragged nested arrays (expected length ${shape[axis]} at depth ${axis})`);
    }
    for (let i = 0; i < xs.length; i++) rec(xs[i], axis + 1);
  };
  rec(data, 0);
  let dt: DType = dtype ?? (sawBool && !sawNumber ? "bool" : "float32");
  if (!dtype && ArrayBuffer.isView(data)) dt = typedArrayDType(data);
  const arr = allocArray(dt, flat.length);
  for (let i = 0; i < flat.length; i++) arr[i] = castNumber(dt, flat[i]!);
  return new Tensor(new ShapedArray(shape, dt), arr);
}

/** The dtype a typed array keeps when no dtype is asked for (other kinds become float32). */
function typedArrayDType(data: unknown): DType {
  return data instanceof Float64Array ? "float64" : data instanceof Int32Array ? "int32" : data instanceof Uint8Array ? "bool" : "float32";
}

/** A flat typed array as a rank-1 tensor: one bulk copy when the dtype matches (the common case). */
function fromTypedArray(data: ArrayLike<number>, dtype?: DType): Tensor {
  const dt: DType = dtype ?? typedArrayDType(data);
  const arr = allocArray(dt, data.length);
  if (dt === "float32" || dt === "float64" || (dt === "int32" && data instanceof Int32Array)) arr.set(data);
  else for (let i = 0; i < data.length; i++) arr[i] = castNumber(dt, data[i]!);
  return new Tensor(new ShapedArray([data.length], dt), arr);
}

/** A rank-0 tensor holding `v` with dtype `dtype` (weak when it stands for a plain JS number). */
export function scalarTensor(v: number | boolean, dtype: DType, weak = false): Tensor {
  const a = allocArray(dtype, 1);
  a[0] = castNumber(dtype, v);
  return new Tensor(new ShapedArray([], dtype, weak), a);
}

/** Any accepted argument as a tensor (plain numbers become weak float32 scalars). */
export function asTensor(x: unknown, what: string): Tensor {
  if (x instanceof Tensor) return x;
  if (x instanceof SymDim) return dimValue(x);
  if (typeof x === "number") return scalarTensor(x, "float32", true);
  if (typeof x === "boolean") return scalarTensor(x, "bool");
  if (Array.isArray(x) || ArrayBuffer.isView(x)) return arrayFromData(x, undefined, what);
  throw new ArgumentError(`${what}: expected a Tensor, number, boolean or nested array, got ${x === null ? "null" : typeof x}`);
}

/** The lattice type of a tensor, symbolic dim (weak int32, JAX's i*) or JS boolean (bool). */
function typeInfo(x: Tensor | SymDim | boolean): TypeInfo {
  if (x instanceof SymDim) return { dtype: "int32", weak: true };
  if (typeof x === "boolean") return { dtype: "bool", weak: false };
  return { dtype: x.aval.dtype, weak: x.aval.weak };
}

/**
 * The promoted type of np operands (docs/promotion.md): tensors and booleans join on JAX's
 * lattice (core/dtype promoteTypes); JS numbers follow the JS-number rule (core/dtype numberType).
 */
export function resultType(args: readonly unknown[]): TypeInfo {
  const typed = args.filter((x) => typeof x !== "number").map((x) => typeInfo(x as Tensor | SymDim | boolean));
  if (args.some((x) => typeof x === "number")) return numberType(typed);
  return typed.length ? promoteTypes(typed) : { dtype: "float32", weak: true };
}

/**
 * Converts operands to tensors of one promoted dtype (resultType). Plain numbers are created
 * directly in the target dtype (no float32 rounding of a number combined with float64 tensors).
 * A plain number never decides the dtype: with int32 operands it must be an exact int32 value
 * (int32 + 1.5 and int32 + 2**40 are DTypeErrors saying how to convert, never a silent wrap or a
 * value-dependent dtype). `minimum` lifts the result: "float" (true division, exp, ...) makes
 * bool/int32 float32; "int" makes bool int32 (arithmetic NumPy does not define on bool).
 */
export function promote(name: string, args: unknown[], minimum?: "float" | "int"): Tensor[] {
  const pre = args.map((x) =>
    x instanceof Tensor && x._exact !== undefined ? x._exact : typeof x === "number" || typeof x === "boolean" || x instanceof Tensor ? x : x instanceof SymDim ? dimValue(x) : asTensor(x, name),
  );
  const result = resultType(pre);
  let dtype = result.dtype;
  if (minimum === "float" && !isFloat(dtype)) dtype = floatOf(dtype);
  if (minimum === "int" && dtype === "bool") dtype = "int32";
  const hasTensor = pre.some((x) => x instanceof Tensor);
  return pre.map((x) => {
    if (!(x instanceof Tensor)) {
      if (dtype === "int32" && typeof x === "number" && !isInt32Value(x)) throw inexactNumber(name, x, hasTensor);
      return scalarTensor(x as number | boolean, dtype, result.weak);
    }
    return x.aval.dtype === dtype ? x : convert(x, dtype);
  });
}

/** True when the JS number `v` is exactly an int32 value. */
export function isInt32Value(v: number): boolean {
  return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;
}

function inexactNumber(name: string, v: number, withTensor: boolean): DTypeError {
  const what = Number.isInteger(v) ? "is outside the int32 range" : "is not an integer";
  const fix = withTensor ? 'convert the tensor first (e.g. np.astype(x, "float64")), or pass a tensor of the dtype you want' : "pass a float tensor (e.g. np.array(v, {dtype: \"float64\"}))";
  return new DTypeError(`${name}: the number ${v} ${what}, so it cannot be combined exactly with int32 operands (the result dtype would depend on the value); ${fix}`);
}

/** Broadcasts `x` to `shape` following NumPy rules (rank-0 tensors are left as scalars). */
export function broadcastTo(name: string, x: Tensor, shape: Shape, keepScalars = true): Tensor {
  const xs = x.aval.shape;
  if (shapeEq(xs, shape) || (keepScalars && xs.length === 0)) return x;
  const b = broadcastShapes(xs, shape);
  if (!b || !shapeEq(b, shape)) {
    throw new ShapeError(`${name}: cannot broadcast shape ${shapeToString(xs)} to ${shapeToString(shape)}`);
  }
  const off = shape.length - xs.length;
  return broadcastInDim(x, shape, xs.map((_, i) => i + off));
}

/** Promotes and broadcasts operands of an elementwise op; returns them and the result shape. */
export function elementwiseArgs(name: string, args: unknown[], minimum?: "float" | "int"): Tensor[] {
  const ts = promote(name, args, minimum);
  const shape = broadcastShapes(...ts.map((t) => t.aval.shape));
  if (!shape) {
    throw new ShapeError(
      `${name}: shapes ${ts.map((t) => shapeToString(t.aval.shape)).join(" and ")} cannot be broadcast together`,
    );
  }
  return ts.map((t) => broadcastTo(name, t, shape));
}

export function checkFloat(name: string, x: Tensor): void {
  if (!isFloat(x.aval.dtype)) throw new DTypeError(`${name}: expected a float tensor, got ${x.aval}`);
}
