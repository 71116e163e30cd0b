// The small runtime embedded (as text) in every exported module: argument conversion and
// checking, the module's WebAssembly memory limits and pool, and the matrix-multiply runtime
// bound to the WebAssembly SIMD GEMM whose bytes the module carries. The algorithms are the jit's
// own runtimes (runtime/*.ts) embedded verbatim; what is written here is only the binding to the
// module (its GEMM instance, its limits). Constant code, never derived from user input; modules
// stay standalone (no imports).

import { gemmModuleBytes, gemmScratchBytes } from "../runtime/wasm/gemm.js";
import { WASM_MEMORY_JS, wasmMemoryLimits } from "../runtime/wasm/memory.js";
import { MATMUL_JS } from "../prims/ref/matmul.js";
import { TO_INT32_JS } from "../core/dtype.js";
import { bytesToBase64 } from "../ir/serialize.js";

/** Runtime helpers every module needs (argument conversion, errors). */
export const RUNTIME_CORE = String.raw`const [$inputInt32, $inputBool] = (() => { ${TO_INT32_JS} return [$toInt32Sat, $toBool]; })();
// Numbers and booleans to a dtype's storage exactly as adgen's np.array does (core/dtype
// castNumber, the same functions): bool is v !== 0 (0.5 -> true, NaN -> true, -0 -> false),
// int32 truncates and saturates.
function $fromNumbers(flat, dtype) {
  if (dtype === "bool") return Uint8Array.from(flat, $inputBool);
  if (dtype === "int32") return Int32Array.from(flat, $inputInt32);
  return $ARRAYS[dtype].from(flat);
}
// bool storage holds 0 or 1: a Uint8Array given for a bool argument is read by truthiness too
function $boolData(u8) {
  for (let i = 0; i < u8.length; i++) if (u8[i] > 1) return Uint8Array.from(u8, (v) => (v ? 1 : 0));
  return u8;
}
const $ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array };
class AdgenModuleError extends Error {}
AdgenModuleError.prototype.name = "AdgenModuleError";
function $fail(msg) { throw new AdgenModuleError($NAME + ": " + msg); }
function $shapeStr(s) { return "[" + s.join(",") + "]"; }
function $decode(b64, dtype) {
  const s = atob(b64);
  const u8 = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u8[i] = s.charCodeAt(i);
  return new $ARRAYS[dtype](u8.buffer);
}
function $bytes(b64) {
  if (typeof Buffer !== "undefined") return Uint8Array.from(Buffer.from(b64, "base64"));
  const s = atob(b64);
  const u8 = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u8[i] = s.charCodeAt(i);
  return u8;
}
function $dtypeOfArray(a) {
  return a instanceof Float32Array ? "float32" : a instanceof Float64Array ? "float64" : a instanceof Int32Array ? "int32" : a instanceof Uint8Array ? "bool" : null;
}
// An argument as [typed array, shape]: an adgen Tensor (duck-typed), {data, shape}, or nested arrays.
function $toArray(x, dtype, what) {
  let data, shape;
  if (x !== null && typeof x === "object" && typeof x.dataSync === "function" && Array.isArray(x.shape)) {
    if (x.dtype !== dtype) $fail(what + " has dtype " + x.dtype + ", expected " + dtype);
    data = x.dataSync();
    shape = x.shape.slice();
  } else if (x !== null && typeof x === "object" && ArrayBuffer.isView(x.data) && Array.isArray(x.shape)) {
    const got = $dtypeOfArray(x.data);
    if (got !== dtype) $fail(what + " has a " + (got === null ? x.data.constructor.name : got + " array") + ", expected " + dtype + " (" + $ARRAYS[dtype].name + ")");
    data = x.data;
    shape = x.shape.slice();
  } else if (Array.isArray(x) || typeof x === "number" || typeof x === "boolean") {
    shape = [];
    for (let c = x; Array.isArray(c); c = c[0]) shape.push(c.length);
    const flat = [];
    const rec = (v, d) => {
      if (d === shape.length) {
        if (typeof v !== "number" && typeof v !== "boolean") $fail(what + ": nested arrays hold a " + typeof v);
        flat.push(Number(v));
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[d]) $fail(what + ": ragged nested arrays at depth " + d);
      for (const e of v) rec(e, d + 1);
    };
    rec(x, 0);
    data = $fromNumbers(flat, dtype);
  } else {
    $fail(what + ": expected a Tensor, a {data, shape} object or nested arrays, got " + (x === null ? "null" : typeof x));
  }
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) $fail(what + ": invalid shape " + JSON.stringify(shape));
  let n = 1;
  for (const d of shape) n *= d;
  if (data.length !== n) $fail(what + ": " + data.length + " elements do not fill shape " + $shapeStr(shape));
  return [dtype === "bool" ? $boolData(data) : data, shape];
}
function $result(data, shape, dtype) { return { data, shape, dtype }; }
// Memory the engine cannot give (a call too large for WebAssembly runs in JavaScript: typed arrays)
// is reported as a typed error naming the cause, never a raw RangeError.
function $arena(bytes) {
  try { return new ArrayBuffer(bytes); } catch (e) { $fail("this call needs " + bytes + " bytes of working memory, which the engine could not allocate (" + e.message + ")"); }
}
function $memoryError(e) {
  if (e instanceof RangeError && /alloc|array (buffer )?length|out of memory/i.test(e.message)) $fail("the engine could not allocate the memory this call needs (" + e.message + ")");
  throw e;
}`;

