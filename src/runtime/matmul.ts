// The matrix-multiply driver, written once as a runtime (core/runtime-text.ts): the strided JS
// loop (every output element accumulated over k in order in float64), the mapping of a strided
// operand to a GEMM operand (leading dimension, transpose), the copy-in / run / copy-out of the
// WebAssembly SIMD GEMM, its warm-up, and the dispatch between them. prims/ref/matmul.ts defines
// it (defineRuntime) with `gemm` bound to the process-wide GEMM instance (runtime/wasm/matmul.ts);
// an exported module embeds the same text with its own instance of the GEMM bytes it carries.
//
// A product whose operands do not fit the GEMM's WebAssembly memory (the memory cannot grow that
// far, or the engine refuses) runs with the JS loop instead: same numbers as the JS kernel, never
// a RangeError from WebAssembly.Memory.grow.

import type { TypedArray } from "../core/dtype.js";

/** out[b, m, n] = sum_k a[aOff + b*as0 + m*as1 + k*as2] * b[bOff + b*bs0 + k*bs1 + n*bs2]. */
export interface MatmulArgs {
  f64: boolean;
  B: number;
  M: number;
  N: number;
  K: number;
  a: TypedArray;
  aOff: number;
  aStrides: readonly [number, number, number];
  b: TypedArray;
  bOff: number;
  bStrides: readonly [number, number, number];
  out: TypedArray;
  outOff: number;
}

/** (M, N, K, aOff, lda, aTrans, bOff, ldb, bTrans, cOff, ldc, accumulate) => void; offsets in bytes. */
type Gemm = (...a: number[]) => void;

/**
 * A GEMM ready to run one product: its functions, the first free byte of its memory, `ensure`
 * (makes [0, end) addressable; false when the memory cannot grow that far), typed views of its
 * memory, and `done` (called after the product, e.g. to give the bump allocator back).
 */
export interface GemmHandle {
  sgemm: Gemm;
  dgemm: Gemm;
  base: number;
  ensure(end: number): boolean;
  view(f64: boolean, byteOffset: number, length: number): Float32Array | Float64Array;
  done(): void;
}

/**
 * `gemm(p)`: the GEMM for a large float product (null: none, the JS loop runs); `minWork()`: the
 * least B*M*N*K that goes to it.
 */
export function matmulRuntime(gemm: (p: MatmulArgs) => GemmHandle | null, minWork: () => number) {
  /** How a strided [rows, cols] operand maps to a GEMM operand: leading dimension and transpose. */
  function gemmLayout(rows: number, cols: number, rs: number, cs: number) {
    if (cs === 1 || cols === 1) {
      const ld = rows === 1 ? cols : rs;
      return ld < cols ? null : { ld, trans: 0, extent: (rows - 1) * ld + cols };
    }
    if (rs === 1 || rows === 1) {
      const ld = cols === 1 ? rows : cs;
      return ld < rows ? null : { ld, trans: 1, extent: (cols - 1) * ld + rows };
    }
    return null;
  }

  function jsMatmul(p: MatmulArgs): void {
    const as0 = p.aStrides[0], as1 = p.aStrides[1], as2 = p.aStrides[2];
    const bs0 = p.bStrides[0], bs1 = p.bStrides[1], bs2 = p.bStrides[2];
    const a = p.a, b = p.b, N = p.N;
    const acc = new Float64Array(N);
    for (let bi = 0; bi < p.B; bi++) {
      for (let i = 0; i < p.M; i++) {
        acc.fill(0);
        const ab = p.aOff + bi * as0 + i * as1;
        for (let k = 0; k < p.K; k++) {
          const av = a[ab + k * as2]!;
          const row = p.bOff + bi * bs0 + k * bs1;
          for (let j = 0; j < N; j++) acc[j] += av * b[row + j * bs2]!;
        }
        p.out.set(acc, p.outOff + (bi * p.M + i) * N);
      }
    }
  }

  /**
   * The product on `g`: operands (only what a strided view touches) copied into its memory,
   * sgemm/dgemm with the right transpose flags per batch, the result copied out. False when the
   * strides have no GEMM layout or the memory cannot hold the operands (the JS loop runs then).
   */
  function wasmMatmul(p: MatmulArgs, g: GemmHandle): boolean {
    const M = p.M, N = p.N, K = p.K;
    if (M === 0 || N === 0 || K === 0) return false;
    const la = gemmLayout(M, K, p.aStrides[1], p.aStrides[2]);
    const lb = gemmLayout(K, N, p.bStrides[1], p.bStrides[2]);
    if (!la || !lb) return false;
    const E = p.f64 ? 8 : 4;
    const A = (x: number) => Math.ceil(x / 64) * 64;
    const aPtr = A(g.base), bPtr = A(aPtr + la.extent * E), cPtr = A(bPtr + lb.extent * E);
    if (!g.ensure(cPtr + M * N * E)) return false;
    const fn = p.f64 ? g.dgemm : g.sgemm;
    for (let b = 0; b < p.B; b++) {
      const ab = p.aOff + b * p.aStrides[0], bb = p.bOff + b * p.bStrides[0];
      g.view(p.f64, aPtr, la.extent).set(p.a.subarray(ab, ab + la.extent));
      g.view(p.f64, bPtr, lb.extent).set(p.b.subarray(bb, bb + lb.extent));
      fn(M, N, K, aPtr, la.ld, la.trans, bPtr, lb.ld, lb.trans, cPtr, N, 0);
      p.out.set(g.view(p.f64, cPtr, M * N), p.outOff + b * M * N);
    }
    return true;
  }

  /**
   * Tiny products in every transpose combination, twice, for each of `fns` ("sgemm", "dgemm"):
   * enough calls for the engine to start optimizing the GEMM's code in the background, so that a
   * first large product does not run mostly in baseline code.
   */
  function primeGemm(g: GemmHandle, fns: string[]): void {
    const a = Math.ceil(g.base / 64) * 64, b = a + 65536, c = b + 65536;
    if (!g.ensure(c + 65536)) return;
    g.view(false, a, 32768).fill(0);
    g.view(false, b, 32768).fill(0);
    for (let f = 0; f < fns.length; f++) {
      const fn = fns[f] === "dgemm" ? g.dgemm : g.sgemm;
      for (let r = 0; r < 2; r++) for (let aT = 0; aT < 2; aT++) for (let bT = 0; bT < 2; bT++) fn(32, 32, 256, a, aT ? 32 : 256, aT, b, bT ? 256 : 32, bT, c, 32, 0);
    }
  }

  /** The product `p`: on the GEMM when it is a large float product the GEMM can take, else the JS loop. */
  function matmul(p: MatmulArgs, isFloat: boolean): void {
    if (isFloat && p.B * p.M * p.N * p.K >= minWork()) {
      const g = gemm(p);
      if (g !== null) {
        let ok = false;
        try {
          ok = wasmMatmul(p, g);
        } finally {
          g.done();
        }
        if (ok) return;
      }
    }
    jsMatmul(p);
  }
  return { matmul, jsMatmul, wasmMatmul, primeGemm, gemmLayout };
}
