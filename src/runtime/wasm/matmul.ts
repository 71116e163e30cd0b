// The WebAssembly SIMD GEMM as the fast matrix-multiply kernel, imported directly by
// prims/ref/matmul.ts (nothing installs it): one process-wide instance (threaded when config
// allows), handed to the matmul runtime (runtime/matmul.ts) per product with a bump region of its
// memory. The runtime copies the operands in (only the rows/columns a strided view touches), runs
// sgemm/dgemm and copies the result out; it declines views without a unit inner stride, and
// products whose operands the memory cannot hold (wasmMemoryLimits, runtime/wasm/memory.ts),
// which then run in the JS loop.
//
// Bits: the interpreter, eager evaluation and both backends call this one instance (and the same
// size threshold), so they agree bit for bit; threads split a product into tile-aligned chunks or
// a batch into whole products, which computes every element exactly as one thread does. Where the
// engine has relaxed SIMD (Node 22+, Chromium) the instance multiplies-adds fused: faster, and
// deterministic on that engine and CPU, but float32 products then differ from engines without it
// (and from exported modules, which carry the portable GEMM) by the rounding of the products,
// at most K * 2^-23 * sum_k |a_ik| |b_kj| per element (test/batched-matmul.test.ts checks it).

import type { GemmHandle, MatmulArgs } from "../matmul.js";
import { config } from "../../core/config.js";
import { wasmMemory } from "./memory.js";
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

/** Products of at least this many flops count towards `config.matmulThreadsAfter`. */
const LARGE_FLOPS = 2 ** 21;
let largeProducts = 0;

/** The GEMM for one product, its operands bump-allocated in the instance's memory from its mark. */
function handle(g: WasmGemm, t: ThreadedGemm | null): GemmHandle {
  const mark = g.mark();
  return {
    sgemm: t ? t.sgemm : g.sgemm,
    dgemm: t ? t.dgemm : g.dgemm,
    base: mark,
    ensure: (end) => wasmMemory.growTo(g.memory, end),
    view: (f64, off, n) => (f64 ? g.f64(off, n) : g.f32(off, n)),
    done: () => g.reset(mark),
    ...(t ? { batched: (f64: boolean, M: number, N: number, K: number, lda: number, aT: number, ldb: number, bT: number, ldc: number, table: Int32Array) => t.batched(f64 ? "f64" : "f32", M, N, K, lda, aT, ldb, bT, ldc, table) } : {}),
  };
}

export function gemmFor(p: MatmulArgs): GemmHandle | null {
  if (!threadsRequested && 2 * p.B * p.M * p.N * p.K >= LARGE_FLOPS && ++largeProducts >= config.matmulThreadsAfter) startThreads();
  const g = instance();
  if (!g) return null;
  return handle(g, config.matmulThreads > 1 && threaded && threaded.local === g ? threaded : null);
}

let largeKernels = 0;
/**
 * The worker pool for a large kernel of a program module (backends/wasm/threads.ts), or null (one
 * thread: no SharedArrayBuffer, config.matmulThreads 1, or not started yet). The workers start at
 * the `config.matmulThreadsAfter`-th large product or large kernel, as for products.
 */
export function kernelThreads(): ThreadedGemm | null {
  if (config.matmulThreads <= 1) return null;
  if (!threadsRequested && ++largeKernels >= config.matmulThreadsAfter) startThreads();
  return threaded && threaded.threads > 1 && threaded.local === gemm ? threaded : null;
}

/** Forgets program instance `key` in the workers (its memory was collected). */
export function dropKernelInstance(key: number): void {
  threaded?.drop(key);
}

/**
 * The single-threaded GEMM's handle for a warm-up (runtime/matmul.ts primeGemm; null: no
 * WebAssembly SIMD here). The caller releases it with `done()`.
 */
export function primeHandle(): GemmHandle | null {
  const g = instance();
  return g ? handle(g, null) : null;
}
