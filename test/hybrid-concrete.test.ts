// Transformations on concrete values (issue 11, item 1): outside jit, grad / vjp / jvp /
// linearize / jacfwd / jacrev / hessian run functions that branch, loop and recurse in JS on
// values of their inputs, as JAX does: primal values are known, only the tangent is traced, so
// the path actually taken is the one differentiated. Checked per construct against the eager tape
// and central differences in float64 over random inputs (fixed seeds); staging (makeProgram,
// jit with fullGraph; plain jit breaks the graph instead, test/hybrid-jit.test.ts) and vmap still
// raise ConcretizationError.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ConcretizationError,
  Tensor,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jit,
  jvp,
  linearize,
  makeProgram,
  np,
  valueAndGrad,
  variable,
  vjp,
  vmap,
} from "../src/index.js";
import { assertClose, rand, tensor } from "./util/check.js";
import { constructs, pathOf } from "./util/dynamic.js";

const EPS = 1e-6;
// uniform draws (fast-check's own doubles favour edges and ties, where every branch is a kink)
const vec = fc.integer({ min: 1, max: 2 ** 30 }).map((seed) => Array.from(rand([3], seed, -2, 2).data));
const point = fc.record({ x: vec, t: vec });
const SEED = 20261203;

function axpy(x: number[], t: number[], eps: number): Tensor {
  return tensor(x.map((v, i) => v + eps * t[i]!), [3]);
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i]!, 0);

/** The eager tape's value and gradient (PyTorch style), the reference for every transformation. */
function tape(f: (x: Tensor) => Tensor, x: Tensor): { value: number; grad: Float64Array } {
  const v = variable(x);
  const y = f(v);
  y.backward();
  return { value: y.item(), grad: Float64Array.from(v.grad!.data) };
}

/** True when f takes the same path at x and x +- eps t (so central differences see one branch). */
function pathStable(f: (x: Tensor) => Tensor, x: number[], t: number[], eps: number): boolean {
  const p = pathOf(() => f(tensor(x, [3])));
  return pathOf(() => f(axpy(x, t, eps))) === p && pathOf(() => f(axpy(x, t, -eps))) === p;
}

describe("grad / vjp / jvp / linearize / jacfwd / jacrev on JS control flow match the tape and central differences", () => {
  for (const [name, f] of Object.entries(constructs)) {
    it(name, () => {
      let stable = 0;
      fc.assert(
        fc.property(point, ({ x, t }) => {
          const xt = tensor(x, [3]);
          const tt = tensor(t, [3]);
          const eagerPath = pathOf(() => f(xt));
          const ref = tape(f, xt);
          // every transformation observes the same values, so takes the eager path
          let g!: Tensor;
          expect(pathOf(() => (g = grad(f)(xt) as Tensor))).toBe(eagerPath);
          assertClose(g.data, ref.grad, { rtol: 1e-12, atol: 1e-14, what: "grad vs tape" });
          const [v, vg] = valueAndGrad(f)(xt) as [Tensor, Tensor];
          expect(v.item()).toBe(ref.value);
          assertClose(vg.data, ref.grad, { rtol: 1e-12, atol: 1e-14, what: "valueAndGrad vs tape" });
          const [y, pullback] = vjp(f, xt);
          expect((y as Tensor).item()).toBe(ref.value);
          assertClose((pullback(tensor([1], [])) as Tensor[])[0]!.data, ref.grad, { rtol: 1e-12, atol: 1e-14, what: "vjp vs tape" });
          const directional = dot(ref.grad, t);
          let jy!: Tensor, jt!: Tensor;
          expect(pathOf(() => ([jy, jt] = jvp(f, [xt], [tt]) as [Tensor, Tensor]))).toBe(eagerPath);
          expect(jy.item()).toBe(ref.value);
          assertClose([jt.item()], [directional], { rtol: 1e-10, atol: 1e-12, what: "jvp vs tape" });
          const [ly, fLin] = linearize(f, xt);
          expect((ly as Tensor).item()).toBe(ref.value);
          assertClose([(fLin(tt) as Tensor).item()], [directional], { rtol: 1e-10, atol: 1e-12, what: "linearize vs tape" });
          assertClose((jacfwd(f)(xt) as Tensor).data, ref.grad, { rtol: 1e-10, atol: 1e-12, what: "jacfwd vs tape" });
          assertClose((jacrev(f)(xt) as Tensor).data, ref.grad, { rtol: 1e-12, atol: 1e-14, what: "jacrev vs tape" });
          if (pathStable(f, x, t, EPS)) {
            stable++;
            const num = (f(axpy(x, t, EPS)).item() - f(axpy(x, t, -EPS)).item()) / (2 * EPS);
            assertClose([directional], [num], { rtol: 1e-5, atol: 1e-6, what: "gradient vs central differences" });
          }
        }),
        { numRuns: 30, seed: SEED },
      );
      expect(stable).toBeGreaterThan(20); // the central-difference check really ran
    });
  }
});

