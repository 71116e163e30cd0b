// Reverse mode through lax.whileLoop (src/higher-order/while-reverse.ts): the known loop counts its
// trips and the tangent half re-runs it backwards from snapshots, with every shape static. Checked
// against central differences in float64, against the same loop as a foriLoop with the known count
// (a scan, which stacks residuals), for snapshot counts on both sides of the two-level boundary
// (T <= k^2 and T > k^2), to second order (forward-over-reverse and reverse-over-reverse), under
// jit (native loops: no interpreted program, no fallback call) and exported as a standalone module.

import { beforeEach, describe, expect, it } from "vitest";
import { config, exportFunction, exportVjp, grad, jit, jvp, lax, np, spec, type Tensor, vmap } from "../src/index.js";
import { hasSymbolicShapes } from "../src/jit/compile.js";
import { assertClose, numericJvp, rand } from "./util/check.js";
import { loadExported as load } from "./util/load-exported.js";

const int = (v: number) => np.array(v, { dtype: "int32" });
const step = (a: Tensor, x: Tensor) => np.add(np.sin(np.multiply(x, a)), np.multiply(x, 0.9));

/** A loop whose trip count depends on the data (the carry's size), at most 60 trips. */
const dataLoop = (snapshots?: number) => (a: Tensor, x0: Tensor) => {
  const [, x] = lax.whileLoop(
    ([i, x]: [Tensor, Tensor]) => np.logicalAnd(np.less(i, 60), np.less(np.sum(np.abs(x)), 40)),
    ([i, x]: [Tensor, Tensor]) => [np.add(i, 1), np.add(step(a, x), np.multiply(a, 0.3))],
    [int(0), x0],
    snapshots === undefined ? {} : { checkpoint: { snapshots } },
  );
  return np.sum(np.square(x));
};

/** n trips of the same step as a while loop (run-time count) and as a foriLoop (a scan). */
const countedWhile = (n: number, snapshots?: number) => (a: Tensor, x0: Tensor) =>
  np.sum(np.tanh(lax.whileLoop(
    ([i]: [Tensor, Tensor]) => np.less(i, n),
    ([i, x]: [Tensor, Tensor]) => [np.add(i, 1), step(a, x)],
    [int(0), x0],
    snapshots === undefined ? {} : { checkpoint: { snapshots } },
  )[1]));
const countedFori = (n: number) => (a: Tensor, x0: Tensor) => np.sum(np.tanh(lax.foriLoop(0, n, (_i: Tensor, x: Tensor) => step(a, x), x0)));

const a = rand([3], 1, 0.2, 0.9);
const x0 = rand([3], 2, 0.5, 1.5);

/** <grad f, t> against central differences along t, for each argument. */
function checkAgainstDifferences(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], rtol = 1e-6) {
  const gs = grad(f, { argnums: xs.map((_, i) => i) })(...xs) as Tensor[];
  xs.forEach((_, i) => {
    const t = rand(xs[i]!.shape, 10 + i);
    const ts = xs.map((x, j) => (j === i ? t : np.zeros(x.shape, { dtype: "float64" })));
    const num = numericJvp(f, xs, ts)[0]!;
    const got = (np.sum(np.multiply(gs[i]!, t)).item() as number);
    assertClose([got], [num], { rtol, atol: 1e-8, what: `argument ${i}` });
  });
}

