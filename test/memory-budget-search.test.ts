// Issue 14: budget placement beyond EXACT_LIMIT candidates (transforms/remat-search.ts): greedy,
// then a bounded local search. On graphs small enough to enumerate, at every distinct budget the
// search's plan fits, is never worse than the greedy plan it starts from and never better than
// the exact optimum (the enumeration); on a residual network with more candidates than the exact
// limit the planner uses it, the plan fits the budget and the gradients are those of plain grad.

import { describe, expect, it } from "vitest";
import { type Tensor, checkpoint, grad, np, planCheckpoint } from "../src/index.js";
import { EXACT_LIMIT, planBudget, policySaveSet, score } from "../src/transforms/remat.js";
import { greedyPlan, improvePlan } from "../src/transforms/remat-search.js";
import { rand } from "./util/check.js";
import { graphOf } from "./util/remat-graph.js";

const resnet = (ws: Tensor[], x0: Tensor) => np.sum(np.square(ws.reduce((h, w) => np.add(h, np.tanh(np.matmul(h, w))), x0)));
const Ws = (n: number) => Array.from({ length: n }, (_, i) => np.multiply(rand([3, 3], 300 + i), 0.5));
const x = rand([2, 3], 7);

describe("budget placement: greedy + local search", () => {
  it("small graphs: greedy >= local search >= exact optimum in FLOPs, at every budget", () => {
    const fs: [string, (...a: Tensor[]) => Tensor, Tensor[]][] = [
      ["3-layer resnet", (a, b, c, v) => resnet([a!, b!, c!], v!), [...Ws(3), x]],
      ["mixed", (v, w) => np.sum(np.multiply(np.exp(np.tanh(np.matmul(v, w))), np.sin(np.matmul(np.cos(v), w)))), [x, rand([3, 3], 9)]],
    ];
    let equal = 0, greedyEqual = 0, total = 0;
    for (const [, f, args] of fs) {
      const g = graphOf(f, ...args);
      expect(g.candidates.length).toBeLessThanOrEqual(EXACT_LIMIT);
      const sc = (s: (typeof g.candidates)[number][]) => score(g, s, {});
      const all = sc([...policySaveSet(g, () => true)]), none = sc([]);
      const distinct = [...new Set(Array.from({ length: 1 << Math.min(g.candidates.length, 10) }, (_, m) => sc(g.candidates.filter((_, i) => m & (1 << i))).bytes))].sort((a, b) => a - b);
      // at most 12 of them, spread from the smallest to the largest
      const budgets = distinct.filter((_, i) => i % Math.ceil(distinct.length / 12) === 0 || i === distinct.length - 1);
      for (const budget of budgets) {
        const exact = planBudget(g, budget, {}).best;
        const greedy = greedyPlan(all, none, budget, sc);
        if (!greedy) continue;
        const local = improvePlan(g, greedy, budget, sc).best;
        expect(local.bytes).toBeLessThanOrEqual(budget);
        expect(local.flops).toBeLessThanOrEqual(greedy.flops);
        expect(local.flops).toBeGreaterThanOrEqual(exact.flops);
        total++;
        if (local.flops === exact.flops) equal++;
        if (greedy.flops === exact.flops) greedyEqual++;
      }
    }
    expect(total).toBeGreaterThan(10);
    // the search reaches the optimum at most budgets here (printed for the record)
    console.log(`at the exact optimum: local search ${equal}, greedy ${greedyEqual}, of ${total} budgets`);
    expect(equal).toBeGreaterThan(greedyEqual); // the search improves on greedy here (18 vs 14 of 22)
    expect(equal).toBeGreaterThan(total / 2);
  });

  it(`a 24-layer residual network (more than ${EXACT_LIMIT} candidates): the plan fits and gradients are unchanged`, () => {
    const ws = Ws(24);
    const f = (w: Tensor[], v: Tensor) => resnet(w, v);
    const full = planCheckpoint(f, { memoryBudget: 1e12 }, ws, x);
    expect(full.method).toBe("greedy+local");
    const want = grad(f, { argnums: [0, 1] })(ws, x) as [Tensor[], Tensor];
    // the smallest feasible budget: recompute everything, reading every input
    let min = NaN;
    try {
      planCheckpoint(f, { memoryBudget: 0 }, ws, x);
    } catch (e) {
      min = Number(/smallest feasible budget is (\d+)/.exec((e as Error).message)![1]);
    }
    expect(min).toBeGreaterThan(0);
    for (const frac of [0.75, 0.5, 0.1]) {
      const budget = Math.round(min + (full.bytesBefore - min) * frac);
      const plan = planCheckpoint(f, { memoryBudget: budget }, ws, x);
      expect(plan.bytesAfter).toBeLessThanOrEqual(budget);
      const got = grad(checkpoint(f, { memoryBudget: budget }), { argnums: [0, 1] })(ws, x) as [Tensor[], Tensor];
      got[0].forEach((g, i) => expect(Array.from(g.data)).toEqual(Array.from(want[0][i]!.data)));
      expect(Array.from(got[1].data)).toEqual(Array.from(want[1].data));
    }
  }, 120_000);
});
