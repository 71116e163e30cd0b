// Regression tests for fuzz findings F7 and F2 (test/fuzz/FINDINGS.md). F7: a JS number passed as
// a lax.cond / lax.switch operand was stored as a float32 scalar, so a float64 branch saw 0.1
// rounded to fround(0.1). F2: np.prod's JVP computed its primal with a tree of float32 products,
// which overflows to Inf * 0 = NaN where the primitive (float64 accumulation) gives 0.

import { describe, expect, it } from "vitest";
import { Tensor, config, grad, jit, jvp, lax, np, vjp } from "../src/index.js";

const f64 = (data: number[]) => np.array(data, { dtype: "float64" });

describe("fuzz F7: JS numbers as lax.cond operands keep their value", () => {
  const f = (x: Tensor) =>
    lax.cond(np.greater(np.sum(x), 0), (v: Tensor) => np.add(v, x), (v: Tensor) => np.subtract(x, v), 0.1);
  const x = f64([0.02591088367626072, 1]);

  it("eager, jit, grad and vjp see 0.1 exactly in a float64 program", () => {
    const want = [0.02591088367626072 + 0.1, 1 + 0.1];
    expect(f(x).dtype).toBe("float64");
    expect(f(x).toArray()).toEqual(want);
    expect(jit(f)(x).toArray()).toEqual(want);
    for (const backend of ["js", "interp", "wasm"] as const) {
      const saved = config.backend;
      config.update({ backend });
      try {
        expect(jit(f)(x).toArray()).toEqual(want);
      } finally {
        config.update({ backend: saved });
      }
    }
    expect(grad((y: Tensor) => np.sum(np.multiply(f(y), f(y))))(x).toArray()).toEqual(want.map((v) => 2 * v));
    const [out] = vjp(f, x);
    expect(out.toArray()).toEqual(want);
    expect(f(f64([-5, 1])).toArray()).toEqual([-5 - 0.1, 1 - 0.1]);
  });

  it("lax.switch and nested pytrees of operands; numbers still adopt the float32 dtype", () => {
    const g = (i: number, x: Tensor) =>
      lax.switch(i, [(o: { a: number; b: Tensor }) => np.multiply(o.b, o.a), (o: { a: number; b: Tensor }) => np.add(o.b, o.a)], { a: 0.3, b: x });
    expect(g(0, f64([2])).toArray()).toEqual([0.6]);
    expect(g(1, f64([2])).toArray()).toEqual([2.3]);
    expect(jit((x: Tensor) => g(1, x))(f64([2])).toArray()).toEqual([2.3]);
    const r = g(1, np.array([2], { dtype: "float32" }));
    expect(r.dtype).toBe("float32");
    expect(r.toArray()).toEqual([Math.fround(Math.fround(2) + Math.fround(0.3))]);
    // a branch returning the number itself gives a weak scalar, as before
    expect(lax.cond(true, (v: number) => v, (v: number) => v, 2).toArray()).toEqual(2);
  });
});

describe("fuzz F2: np.prod's JVP primal is the primitive's value", () => {
  it("a float32 product that overflows in a tree but not in float64 accumulation", () => {
    const x = np.array([-2.8812594413757324, 3.4e38, -1.25, -1, 0.95, 2.6, 0, -2.49], { dtype: "float32" });
    const f = (v: Tensor) => np.prod(v);
    const eager = f(x).toArray();
    const [y, ty] = jvp(f, [x], [np.onesLike(x)]);
    expect(y.toArray()).toEqual(eager);
    expect(jit((v: Tensor) => jvp(f, [v], [np.onesLike(v)])[0])(x).toArray()).toEqual(eager);
    expect(ty.shape).toEqual([]);
  });

  it("the tangent still matches the closed form with a zero element (prod of the others)", () => {
    const x = f64([2, 0, 3, 5]);
    const t = f64([1, 1, 1, 1]);
    const [, ty] = jvp((v: Tensor) => np.prod(v), [x], [t]);
    expect(ty.toArray()).toEqual(2 * 3 * 5);
  });
});
