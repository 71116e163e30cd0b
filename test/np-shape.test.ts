// Specification of np shape, joining and indexing functions: NumPy values, float64 gradients,
// typed errors naming the function and shapes, and property tests (round trips, involutions,
// broadcasting rules).

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Tensor, np, vmap, grad } from "../src/index.js";
import { ArgumentError, DTypeError, ShapeError } from "../src/core/errors.js";
import { broadcastShapes } from "../src/core/shape.js";
import { assertClose, checkGradients, rand, tensor } from "./util/check.js";

const iota = (shape: number[]) => np.reshape(np.arange(shape.reduce((a, b) => a * b, 1)), shape);
const smallShape = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 });

describe("reshape / ravel", () => {
  it("reshapes with one inferred -1", () => {
    const x = iota([2, 3]);
    expect(np.reshape(x, [3, -1]).shape).toEqual([3, 2]);
    expect(np.reshape(x, -1).toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(x.reshape([6, 1]).shape).toEqual([6, 1]);
    expect(x.flatten().shape).toEqual([6]);
    expect(np.ravel(x).shape).toEqual([6]);
    expect(np.reshape(np.zeros([0, 3]), [-1, 3]).shape).toEqual([0, 3]);
  });
  it("reports mismatches with both shapes", () => {
    const x = iota([2, 3]);
    expect(() => np.reshape(x, [4, 2])).toThrow(ShapeError);
    expect(() => np.reshape(x, [4, 2])).toThrow(/reshape: cannot reshape an array of shape \[2,3\] \(6 elements\) into shape \[4,2\]/);
    expect(() => np.reshape(x, [4, -1])).toThrow(/reshape: .*\[2,3\].*\[4,-1\]/);
    expect(() => np.reshape(x, [-1, -1])).toThrow(ArgumentError);
  });
  it("round-trips on random shapes (property)", () => {
    fc.assert(
      fc.property(smallShape, (shape) => {
        const x = iota(shape);
        const flat = np.reshape(x, [-1]);
        const back = np.reshape(flat, shape);
        expect(back.shape).toEqual(shape);
        expect(Array.from(back.data)).toEqual(Array.from(x.data));
      }),
    );
  });
  it("gradients", () => checkGradients((x) => np.sin(np.reshape(x, [3, -1])), [rand([2, 3], 1)]));
});

describe("transpose / moveaxis / swapaxes", () => {
  it("defaults to reversing the axes", () => {
    const x = iota([2, 3, 4]);
    expect(np.transpose(x).shape).toEqual([4, 3, 2]);
    expect(np.transpose(iota([2, 3])).toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(iota([2, 3]).T.shape).toEqual([3, 2]);
    expect(np.transpose(x, [1, -1, 0]).shape).toEqual([3, 4, 2]);
    expect(np.moveaxis(x, 0, -1).shape).toEqual([3, 4, 2]);
    expect(np.moveaxis(x, [0, 1], [-1, -2]).shape).toEqual([4, 3, 2]);
    expect(np.swapaxes(x, 0, 2).shape).toEqual([4, 3, 2]);
  });
  it("rejects non-permutations", () => {
    expect(() => np.transpose(iota([2, 3]), [0, 0])).toThrow(/transpose: repeated axis/);
    expect(() => np.transpose(iota([2, 3]), [0])).toThrow(/transpose: axes \[0\] must list each of the 2 axes of an array of shape \[2,3\]/);
    expect(() => np.transpose(iota([2, 3]), [0, 2])).toThrow(ShapeError);
  });
  it("is an involution under the inverse permutation (property)", () => {
    fc.assert(
      fc.property(smallShape.chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length }))), ([shape, perm]) => {
        const x = iota(shape);
        const inv = perm.map((_, i) => perm.indexOf(i));
        const y = np.transpose(np.transpose(x, perm), inv);
        expect(Array.from(y.data)).toEqual(Array.from(x.data));
        expect(Array.from(np.transpose(np.transpose(x)).data)).toEqual(Array.from(x.data));
      }),
    );
  });
  it("gradients", () => {
    checkGradients((x) => np.exp(np.transpose(x, [2, 0, 1])), [rand([2, 3, 2], 1)]);
    checkGradients((x) => np.moveaxis(x, 0, 2), [rand([2, 3, 2], 2)]);
  });
});

