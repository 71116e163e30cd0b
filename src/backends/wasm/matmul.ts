// The WebAssembly SIMD GEMM as the fast matrix-multiply kernel (index.ts installs it into
// prims/ref/matmul.ts):
// operands are copied into one process-wide wasm memory (only the rows/columns a strided view
// touches), sgemm/dgemm run on them with the right transpose flags, and the result is copied out.
// Views whose inner strides are not unit on either axis are declined (the JS loop handles them).

import type { TypedArray } from "../../core/dtype.js";
import type { MatmulArgs } from "../../prims/ref/matmul.js";
import { config } from "../../core/config.js";
import type { GemmFn } from "./gemm.js";
import { ThreadedGemm } from "./gemm-threads.js";
import { WasmGemm } from "./wasm-gemm.js";

let gemm: WasmGemm | null | undefined;
let threaded: ThreadedGemm | null = null;
let threadsRequested = false;

/**
 * The calling thread's instance, created on first use (null: no WebAssembly SIMD here). Where
 * threads may be used, it is already the threaded GEMM's own instance over the shared memory,
 * with the workers deferred: starting them later costs only the workers (no second module,
 * memory or cold code on this thread).
 */
function instance(): WasmGemm | null {
  if (gemm === undefined) {
    try {
      if (config.matmulThreads > 1 && typeof SharedArrayBuffer !== "undefined") {
        threaded = ThreadedGemm.createSync({ threads: config.matmulThreads, deferWorkers: true });
        gemm = threaded.local;
      } else gemm = new WasmGemm();
    } catch {
      threaded = null;
      try {
        gemm = new WasmGemm();
      } catch {
        gemm = null; // keep the JS kernel
      }
    }
  }
  return gemm;
}

/**
 * Worker threads are spawned at the `config.matmulThreadsAfter`-th large product (so a one-off
 * computation or a first call does not pay their start-up, which competes for the other cores
 * with V8's background compilers), without waiting for them: chunks of each
 * product are claimed from a shared counter, so until a worker is up the caller simply computes
 * every chunk itself (this works in fully synchronous loops). Threads split the output in
 * tile-aligned chunks, so every element is computed exactly as on one thread.
 */
function startThreads(): void {
  if (threadsRequested || config.matmulThreads <= 1) return;
  threadsRequested = true;
  try {
    instance();
    if (threaded) threaded.spawnWorkers();
    else {
      // the instance was made while threads were off: replace it by a threaded one
      const t = ThreadedGemm.createSync({ threads: config.matmulThreads });
      if (t.threads > 1) (threaded = t), (gemm = t.local);
    }
  } catch {
    /* stay single-threaded */
  }
}

/** How a strided [rows, cols] operand maps to a GEMM operand: leading dimension and transpose. */
function layout(rows: number, cols: number, rs: number, cs: number): { ld: number; trans: 0 | 1; extent: number } | null {
  if (cs === 1 || cols === 1) {
    const ld = rows === 1 ? cols : rs;
    if (ld < cols) return null;
    return { ld, trans: 0, extent: (rows - 1) * ld + cols };
  }
  if (rs === 1 || rows === 1) {
    const ld = cols === 1 ? rows : cs;
    if (ld < rows) return null;
    return { ld, trans: 1, extent: (cols - 1) * ld + rows };
  }
  return null;
}

/** Products of at least this many flops count towards `config.matmulThreadsAfter`. */
const LARGE_FLOPS = 2 ** 21;
let largeProducts = 0;

export function wasmMatmul(p: MatmulArgs): boolean {
  const { B, M, N, K } = p;
  if (M === 0 || N === 0 || K === 0) return false;
  if (!threadsRequested && 2 * B * M * N * K >= LARGE_FLOPS && ++largeProducts >= config.matmulThreadsAfter) startThreads();
  const g = instance();
  if (!g) return false;
  const t = config.matmulThreads > 1 && threaded && threaded.local === g ? threaded : null;
  const la = layout(M, K, p.aStrides[1], p.aStrides[2]);
  const lb = layout(K, N, p.bStrides[1], p.bStrides[2]);
  if (!la || !lb) return false;
  const E = p.f64 ? 8 : 4;
  const mark = g.mark();
  try {
    const aPtr = g.alloc(la.extent * E);
    const bPtr = g.alloc(lb.extent * E);
    const cPtr = g.alloc(M * N * E);
    const view = (off: number, n: number): TypedArray => (p.f64 ? g.f64(off, n) : g.f32(off, n));
    const fn: GemmFn = t ? (p.f64 ? t.dgemm : t.sgemm) : p.f64 ? g.dgemm : g.sgemm;
    for (let b = 0; b < B; b++) {
      const ab = p.aOff + b * p.aStrides[0];
      const bb = p.bOff + b * p.bStrides[0];
      view(aPtr, la.extent).set(p.a.subarray(ab, ab + la.extent));
      view(bPtr, lb.extent).set(p.b.subarray(bb, bb + lb.extent));
      fn(M, N, K, aPtr, la.ld, la.trans, bPtr, lb.ld, lb.trans, cPtr, N, 0);
      p.out.set(view(cPtr, M * N), p.outOff + b * M * N);
    }
    return true;
  } finally {
    g.reset(mark);
  }
}

/**
 * Tiny float32 products in every transpose combination, twice: enough calls of the packing and
 * micro-kernel functions for V8 to start compiling them with its optimizing tier in the
 * background (a first large product otherwise runs mostly in baseline code).
 */
export function prime(): void {
  const g = instance();
  if (!g) return;
  const mark = g.mark();
  try {
    const n = 32, k = 256;
    const a = g.alloc(n * k * 4), b = g.alloc(n * k * 4), c = g.alloc(n * n * 4);
    g.f32(a, n * k).fill(0);
    g.f32(b, n * k).fill(0);
    for (let r = 0; r < 2; r++)
      for (const aT of [0, 1] as const)
        for (const bT of [0, 1] as const) g.sgemm(n, n, k, a, aT ? n : k, aT, b, bT ? k : n, bT, c, n, 0);
  } catch {
    /* only a warm-up */
  } finally {
    g.reset(mark);
  }
}
