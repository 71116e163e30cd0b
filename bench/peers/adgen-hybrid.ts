/**
 * adgen version of the "break" workload (bench/workloads/hybrid.ts): Newton's method with a JS
 * `break` on the largest residual, under jit (graph breaks: compiled regions, the JS deciding
 * the trip count) and eager.
 */
import { jit, np, type Tensor } from "../../src/index.js";
import type { SetupFactory, TimedSetup } from "../harness.js";
import { BREAK_MAX_ITERS, BREAK_TOL, breakInput, checkBreak } from "../workloads/hybrid.js";

function solve(a: Tensor): Tensor {
  let x = np.onesLike(a);
  for (let i = 0; i < BREAK_MAX_ITERS; i++) {
    const r = x.mul(x).sub(a);
    if (np.max(np.abs(r)).item() < BREAK_TOL) break; // the graph break
    x = x.sub(r.div(x.mul(2)));
  }
  return np.sum(x);
}

function breakSetup(n: number, useJit: boolean): SetupFactory {
  return (): TimedSetup => {
    const a = np.array(breakInput(n), "float64");
    const f = useJit ? jit(solve, { name: "newton_break" }) : solve;
    const run = () => (f(a) as Tensor).item();
    return { fn: run, verify: () => checkBreak(n, run()) };
  };
}

export const hybridImpls = {
  "break-16": breakSetup(16, true),
  "break-16-eager": breakSetup(16, false),
  "break-100k": breakSetup(100_000, true),
  "break-100k-eager": breakSetup(100_000, false),
};