describe("reverse-mode whileLoop", () => {
  it("gradients match central differences in float64 (data-dependent trip count)", () => {
    for (const k of [undefined, 1, 2, 3, 5]) checkAgainstDifferences(dataLoop(k), [a, x0]);
  });

  it("gradients equal the same loop written as a foriLoop with the known count, for every snapshot count", () => {
    // T = 0, 1, small, = k^2, > k^2 (second level strided) and > k (first level strided)
    for (const n of [0, 1, 7, 9, 10, 23]) {
      const want = grad(countedFori(n), { argnums: [0, 1] })(a, x0) as Tensor[];
      for (const k of [undefined, 1, 2, 3, 4]) {
        const got = grad(countedWhile(n, k), { argnums: [0, 1] })(a, x0) as Tensor[];
        got.forEach((g, i) => assertClose(g.data, want[i]!.data, { rtol: 1e-12, atol: 1e-14, what: `n=${n} snapshots=${k} arg ${i}` }));
      }
    }
  });

  it("is higher-order: grad of grad matches central differences of grad and forward-over-reverse", () => {
    for (const k of [undefined, 2]) {
      const f = dataLoop(k);
      const g = (x: Tensor) => grad(f, { argnums: 1 })(a, x) as Tensor;
      const v = rand([3], 7);
      const hvNum = numericJvp(g, [x0], [v], 1e-5);
      const [, hvFwd] = jvp(g, [x0], [v]) as [Tensor, Tensor];
      assertClose(hvFwd.data, hvNum, { rtol: 1e-5, atol: 1e-7, what: "jvp of grad" });
      const hvRev = grad((x: Tensor) => np.sum(np.multiply(g(x), v)))(x0);
      assertClose(hvRev.data, hvFwd.data, { rtol: 1e-10, atol: 1e-12, what: "grad of grad vs jvp of grad" });
      // the mixed second derivative through the body constant a as well
      const ga = (p: Tensor) => grad(f, { argnums: 0 })(p, x0) as Tensor;
      const [, haFwd] = jvp(ga, [a], [v]) as [Tensor, Tensor];
      assertClose(haFwd.data, numericJvp(ga, [a], [v], 1e-5), { rtol: 1e-5, atol: 1e-7, what: "d2/da2" });
    }
  });

  it("third order through a counted loop equals the foriLoop's", () => {
    const third = (f: (a: Tensor, x: Tensor) => Tensor) => grad((x: Tensor) => np.sum(grad((y: Tensor) => np.sum(grad(f, { argnums: 1 })(a, y) as Tensor))(x)))(x0);
    assertClose(third(countedWhile(3, 1)).data, third(countedFori(3)).data, { rtol: 1e-10, atol: 1e-12 });
  }, 180_000); // a few seconds on a quiet machine; nested eager transforms slow down most under load

  it("vmap of grad runs each example for its own trip count", () => {
    const xs = np.stack([x0, np.multiply(x0, 3), np.multiply(x0, 0.1)]);
    const got = vmap((x: Tensor) => grad(dataLoop(3), { argnums: 1 })(a, x) as Tensor)(xs);
    [0, 1, 2].forEach((b) => {
      const want = grad(dataLoop(), { argnums: 1 })(a, np.take(xs, b, { axis: 0 })) as Tensor;
      assertClose(np.take(got, b, { axis: 0 }).data, want.data, { rtol: 1e-12, atol: 1e-14, what: `example ${b}` });
    });
  });

  for (const backend of ["wasm", "js"] as const) {
    describe(`under jit (${backend} backend)`, () => {
      beforeEach(() => config.update({ backend, interpretBelowWork: 0 }));
      it("compiles the reverse loops natively (no run-time shapes, no fallback call) and agrees with eager", () => {
        for (const f of [dataLoop(), dataLoop(2)]) {
          const g = grad(f, { argnums: [0, 1] });
          const j = jit(g);
          const got = j(a, x0) as Tensor[];
          const want = g(a, x0) as Tensor[];
          got.forEach((t, i) => assertClose(t.data, want[i]!.data, { rtol: 1e-12, atol: 1e-14, what: `arg ${i}` }));
          const low = j.lower(a, x0);
          expect(hasSymbolicShapes(low.optimized)).toBe(false);
          const js = low.text("js");
          expect(js).not.toMatch(/calls\[\d+\]/);
          // top level: the forward loop, the sweep and the segment loop (the others nest in it)
          expect(js.match(/kernel \d+: while loop/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
        }
      });
    });
  }

  it("exports grad and grad of grad as standalone modules that run", async () => {
    const f = dataLoop(3);
    const g = (p: Tensor, x: Tensor) => grad(f, { argnums: 1 })(p, x) as Tensor;
    const hv = (p: Tensor, x: Tensor) => grad((y: Tensor) => np.sum(np.square(g(p, y))))(x);
    const specs = [spec("float64", [3]), spec("float64", [3])];
    const mg = await load(exportFunction(g, specs, { name: "while_grad" }));
    const mh = await load(exportFunction(hv, specs, { name: "while_hv" }));
    for (const scale of [1, 4]) {
      const x = np.multiply(x0, scale);
      assertClose(mg.default(a, x).data, g(a, x).data, { rtol: 1e-12, atol: 1e-14, what: "grad" });
      assertClose(mh.default(a, x).data, hv(a, x).data, { rtol: 1e-12, atol: 1e-14, what: "grad of grad" });
    }
  });

  it("exportVjp splits it: the residuals are the initial carry, the constants and the trip count (static shapes)", async () => {
    const f = dataLoop(4);
    const e = exportVjp(f, [spec("float64", [3]), spec("float64", [3])], { name: "while_vjp" });
    const trip = e.manifest.residuals.filter((r: { dtype: string; shape: unknown[] }) => r.dtype === "int32" && r.shape.length === 0);
    expect(trip.length).toBeGreaterThanOrEqual(1);
    expect(e.manifest.residuals.every((r: { shape: unknown[] }) => r.shape.every((d) => typeof d === "number"))).toBe(true);
    const m = await load(e);
    for (const scale of [1, 5]) {
      const x = np.multiply(x0, scale);
      const { residuals } = m.forward(a, x);
      const bars = m.backward(residuals, { data: Float64Array.of(1), shape: [] });
      const want = grad(f, { argnums: [0, 1] })(a, x) as Tensor[];
      assertClose(bars[0].data, want[0]!.data, { rtol: 1e-12, atol: 1e-14, what: "a" });
      assertClose(bars[1].data, want[1]!.data, { rtol: 1e-12, atol: 1e-14, what: "x0" });
    }
  });
});
