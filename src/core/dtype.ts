// Element types: the four dtypes, their typed-array storage, and NumPy/JAX-style promotion
// (including "weak" types for plain JS numbers, which adopt the dtype of the tensor they meet).

import { defineRuntime } from "./runtime-text.js";

export type DType = "float32" | "float64" | "int32" | "bool";

export const DTYPES: readonly DType[] = ["bool", "int32", "float32", "float64"];

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export function isDType(x: unknown): x is DType {
  return typeof x === "string" && (DTYPES as readonly string[]).includes(x);
}

export function isFloat(d: DType): boolean {
  return d === "float32" || d === "float64";
}

export function isInt(d: DType): boolean {
  return d === "int32";
}

export function byteSize(d: DType): number {
  return d === "float64" ? 8 : d === "bool" ? 1 : 4;
}

/** A typed-array view of `n` elements of dtype `d` at byte `offset` of `buffer`. */
export function viewArray(d: DType, buffer: ArrayBuffer | SharedArrayBuffer, offset: number, n: number): TypedArray {
  switch (d) {
    case "float32":
      return new Float32Array(buffer, offset, n);
    case "float64":
      return new Float64Array(buffer, offset, n);
    case "int32":
      return new Int32Array(buffer, offset, n);
    case "bool":
      return new Uint8Array(buffer, offset, n);
  }
}

export function allocArray(d: DType, n: number): TypedArray {
  switch (d) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int32":
      return new Int32Array(n);
    case "bool":
      return new Uint8Array(n);
  }
}

/**
 * The number -> int32 cast (astype, convert_element_type) on every path (reference, interpreter,
 * JS and wasm kernels, exported modules): truncation toward zero, saturating at the int32 range,
 * NaN -> 0. It is WebAssembly's i32.trunc_sat_f64_s, not JS's modular ToInt32 (`x | 0`), which
 * would silently turn 1e10 into 1410065408.
 */
function int32Runtime() {
  function toInt32Sat(a: number): number {
    return a !== a ? 0 : a >= 2147483647 ? 2147483647 : a <= -2147483648 ? -2147483648 : a | 0;
  }
  // the number -> bool cast: v !== 0 (NaN -> true, -0 -> false, 0.5 -> true: NumPy's bool(v));
  // booleans are 1 / 0
  function toBool(a: number | boolean): number {
    return Number(a) !== 0 ? 1 : 0;
  }
  return { toInt32Sat, toBool };
}
const INT32 = defineRuntime(int32Runtime, []);
/** Declares $toInt32Sat and $toBool in generated code (core/runtime-text.ts: the same functions as below). */
export const TO_INT32_JS = INT32.text;
export const toInt32Saturating = INT32.value.toInt32Sat;
const toBool = INT32.value.toBool;

/**
 * A JS number or boolean as the element stored for dtype `d`, with the cast's semantics (one rule
 * for creation and astype): bool is `v !== 0` (NaN -> true, -0 -> false, 0.5 -> true, as NumPy's
 * bool(v)); int32 truncates and saturates (NaN -> 0); floats keep the value (float32 storage rounds).
 */
export function castNumber(d: DType, v: number | boolean): number {
  return d === "bool" ? toBool(v) : d === "int32" ? toInt32Saturating(Number(v)) : Number(v);
}

/** Converts any array-like of numbers into storage for `d` (rounding/truncating like a cast). */
export function toTypedArray(d: DType, src: ArrayLike<number>): TypedArray {
  const out = allocArray(d, src.length);
  if (d === "bool" || d === "int32") for (let i = 0; i < src.length; i++) out[i] = castNumber(d, src[i]!);
  else out.set(src);
  return out;
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  return "bool";
}

/** A dtype with JAX's weak flag: weak int32 is JAX's i*, weak float32 its f*. */
export interface TypeInfo {
  dtype: DType;
  weak: boolean;
}

/**
 * JAX's type promotion lattice restricted to adgen's dtypes is a chain,
 *     bool < i* < int32 < f* < float32 < float64,
 * and the promoted type of operands is their join: the highest of them (JAX's table, see
 * docs/promotion.md). A weak result (i*, f*) is int32 / float32 marked weak.
 */
const LEVEL = (t: TypeInfo): number =>
  t.dtype === "bool" ? 0 : t.dtype === "int32" ? (t.weak ? 1 : 2) : t.dtype === "float32" ? (t.weak ? 3 : 4) : 5;

/** The join of typed operands on JAX's lattice (at least one operand). */
export function promoteTypes(operands: readonly TypeInfo[]): TypeInfo {
  let best = operands[0]!;
  for (const o of operands) if (LEVEL(o) > LEVEL(best)) best = o;
  return { dtype: best.dtype, weak: best.dtype === "float64" || best.dtype === "bool" ? false : best.weak };
}

/**
 * The type a plain JS number takes among typed operands `others` (the JS-number rule of issue 18:
 * a JS number has no int/float distinction, so its value never decides a dtype). Alone it is f*
 * (weak float32, as JS numbers make float32 arrays); otherwise it takes the operands' promoted
 * type, except that bool operands make it float32 (bool + 1 and bool + 0.5 alike). The caller
 * checks that the number is exactly representable (an int32 must be given an int32 value).
 */
export function numberType(others: readonly TypeInfo[]): TypeInfo {
  if (others.length === 0) return { dtype: "float32", weak: true };
  const t = promoteTypes(others);
  return t.dtype === "bool" ? { dtype: "float32", weak: false } : t;
}

/** The float dtype an operation on `d` produces when it must be float (e.g. exp of an int). */
export function floatOf(d: DType): DType {
  return d === "float64" ? "float64" : "float32";
}
