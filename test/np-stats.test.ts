// Specification of the np composites var/std, cumsum/cumprod, all/any, isnan/isinf/isfinite and
// isclose/allclose: NumPy values, float64 gradients, vmap and errors.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Tensor, grad, np, vmap } from "../src/index.js";
import { ConcretizationError, ShapeError } from "../src/core/errors.js";
import { assertClose, checkGradients, rand, tensor } from "./util/check.js";

describe("var / std", () => {
  const x = tensor([1, 2, 3, 4, 10, 20, 30, 40], [2, 4]);
  it("match NumPy, with axis, keepdims and ddof", () => {
    assertClose(np.var(x).data, [np.var(np.ravel(x)).item()]);
    assertClose(np.var(tensor([1, 2, 3, 4], [4])).data, [1.25]);
    assertClose(np.var(x, { axis: 1 }).data, [1.25, 125]);
    assertClose(np.var(x, { axis: 1, ddof: 1 }).data, [5 / 3, 500 / 3]);
    assertClose(np.std(x, { axis: 0 }).data, [4.5, 9, 13.5, 18]);
    expect(np.std(x, { axis: 0, keepdims: true }).shape).toEqual([1, 4]);
    expect(np.var(np.array([1, 2], { dtype: "int32" })).dtype).toBe("float32");
    expect(() => np.var(x, { axis: 2 })).toThrow(/var: axis 2 is out of range for an array of rank 2/);
  });
  it("gradients (float64)", () => {
    const r = rand([3, 4], 1);
    checkGradients((v) => np.var(v), [r]);
    checkGradients((v) => np.var(v, { axis: 0, ddof: 1 }), [r]);
    checkGradients((v) => np.std(v, { axis: 1, keepdims: true }), [r]);
  });
});

describe("cumsum / cumprod", () => {
  it("running sums and products (flattened by default)", () => {
    const x = np.array([[1, 2, 3], [4, 5, 6]], { dtype: "int32" });
    expect(np.cumsum(x).toArray()).toEqual([1, 3, 6, 10, 15, 21]);
    expect(np.cumsum(x, { axis: 0 }).toArray()).toEqual([[1, 2, 3], [5, 7, 9]]);
    expect(np.cumsum(x, { axis: -1 }).toArray()).toEqual([[1, 3, 6], [4, 9, 15]]);
    expect(np.cumprod(x, { axis: 1 }).toArray()).toEqual([[1, 2, 6], [4, 20, 120]]);
    expect(np.cumsum(np.array([true, true, false])).toArray()).toEqual([1, 2, 2]);
    expect(np.cumsum(np.zeros([0])).shape).toEqual([0]);
  });
  it("equals a sequential sum for random lengths (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 1, maxLength: 40 }), (xs) => {
        let acc = 0;
        const ref = xs.map((v) => (acc += v));
        expect(Array.from(np.cumsum(np.array(xs, { dtype: "int32" })).data)).toEqual(ref);
      }),
    );
  });
  it("gradients and vmap", () => {
    checkGradients((v) => np.cumsum(v, { axis: 1 }), [rand([2, 5], 2)]);
    checkGradients((v) => np.cumprod(v, { axis: 0 }), [rand([4, 2], 3)]);
    const xb = rand([3, 5], 4);
    assertClose((vmap((v: Tensor) => np.cumsum(v))(xb) as Tensor).data, np.cumsum(xb, { axis: 1 }).data);
  });
});

describe("all / any / isnan / isinf / isfinite", () => {
  it("classify floats; integers are always finite", () => {
    const x = np.array([NaN, Infinity, -Infinity, 0, 1.5]);
    expect(np.isnan(x).toArray()).toEqual([true, false, false, false, false]);
    expect(np.isinf(x).toArray()).toEqual([false, true, true, false, false]);
    expect(np.isfinite(x).toArray()).toEqual([false, false, false, true, true]);
    expect(np.isfinite(np.array([1, 2], { dtype: "int32" })).toArray()).toEqual([true, true]);
    expect(np.isnan(np.array([1], { dtype: "int32" })).toArray()).toEqual([false]);
  });
  it("all / any reduce truthiness", () => {
    const x = np.array([[1, 0], [2, 3]]);
    expect(np.all(x).item()).toBe(0);
    expect(np.all(x, { axis: 1 }).toArray()).toEqual([false, true]);
    expect(np.any(x, { axis: 0 }).toArray()).toEqual([true, true]);
    expect(np.any(np.zeros([2])).toArray()).toBe(false);
  });
});

describe("isclose / allclose", () => {
  it("use |a - b| <= atol + rtol |b|, infinities equal only to themselves", () => {
    const a = np.array([1, 1e10, Infinity, NaN, 1], { dtype: "float64" });
    const b = np.array([1 + 1e-6, 1.00001e10, Infinity, NaN, -Infinity], { dtype: "float64" });
    expect(np.isclose(a, b).toArray()).toEqual([true, true, true, false, false]);
    expect(np.isclose(a, b, { equalNan: true }).toArray()).toEqual([true, true, true, true, false]);
    expect(np.isclose(np.array([1]), np.array([Infinity])).toArray()).toEqual([false]);
    expect(np.allclose([1, 2], [1, 2.00001])).toBe(true);
    expect(np.allclose([1, 2], [1, 2.1])).toBe(false);
    expect(np.allclose([1, 2], 1, { atol: 1 })).toBe(true);
    expect(() => np.allclose([1, 2], [1, 2, 3])).toThrow(ShapeError);
  });
  it("allclose needs concrete values (fine under grad, an error under vmap); isclose works everywhere", () => {
    const x = rand([3], 5);
    expect((grad((v: Tensor) => (np.allclose(v, v) ? np.sum(v) : np.negative(np.sum(v))))(x) as Tensor).toArray()).toEqual([1, 1, 1]);
    expect(() => vmap((v: Tensor) => (np.allclose(v, 0) ? v : v))(rand([2, 3], 7))).toThrow(ConcretizationError);
    const close = vmap((v: Tensor) => np.isclose(v, np.multiply(v, 1 + 1e-9)))(rand([2, 3], 6)) as Tensor;
    expect(Array.from(close.data)).toEqual([1, 1, 1, 1, 1, 1]);
  });
});
