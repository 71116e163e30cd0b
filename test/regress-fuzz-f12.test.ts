// Regression tests for fuzz finding F12 (test/fuzz/FINDINGS.md) and its siblings: np.prod's
// derivative came from a balanced tree of products, where a partial product that overflows to
// Infinity before it meets a zero gives Inf * 0 = NaN although the product of the other elements
// is 0 (float32 [.., 1e30, -0, .., 3.4e38, 3.4e38, .., 0]: grad NaN, true 0). np.cumprod's
// log-step tangent had the same class. Both now weight each tangent by the product of the other
// elements built sequentially in float64 with zeros counted, on every path: eager, jit on each
// backend, the eager tape, vmap, jvp, exports (also with a symbolic batch) and second order.
// The references are closed forms in plain JS float64: the product of the other elements (0 when
// another element is 0, else the sequential product), rounded once to the dtype.

import { describe, expect, it } from "vitest";
import { type Tensor, exportFunction, grad, hessian, jit, jvp, np, spec, variable, vmap } from "../src/index.js";
import { cumprod } from "../src/prims/cumulative.js";
import { loadExported } from "./util/load-exported.js";
import { onEveryBackend } from "./util/backends.js";

type DT = "float32" | "float64";
const round = (dt: DT) => (dt === "float32" ? Math.fround : (v: number) => v);

/**
 * d prod(v) / d v_i: a zero with the sign of the others' product if another element is 0, else the
 * other elements' product (float64, in order).
 */
function othersRef(v: number[]): number[] {
  return v.map((_, i) => {
    const others = v.filter((_, j) => j !== i);
    if (others.includes(0)) return signedZero(others);
    return others.reduce((p, w) => p * w, 1);
  });
}
const signedZero = (ws: number[]) => (ws.filter((w) => w < 0 || Object.is(w, -0)).length % 2 === 1 ? -0 : 0);

/** d sum(cumprod(v)) / d v_i = sum over j >= i of the product of v_0..v_j without v_i. */
function cumprodGradRef(v: number[]): number[] {
  return v.map((_, i) => {
    let s = 0;
    for (let j = i; j < v.length; j++) s += othersRef(v.slice(0, j + 1))[i]!;
    return s;
  });
}


// the fuzzer's program (replay [[152,0,13,3,95,58,67,67,59,52,28,49], 3]), float32 [4, 4]
const F12 = [
  -2.7680270671844482, -2.550431966781616, -0.11291749030351639, -2.0291965007781982, 1.0000000150474662e30, -0, -0.13963176310062408,
  2.278640031814575, 3.3999999521443642e38, 3.3999999521443642e38, 1.9904030561447144, -2.9303643703460693, -1.1376179456710815,
  1.6162153482437134, 1.28810453414917, 0,
];

const cases: [string, DT, number[]][] = [
  ["the fuzzer's float32 block (two zeros, overflow before them)", "float32", F12],
  ["float32: one zero after an overflowing pair", "float32", [1e30, 3.4e38, 0, 2]],
  ["float64: two zeros after an overflowing pair", "float64", [1e200, 1e200, 0, 0, 3]],
  ["float64: one zero after an overflowing pair", "float64", [1e200, 1e200, 0, 2]],
  ["float64: ordinary values and a -0", "float64", [1.5, -0, 2.5, -3, 0.75]],
];

