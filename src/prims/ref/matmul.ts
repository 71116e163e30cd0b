// The matrix-multiply kernel shared by the reference implementation of dot_general and by the
// generated code. Large float products go to a faster kernel when a backend installs one (the
// WebAssembly SIMD GEMM); otherwise, and for small or int32 products, a plain JS loop that
// accumulates every output element over k in order in float64.

import { config } from "../../core/config.js";
import type { TypedArray } from "../../core/dtype.js";

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

/** A faster kernel; returns false when it cannot handle these strides (the JS loop runs instead). */
export type MatmulKernel = (args: MatmulArgs) => boolean;
let fast: MatmulKernel | null = null;
let primer: (() => void) | null = null;

/** `prime`: optional one-time warm-up of the kernel's code (see primeFastMatmul). */
export function installMatmulKernel(k: MatmulKernel | null, prime?: () => void): void {
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

export function matmul(args: MatmulArgs, isFloat: boolean): void {
  if (isFloat && useFastMatmul(args.M, args.N, args.K, args.B) && fast!(args)) return;
  jsMatmul(args);
}

function jsMatmul({ B, M, N, K, a, aOff, aStrides, b, bOff, bStrides, out, outOff }: MatmulArgs): void {
  const [as0, as1, as2] = aStrides;
  const [bs0, bs1, bs2] = bStrides;
  const acc = new Float64Array(N);
  for (let bi = 0; bi < B; bi++) {
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      const ab = aOff + bi * as0 + i * as1;
      for (let k = 0; k < K; k++) {
        const av = a[ab + k * as2]!;
        const row = bOff + bi * bs0 + k * bs1;
        for (let j = 0; j < N; j++) acc[j] += av * b[row + j * bs2]!;
      }
      out.set(acc, outOff + (bi * M + i) * N);
    }
  }
}
