// The matrix-multiply kernel shared by the reference implementation of dot_general and by the
// generated code: the matmul runtime (runtime/matmul.ts) defined in-process. Large float products
// go to the WebAssembly SIMD GEMM when a backend installs one (backends/wasm/matmul.ts); otherwise,
// for small or int32 products, and for products the GEMM's memory cannot hold, a plain JS loop that
// accumulates every output element over k in order in float64. Exported modules embed MATMUL_JS.

import { config } from "../../core/config.js";
import { defineRuntime } from "../../core/runtime-text.js";
import { type GemmHandle, type MatmulArgs, matmulRuntime } from "../../runtime/matmul.js";

export type { GemmHandle, MatmulArgs };

/** The GEMM for one product (null: it cannot run this one; the JS loop runs instead). */
export type GemmProvider = (args: MatmulArgs) => GemmHandle | null;
let fast: GemmProvider | null = null;
let primer: (() => void) | null = null;

const MATMUL = defineRuntime(matmulRuntime, [(p: MatmulArgs) => (fast ? fast(p) : null), () => config.fastMatmulMinWork], ["$gemmFor", "$matmulMinWork"]);
/** The runtime's functions, in-process (primeGemm, jsMatmul, ... for the GEMM's owner and tests). */
export const matmulKernels = MATMUL.value;
/** The text exported modules embed: declares $matmul, $primeGemm, ... given $gemmFor and $matmulMinWork. */
export const MATMUL_JS = MATMUL.text;

/** `prime`: optional one-time warm-up of the kernel's code (see primeFastMatmul). */
export function installMatmulKernel(k: GemmProvider | null, prime?: () => void): void {
  fast = k;
  primer = prime ?? null;
}

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

/** Whether products of this size go to the installed fast kernel (same answer everywhere). */
export function useFastMatmul(M: number, N: number, K: number, B = 1): boolean {
  return fast !== null && B * M * N * K >= config.fastMatmulMinWork;
}

export const matmul: (args: MatmulArgs, isFloat: boolean) => void = MATMUL.value.matmul;
