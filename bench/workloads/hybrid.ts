/**
 * The "break" workload (issue 11): a function with one data-dependent graph break per step, an
 * adaptive loop. Newton's method for x^2 = a, elementwise on N float64 values, stopping when the
 * largest residual is below 1e-9 (a JS `break` on `.item()`: the trip count depends on the data):
 *
 *     x = ones(N)
 *     repeat up to 50 times:
 *       r = x*x - a
 *       if max(|r|).item() < 1e-9: stop        // the graph break
 *       x = x - r / (2x)
 *     result = sum(x)                          // read back
 *
 * with a_j = 1 + 99 * (j + 0.5) / N (evenly spaced in (1, 100): 9 to 10 iterations). Rows:
 * "break-N" runs it under jit (compiled regions between breaks, the JS deciding when to stop),
 * "break-N-eager" without jit; both read the result back. Reference: sum of sqrt(a_j).
 */
import type { WorkloadSpec } from "./index.js";

export type HybridWorkloadId = "break-16" | "break-16-eager" | "break-100k" | "break-100k-eager";

export const BREAK_SIZES = { "break-16": 16, "break-100k": 100_000 } as const;
export const BREAK_TOL = 1e-9;
export const BREAK_MAX_ITERS = 50;

/** The inputs a_j. */
export function breakInput(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, j) => 1 + (99 * (j + 0.5)) / n);
}

/** Checks a result against sum(sqrt(a)). */
export function checkBreak(n: number, got: number): string | undefined {
  const want = breakInput(n).reduce((s, v) => s + Math.sqrt(v), 0);
  const rel = Math.abs(got - want) / want;
  return rel <= 1e-9 ? undefined : `break-${n}: sum ${got} != ${want} (rel ${rel.toExponential(2)})`;
}

const describeRow = (n: number, eager: boolean): string =>
  `Newton's method for sqrt on ${n} float64 values with a data-dependent stop (one graph break per iteration, .item() ` +
  `of the largest residual; bench/workloads/hybrid.ts), ${eager ? "eager (no jit)" : "under jit (compiled regions between breaks)"}; adgen only`;

export const HYBRID_WORKLOADS: WorkloadSpec[] = [
  { id: "break-16", description: describeRow(16, false), unit: "ms" },
  { id: "break-16-eager", description: describeRow(16, true), unit: "ms" },
  { id: "break-100k", description: describeRow(100_000, false), unit: "ms" },
  { id: "break-100k-eager", description: describeRow(100_000, true), unit: "ms" },
];
