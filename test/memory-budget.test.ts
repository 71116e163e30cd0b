// Issue 14 item 2: automatic checkpoint placement under a byte budget. Budgets swept from "save
// everything" down to the minimum: each plan's residual bytes (the one residual report, jit's
// `.lower().residuals()`) fit the budget and equal the plan's count, gradients are bit for bit
// those of plain grad; the plan's recomputed FLOPs are the minimum found by brute force over every
// save set on small graphs (an independent slice written here); an impossible budget is an error
// naming the smallest feasible one; the same option on grad, valueAndGrad, exportVjp.

import { describe, expect, it } from "vitest";
import { ArgumentError, type Tensor, checkpoint, exportVjp, grad, jit, np, planCheckpoint, spec, valueAndGrad } from "../src/index.js";
import { type Atom, type Equation, Var } from "../src/ir/program.js";
import { type RematGraph, bytesOfAval, equationFlops, planBudget } from "../src/transforms/remat.js";
import { graphOf } from "./util/remat-graph.js";
import { checkGradients, rand } from "./util/check.js";

const LAYERS = 16;
const Ws = Array.from({ length: LAYERS }, (_, i) => np.multiply(rand([3, 3], 200 + i), 0.5));
const x = rand([2, 3], 9);
const resnet = (ws: Tensor[], x0: Tensor) => {
  let h = x0;
  for (const w of ws) h = np.add(h, np.tanh(np.matmul(h, w)));
  return np.sum(np.square(h));
};
const report = (f: (...a: any[]) => Tensor, ...args: unknown[]) => jit(grad(f, { argnums: [0, 1] })).lower(...args).residuals();
const sumBytes = (r: { bytes: unknown }[]) => r.reduce((s, q) => s + (q.bytes as number), 0);

/** The smallest feasible budget, read from the error of an impossible one. */
function smallestFeasible(f: (...a: any[]) => Tensor, ...args: unknown[]): number {
  try {
    planCheckpoint(f, { memoryBudget: 0 }, ...args);
  } catch (e) {
    expect(e).toBeInstanceOf(ArgumentError);
    return Number(/smallest feasible budget is (\d+)/.exec((e as Error).message)![1]);
  }
  throw new Error("budget 0 was met");
}

/** Brute force, independent of the planner's slice: [bytes, flops] of every save set. */
function allSaveSets(g: RematGraph): [number, number][] {
  const defs = new Map<Var, Equation>();
  for (const e of g.program.equations) for (const o of e.outs) defs.set(o, e);
  const out: [number, number][] = [];
  for (let mask = 0; mask < 1 << g.candidates.length; mask++) {
    const S = new Set(g.candidates.filter((_, i) => mask & (1 << i)));
    const eqs = new Set<Equation>();
    const reads = new Set<Var>();
    const stack: Atom[] = [...g.needed];
    while (stack.length) {
      const a = stack.pop()!;
      if (!(a instanceof Var) || S.has(a)) continue;
      const e = defs.get(a);
      if (!e) {
        if (g.program.inputs.includes(a)) reads.add(a);
      } else if (!eqs.has(e)) {
        eqs.add(e);
        stack.push(...e.inputs);
      }
    }
    const bytes = [...S, ...reads].reduce((s, v) => s + bytesOfAval(v.aval, {}), 0);
    out.push([bytes, [...eqs].reduce((s, e) => s + equationFlops(e, {}), 0)]);
  }
  return out;
}

const W = rand([3, 3], 31);
const small: [string, (...a: Tensor[]) => Tensor, Tensor[]][] = [
  ["sin*exp", (v) => np.sum(np.multiply(np.sin(v), np.exp(v))), [x]],
  ["tanh(xW)*cos(xW)", (v, w) => np.sum(np.multiply(np.tanh(np.matmul(v, w)), np.cos(np.matmul(v, w)))), [x, W]],
  ["2-layer", (v, w) => np.sum(np.square(np.tanh(np.matmul(np.tanh(np.matmul(v, w)), w)))), [x, W]],
  ["log-sum-exp chain", (v) => np.sum(np.log(np.add(np.exp(np.sin(v)), np.square(v)))), [rand([4], 5)]],
];

