// Regression tests for the findings of the merged-tree campaign (seed 20261205,
// test/fuzz/FINDINGS.md). F17: arcsinh's derivative 1/sqrt(1 + x^2) was computed with x*x, which
// overflows above |x| = 1.34e154, giving 0 where the derivative is 1/|x| (representable); it is
// now 1/hypot(x, 1). F16 (reference): the gradient of a float64 result w.r.t. a float32 input is
// a float32 array, so an exact gradient beyond float32's range is +-Infinity, as in JAX; adgen
// did this on every path, the fuzzer's reference did not round (checked here against JAX's rule).
import { describe, expect, it } from "vitest";
import { type Tensor, grad, jacrev, jit, jvp, lax, np } from "../src/index.js";
import { onEveryBackend } from "./util/backends.js";


describe("F17: arcsinh's derivative for large |x| (float64)", () => {
  const xs = [1e300, -7.6e299, 2e154, -1.5e200, 3.7, -0.25, 1e-300];
  const want = xs.map((x) => (Math.abs(x) > 1e100 ? 1 / Math.abs(x) : 1 / Math.sqrt(1 + x * x)));
  const x = np.array(xs, { dtype: "float64" });
  it("grad and jvp equal 1/sqrt(1 + x^2) (= 1/|x| there), eagerly and under jit", () => {
    const g = (t: Tensor) => grad((u: Tensor) => np.sum(np.arcsinh(u)))(t) as Tensor;
    const close = (got: Tensor) => Array.from(got.data).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(4e-16 * want[i]!));
    close(g(x));
    const [, tan] = jvp(np.arcsinh, [x], [np.onesLike(x)]) as [Tensor, Tensor];
    close(tan);
    onEveryBackend(() => close(jit(g)(x)));
  });
  it("float32: the derivative at 1e30 is 1e-30 (not 0)", () => {
    const x32 = np.array([1e30, -3e38], { dtype: "float32" });
    const got = grad((u: Tensor) => np.sum(np.arcsinh(u)))(x32) as Tensor;
    expect(Array.from(got.data)).toEqual([Math.fround(1 / 1e30), Math.fround(1 / Math.fround(3e38))]);
  });
});

describe("F16: a gradient w.r.t. a float32 input beyond float32's range is Infinity (JAX's rule)", () => {
  // a float64 carry (a JS-number initial carry meeting a float64 body) multiplied by sum(x) each step
  const f = (x: Tensor) => lax.scan((c: Tensor, _r: Tensor) => { const n = np.multiply(c, np.sum(np.astype(x, "float64"))); return [n, n]; }, 1.5e300, x)[0] as Tensor;
  const x = np.array([0.75, 0.5], { dtype: "float32" });
  it("the result is float64 and finite; d/dx is float32 +Infinity on every path", () => {
    const y = f(x);
    expect(y.dtype).toBe("float64");
    // y = 1.5e300 * s^2 with s = sum(x) = 1.25: dy/dx_i = 2 * 1.5e300 * s, beyond float32's range
    expect(y.toArray()).toBe(1.5e300 * 1.25 * 1.25);
    const check = (g: Tensor) => {
      expect(g.dtype).toBe("float32");
      expect(Array.from(g.data)).toEqual([Infinity, Infinity]);
    };
    check(grad(f)(x) as Tensor);
    check(jacrev(f)(x) as Tensor);
    onEveryBackend(() => check(jit(grad(f))(x) as Tensor));
  });
});
