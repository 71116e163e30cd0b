// Control flow: lax.scan / cond / switch / whileLoop / foriLoop agree with unrolled JS loops, are
// differentiable in both modes (whileLoop in reverse mode with a trip count known only at run
// time), batch under vmap, compile under jit, and reject malformed bodies with clear errors.

import { describe, expect, it } from "vitest";
import { DTypeError, GradError, ShapeError, Tensor, grad, jit, jvp, lax, np, vmap } from "../src/index.js";
import { assertClose, checkGradients, rand } from "./util/check.js";

const f64 = (v: number | number[]) => np.array(v, { dtype: "float64" });

describe("lax.scan", () => {
  const step = (c: Tensor, x: Tensor): [Tensor, Tensor] => {
    const n = np.add(np.multiply(c, np.sin(x)), x);
    return [n, np.multiply(n, n)];
  };
  const viaScan = (xs: Tensor, c0: Tensor) => {
    const [c, ys] = lax.scan(step, c0, xs);
    return np.add(np.sum(ys), c);
  };
  const viaLoop = (xs: Tensor, c0: Tensor) => {
    let c = c0;
    let s = f64(0);
    for (let i = 0; i < xs.shape[0]!; i++) {
      const [n, y] = step(c, xs.index([i]));
      c = n;
      s = np.add(s, y);
    }
    return np.add(s, c);
  };
  const xs = rand([5], 1);
  const c0 = f64(0.3);

  it("equals an unrolled loop, in value, gradient, under jit and under vmap", () => {
    expect(viaScan(xs, c0).item()).toBeCloseTo(viaLoop(xs, c0).item(), 14);
    const g = grad(viaScan, { argnums: [0, 1] })(xs, c0) as Tensor[];
    const gl = grad(viaLoop, { argnums: [0, 1] })(xs, c0) as Tensor[];
    g.forEach((gi, i) => assertClose(gi.data, gl[i]!.data, { rtol: 1e-13 }));
    const gj = jit(grad(viaScan, { argnums: [0, 1] }))(xs, c0) as Tensor[];
    gj.forEach((gi, i) => assertClose(gi.data, gl[i]!.data, { rtol: 1e-13 }));
    const batch = rand([3, 5], 2);
    const vb = vmap(grad(viaScan), { inAxes: [0, null] })(batch, c0) as Tensor;
    for (let b = 0; b < 3; b++) {
      assertClose(vb.data.slice(b * 5, b * 5 + 5), (grad(viaLoop)(batch.index([b]), c0) as Tensor).data, { rtol: 1e-13 });
    }
  });

  it("passes the gradient checks (jvp vs differences, vjp vs jvp)", () => {
    checkGradients(viaScan, [xs, c0]);
  });

  it("reverse scans, pytrees of carries and ys, and captured values", () => {
    const w = rand([2], 3);
    const [c, ys] = lax.scan(
      (carry: { a: Tensor; b: Tensor }, x: Tensor) => [{ a: np.add(carry.a, np.multiply(x, w)), b: np.multiply(carry.b, 2) }, [carry.a, np.sum(x)]],
      { a: np.zeros([2], { dtype: "float64" }), b: f64(1) },
      rand([4, 2], 4),
      { reverse: true },
    );
    expect(c.a.shape).toEqual([2]);
    expect(c.b.item()).toBe(16);
    expect(ys[0].shape).toEqual([4, 2]);
    expect(ys[1].shape).toEqual([4]);
  });

  it("rejects a body whose carry changes type", () => {
    expect(() => lax.scan((c: Tensor, x: Tensor) => [np.stack([c, x]), x], f64(0), rand([3], 1))).toThrow(ShapeError);
    expect(() => lax.scan((c: Tensor, x: Tensor) => [c, x], f64(0), f64(1))).toThrow(/xs need a leading axis/);
  });
});

