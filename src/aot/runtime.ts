// The small runtime embedded (as text) in every exported module: argument conversion and
// checking, and the matrix-multiply kernel (a
// JS loop, plus the WebAssembly SIMD GEMM whose bytes the module carries). It is constant code
// written here, never derived from user input; modules stay standalone (no imports).

import { gemmModuleBytes, gemmScratchBytes } from "../backends/wasm/gemm.js";
import { TO_INT32_JS } from "../core/dtype.js";
import { bytesToBase64 } from "../ir/serialize.js";

/** Runtime helpers every module needs (argument conversion, errors). */
export const RUNTIME_CORE = String.raw`const $inputInt32 = (() => { ${TO_INT32_JS} return $toInt32Sat; })();
// Numbers and booleans to a dtype's storage exactly as adgen's np.array does (core/dtype
// toTypedArray): bool is JS truthiness (0.5 -> true, NaN -> false), int32 truncates and saturates.
function $fromNumbers(flat, dtype) {
  if (dtype === "bool") return Uint8Array.from(flat, (v) => (v ? 1 : 0));
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
function $result(data, shape, dtype) { return { data, shape, dtype }; }`;

/** The matrix-multiply kernel with the same signature as adgen's shared one (no threads). */
function runtimeMatmul(minWork: number, wasmBase64: string | null, scratchBytes: number, primeFns: ("sgemm" | "dgemm")[] = []): string {
  return String.raw`const $MATMUL_MIN_WORK = ${minWork};
let $gemm = null;
function $gemmInstance() {
  if ($gemm !== null) return $gemm || null;
  $gemm = false;
  if (${wasmBase64 === null ? "true" : "false"} || typeof WebAssembly === "undefined") return null;
  try {
    const bytes = $bytes("${wasmBase64 ?? ""}");
    const memory = new WebAssembly.Memory({ initial: Math.ceil(${scratchBytes} / 65536) + 16 });
    const scratch = new WebAssembly.Global({ value: "i32" }, 0);
    const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, scratch } }).exports;
    $gemm = { memory, sgemm: ex.sgemm, dgemm: ex.dgemm, heap: ${scratchBytes} };
  } catch (e) {
    $gemm = false;
  }
  return $gemm || null;
}
function $layout(rows, cols, rs, cs) {
  if (cs === 1 || cols === 1) { const ld = rows === 1 ? cols : rs; return ld < cols ? null : { ld, trans: 0, extent: (rows - 1) * ld + cols }; }
  if (rs === 1 || rows === 1) { const ld = cols === 1 ? rows : cs; return ld < rows ? null : { ld, trans: 1, extent: (cols - 1) * ld + rows }; }
  return null;
}
function $wasmMatmul(p) {
  const g = $gemmInstance();
  if (!g || p.M === 0 || p.N === 0 || p.K === 0) return false;
  const la = $layout(p.M, p.K, p.aStrides[1], p.aStrides[2]);
  const lb = $layout(p.K, p.N, p.bStrides[1], p.bStrides[2]);
  if (!la || !lb) return false;
  const E = p.f64 ? 8 : 4;
  const A = (x) => Math.ceil(x / 64) * 64;
  const aPtr = g.heap, bPtr = A(aPtr + la.extent * E), cPtr = A(bPtr + lb.extent * E), end = cPtr + p.M * p.N * E;
  if (end > g.memory.buffer.byteLength) g.memory.grow(Math.ceil((end - g.memory.buffer.byteLength) / 65536));
  const T = p.f64 ? Float64Array : Float32Array;
  const view = (off, n) => new T(g.memory.buffer, off, n);
  const fn = p.f64 ? g.dgemm : g.sgemm;
  for (let b = 0; b < p.B; b++) {
    const ab = p.aOff + b * p.aStrides[0], bb = p.bOff + b * p.bStrides[0];
    view(aPtr, la.extent).set(p.a.subarray(ab, ab + la.extent));
    view(bPtr, lb.extent).set(p.b.subarray(bb, bb + lb.extent));
    fn(p.M, p.N, p.K, aPtr, la.ld, la.trans, bPtr, lb.ld, lb.trans, cPtr, p.N, 0);
    p.out.set(view(cPtr, p.M * p.N), p.outOff + b * p.M * p.N);
  }
  return true;
}
${wasmBase64 === null ? "" : primeCode(primeFns)}
function matmul(p, isFloat) {
  if (isFloat && p.B * p.M * p.N * p.K >= $MATMUL_MIN_WORK && $wasmMatmul(p)) return;
  const acc = new Float64Array(p.N);
  const [as0, as1, as2] = p.aStrides, [bs0, bs1, bs2] = p.bStrides;
  for (let bi = 0; bi < p.B; bi++) {
    for (let i = 0; i < p.M; i++) {
      acc.fill(0);
      const ab = p.aOff + bi * as0 + i * as1;
      for (let k = 0; k < p.K; k++) {
        const av = p.a[ab + k * as2], row = p.bOff + bi * bs0 + k * bs1;
        for (let j = 0; j < p.N; j++) acc[j] += av * p.b[row + j * bs2];
      }
      p.out.set(acc, p.outOff + (bi * p.M + i) * p.N);
    }
  }
}`;
}

/**
 * Instantiates the GEMM at import and runs a few tiny products (every transpose combination, the
 * dtypes the programs use), so that V8 starts optimizing its code in the background at load: the
 * first large product then runs at close to full speed instead of in baseline code (bench/aot.ts:
 * about 1.5 ms moved from the first call to the import).
 */
function primeCode(fns: ("sgemm" | "dgemm")[]): string {
  return `$gemmInstance(); // compiled at import, like the kernels
if ($gemm) {
  const h = $gemm.heap;
  for (const fn of ${JSON.stringify(fns)}) for (let r = 0; r < 2; r++) for (const aT of [0, 1]) for (const bT of [0, 1])
    $gemm[fn](32, 32, 256, h, aT ? 32 : 256, aT, h + 65536, bT ? 256 : 32, bT, h + 131072, 32, 0);
}`;
}

/** The matmul runtime, embedding the GEMM module only when the program multiplies floats of `dtypes`. */
export function matmulRuntime(minWork: number, dtypes: ("float32" | "float64")[]): string {
  if (!dtypes.length) return runtimeMatmul(minWork, null, 0);
  const fns = [...new Set(dtypes)].map((d) => (d === "float32" ? "sgemm" : "dgemm") as "sgemm" | "dgemm");
  return runtimeMatmul(minWork, bytesToBase64(gemmModuleBytes({ fma: false, shared: false })), gemmScratchBytes(), fns);
}
