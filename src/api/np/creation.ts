// np creation functions: array, zeros/ones/full, the *Like variants, arange, linspace, eye.
// They build concrete tensors directly (no primitive), except the *Like functions on a traced
// value, which stage a broadcast of a scalar literal so they cost nothing inside a trace.

import { ShapedArray } from "../../core/aval.js";
import { type DType, allocArray, castNumber } from "../../core/dtype.js";
import { ArgumentError, DTypeError } from "../../core/errors.js";
import { isConcreteShape } from "../../core/shape.js";
import { Tensor } from "../../core/tensor.js";
import { broadcastInDim } from "../../prims/shape.js";
import { convert } from "../../prims/unary.js";
import { scalar } from "../../rules/scalar.js";
import { type ArrayInput, arrayFromData, asTensor, broadcastTo, isInt32Value } from "./coerce.js";
import { dtypeArg, dtypeOptions, intArg, shapeArg } from "./args.js";
import { checkOptions, is } from "../../core/options.js";

export interface DTypeOpt {
  dtype?: DType;
}

/** The dtype option: `{dtype}` or, as shorthand, the dtype name itself (`np.ones([3], "float64")`). */
function dtypeOpt(name: string, opts: DTypeOpt | DType | undefined): DType | undefined {
  if (typeof opts === "string") return dtypeArg(name, opts);
  if (opts === undefined || (typeof opts === "object" && opts !== null)) return dtypeArg(name, checkOptions(name, opts, dtypeOptions).dtype);
  throw new ArgumentError(`${name}: options must be {dtype} or a dtype name, got ${JSON.stringify(opts)}`);
}

/** A tensor from nested JS arrays, typed arrays, numbers or booleans (float32 for numbers). */
export function array(data: ArrayInput, opts: DTypeOpt | DType = {}): Tensor {
  return arrayFromData(data, dtypeOpt("array", opts), "array");
}

/** Alias of array (NumPy's asarray: tensors are returned as they are). */
export function asarray(data: ArrayInput, opts: DTypeOpt | DType = {}): Tensor {
  return array(data, opts);
}

function filled(shape: number[], dtype: DType, value: number): Tensor {
  if (!isConcreteShape(shape)) {
    // a symbolic shape (inside a shape-polymorphic trace): a staged broadcast of the value
    const v = castNumber(dtype, value);
    return broadcastInDim(scalar(v, dtype), shape, []);
  }
  let n = 1;
  for (const d of shape) n *= d;
  const data = allocArray(dtype, n);
  const v = castNumber(dtype, value);
  if (v !== 0) data.fill(v);
  return new Tensor(new ShapedArray(shape, dtype), data);
}

export function zeros(shape: number | number[], opts: DTypeOpt | DType = {}): Tensor {
  return filled(shapeArg("zeros", shape), dtypeOpt("zeros", opts) ?? "float32", 0);
}

export function ones(shape: number | number[], opts: DTypeOpt | DType = {}): Tensor {
  return filled(shapeArg("ones", shape), dtypeOpt("ones", opts) ?? "float32", 1);
}

/**
 * The dtype of a fill value without a dtype option: bool for booleans, float32 for every number
 * (the JS-number rule, docs/promotion.md: a JS number has no int/float distinction, so the
 * dtype never depends on its value; JAX would give int32 for 3 and float32 for 3.5).
 */
function dtypeOfValue(v: number | boolean): DType {
  return typeof v === "boolean" ? "bool" : "float32";
}

/**
 * full(shape, value, {dtype?}): a tensor filled with `value`. A number value gives float32 unless
 * a dtype is given (as np.array of numbers); a tensor value is broadcast to `shape`.
 */
export function full(shape: number | number[], value: number | boolean | Tensor, opts: DTypeOpt | DType = {}): Tensor {
  const s = shapeArg("full", shape);
  const dtype = dtypeOpt("full", opts);
  if (value instanceof Tensor) {
    const v = dtype ? convert(value, dtype) : value;
    return broadcastTo("full", v, s, false);
  }
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new ArgumentError(`full: value must be a number, boolean or Tensor, got ${typeof value}`);
  }
  return filled(s, dtype ?? dtypeOfValue(value), Number(value));
}

function like(name: string, x: unknown, value: number, opts: DTypeOpt | DType): Tensor {
  const t = asTensor(x, name);
  const dtype = dtypeOpt(name, opts) ?? t.aval.dtype;
  if (t.isConcrete && isConcreteShape(t.aval.shape)) return filled(t.aval.shape.slice(), dtype, value);
  // traced (or symbolic) shape: a broadcast literal, which a trace stages for free
  const s = scalar(castNumber(dtype, value), dtype);
  return t.aval.shape.length === 0 ? s : broadcastInDim(s, t.aval.shape, []);
}