describe("expandDims / squeeze / broadcastTo", () => {
  it("insert and remove size-1 axes", () => {
    const x = iota([2, 3]);
    expect(np.expandDims(x, 0).shape).toEqual([1, 2, 3]);
    expect(np.expandDims(x, -1).shape).toEqual([2, 3, 1]);
    expect(np.expandDims(x, [0, 3]).shape).toEqual([1, 2, 3, 1]);
    expect(np.squeeze(np.zeros([1, 2, 1])).shape).toEqual([2]);
    expect(np.squeeze(np.zeros([1, 2, 1]), -1).shape).toEqual([1, 2]);
  });
  it("squeeze of a non-1 axis is a ShapeError naming the axis and shape", () => {
    expect(() => np.squeeze(np.zeros([1, 2]), 1)).toThrow(/squeeze: cannot squeeze axis 1 of an array of shape \[1,2\]: its size is 2, not 1/);
    expect(() => np.expandDims(iota([2]), 3)).toThrow(/expandDims: axis 3 is out of range/);
  });
  it("broadcastTo follows NumPy rules (property vs broadcastShapes)", () => {
    fc.assert(
      fc.property(smallShape, smallShape, (a, b) => {
        const x = iota(a);
        const expected = broadcastShapes(a, b);
        if (expected && expected.length === b.length && expected.every((d, i) => d === b[i])) {
          const y = np.broadcastTo(x, b);
          expect(y.shape).toEqual(b);
        } else {
          expect(() => np.broadcastTo(x, b)).toThrow(ShapeError);
        }
      }),
    );
    expect(() => np.broadcastTo(iota([2, 3]), [3, 3])).toThrow(/broadcastTo: cannot broadcast shape \[2,3\] to \[3,3\]/);
    expect(np.broadcastTo(np.array([1, 2]), [2, 2]).toArray()).toEqual([[1, 2], [1, 2]]);
  });
  it("gradients", () => checkGradients((x) => np.broadcastTo(np.expandDims(x, 0), [3, 2]), [rand([2], 1)]));
});