describe("issue 14 item 2: memory budgets", () => {
  it("16-layer residual network: budgets swept from everything to the minimum fit the report, gradients unchanged", () => {
    const full = planCheckpoint(resnet, { memoryBudget: 1e12 }, Ws, x);
    expect(full.bytesAfter).toBe(full.bytesBefore);
    expect(full.extraFlops).toBe(0);
    const min = smallestFeasible(resnet, Ws, x);
    expect(min).toBeLessThan(full.bytesBefore);
    const [rw, rx] = grad(resnet, { argnums: [0, 1] })(Ws, x) as [Tensor[], Tensor];
    let lastFlops = -1;
    for (const frac of [1, 0.75, 0.5, 0.25, 0]) {
      const budget = Math.round(min + frac * (full.bytesBefore - min));
      const plan = planCheckpoint(resnet, { memoryBudget: budget }, Ws, x);
      expect(plan.bytesAfter).toBeLessThanOrEqual(budget);
      expect(plan.extraFlops).toBeGreaterThanOrEqual(lastFlops); // smaller budgets recompute more
      lastFlops = plan.extraFlops;
      expect(sumBytes(report(checkpoint(resnet, { memoryBudget: budget }), Ws, x))).toBe(plan.bytesAfter);
      const [gw, gx] = grad(resnet, { argnums: [0, 1], memoryBudget: budget })(Ws, x) as [Tensor[], Tensor];
      expect(Array.from(gx.data)).toEqual(Array.from(rx.data));
      gw.forEach((g, i) => expect(Array.from(g.data)).toEqual(Array.from(rw[i]!.data)));
    }
    expect(() => grad(resnet, { memoryBudget: min - 1 })(Ws, x)).toThrow(new RegExp(`smallest feasible budget is ${min}`));
  }, 120_000);

  for (const [name, f, args] of small) {
    it(`${name}: the plan's recomputed FLOPs are the brute-force minimum at every budget`, () => {
      const g = graphOf(f, ...args);
      expect(g.candidates.length).toBeGreaterThan(1);
      expect(g.candidates.length).toBeLessThanOrEqual(12);
      const sets = allSaveSets(g);
      const budgets = [...new Set(sets.map(([b]) => b))].sort((a, b) => a - b);
      for (const budget of budgets) {
        const brute = Math.min(...sets.filter(([b]) => b <= budget).map(([, fl]) => fl));
        const { best, method } = planBudget(g, budget, {});
        expect(method).toBe("exact");
        expect(best.flops).toBe(brute);
        expect(best.bytes).toBeLessThanOrEqual(budget);
      }
      expect(() => planBudget(g, budgets[0]! - 1, {})).toThrow(new RegExp(`smallest feasible budget is ${budgets[0]}`));
      // and differentiating with the tightest budget is still the gradient
      checkGradients(checkpoint(f, { memoryBudget: budgets[0]! }), args);
    });
  }

  it("the plan prints saved values, recomputed equations, bytes before/after and extra FLOPs", () => {
    const text = String(planCheckpoint(small[2]![1], { memoryBudget: 150 }, x, W));
    expect(text).toMatch(/^remat plan \(exact\): residuals \d+ -> \d+ bytes \(budget 150\), \+\d+ FLOPs recomputed/);
    expect(text).toMatch(/recompute /);
  });

  it("valueAndGrad and exportVjp take memoryBudget; a budget function of the symbolic dims", () => {
    const f = small[2]![1];
    const [v, g] = valueAndGrad(f, { memoryBudget: 150 })(x, W) as [Tensor, Tensor];
    expect(v.item()).toBe((f(x, W) as Tensor).item());
    expect(Array.from(g.data)).toEqual(Array.from((grad(f)(x, W) as Tensor).data));
    const plain = exportVjp(f, [spec("float64", [2, 3]), spec("float64", [3, 3])]).manifest.residuals!;
    const tight = exportVjp(f, [spec("float64", [2, 3]), spec("float64", [3, 3])], { memoryBudget: 150 }).manifest.residuals!;
    expect(sumBytes(tight)).toBeLessThanOrEqual(150);
    expect(sumBytes(tight)).toBeLessThan(sumBytes(plain));
    const sym = exportVjp(f, [spec("float64", ["B", 3]), spec("float64", [3, 3])], { memoryBudget: (d) => 75 * d.B!, dims: { B: 2 } }).manifest.residuals!;
    expect(sym.length).toBe(tight.length);
    expect(() => exportVjp(f, [spec("float64", ["B", 3]), spec("float64", [3, 3])], { memoryBudget: 150 })).toThrow(/needs dimension values/);
  });
});