describe("lax.cond and lax.switch", () => {
  const f = (x: Tensor) =>
    lax.cond(np.greater(np.sum(x), 0), (v: Tensor) => np.sum(np.sin(v)), (v: Tensor) => np.sum(np.cos(v)), x);

  it("takes the right branch, with gradients, under jit and per example under vmap", () => {
    const x = f64([0.5, -0.3, 0.8]);
    const nx = np.negative(x);
    expect(f(x).item()).toBeCloseTo(np.sum(np.sin(x)).item(), 15);
    expect(f(nx).item()).toBeCloseTo(np.sum(np.cos(nx)).item(), 15);
    assertClose((grad(f)(x) as Tensor).data, np.cos(x).data, { rtol: 1e-15 });
    assertClose((jit(grad(f))(nx) as Tensor).data, np.negative(np.sin(nx)).data, { rtol: 1e-15 });
    const both = vmap(f)(np.stack([x, nx])) as Tensor;
    expect(both.data[0]).toBeCloseTo(f(x).item(), 15);
    expect(both.data[1]).toBeCloseTo(f(nx).item(), 15);
    checkGradients(f, [x]);
  });

  it("switch clamps its index and checks that branches agree", () => {
    const branches = [(x: Tensor) => np.add(x, 1), (x: Tensor) => np.multiply(x, 10), (x: Tensor) => np.negative(x)];
    expect(lax.switch(np.array(1, { dtype: "int32" }), branches, f64(2)).item()).toBe(20);
    expect(lax.switch(np.array(7, { dtype: "int32" }), branches, f64(2)).item()).toBe(-2);
    expect(() => lax.cond(true, (x: Tensor) => x, (x: Tensor) => np.stack([x, x]), f64(1))).toThrow(/true branch output 0 is f64\[\] but false branch output 0 is f64\[2\]/);
    expect(() => lax.switch(f64(1), branches, f64(2))).toThrow(DTypeError);
  });
});

describe("lax.whileLoop and lax.foriLoop", () => {
  // Newton's method for sqrt(a): the trip count depends on the data
  const sqrtNewton = (a: Tensor) =>
    lax.whileLoop(
      (s: Tensor) => np.greater(np.abs(np.subtract(np.multiply(s, s), a)), 1e-12),
      (s: Tensor) => np.multiply(0.5, np.add(s, np.divide(a, s))),
      a,
    );

  it("is differentiable in reverse mode with a run-time trip count", () => {
    for (const v of [2, 9, 30]) {
      const a = f64(v);
      expect(sqrtNewton(a).item()).toBeCloseTo(Math.sqrt(v), 12);
      expect((grad(sqrtNewton)(a) as Tensor).item()).toBeCloseTo(0.5 / Math.sqrt(v), 10);
      expect((jit(grad(sqrtNewton))(a) as Tensor).item()).toBeCloseTo(0.5 / Math.sqrt(v), 10);
      expect((jvp(sqrtNewton, [a], [f64(1)])[1] as Tensor).item()).toBeCloseTo(0.5 / Math.sqrt(v), 10);
    }
  });

  it("vmaps with a batched predicate (examples finish at different iterations)", () => {
    const out = vmap(sqrtNewton)(f64([2, 9, 16, 1e4])) as Tensor;
    assertClose(out.data, [2, 9, 16, 1e4].map(Math.sqrt), { rtol: 1e-12 });
  });

  it("passes the gradient checks", () => {
    const f = (x: Tensor) =>
      lax.whileLoop(
        ([i]: [Tensor, Tensor]) => np.less(i, 4),
        ([i, v]: [Tensor, Tensor]) => [np.add(i, 1), np.add(np.sin(v), np.multiply(v, 0.5))],
        [np.array(0, { dtype: "int32" }), x],
      )[1];
    checkGradients(f, [rand([3], 5)]);
  });

  it("foriLoop: static bounds become a scan, traced bounds a while loop", () => {
    const body = (i: Tensor, c: Tensor) => np.add(np.multiply(c, 1.1), i.astype("float64"));
    const expected = [0, 1, 2, 3, 4].reduce((c, i) => c * 1.1 + i, 0);
    expect(lax.foriLoop(0, 5, body, f64(0)).item()).toBeCloseTo(expected, 12);
    const dyn = jit((n: Tensor) => lax.foriLoop(0, n, body, f64(0)));
    expect((dyn(np.array(5, { dtype: "int32" })) as Tensor).item()).toBeCloseTo(expected, 12);
    const d = grad((x: Tensor) => lax.foriLoop(0, 3, (_i: Tensor, c: Tensor) => np.multiply(c, x), f64(1)))(f64(2)) as Tensor;
    expect(d.item()).toBeCloseTo(12, 12); // d/dx x^3 = 3x^2
  });

  it("rejects conditions on differentiated values and malformed loops", () => {
    const bad = (x: Tensor) =>
      lax.whileLoop((v: Tensor) => np.less(v, 10), (v: Tensor) => np.multiply(v, 2), np.multiply(x, 1));
    expect(bad(f64(1)).item()).toBe(16);
    expect(() => lax.whileLoop((v: Tensor) => v, (v: Tensor) => v, f64(1))).toThrow(/condFn must return a bool scalar/);
    expect(() => lax.whileLoop((v: Tensor) => np.less(v, 1), (v: Tensor) => np.stack([v, v]), f64(1))).toThrow(ShapeError);
    expect(() => grad(bad)(f64(1))).not.toThrow(GradError); // the condition reads the primal only
  });
});
