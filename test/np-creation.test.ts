// Specification of np creation functions: NumPy/JAX values and dtypes, the *Like functions inside
// transformations, and errors for bad shapes/dtypes/arguments.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Tensor, grad, jvp, np, vmap } from "../src/index.js";
import { ArgumentError, DTypeError } from "../src/core/errors.js";
import { assertClose, rand } from "./util/check.js";

describe("array", () => {
  it("infers shape and dtype (float32 numbers, bool booleans, typed arrays keep theirs)", () => {
    const a = np.array([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe("float32");
    expect(a.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(np.array([true, false]).dtype).toBe("bool");
    expect(np.array(Float64Array.of(1, 2)).dtype).toBe("float64");
    expect(np.array(Int32Array.of(1, 2)).dtype).toBe("int32");
    expect(np.array(3.5).shape).toEqual([]);
    expect(np.array([[1.7, -1.7]], { dtype: "int32" }).toArray()).toEqual([[1, -1]]);
    expect(np.array([]).shape).toEqual([0]);
  });
  it("copies flat typed arrays with the same conversions as nested arrays (bool: nonzero -> 1, int32: truncation)", () => {
    const src = Float64Array.of(1.7, -2.5, 0, NaN);
    const a = np.array(src);
    expect([...a.dataSync()]).toEqual([1.7, -2.5, 0, NaN]);
    src[0] = 9; // a copy, not a view
    expect(a.dataSync()[0]).toBe(1.7);
    expect([...np.array(src.subarray(0, 3), { dtype: "int32" }).dataSync()]).toEqual([9, -2, 0]);
    expect([...np.array(src, { dtype: "bool" }).dataSync()]).toEqual([1, 1, 0, 1]); // NaN is nonzero: true, as NumPy and astype
    const b = np.array(Uint8Array.of(0, 5, 1));
    expect(b.dtype).toBe("bool");
    expect([...b.dataSync()]).toEqual([0, 1, 1]);
    expect([...np.array(Float32Array.of(0.1), { dtype: "float64" }).dataSync()]).toEqual([Math.fround(0.1)]);
  });
  it("rejects ragged data and unknown dtypes with an ArgumentError naming array", () => {
    expect(() => np.array([[1, 2], [3]])).toThrow(ArgumentError);
    expect(() => np.array([[1, 2], [3]])).toThrow(/array: ragged/);
    expect(() => np.array([1], { dtype: "float16" as any })).toThrow(/array: unknown dtype "float16"/);
  });
});

describe("zeros / ones / full", () => {
  it("make filled tensors, float32 by default", () => {
    const z = np.zeros([2, 3]);
    expect(z.dtype).toBe("float32");
    expect(z.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(np.ones(3, { dtype: "int32" }).toArray()).toEqual([1, 1, 1]);
    expect(np.zeros([]).toArray()).toBe(0);
    expect(np.ones([0, 2]).shape).toEqual([0, 2]);
    expect(np.ones([2], { dtype: "bool" }).toArray()).toEqual([true, true]);
  });
  it("full gives float32 for any number (issue 18: never value-dependent), bool for booleans, or takes a dtype", () => {
    expect(np.full([2], 7).dtype).toBe("float32");
    expect(np.full([2], 0.5).toArray()).toEqual([0.5, 0.5]);
    expect(np.full([2], 0.5).dtype).toBe("float32");
    expect(np.full([1], true).dtype).toBe("bool");
    expect(np.full([2], 7, { dtype: "float64" }).dtype).toBe("float64");
    expect(np.full([2, 2], np.array([1, 2])).toArray()).toEqual([[1, 2], [1, 2]]);
  });
  it("reject bad shapes with an ArgumentError naming the function", () => {
    expect(() => np.zeros([2, -1])).toThrow(ArgumentError);
    expect(() => np.zeros([2, -1])).toThrow(/zeros: shape must be/);
    expect(() => np.ones([1.5])).toThrow(/ones: shape/);
    expect(() => np.full([2], "x" as any)).toThrow(/full: value/);
  });
});

describe("zerosLike / onesLike / fullLike", () => {
  it("copy shape and dtype of concrete tensors", () => {
    const x = np.array([[1, 2]], { dtype: "int32" });
    expect(np.zerosLike(x).toArray()).toEqual([[0, 0]]);
    expect(np.onesLike(x).dtype).toBe("int32");
    expect(np.fullLike(x, 2.5, { dtype: "float64" }).toArray()).toEqual([[2.5, 2.5]]);
    expect(np.onesLike([1, 2, 3]).shape).toEqual([3]);
  });
  it("work on traced values (grad, jvp, vmap)", () => {
    const x = rand([3], 1);
    const f = (v: Tensor) => np.sum(np.multiply(v, np.onesLike(v)));
    expect((grad(f)(x) as Tensor).toArray()).toEqual([1, 1, 1]);
    const [, yDot] = jvp((v: Tensor) => np.add(v, np.zerosLike(v)), [x], [np.onesLike(x)]);
    expect((yDot as Tensor).toArray()).toEqual([1, 1, 1]);
    const b = vmap((v: Tensor) => np.fullLike(v, 3))(rand([2, 4], 2)) as Tensor;
    expect(b.shape).toEqual([2, 4]);
    expect(b.dtype).toBe("float64");
    expect(Array.from(b.data)).toEqual(new Array(8).fill(3));
  });
});

describe("arange", () => {
  it("follows NumPy values; float32 unless a dtype is given (the JS-number rule)", () => {
    const a = np.arange(5);
    expect(a.dtype).toBe("float32");
    expect(np.arange(5, { dtype: "int32" }).dtype).toBe("int32");
    expect(np.arange(2, 9, 3, { dtype: "int32" }).toArray()).toEqual([2, 5, 8]);
    expect(() => np.arange(0, 1, 0.25, { dtype: "int32" })).toThrow(DTypeError);
    expect(a.toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(np.arange(1, 7, 2).toArray()).toEqual([1, 3, 5]);
    expect(np.arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(np.arange(5, 0).toArray()).toEqual([]);
    const f = np.arange(0, 1, 0.25);
    expect(f.dtype).toBe("float32");
    expect(f.toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(np.arange(3, { dtype: "float64" }).dtype).toBe("float64");
    expect(np.arange(1, 3, { dtype: "float32" }).toArray()).toEqual([1, 2]);
  });
  it("rejects a zero step and non-finite bounds", () => {
    expect(() => np.arange(0, 3, 0)).toThrow(/arange: step must not be zero/);
    expect(() => np.arange(Infinity)).toThrow(ArgumentError);
  });
  it("has ceil((stop - start) / step) elements (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -20, max: 20 }), fc.integer({ min: -5, max: 5 }).filter((s) => s !== 0), (a, b, s) => {
        const r = np.arange(a, b, s);
        const n = Math.max(0, Math.ceil((b - a) / s));
        expect(r.shape).toEqual([n]);
        for (let i = 0; i < n; i++) expect(r.data[i]).toBe(a + i * s);
      }),
    );
  });
});

describe("linspace / eye", () => {
  it("linspace includes the endpoint by default", () => {
    expect(np.linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(np.linspace(0, 1, 4, { endpoint: false }).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(np.linspace(2, 3, 1).toArray()).toEqual([2]);
    expect(np.linspace(0, 1, 0).shape).toEqual([0]);
    expect(np.linspace(0, 1).shape).toEqual([50]);
    const d = np.linspace(-1, 1, 7, { dtype: "float64" });
    expect(d.dtype).toBe("float64");
    assertClose(d.data, [-1, -2 / 3, -1 / 3, 0, 1 / 3, 2 / 3, 1], { rtol: 1e-15, atol: 1e-15 });
    expect(() => np.linspace(0, 1, -1)).toThrow(/linspace: num must be an integer >= 0/);
  });
  it("eye puts ones on the k-th diagonal", () => {
    expect(np.eye(2).toArray()).toEqual([[1, 0], [0, 1]]);
    expect(np.eye(2, 3, { k: 1 }).toArray()).toEqual([[0, 1, 0], [0, 0, 1]]);
    expect(np.eye(3, null, { k: -1, dtype: "int32" }).toArray()).toEqual([[0, 0, 0], [1, 0, 0], [0, 1, 0]]);
    expect(np.identity(1).toArray()).toEqual([[1]]);
    expect(() => np.eye(-1)).toThrow(/eye: n must be an integer >= 0/);
  });
});