export function zerosLike(x: Tensor | ArrayInput, opts: DTypeOpt | DType = {}): Tensor {
  return like("zerosLike", x, 0, opts);
}

export function onesLike(x: Tensor | ArrayInput, opts: DTypeOpt | DType = {}): Tensor {
  return like("onesLike", x, 1, opts);
}

export function fullLike(x: Tensor | ArrayInput, value: number | boolean, opts: DTypeOpt | DType = {}): Tensor {
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new ArgumentError(`fullLike: value must be a number or boolean, got ${typeof value}`);
  }
  return like("fullLike", x, Number(value), opts);
}

function finiteArg(name: string, what: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ArgumentError(`${name}: ${what} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * arange(stop), arange(start, stop), arange(start, stop, step), each optionally followed by
 * {dtype}: evenly spaced values in [start, stop). float32 unless a dtype is given, whatever the
 * arguments' values: NumPy/JAX give int32 for integer arguments, but a JS number has no int/float
 * distinction, so that would make the dtype depend on the values (docs/promotion.md). Pass
 * {dtype: "int32"} for indices; an int32 arange needs integer start, stop and step (DTypeError).
 */
export function arange(stop: number, opts?: DTypeOpt): Tensor;
export function arange(start: number, stop: number, opts?: DTypeOpt): Tensor;
export function arange(start: number, stop: number, step: number, opts?: DTypeOpt): Tensor;
export function arange(...args: (number | DTypeOpt | undefined)[]): Tensor {
  let opts: DTypeOpt | DType = {};
  const last = args[args.length - 1];
  if (typeof last === "object" && last !== null) {
    opts = last;
    args = args.slice(0, -1);
  }
  while (args.length && args[args.length - 1] === undefined) args = args.slice(0, -1);
  if (args.length < 1 || args.length > 3) throw new ArgumentError(`arange: expected 1 to 3 numbers (start, stop, step), got ${args.length}`);
  const nums = args.map((a, i) => finiteArg("arange", ["start", "stop", "step"][i]!, a));
  const [start, stop, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
  if (step === 0) throw new ArgumentError("arange: step must not be zero");
  const dtype = dtypeOpt("arange", opts) ?? "float32";
  if (dtype === "int32") {
    const bad = nums.find((v) => !isInt32Value(v));
    if (bad !== undefined) throw new DTypeError(`arange: the number ${bad} is not an int32 value, so it cannot make an int32 range (the values would be truncated); give integer start, stop and step, or a float dtype`);
  }
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocArray(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(new ShapedArray([n], dtype), data);
}

export interface LinspaceOpts extends DTypeOpt {
  endpoint?: boolean;
}

/** `num` evenly spaced values from start to stop (inclusive unless endpoint is false). */
export function linspace(start: number, stop: number, num = 50, opts: LinspaceOpts = {}): Tensor {
  checkOptions("linspace", opts, { dtype: is.any, endpoint: is.boolean });
  finiteArg("linspace", "start", start);
  finiteArg("linspace", "stop", stop);
  intArg("linspace", "num", num, 0);
  const dtype = dtypeArg("linspace", opts.dtype) ?? "float32";
  const endpoint = opts.endpoint ?? true;
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  const data = allocArray(dtype, num);
  for (let i = 0; i < num; i++) {
    const v = endpoint && i === num - 1 && num > 1 ? stop : start + i * step;
    data[i] = dtype === "int32" ? Math.floor(v) : v; // NumPy floors for integer dtypes
  }
  return new Tensor(new ShapedArray([num], dtype), data);
}

export interface EyeOpts extends DTypeOpt {
  /** index of the diagonal: 0 main, > 0 above, < 0 below */
  k?: number;
}

/** An n x m matrix (m defaults to n) with ones on the k-th diagonal. */
export function eye(n: number, m?: number | null, opts: EyeOpts = {}): Tensor {
  checkOptions("eye", opts, { dtype: is.any, k: is.int() });
  intArg("eye", "n", n, 0);
  const cols = m === undefined || m === null ? n : intArg("eye", "m", m, 0);
  const k = intArg("eye", "k", opts.k ?? 0);
  const t = filled([n, cols], dtypeArg("eye", opts.dtype) ?? "float32", 0);
  const d = t.data;
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < cols) d[i * cols + j] = 1;
  }
  return t;
}

/** The n x n identity matrix. */
export function identity(n: number, opts: DTypeOpt | DType = {}): Tensor {
  const dtype = dtypeOpt("identity", opts);
  return eye(n, n, dtype ? { dtype } : {});
}