describe("concatenate / stack / split", () => {
  it("concatenate accepts an axis number or {axis}", () => {
    const a = iota([2, 2]);
    const b = np.add(iota([2, 1]), 10);
    expect(np.concatenate([a, b], 1).toArray()).toEqual([[0, 1, 10], [2, 3, 11]]);
    expect(np.concatenate([a, a], { axis: 0 }).shape).toEqual([4, 2]);
    expect(np.concatenate([a, b], { axis: -1 }).shape).toEqual([2, 3]);
    expect(np.concatenate([a, b], null).shape).toEqual([6]);
    expect(np.concatenate([np.array([1], { dtype: "int32" }), np.array([0.5])]).dtype).toBe("float32");
  });
  it("concatenate errors name all shapes", () => {
    expect(() => np.concatenate([iota([2, 2]), iota([3, 3])], 1)).toThrow(/concatenate: all input shapes must match except on axis 1; got shapes \[2,2\], \[3,3\]/);
    expect(() => np.concatenate([])).toThrow(/concatenate: need a non-empty list/);
    expect(() => np.concatenate([np.array(1), np.array(2)])).toThrow(/zero-dimensional/);
  });
  it("stack adds a new axis", () => {
    const a = np.array([1, 2]);
    const b = np.array([3, 4]);
    expect(np.stack([a, b]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(np.stack([a, b], { axis: 1 }).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(np.stack([a, b], -1).shape).toEqual([2, 2]);
    expect(() => np.stack([a, np.array([1, 2, 3])])).toThrow(/stack: all input arrays must have the same shape; got shapes \[2\], \[3\]/);
    expect(np.vstack([a, b]).shape).toEqual([2, 2]);
    expect(np.hstack([a, b]).toArray()).toEqual([1, 2, 3, 4]);
  });
  it("split and arraySplit", () => {
    const x = np.arange(7);
    expect(np.arraySplit(x, 3).map((t) => t.toArray())).toEqual([[0, 1, 2], [3, 4], [5, 6]]);
    expect(np.split(x, [2, 5]).map((t) => t.toArray())).toEqual([[0, 1], [2, 3, 4], [5, 6]]);
    expect(np.split(iota([2, 4]), 2, 1).map((t) => t.shape)).toEqual([[2, 2], [2, 2]]);
    expect(() => np.split(x, 3)).toThrow(/split: axis 0 of an array of shape \[7\] \(size 7\) does not divide into 3 equal sections/);
  });
  it("gradients", () => {
    checkGradients((a, b) => np.concatenate([np.sin(a), b], 1), [rand([2, 2], 1), rand([2, 3], 2)]);
    checkGradients((a, b) => np.stack([a, np.multiply(a, b)], 1), [rand([3], 3), rand([3], 4)]);
    checkGradients((a) => np.multiply(np.split(a, [1])[1]!, 2), [rand([3, 2], 5)]);
  });
});

describe("flip / pad / tile / repeat", () => {
  it("flip reverses axes", () => {
    const x = iota([2, 3]);
    expect(np.flip(x).toArray()).toEqual([[5, 4, 3], [2, 1, 0]]);
    expect(np.flip(x, 1).toArray()).toEqual([[2, 1, 0], [5, 4, 3]]);
    expect(x.flip(0).toArray()).toEqual([[3, 4, 5], [0, 1, 2]]);
  });
  it("pad accepts NumPy's padWidth forms", () => {
    const x = np.array([[1, 2]], { dtype: "int32" });
    expect(np.pad(x, 1).toArray()).toEqual([[0, 0, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]]);
    expect(np.pad(np.array([1, 2]), [1, 2]).toArray()).toEqual([0, 1, 2, 0, 0]);
    expect(np.pad(x, [[0, 0], [2, 1]], { constantValues: 9 }).toArray()).toEqual([[9, 9, 1, 2, 9]]);
    expect(np.pad(x, [[1, 0]]).shape).toEqual([2, 3]);
    expect(() => np.pad(x, [[1, 0], [1, 1], [0, 0]])).toThrow(/pad: padWidth \[\[1,0\],\[1,1\],\[0,0\]\] does not fit an array of shape \[1,2\]/);
    expect(() => np.pad(x, -1)).toThrow(/pad: padding widths must be non-negative/);
  });
  it("tile and repeat", () => {
    expect(np.tile(np.array([1, 2]), 2).toArray()).toEqual([1, 2, 1, 2]);
    expect(np.tile(iota([2, 1]), [1, 3]).toArray()).toEqual([[0, 0, 0], [1, 1, 1]]);
    expect(np.repeat(iota([2, 2]), 2).toArray()).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(np.repeat(iota([2, 2]), 2, { axis: 1 }).toArray()).toEqual([[0, 0, 1, 1], [2, 2, 3, 3]]);
    expect(np.repeat(iota([2, 2]), [0, 2], { axis: 0 }).toArray()).toEqual([[2, 3], [2, 3]]);
  });
  it("gradients", () => {
    checkGradients((x) => np.flip(np.sin(x), 0), [rand([3, 2], 1)]);
    checkGradients((x) => np.pad(x, [[1, 0], [0, 2]], { constantValues: 3 }), [rand([2, 2], 2)]);
    checkGradients((x) => np.tile(x, [2, 2]), [rand([2, 3], 3)]);
    checkGradients((x) => np.repeat(x, [1, 0, 3], { axis: 1 }), [rand([2, 3], 4)]);
    checkGradients((x) => np.repeat(x, 2, { axis: 0 }), [rand([2, 3], 5)]);
  });
});

describe("index / slice", () => {
  const x = iota([3, 4]);
  it("basic indexing: ints, slices, negative steps, newaxis, ellipsis", () => {
    expect(np.index(x, 1).toArray()).toEqual([4, 5, 6, 7]);
    expect(np.index(x, [-1, -1]).toArray()).toBe(11);
    expect(np.index(x, [np.s(1), np.s(null, null, 2)]).toArray()).toEqual([[4, 6], [8, 10]]);
    expect(np.index(x, ["...", "::-1"]).toArray()).toEqual([[3, 2, 1, 0], [7, 6, 5, 4], [11, 10, 9, 8]]);
    expect(np.index(x, ["2:0:-1", 0]).toArray()).toEqual([8, 4]);
    expect(np.index(x, [np.s(-1, null, -2), np.s(3, 0, -2)]).toArray()).toEqual([[11, 9], [3, 1]]);
    expect(np.index(x, [null, 0]).shape).toEqual([1, 4]);
    expect(np.index(x, ["...", np.newaxis]).shape).toEqual([3, 4, 1]);
    expect(np.index(x, [":", 5 - 5, null]).toArray()).toEqual([[0], [4], [8]]);
    expect(np.index(x, "1:1").shape).toEqual([0, 4]);
    expect(np.index(x, np.s(10, 20)).shape).toEqual([0, 4]);
  });
  it("one integer-array index replaces its axis in place", () => {
    expect(np.index(x, [":", [3, -4]]).toArray()).toEqual([[3, 0], [7, 4], [11, 8]]);
    expect(np.index(x, [[[0, 2]]]).shape).toEqual([1, 2, 4]);
    expect(np.index(x, [1, np.array([0, 0], { dtype: "int32" })]).toArray()).toEqual([4, 4]);
  });
  it("errors name the function, index and shape", () => {
    expect(() => np.index(x, [3])).toThrow(/index: index 3 is out of bounds for axis 0 with size 3 \(an array of shape \[3,4\]\)/);
    expect(() => np.index(x, [0, 0, 0])).toThrow(/index: too many indices for an array of shape \[3,4\]: 3 were given/);
    expect(() => np.index(x, ["...", "..."])).toThrow(/at most one/);
    expect(() => np.index(x, ["a:b"])).toThrow(/index: cannot parse "a:b"/);
    expect(() => np.index(x, [[true, false]])).toThrow(/boolean mask/);
    // several array indices are supported now (issue 18): NumPy's x[[0], [1]] is [x[0, 1]]
    expect(np.index(x, [[0], [1]]).toArray()).toEqual([np.index(x, [0, 1]).item()]);
    expect(() => np.s(0, 1, 0)).toThrow(/step cannot be zero/);
  });
  it("slice(x, starts, stops, steps)", () => {
    expect(np.slice(x, [1, 0], [3, 4], [1, 2]).toArray()).toEqual([[4, 6], [8, 10]]);
    expect(np.slice(x, [null], [null], [-1]).toArray()[0]).toEqual([8, 9, 10, 11]);
    expect(np.slice(x, [-2], [null]).shape).toEqual([2, 4]);
    expect(() => np.slice(x, [0, 0], [1])).toThrow(/slice: starts \(2\), stops \(1\)/);
  });
  it("agrees with a JS reference for random 1-D slices (property)", () => {
    const opt = fc.option(fc.integer({ min: -7, max: 7 }), { nil: null });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), opt, opt, fc.option(fc.integer({ min: -3, max: 3 }).filter((v) => v !== 0), { nil: null }), (n, a, b, st) => {
        const v = np.arange(n);
        const ref: number[] = [];
        const step = st ?? 1;
        const norm = (i: number, lo: number, hi: number) => Math.min(Math.max(i < 0 ? i + n : i, lo), hi);
        if (step > 0) for (let i = a === null ? 0 : norm(a, 0, n); i < (b === null ? n : norm(b, 0, n)); i += step) ref.push(i);
        else for (let i = a === null ? n - 1 : norm(a, -1, n - 1); i > (b === null ? -1 : norm(b, -1, n - 1)); i += step) ref.push(i);
        expect(np.index(v, np.s(a, b, st)).toArray()).toEqual(ref);
      }),
    );
  });
  it("gradients", () => {
    checkGradients((v) => np.index(v, [np.s(null, null, -2), 1]), [rand([5, 3], 1)]);
    checkGradients((v) => np.index(v, ["...", [2, 0, 2]]), [rand([2, 3], 2)]);
    checkGradients((v) => np.slice(v, [1], [3]), [rand([4, 2], 3)]);
  });
});

