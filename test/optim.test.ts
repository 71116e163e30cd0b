// Specification of the optim and tree namespaces: optax update formulas step by step, schedules,
// pytree structure, traced step counts (under vmap), and convergence of adam on a quadratic.

import { describe, expect, it } from "vitest";
import { Tensor, grad, np, valueAndGrad, vmap } from "../src/index.js";
import * as optim from "../src/api/optim.js";
import * as tree from "../src/api/tree.js";
import { ArgumentError, TreeStructureError } from "../src/core/errors.js";
import { assertClose } from "./util/check.js";

const f64 = (data: number[] | number) => np.array(data, { dtype: "float64" });
const vals = (t: Tensor) => Array.from(t.data);

describe("tree", () => {
  it("map / flatten / unflatten / leaves over nested arrays and objects", () => {
    const t = { a: [1, 2], b: { c: 3 }, d: null };
    const [leaves, def] = tree.flatten(t);
    expect(leaves).toEqual([1, 2, 3]);
    expect(tree.unflatten(def, [4, 5, 6])).toEqual({ a: [4, 5], b: { c: 6 }, d: null });
    expect(tree.leaves([[1], { x: 2 }])).toEqual([1, 2]);
    expect(tree.map((x: number, y: number) => x + y, { a: 1, b: [2] }, { a: 10, b: [20] })).toEqual({ a: 11, b: [22] });
    expect(tree.structureToString(tree.structure(t))).toBe("{a: [*, *], b: {c: *}, d: null}");
    expect(() => tree.map((x: number) => x, { a: 1 }, { b: 1 })).toThrow(TreeStructureError);
    expect(() => tree.unflatten(def, [1])).toThrow(/unflatten: structure .* needs 3 leaves, got 1/);
  });
});

describe("sgd", () => {
  it("plain: p - lr * g, over a pytree", () => {
    const opt = optim.sgd(0.1);
    const params = { w: f64([1, 2]), b: f64(3) };
    const state = opt.init(params);
    const grads = { w: f64([10, -10]), b: f64(1) };
    const [updates, next] = opt.update(grads, state, params);
    const p2 = optim.applyUpdates(params, updates);
    assertClose(vals(p2.w), [0, 3]);
    assertClose(vals(p2.b), [2.9]);
    expect(next.count.item()).toBe(1);
    expect(p2.w.dtype).toBe("float64");
  });
  it("momentum and nesterov follow optax's trace", () => {
    const g = f64([1]);
    for (const nesterov of [false, true]) {
      const opt = optim.sgd(1, { momentum: 0.5, nesterov });
      let s = opt.init(g);
      const ups: number[] = [];
      for (let i = 0; i < 2; i++) {
        const [u, n] = opt.update(g, s);
        s = n;
        ups.push(u.item());
      }
      // trace: t1 = 1, t2 = 1 + 0.5 = 1.5; nesterov uses g + 0.5 * t
      expect(ups).toEqual(nesterov ? [-1.5, -1.75] : [-1, -1.5]);
    }
  });
  it("schedules see the step count, starting at 0", () => {
    const seen: (number | Tensor)[] = [];
    const opt = optim.sgd((step) => {
      seen.push(step);
      return 1 / (1 + (step as number));
    });
    let s = opt.init(f64([0]));
    const ups: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [u, n] = opt.update(f64([1]), s);
      s = n;
      ups.push(u.item());
    }
    expect(seen).toEqual([0, 1, 2]);
    assertClose(ups, [-1, -1 / 2, -1 / 3]);
  });
});