describe("hessian (jacfwd of jacrev) on JS control flow", () => {
  for (const [name, f] of Object.entries(constructs)) {
    it(name, () => {
      const eps = 1e-5;
      let stable = 0;
      fc.assert(
        fc.property(point, ({ x, t }) => {
          const xt = tensor(x, [3]);
          let h!: Tensor;
          expect(pathOf(() => (h = hessian(f)(xt) as Tensor))).toBe(pathOf(() => f(xt)));
          expect(h.shape).toEqual([3, 3]);
          const H = h.toArray() as number[][];
          for (let i = 0; i < 3; i++) for (let j = 0; j < i; j++) assertClose([H[i]![j]!], [H[j]![i]!], { rtol: 1e-9, atol: 1e-11, what: "symmetry" });
          // H t against central differences of the tape's gradient
          if (!pathStable(f, x, t, eps)) return;
          stable++;
          const gp = tape(f, axpy(x, t, eps)).grad;
          const gm = tape(f, axpy(x, t, -eps)).grad;
          const num = gp.map((v, i) => (v - gm[i]!) / (2 * eps));
          const Ht = H.map((row) => dot(row, t));
          assertClose(Ht, num, { rtol: 1e-4, atol: 1e-5, what: "hessian vs central differences of the tape gradient" });
        }),
        { numRuns: 12, seed: SEED + 1 },
      );
      expect(stable).toBeGreaterThan(6);
    });
  }
});

describe("nested differentiation through a branch", () => {
  // s^3 + sin(s) for s > 0, else s^2 * cos(s): second derivatives in closed form
  const g = (s: Tensor): Tensor => (s.item() > 0 ? s.mul(s).mul(s).add(np.sin(s)) : s.mul(s).mul(np.cos(s)));
  const g2 = (s: number) => (s > 0 ? 6 * s - Math.sin(s) : (2 - s * s) * Math.cos(s) - 4 * s * Math.sin(s));
  it("grad(grad(f)) and jvp of grad follow the branch taken at each point", () => {
    fc.assert(
      fc.property(fc.double({ min: -3, max: 3, noNaN: true }), (s) => {
        const st = tensor([s], []);
        assertClose([(grad(grad(g))(st) as Tensor).item()], [g2(s)], { rtol: 1e-12, atol: 1e-12, what: "grad(grad)" });
        const [, t] = jvp(grad(g), [st], [tensor([1], [])]) as [Tensor, Tensor];
        assertClose([t.item()], [g2(s)], { rtol: 1e-12, atol: 1e-12, what: "jvp(grad)" });
        if (Math.abs(s) > 1e-5) assertClose([(grad(grad(grad(g)))(st) as Tensor).item()], [(g2(s + 1e-6) - g2(s - 1e-6)) / 2e-6], { rtol: 1e-5, atol: 1e-5, what: "third derivative" });
      }),
      { numRuns: 40, seed: SEED + 2 },
    );
  });

  it("a value read into JS is a constant to differentiation, as on the tape", () => {
    const h = (x: Tensor) => x.mul(x.item()); // d/dx (x * c) = c
    const x = tensor([3], []);
    expect((grad(h)(x) as Tensor).item()).toBe(3);
    expect(tape(h, x).grad[0]).toBe(3);
  });
});

describe("staging (jit with fullGraph, makeProgram) and vmap still raise ConcretizationError", () => {
  const x = tensor([0.3, -1.2, 0.8], [3]);
  for (const [name, f] of Object.entries(constructs)) {
    it(name, () => {
      expect(() => jit(f, { fullGraph: true })(x)).toThrow(ConcretizationError);
      expect(() => makeProgram(f)(x)).toThrow(ConcretizationError);
      expect(() => makeProgram(grad(f))(x)).toThrow(ConcretizationError);
      expect(() => vmap(f)(tensor([0.3, -1.2, 0.8, 0.1, 0.2, 0.3], [2, 3]))).toThrow(ConcretizationError);
      expect(() => vmap(grad(f))(tensor([0.3, -1.2, 0.8, 0.1, 0.2, 0.3], [2, 3]))).toThrow(/inside vmap/);
    });
  }
  it("the message names the observation and the transformation that stages", () => {
    const f = constructs["if/else on item"]!;
    expect(() => makeProgram(grad(f))(x)).toThrow(/call \.item\(\) on a traced value .* inside tracing/);
    const branchy = (y: Tensor) => (Number(y) > 0 ? y : y.neg());
    expect(() => makeProgram((y: Tensor) => jvp(branchy, [y], [y])[1])(tensor([1], []))).toThrow(/convert to a JS number or boolean .* inside tracing/);
  });
});
