// Issue 14: Revolve (binomial checkpointing) on lax.foriLoop with {checkpoint: {snapshots: k}},
// as a native rule: the schedule is a constant table one loop executes (higher-order, not unrolled
// under jit, exportable). The schedule's recomputation count equals the binomial closed form,
// computed here independently; gradients equal the un-checkpointed loop's (a scan).

import { describe, expect, it } from "vitest";
import { exportFunction, grad, jit, lax, np, spec, type Tensor } from "../src/index.js";
import { revolveSchedule, scheduleStats } from "../src/transforms/remat-revolve.js";
import { assertClose, rand } from "./util/check.js";
import { loadExported as load } from "./util/load-exported.js";

/** C(a, b) by Pascal's rule (exact integers; independent of remat-revolve.ts). */
function choose(a: number, b: number): number {
  const row = [1];
  for (let i = 1; i <= a; i++) for (let j = Math.min(i, b); j >= 1; j--) row[j] = (row[j] ?? 0) + row[j - 1]!;
  return b > a ? 0 : row[b]!;
}
/** Griewank-Walther: t(n, s) = r n - C(s + r, s + 1), r the least with C(s + r, s) >= n. */
function binomialOptimum(n: number, s: number): number {
  if (n <= 1) return 0;
  if (s === 1) return (n * (n - 1)) / 2;
  let r = 0;
  while (choose(s + r, s) < n) r++;
  return r * n - choose(s + r, s + 1);
}

const cell = (a: Tensor) => (i: Tensor, x: Tensor) => np.add(np.tanh(np.multiply(x, a)), np.multiply(np.sin(np.astype(i, "float64")), 0.1));
const a = rand([4], 3, 0.5, 1.2);
const x0 = rand([4], 4);
const plain = (n: number) => (p: Tensor, x: Tensor) => np.sum(np.square(lax.foriLoop(0, n, cell(p), x)));
const revolved = (n: number, k: number) => (p: Tensor, x: Tensor) => np.sum(np.square(lax.foriLoop(0, n, cell(p), x, { checkpoint: { snapshots: k } })));

describe("Revolve on foriLoop", () => {
  it("the schedule recomputes exactly the binomial optimum, holds at most k states, reverses n-1..0", () => {
    for (const n of [1, 2, 3, 10, 55, 100, 333, 1000]) {
      for (const k of [1, 2, 3, 4, 10, 16, 64]) {
        const acts = revolveSchedule(n, k);
        const st = scheduleStats(acts);
        expect(st.forwardSteps, `n=${n} k=${k}`).toBe(binomialOptimum(n, k));
        expect(st.maxStored).toBeLessThanOrEqual(k);
        const rev = acts.filter((x) => x.reverse >= 0);
        expect(rev.map((x) => x.reverse)).toEqual(Array.from({ length: n }, (_, i) => n - 1 - i));
        // each action starts from the state its slot holds and reverses at the state it reached
        for (const x of acts) if (x.reverse >= 0) expect(x.hi).toBe(x.reverse);
      }
    }
    expect(binomialOptimum(1000, 10)).toBe(3636);
  });

  it("gradients equal the un-checkpointed loop's for several (n, k)", () => {
    for (const n of [1, 2, 10, 37]) {
      const want = grad(plain(n), { argnums: [0, 1] })(a, x0) as Tensor[];
      for (const k of [1, 2, 3, 8]) {
        const got = grad(revolved(n, k), { argnums: [0, 1] })(a, x0) as Tensor[];
        got.forEach((g, i) => assertClose(g.data, want[i]!.data, { rtol: 1e-12, atol: 1e-14, what: `n=${n} k=${k} arg ${i}` }));
      }
    }
  });

  it("is higher-order: grad of grad equals the un-checkpointed one", () => {
    const hv = (f: (p: Tensor, x: Tensor) => Tensor) => grad((x: Tensor) => np.sum(np.square(grad(f, { argnums: 1 })(a, x) as Tensor)))(x0);
    assertClose(hv(revolved(12, 3)).data, hv(plain(12)).data, { rtol: 1e-11, atol: 1e-13 });
  });

  it("under jit the program does not grow with n (a table, not an unrolled schedule) and agrees with eager", () => {
    const sizes = [20, 400].map((n) => {
      const g = grad(revolved(n, 4), { argnums: [0, 1] });
      const j = jit(g);
      const got = j(a, x0) as Tensor[];
      const want = grad(plain(n), { argnums: [0, 1] })(a, x0) as Tensor[];
      got.forEach((t, i) => assertClose(t.data, want[i]!.data, { rtol: 1e-11, atol: 1e-13, what: `n=${n} arg ${i}` }));
      const low = j.lower(a, x0);
      expect(low.text("js")).not.toMatch(/calls\[\d+\]/);
      // the schedule's table (5 int32 per action) is a constant of the program
      expect(low.text("optimized")).toContain(`i32[${5 * revolveSchedule(n, 4).length}]`);
      return low.optimized.equations.length;
    });
    expect(sizes[1]).toBe(sizes[0]);
  });

  it("exports and runs standalone", async () => {
    const g = (p: Tensor, x: Tensor) => grad(revolved(30, 3), { argnums: 1 })(p, x) as Tensor;
    const m = await load(exportFunction(g, [spec("float64", [4]), spec("float64", [4])], { name: "revolve_fori" }));
    assertClose(m.default(a, x0).data, g(a, x0).data, { rtol: 1e-12, atol: 1e-14 });
  });

  it("bad snapshot counts are ArgumentErrors naming the option", () => {
    expect(() => lax.foriLoop(0, 3, cell(a), x0, { checkpoint: { snapshots: 0 } })).toThrow(/lax.foriLoop: checkpoint.snapshots must be an integer >= 1, got 0/);
    expect(() => lax.whileLoop(() => np.array(false), (x: Tensor) => x, x0, { checkpoint: { snapshots: 1.5 } })).toThrow(/lax.whileLoop: checkpoint.snapshots must be an integer >= 1/);
  });
});
