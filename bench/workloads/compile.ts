/**
 * Compile-time rows (issue 12 item 4): the first jit call in a fresh process of the MLP step and
 * the transformer block step, and of generated programs of 30, 300 and 3000 operations (to see
 * whether compile time is linear in program size). Each sample is one child process
 * (bench/peers/adgen-compile.ts) that reports the total and a per-phase split (trace, each
 * optimization pass, lower, memory plan, code generation, WebAssembly compile, first run: the
 * compile profile of src/core/profile.ts), printed as the cell's note. adgen only.
 *
 *   npx tsx bench/run.ts --only compile --peers adgen
 */
import type { WorkloadSpec } from "./index.js";

export const COMPILE_SIZES = [30, 300, 3000] as const;
export type CompileCase = "mlp-step" | "transformer-step" | `gen-${(typeof COMPILE_SIZES)[number]}`;
export type CompileWorkloadId = `compile-${CompileCase}`;

/** Operations per block of the generated program (see generatedProgram). */
export const GEN_BLOCK_OPS = 10;

/**
 * The generated program of about `n` primitive operations on a [64] float32 vector: n / 10 blocks
 * of elementwise ops (mul, add, sin, tanh, exp, neg, sub), a reduction and a broadcast, each
 * block depending on the last, so no pass can drop them and the fuser sees realistic chains.
 */
export function generatedProgram<T>(np: {
  multiply(a: T, b: T | number): T;
  add(a: T, b: T | number): T;
  subtract(a: T, b: T | number): T;
  sin(a: T): T;
  tanh(a: T): T;
  exp(a: T): T;
  negative(a: T): T;
  mean(a: T): T;
  sum(a: T): T;
}, n: number): (x: T) => T {
  return (x: T) => {
    let v = x;
    for (let i = 0; i < n / GEN_BLOCK_OPS; i++) {
      const c = 1 + i / n;
      const a = np.add(np.multiply(v, c), np.sin(v)); // mul, sin, add
      const b = np.tanh(np.multiply(a, 0.5)); // mul, tanh
      const e = np.exp(np.negative(np.multiply(b, b))); // mul, neg, exp
      v = np.subtract(e, np.mean(e)); // mean (reduce + div), sub
    }
    return np.sum(v);
  };
}

const note =
  "fresh process per sample (src/ via tsx, imported before timing): wall ms of jit(f) + first call + readback; the " +
  "note gives the median process CPU ms and its per-phase split (exclusive CPU times, src/core/profile.ts; 'other' = " +
  "CPU total minus the phases: jit bookkeeping, keys, the first run); CPU time is what to compare on a loaded machine";

export const COMPILE_WORKLOADS: WorkloadSpec[] = [
  { id: "compile-mlp-step", description: `first call of jit(valueAndGrad(mlp loss)); ${note}`, unit: "ms", freshProcess: true, measure: { maxRuns: 5 }, quick: { maxRuns: 3 } },
  { id: "compile-transformer-step", description: "first call of jit(valueAndGrad(transformer block loss))", unit: "ms", freshProcess: true, measure: { maxRuns: 5 }, quick: { maxRuns: 3 } },
  ...COMPILE_SIZES.map(
    (n): WorkloadSpec => ({
      id: `compile-gen-${n}`,
      description: `first call of jit(f), f a generated program of ${n} ops (bench/workloads/compile.ts generatedProgram)`,
      unit: "ms",
      freshProcess: true,
      measure: { maxRuns: 5 },
      quick: { maxRuns: 3 },
    }),
  ),
];
