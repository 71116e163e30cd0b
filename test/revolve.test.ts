// Issue 14 item 3 (first step): binomial checkpointing (Revolve). The closed-form count of
// recomputed forward steps equals an independent dynamic program over all schedules; the driver
// attains it on a 1000-step iteration for k in {1, 4, 16, 64} while holding at most k states, and
// reverses it exactly (the adjoint of a scalar recurrence against its closed-form derivative).

import { describe, expect, it } from "vitest";
import { type Tensor, grad, jit, lax, np } from "../src/index.js";
import { lastRevolveStats } from "../src/api/scan-revolve.js";
import { revolveForwardSteps, revolveReverse } from "../src/transforms/remat-revolve.js";
import { rand } from "./util/check.js";

/** T(n, s): fewest forward steps over every split schedule (memoised DP, independent of the formula). */
function dp(nMax: number, sMax: number): number[][] {
  const T = Array.from({ length: sMax + 1 }, () => new Array<number>(nMax + 1).fill(0));
  for (let n = 1; n <= nMax; n++) T[1]![n] = (n * (n - 1)) / 2;
  for (let s = 2; s <= sMax; s++) {
    for (let n = 2; n <= nMax; n++) {
      let best = Infinity;
      for (let m = 1; m < n; m++) best = Math.min(best, m + T[s - 1]![n - m]! + T[s]![m]!);
      T[s]![n] = best;
    }
  }
  return T;
}

describe("issue 14 item 3: Revolve", () => {
  it("the closed form equals the optimum over all split schedules (n <= 120, snapshots <= 6)", () => {
    const T = dp(120, 6);
    for (let s = 1; s <= 6; s++) for (let n = 1; n <= 120; n++) expect(revolveForwardSteps(n, s), `n=${n} s=${s}`).toBe(T[s]![n]);
  });

  for (const k of [1, 4, 16, 64]) {
    it(`1000 steps with ${k} snapshots: stored states <= k, recomputed steps = the binomial optimum, exact adjoint`, () => {
      const n = 1000;
      // x_{i+1} = x_i + 0.001 * sin(x_i + i): d x_{i+1}/d x_i = 1 + 0.001 cos(x_i + i)
      const step = (x: number, i: number) => x + 0.001 * Math.sin(x + i);
      const seen: number[] = [];
      const { adjoint, stats } = revolveReverse(n, k, 0.3, step, (x, i, adj: number) => {
        seen.push(i);
        return adj * (1 + 0.001 * Math.cos(x + i));
      }, 1);
      expect(seen).toEqual(Array.from({ length: n }, (_, i) => n - 1 - i));
      expect(stats.maxStored).toBeLessThanOrEqual(k);
      expect(stats.forwardSteps).toBe(revolveForwardSteps(n, k));
      // reference: store every state, multiply the derivatives
      const xs = [0.3];
      for (let i = 0; i < n; i++) xs.push(step(xs[i]!, i));
      let ref = 1;
      for (let i = n - 1; i >= 0; i--) ref *= 1 + 0.001 * Math.cos(xs[i]! + i);
      expect(adjoint).toBe(ref);
    });
  }

  it("more snapshots never recompute more; n snapshots recompute n - 1 steps", () => {
    for (let s = 1; s < 40; s++) expect(revolveForwardSteps(200, s + 1)).toBeLessThanOrEqual(revolveForwardSteps(200, s));
    expect(revolveForwardSteps(50, 50)).toBe(49);
    expect(revolveForwardSteps(1000, 10)).toBe(3636); // the figure docs/memory.md quotes
  });

  for (const k of [4, 16]) {
    it(`lax.scan RNN (300 steps) with {checkpoint: {snapshots: ${k}}}: gradients equal plain reverse mode, <= k carries, optimal recomputation`, () => {
      const n = 300;
      const W = np.multiply(rand([4, 4], 3), 0.4);
      const xs = rand([n, 4], 4);
      const h0 = rand([4], 5);
      const loss = (opts: object) => (w: Tensor, h: Tensor) => {
        const [hn, ys] = lax.scan((c: Tensor, x: Tensor) => {
          const c2 = np.tanh(np.add(np.matmul(w, c), x));
          return [c2, np.sum(np.square(c2))];
        }, h, xs, opts);
        return np.add(np.sum(ys as Tensor), np.sum(np.sin(hn as Tensor)));
      };
      const [gw, gh] = grad(loss({ checkpoint: { snapshots: k } }), { argnums: [0, 1] })(W, h0) as Tensor[];
      const stats = lastRevolveStats.value!;
      expect(stats.maxStored).toBeLessThanOrEqual(k);
      expect(stats.forwardSteps).toBe(revolveForwardSteps(n, k));
      expect(stats.reverseSteps).toBe(n);
      const [rw, rh] = grad(loss({}), { argnums: [0, 1] })(W, h0) as Tensor[];
      gw!.data.forEach((v, i) => expect(Math.abs(v - rw!.data[i]!)).toBeLessThan(1e-12));
      gh!.data.forEach((v, i) => expect(Math.abs(v - rh!.data[i]!)).toBeLessThan(1e-12));
      expect((loss({ checkpoint: { snapshots: k } })(W, h0) as Tensor).item()).toBe((loss({})(W, h0) as Tensor).item());
    }, 120_000);
  }

  it("a scan checkpoint under jit (schedule unrolled) gives the same gradient", () => {
    const xs = rand([12, 3], 8);
    const f = (h: Tensor) => np.sum((lax.scan((c: Tensor, x: Tensor) => [np.sin(np.add(c, x)), c], h, xs, { checkpoint: { snapshots: 3 } }) as Tensor[])[0]!);
    const g = (h: Tensor) => np.sum((lax.scan((c: Tensor, x: Tensor) => [np.sin(np.add(c, x)), c], h, xs) as Tensor[])[0]!);
    const h0 = rand([3], 9);
    const a = jit(grad(f))(h0) as Tensor;
    const b = grad(g)(h0) as Tensor;
    a.data.forEach((v, i) => expect(Math.abs(v - b.data[i]!)).toBeLessThan(1e-12));
  });
});
