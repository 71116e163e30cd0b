// The matrix-multiply kernel shared by the reference implementation of dot_general and by the
// generated code: the matmul runtime (runtime/matmul.ts) defined in-process. Large float products
// go to the WebAssembly SIMD GEMM (runtime/wasm/matmul.ts, imported directly: the GEMM is part of
// the runtime layer below the kernel); otherwise, for small or int32 products, for products the
// GEMM's memory cannot hold and where the engine has no WebAssembly SIMD, a plain JS loop that
// accumulates every output element over k in order in float64. Exported modules embed MATMUL_JS.

import { config } from "../../core/config.js";
import { defineRuntime } from "../../core/runtime-text.js";
import { type GemmHandle, type MatmulArgs, matmulRuntime } from "../../runtime/matmul.js";
import { gemmFor, primeHandle } from "../../runtime/wasm/matmul.js";

export type { GemmHandle, MatmulArgs };

const MATMUL = defineRuntime(matmulRuntime, [gemmFor, () => config.fastMatmulMinWork], ["$gemmFor", "$matmulMinWork"]);
/** The runtime's functions, in-process (primeGemm, jsMatmul, ... for tests). */
export const matmulKernels = MATMUL.value;
/** The text exported modules embed: declares $matmul, $primeGemm, ... given $gemmFor and $matmulMinWork. */
export const MATMUL_JS = MATMUL.text;

/** Warms the single-threaded float32 GEMM up (a few tiny products; see primeFastMatmul). */
function primeSgemm(): void {
  const h = primeHandle();
  if (!h) return;
  try {
    MATMUL.value.primeGemm(h, ["sgemm"]);
  } catch {
    /* only a warm-up */
  } finally {
    h.done();
  }
}
let primer: (() => void) | null = primeSgemm;

/**
 * Warms the fast kernel up once per process (a few tiny products), so that the engine's
 * optimizing compiler works on it in the background while the caller does other work (the jit
 * calls this before optimizing a program with large products, then runs them at full speed).
 * `wanted` is only asked while the warm-up is still pending.
 */
export function primeFastMatmul(wanted: () => boolean): void {
  if (!primer || !wanted()) return;
  const p = primer;
  primer = null;
  p();
}

/** Whether products of this size go to the fast kernel (same answer everywhere). */
export function useFastMatmul(M: number, N: number, K: number, B = 1): boolean {
  return B * M * N * K >= config.fastMatmulMinWork;
}

export const matmul: (args: MatmulArgs, isFloat: boolean) => void = MATMUL.value.matmul;