describe("take / takeAlongAxis", () => {
  it("take follows NumPy (flattened by default, negative indices)", () => {
    const x = iota([2, 3]);
    expect(np.take(x, [0, 5, -1]).toArray()).toEqual([0, 5, 5]);
    expect(np.take(x, [[1, 0]], { axis: 1 }).toArray()).toEqual([[[1, 0]], [[4, 3]]]);
    expect(np.take(x, 1, { axis: 0 }).toArray()).toEqual([3, 4, 5]);
    expect(x.take([2], { axis: 1 }).toArray()).toEqual([[2], [5]]);
    expect(np.take(x, [7, -9], { axis: 1, mode: "clip" }).toArray()).toEqual([[2, 0], [5, 3]]);
    expect(np.take(x, [4, -4], { axis: 1, mode: "wrap" }).toArray()).toEqual([[1, 2], [4, 5]]);
  });
  it("take errors: out-of-range concrete indices, bad dtypes", () => {
    expect(() => np.take(iota([2, 3]), [3], { axis: 1 })).toThrow(/take: index 3 is out of bounds for axis 1 with size 3 \(an array of shape \[2,3\]\)/);
    expect(() => np.take(iota([2, 3]), np.array([0.5]))).toThrow(DTypeError);
    expect(() => np.take(iota([2, 3]), [0.5])).toThrow(/take: indices must be integers/);
    expect(() => np.take(np.zeros([0]), [0])).toThrow(/take: cannot take elements from axis 0 of size 0/);
  });
  it("traced indices: mode clip clamps (NumPy: negatives too), the default (raise) raises as eagerly", () => {
    const x = np.array([10, 20, 30], { dtype: "float64" });
    const idx = np.array([-1, 5, -7, 1], { dtype: "int32" });
    const y = vmap((i: Tensor) => np.take(x, i, { mode: "clip" }))(idx) as Tensor;
    expect(y.toArray()).toEqual([10, 30, 10, 20]);
    expect(vmap((i: Tensor) => np.take(x, i))(np.array([-1, 2, -3], { dtype: "int32" })).toArray()).toEqual([30, 30, 10]);
    // issue 9.8: out-of-range indices are never clamped silently under a transformation
    expect(() => vmap((i: Tensor) => np.take(x, i))(idx)).toThrow(/take: index 5 is out of bounds/);
  });
  it("takeAlongAxis picks per row and broadcasts the other axes", () => {
    const x = np.array([[10, 30, 20], [60, 40, 50]]);
    const idx = np.argmax(x, { axis: 1, keepdims: true });
    expect(np.takeAlongAxis(x, idx, 1).toArray()).toEqual([[30], [60]]);
    expect(np.takeAlongAxis(x, [[0, -1]], 1).toArray()).toEqual([[10, 20], [60, 50]]);
    expect(np.takeAlongAxis(x, np.array([[1], [0]], { dtype: "int32" }), 0).shape).toEqual([2, 3]);
    expect(np.takeAlongAxis(x, [5, 0], null).toArray()).toEqual([50, 10]);
    expect(() => np.takeAlongAxis(x, [0, 1], 1)).toThrow(/takeAlongAxis: indices i32\[2\] must have the same rank as x \(an array of shape \[2,3\]\)/);
    expect(() => np.takeAlongAxis(x, [[0], [1], [0]], 1)).toThrow(/takeAlongAxis: indices of shape \[3,1\] do not broadcast against an array of shape \[2,3\] outside axis 1/);
  });
  it("gradients", () => {
    checkGradients((v) => np.take(v, [2, 2, 0], { axis: 0 }), [rand([3, 2], 1)]);
    checkGradients((v) => np.square(np.take(v, [[1, -1], [0, 0]], { axis: 1 })), [rand([2, 3], 2)]);
    const idx = np.array([[2, 0], [1, 1]], { dtype: "int32" });
    checkGradients((v) => np.takeAlongAxis(v, idx, 1), [rand([2, 3], 3)]);
    checkGradients((v) => np.takeAlongAxis(v, np.array([[0, 1, 0]], { dtype: "int32" }), 0), [rand([2, 3], 4)]);
  });
  it("takeAlongAxis under vmap equals a loop", () => {
    const xb = rand([3, 2, 4], 5);
    const ib = np.array([[[0], [3]], [[1], [1]], [[2], [0]]], { dtype: "int32" });
    const f = (x: Tensor, i: Tensor) => np.takeAlongAxis(x, i, 1);
    const got = vmap(f)(xb, ib) as Tensor;
    const want = np.stack([0, 1, 2].map((k) => f(np.index(xb, k), np.index(ib, k))));
    assertClose(got.data, want.data);
    const g = vmap(grad((x: Tensor, i: Tensor) => np.sum(f(x, i))))(xb, ib) as Tensor;
    expect(g.shape).toEqual([3, 2, 4]);
  });
});

describe("accessors and methods", () => {
  it("ndim / shape / size / astype", () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(np.ndim(x)).toBe(2);
    expect(np.shape(x)).toEqual([2, 3]);
    expect(np.size(x)).toBe(6);
    expect(np.astype(np.array([1.7, -1.7]), "int32").toArray()).toEqual([1, -1]);
    expect(x.astype("float32").dtype).toBe("float32");
    expect(x.expandDims(0).squeeze().shape).toEqual([2, 3]);
    expect(x.broadcastTo([2, 2, 3]).shape).toEqual([2, 2, 3]);
  });
});
