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

/**
 * out[b, m, n] = sum_k a[aOff + b*as0 + m*as1 + k*as2] * b[bOff + b*bs0 + k*bs1 + n*bs2]. With
 * `batch` (several batch dims that do not merge into one stride, lower/dot.ts), b runs over that
 * shape (B is its size) and aStrides/bStrides hold one stride per batch dim, then the two matrix
 * strides; the output is contiguous [B, M, N] from outOff either way.
 */
export interface MatmulArgs {
  f64: boolean;
  B: number;
  batch?: readonly number[];
  M: number;
  N: number;
  K: number;
  a: TypedArray;
  aOff: number;
  aStrides: readonly number[];
  b: TypedArray;
  bOff: number;
  bStrides: readonly number[];
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
  /**
   * Optional: `table.length / 3` products of one shape whose A, B, C byte offsets are the triples
   * of `table` (a threaded GEMM splits them over its threads, each product whole on one thread,
   * so the bits do not depend on the split). Without it the products run one by one.
   */
  batched?(f64: boolean, M: number, N: number, K: number, lda: number, aT: number, ldb: number, bT: number, ldc: number, table: Int32Array): void;
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

  /** Element offsets of every batch's matrix in an operand (batch index row-major over p.batch). */
  function batchOffsets(p: MatmulArgs, off: number, strides: readonly number[]): Float64Array {
    const offs = new Float64Array(p.B);
    const shape = p.batch || [p.B];
    const nb = shape.length;
    const idx = new Array(nb).fill(0);
    let o = off;
    for (let b = 0; b < p.B; b++) {
      offs[b] = o;
      // odometer over the batch shape, innermost dim fastest
      for (let d = nb - 1; d >= 0; d--) {
        o += strides[d]!;
        if (++idx[d] < shape[d]!) break;
        o -= strides[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
    return offs;
  }

  function jsMatmul(p: MatmulArgs): void {
    const nb = p.aStrides.length - 2;
    const as1 = p.aStrides[nb]!, as2 = p.aStrides[nb + 1]!;
    const bs1 = p.bStrides[nb]!, bs2 = p.bStrides[nb + 1]!;
    const ao = batchOffsets(p, p.aOff, p.aStrides), bo = batchOffsets(p, p.bOff, p.bStrides);
    const a = p.a, b = p.b, N = p.N;
    const acc = new Float64Array(N);
    for (let bi = 0; bi < p.B; bi++) {
      for (let i = 0; i < p.M; i++) {
        acc.fill(0);
        const ab = ao[bi]! + i * as1;
        for (let k = 0; k < p.K; k++) {
          const av = a[ab + k * as2]!;
          const row = bo[bi]! + k * bs1;
          for (let j = 0; j < N; j++) acc[j] += av * b[row + j * bs2]!;
        }
        p.out.set(acc, p.outOff + (bi * p.M + i) * N);
      }
    }
  }

  /**
   * Where a group of batches [g0, g1) of one operand goes in the GEMM's memory (offsets in
   * elements from the operand's region): one copy of the span they all touch when it is at most
   * twice their own data (attention's heads read through a transpose: the whole buffer), else
   * one slot per batch.
   */
  function placement(offs: Float64Array, g0: number, g1: number, extent: number) {
    let lo = Infinity, hi = -Infinity;
    for (let b = g0; b < g1; b++) {
      lo = Math.min(lo, offs[b]!);
      hi = Math.max(hi, offs[b]! + extent);
    }
    const slot = Math.ceil(extent / 16) * 16;
    const span = hi - lo <= 2 * (g1 - g0) * slot;
    return { span, lo, elems: span ? hi - lo : (g1 - g0) * slot, at: (b: number) => (span ? offs[b]! - lo : (b - g0) * slot) };
  }

  /**
   * The product on `g`: operands (only what the strided views touch) copied into its memory, one
   * sgemm/dgemm per batch with the right transpose flags (all batches in one call to g.batched
   * where it has one: threads split over the batch), the result copied out. Batches are taken in
   * groups of up to 32 MiB, or one by one when the memory cannot hold a group. False when the strides have
   * no GEMM layout or the memory cannot hold even one batch (the JS loop runs then).
   */
  function wasmMatmul(p: MatmulArgs, g: GemmHandle): boolean {
    const M = p.M, N = p.N, K = p.K, B = p.B;
    if (M === 0 || N === 0 || K === 0 || B === 0) return false;
    const nb = p.aStrides.length - 2;
    const la = gemmLayout(M, K, p.aStrides[nb]!, p.aStrides[nb + 1]!);
    const lb = gemmLayout(K, N, p.bStrides[nb]!, p.bStrides[nb + 1]!);
    if (!la || !lb) return false;
    const E = p.f64 ? 8 : 4;
    const A = (x: number) => Math.ceil(x / 64) * 64;
    const ao = batchOffsets(p, p.aOff, p.aStrides), bo = batchOffsets(p, p.bOff, p.bStrides);
    const fn = p.f64 ? g.dgemm : g.sgemm;
    // batches per group: as many as fit in 32 MiB of the GEMM's memory (which never shrinks), at least one
    let group = Math.max(1, Math.min(B, Math.floor(33554432 / ((la.extent + lb.extent + M * N) * E))));
    for (let g0 = 0; g0 < B; g0 += group) {
      let g1 = Math.min(B, g0 + group);
      let pa = placement(ao, g0, g1, la.extent), pb = placement(bo, g0, g1, lb.extent);
      let aPtr = A(g.base), bPtr = A(aPtr + pa.elems * E), cPtr = A(bPtr + pb.elems * E);
      if (!g.ensure(cPtr + (g1 - g0) * M * N * E)) {
        if (group === 1) return false;
        // one batch at a time (every product computes the same bits either way)
        group = 1;
        g1 = g0 + 1;
        pa = placement(ao, g0, g1, la.extent);
        pb = placement(bo, g0, g1, lb.extent);
        aPtr = A(g.base), bPtr = A(aPtr + pa.elems * E), cPtr = A(bPtr + pb.elems * E);
        if (!g.ensure(cPtr + M * N * E)) return false;
      }
      const copyIn = (src: TypedArray, offs: Float64Array, pl: ReturnType<typeof placement>, ptr: number, extent: number) => {
        if (pl.span) g.view(p.f64, ptr, pl.elems).set(src.subarray(pl.lo, pl.lo + pl.elems));
        else for (let b = g0; b < g1; b++) g.view(p.f64, ptr + pl.at(b) * E, extent).set(src.subarray(offs[b]!, offs[b]! + extent));
      };
      copyIn(p.a, ao, pa, aPtr, la.extent);
      copyIn(p.b, bo, pb, bPtr, lb.extent);
      const n = g1 - g0;
      if (g.batched && n > 1) {
        const table = new Int32Array(3 * n);
        for (let b = g0; b < g1; b++) {
          const t = 3 * (b - g0);
          table[t] = aPtr + pa.at(b) * E;
          table[t + 1] = bPtr + pb.at(b) * E;
          table[t + 2] = cPtr + (b - g0) * M * N * E;
        }
        g.batched(p.f64, M, N, K, la.ld, la.trans, lb.ld, lb.trans, N, table);
      } else {
        for (let b = g0; b < g1; b++) fn(M, N, K, aPtr + pa.at(b) * E, la.ld, la.trans, bPtr + pb.at(b) * E, lb.ld, lb.trans, cPtr + (b - g0) * M * N * E, N, 0);
      }
      p.out.set(g.view(p.f64, cPtr, n * M * N), p.outOff + g0 * M * N);
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
  return { matmul, jsMatmul, wasmMatmul, primeGemm, gemmLayout, batchOffsets };
}