/**
 * The limits and pool of the module's WebAssembly memories: the jit's memory runtime
 * (runtime/wasm-memory.ts, declaring $takeMemory, $giveBack, $growTo) with the jit's current limits.
 */
export function wasmMemorySource(): string {
  const l = wasmMemoryLimits;
  return `const $WASM_LIMITS = { maxBytes: ${l.maxBytes}, retainBytes: ${l.retainBytes}, poolBytes: ${l.poolBytes}, create: (pages) => new WebAssembly.Memory({ initial: pages }), grow: (m, pages) => void m.grow(pages) };
${WASM_MEMORY_JS}`;
}

/**
 * The matrix-multiply runtime (runtime/matmul.ts, as in-process) bound to the module's own GEMM
 * instance (created on first use from the bytes the module carries; its memory grows through
 * $growTo, so wasmMemorySource() must be embedded too) or, without GEMM bytes, to none.
 */
function runtimeMatmul(minWork: number, wasmBase64: string | null, scratchBytes: number, primeFns: ("sgemm" | "dgemm")[] | string = []): string {
  const gemm =
    wasmBase64 === null
      ? "function $gemmFor(p) { return null; }"
      : String.raw`let $gemm = null;
function $gemmInstance() {
  if ($gemm !== null) return $gemm || null;
  $gemm = false;
  if (typeof WebAssembly === "undefined") return null;
  try {
    const bytes = $bytes("${wasmBase64}");
    const memory = $WASM_LIMITS.create(Math.ceil(${scratchBytes} / 65536) + 16);
    const scratch = new WebAssembly.Global({ value: "i32" }, 0);
    const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, scratch } }).exports;
    $gemm = { memory, sgemm: ex.sgemm, dgemm: ex.dgemm, heap: ${scratchBytes} };
  } catch (e) {
    $gemm = false;
  }
  return $gemm || null;
}
function $gemmFor(p) {
  const g = $gemmInstance();
  return g && { sgemm: g.sgemm, dgemm: g.dgemm, base: g.heap, ensure: (end) => $growTo(g.memory, end), view: (f64, off, n) => new (f64 ? Float64Array : Float32Array)(g.memory.buffer, off, n), done: () => {} };
}`;
  // the GEMM compiled at import and warmed up, like the kernels (bench/aot.ts: about 1.5 ms moved
  // from the first call to the import)
  // (a shared runtime primes what the importing module names: primeFns is then an expression)
  const fns = typeof primeFns === "string" ? primeFns : JSON.stringify(primeFns);
  const prime = wasmBase64 === null ? "" : `if (${fns}.length && $gemmInstance()) $primeGemm($gemmFor(null), ${fns});`;
  return `const $matmulMinWork = () => ${minWork};
${gemm}
${MATMUL_JS}
const matmul = $matmul;
${prime}`;
}

/** The GEMM functions a module warms up at import for matrix products of `dtypes`. */
export function gemmPrimes(dtypes: ("float32" | "float64")[]): ("sgemm" | "dgemm")[] {
  return [...new Set(dtypes)].map((d) => (d === "float32" ? "sgemm" : "dgemm") as "sgemm" | "dgemm");
}

/**
 * The matmul runtime, embedding the GEMM module only when the program multiplies floats of
 * `dtypes`; `prime` (an expression) overrides which GEMM functions are warmed up at import.
 */
export function matmulRuntime(minWork: number, dtypes: ("float32" | "float64")[], prime?: string): string {
  if (!dtypes.length) return runtimeMatmul(minWork, null, 0);
  return runtimeMatmul(minWork, bytesToBase64(gemmModuleBytes({ fma: false, shared: false })), gemmScratchBytes(), prime ?? gemmPrimes(dtypes));
}