describe("F12: np.prod's derivative is never Inf * 0 = NaN where the product of the others is 0", () => {
  const prod = (v: Tensor) => np.prod(v);
  for (const [name, dt, v] of cases) {
    it(`${name}: grad on every backend, the tape, jvp and vmap equal the closed form`, () => {
      const want = othersRef(v).map(round(dt));
      const x = np.array(v, { dtype: dt });
      expect(Array.from(grad(prod)(x).dataSync())).toEqual(want);
      onEveryBackend(() => expect(Array.from(jit(grad(prod))(x).dataSync())).toEqual(want));
      const xv = variable(x);
      prod(xv).backward();
      expect(Array.from(xv.grad!.dataSync())).toEqual(want);
      // jvp along each basis vector is the gradient's entry (where no partial overflows: 0 * Inf
      // in the directional sum is NaN, as in any forward mode)
      for (const i of want.every(Number.isFinite) ? [0, v.length - 1] : []) {
        const t = np.array(v.map((_, j) => (j === i ? 1 : 0)), { dtype: dt });
        expect((jvp(prod, [x], [t])[1].toArray() as number) === want[i]).toBe(true); // (a sum: -0 + 0 is +0)
      }
      const rows = np.stack([x, np.flip(x)]);
      const batched = Array.from(vmap(grad(prod))(rows).dataSync());
      expect(batched).toEqual([...want, ...othersRef([...v].reverse()).map(round(dt))]);
    });
  }

  it("the fuzzer's float32 program: prod over [4, 4] and over each axis", () => {
    const x = np.reshape(np.array(F12, { dtype: "float32" }), [4, 4]);
    expect(Array.from(grad(prod)(x).dataSync())).toEqual(othersRef(F12).map(Math.fround));
    for (const axis of [0, 1]) {
      // d sum(prod(x, axis) * w) / dx: each row/column block weighted by its own w
      const w = np.array([0.5, -1, 2, 0.25], { dtype: "float32" });
      const g = grad((v: Tensor) => np.sum(np.multiply(np.prod(v, { axis }), w)))(x);
      const want = new Array<number>(16);
      for (let b = 0; b < 4; b++) {
        const idx = [0, 1, 2, 3].map((k) => (axis === 0 ? k * 4 + b : b * 4 + k));
        const o = othersRef(idx.map((k) => F12[k]!));
        idx.forEach((k, j) => (want[k] = Math.fround(Math.fround(o[j]!) * [0.5, -1, 2, 0.25][b]!)));
      }
      onEveryBackend(() => expect(Array.from(jit(grad((v: Tensor) => np.sum(np.multiply(np.prod(v, { axis }), w))))(x).dataSync())).toEqual(want));
      expect((Array.from(g.dataSync()) as number[]).every((d, k) => Math.abs(d - want[k]!) <= 1e-6 * Math.abs(want[k]!) || Object.is(d, want[k]))).toBe(true);
    }
  });

  it("exported grad(prod), also vmapped over a symbolic batch, equals the closed form", async () => {
    const v = [1e30, 3.4e38, 0, 0, 2, -0.5];
    const want = othersRef(v).map(Math.fround);
    const e = exportFunction(grad(prod), [spec("float32", [6])]);
    const mod = await loadExported(e);
    expect(Array.from(mod.default({ data: Float32Array.from(v), shape: [6] }).data)).toEqual(want);
    const eb = exportFunction(vmap(grad(prod)), [spec("float32", ["B", 6])]);
    const modB = await loadExported(eb);
    const out = modB.default({ data: Float32Array.from([...v, ...v]), shape: [2, 6] });
    expect(Array.from(out.data)).toEqual([...want, ...want]);
  });

  it("a symbolic reduced length (jit with declared shapes) gives the closed form at each size", () => {
    const g = jit(grad(prod), { shapes: [["N"]] } as any);
    for (const v of [[1e30, 0, 3.4e38], [2, -0, 1e30, 3.4e38, 0.5]]) {
      expect(Array.from((g(np.array(v, { dtype: "float32" })) as Tensor).dataSync())).toEqual(othersRef(v).map(Math.fround));
    }
  });

  it("second order: the Hessian of prod at a point with one zero is the product of the other two", () => {
    // H_ij = prod of the elements other than i and j; x = [2, 0, 3, 5]
    const H = hessian(prod)(np.array([2, 0, 3, 5], { dtype: "float64" })) as Tensor;
    expect(H.toArray()).toEqual([
      [0, 15, 0, 0],
      [15, 0, 10, 6],
      [0, 10, 0, 0],
      [0, 6, 0, 0],
    ]);
  });
});

describe("F12's sibling: np.cumprod's derivative with zeros after an overflowing product", () => {
  const cases2: [string, DT, number[]][] = [
    ["float32: a zero first, an overflowing pair after it", "float32", [0, 1e30, 3.4e38, 2]],
    ["float32: an overflowing pair, then two zeros", "float32", [1e30, 3.4e38, 0, 0, 2]],
    ["float32: zeros between large values", "float32", [3e38, 0, 3e38, -0, 2e38, 0.5]],
    ["float64: zeros among ordinary values", "float64", [1.5, 0, -2, 0.5, -0, 3]],
    ["float64: ordinary values", "float64", [1.5, -2, 0.5, 3]],
  ];
  for (const [name, dt, v] of cases2) {
    for (const reverse of [false, true]) {
      it(`${name}${reverse ? " (reversed)" : ""}: grad of sum(cumprod) on every backend equals the closed form`, () => {
        const x = np.array(v, { dtype: dt });
        const f = (u: Tensor) => np.sum(cumprod(u, 0, reverse));
        const ref = reverse ? cumprodGradRef([...v].reverse()).reverse() : cumprodGradRef(v);
        const got = Array.from(grad(f)(x).dataSync()) as number[];
        const close = (g: number[]) =>
          g.forEach((d, i) => {
            const w = round(dt)(ref[i]!);
            // the tangent sums several products in float64: equal to a few float64 ulps
            if (!Number.isFinite(w) || w === 0) expect(d).toBe(w);
            else expect(Math.abs(d - w)).toBeLessThanOrEqual(4 * 2 ** -52 * Math.abs(w) + (dt === "float32" ? 2 ** -24 * Math.abs(w) : 0));
          });
        close(got);
        onEveryBackend(() => expect(Array.from(jit(grad(f))(x).dataSync())).toEqual(got));
        const xv = variable(x);
        f(xv).backward();
        close(Array.from(xv.grad!.dataSync()) as number[]);
      });
    }
  }

  it("second order: the Hessian of sum(cumprod) at points with zeros equals the closed form", () => {
    // d2/dx_a dx_b sum_j prod_{k<=j} x_k = sum over j >= max(a, b) of the product without x_a, x_b
    for (const v of [[2, 0, 3, 5], [0, 1.5, 0, -2], [1.5, -0.5, 2, 0]]) {
      const H = (hessian((u: Tensor) => np.sum(np.cumprod(u)))(np.array(v, { dtype: "float64" })) as Tensor).toArray() as number[][];
      const want = v.map((_, a) =>
        v.map((_, b) => {
          if (a === b) return 0;
          let s = 0;
          for (let j = Math.max(a, b); j < v.length; j++) s += v.slice(0, j + 1).reduce((p, x, k) => (k === a || k === b ? p : p * x), 1);
          return s;
        }),
      );
      expect(H).toEqual(want);
    }
  });
});