describe("adam / adamw", () => {
  it("the first step is -lr * g / (|g| + eps) after bias correction", () => {
    const opt = optim.adam(0.01);
    const p = f64([1, -1, 0]);
    const [u] = opt.update(f64([4, -0.5, 0]), opt.init(p));
    assertClose(vals(u), [-0.01 * (4 / (4 + 1e-8)), 0.01 * (0.5 / (0.5 + 1e-8)), 0], { rtol: 1e-12 });
  });
  it("two steps match the formulas", () => {
    const [b1, b2, eps, lr] = [0.8, 0.9, 1e-6, 0.1];
    const opt = optim.adam(lr, { b1, b2, eps });
    let s = opt.init(f64([0]));
    let m = 0;
    let v = 0;
    for (const [t, g] of [[1, 2], [2, -1]] as const) {
      const [u, n] = opt.update(f64([g]), s);
      s = n;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const want = (-lr * (m / (1 - b1 ** t))) / (Math.sqrt(v / (1 - b2 ** t)) + eps);
      assertClose(vals(u), [want], { rtol: 1e-12 });
    }
    expect(tree.leaves(s).every((l) => l instanceof Tensor)).toBe(true);
  });
  it("adamw adds decoupled weight decay and needs params", () => {
    const opt = optim.adamw(0.1, { weightDecay: 0.5 });
    const p = f64([2]);
    const [u] = opt.update(f64([0]), opt.init(p), p);
    assertClose(vals(u), [-0.1 * 0.5 * 2]);
    expect(() => opt.update(f64([0]), opt.init(p))).toThrow(/optim.adamw: update\(grads, state, params\) needs params/);
  });
  it("a traced step count (under vmap) gives the same updates as concrete calls", () => {
    const opt = optim.adam((step) => np.divide(0.1, np.add(step as Tensor, 1)));
    const g = f64([0.3, -2]);
    const s0 = opt.init(g);
    const [, s1] = opt.update(g, s0);
    const stacked = tree.map((a: Tensor, b: Tensor) => np.stack([a, b]), s0, s1);
    const batched = vmap((st: optim.AdamState) => opt.update(g, st)[0], { inAxes: [0] })(stacked) as Tensor;
    const sched = optim.adam((step) => 0.1 / ((step as number) + 1));
    const want = np.stack([sched.update(g, s0)[0], sched.update(g, s1)[0]]);
    assertClose(batched.data, want.data, { rtol: 1e-6 });
  });
  it("adam minimizes a small quadratic", () => {
    const target = f64([1, -2, 3]);
    const loss = (p: { w: Tensor; b: Tensor }) =>
      np.add(np.sum(np.square(np.subtract(p.w, target))), np.square(np.subtract(p.b, 0.5)));
    const opt = optim.adam(0.05);
    let params = { w: f64([0, 0, 0]), b: f64(0) };
    let state = opt.init(params);
    const first = loss(params).item();
    for (let i = 0; i < 600; i++) {
      const g = grad(loss)(params);
      const [u, s] = opt.update(g, state, params);
      params = optim.applyUpdates(params, u);
      state = s;
    }
    const [final] = valueAndGrad(loss)(params);
    expect(first).toBeGreaterThan(14);
    expect((final as Tensor).item()).toBeLessThan(1e-6);
    assertClose(vals(params.w), [1, -2, 3], { atol: 1e-3, rtol: 0 });
  });
});

describe("chain / clipByGlobalNorm / errors", () => {
  it("clips the joint norm, then applies the next transformation", () => {
    const opt = optim.chain(optim.clipByGlobalNorm(1), optim.sgd(1));
    const g = { a: f64([3]), b: f64([4]) };
    const [u] = opt.update(g, opt.init(g));
    assertClose(vals(u.a), [-0.6]);
    assertClose(vals(u.b), [-0.8]);
    const [small] = opt.update({ a: f64([0.3]), b: f64([0.4]) }, opt.init(g));
    assertClose(vals(small.a), [-0.3]);
  });
  it("rejects bad hyperparameters with ArgumentErrors naming the optimizer", () => {
    expect(() => optim.sgd(NaN)).toThrow(ArgumentError);
    expect(() => optim.adam(0.1, { b1: 1 })).toThrow(/optim.adam: b1 must be in \[0, 1\)/);
    expect(() => optim.sgd(0.1, { momentum: -1 })).toThrow(/optim.sgd: momentum/);
    expect(() => optim.clipByGlobalNorm(0)).toThrow(/optim.clipByGlobalNorm/);
    const opt = optim.sgd(0.1);
    expect(() => optim.applyUpdates({ a: f64([1]) }, { b: f64([1]) })).toThrow(TreeStructureError);
    void opt;
  });
});
