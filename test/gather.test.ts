// Specification of the gather / scatter_add primitives: values (incl. clamping and accumulation of
// duplicate indices), gradients in float64, vmap with every batched/unbatched combination against
// a loop of calls, typed errors, and a property test against a plain-JS reference.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Tensor, grad, jit, np, vmap } from "../src/index.js";
import { DTypeError, ShapeError } from "../src/core/errors.js";
import { gather, scatterAdd, type GatherParams } from "../src/prims/gather.js";
import { lookupPrimitive } from "../src/higher-order/registry.js";
import { assertClose, checkGradients, rand, tensor } from "./util/check.js";

const ints = (data: number[], shape: number[]) => tensor(data, shape, "int32");
const iota = (shape: number[], dtype: "float64" | "int32" = "float64") =>
  tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i), shape, dtype);

/** Stacks per-example results along axis 0 (the reference for vmap). */
function loop(n: number, f: (i: number) => Tensor): Tensor {
  return np.stack(Array.from({ length: n }, (_, i) => f(i)));
}
const row = (x: Tensor, i: number, axis = 0) => np.take(x, i, { axis });

describe("gather", () => {
  it("is registered", () => {
    expect(lookupPrimitive("gather")).toBeDefined();
    expect(lookupPrimitive("scatter_add")).toBeDefined();
  });

  it("picks slices along an axis (batchDims 0)", () => {
    const x = iota([3, 4]);
    expect(gather(x, ints([2, 0, 2], [3]), { axis: 0, batchDims: 0 }).toArray()).toEqual([
      [8, 9, 10, 11],
      [0, 1, 2, 3],
      [8, 9, 10, 11],
    ]);
    const y = gather(x, ints([3, 1, 0, 0], [2, 2]), { axis: 1, batchDims: 0 });
    expect(y.shape).toEqual([3, 2, 2]);
    expect(y.toArray()).toEqual([
      [[3, 1], [0, 0]],
      [[7, 5], [4, 4]],
      [[11, 9], [8, 8]],
    ]);
    // a rank-0 index drops the axis
    expect(gather(x, ints([1], []), { axis: 1, batchDims: 0 }).toArray()).toEqual([1, 5, 9]);
  });

  it("supports batchDims: one index list per leading row", () => {
    const x = iota([2, 3, 2]);
    const idx = ints([2, 0, 1, 1], [2, 2]);
    const y = gather(x, idx, { axis: 1, batchDims: 1 });
    expect(y.shape).toEqual([2, 2, 2]);
    expect(y.toArray()).toEqual([
      [[4, 5], [0, 1]],
      [[8, 9], [8, 9]],
    ]);
  });

  it("clamps out-of-range indices (JAX semantics)", () => {
    const x = tensor([10, 20, 30], [3]);
    expect(gather(x, ints([-5, 7, 1], [3]), { axis: 0, batchDims: 0 }).toArray()).toEqual([10, 30, 20]);
  });

  it("scatter_add accumulates duplicate indices", () => {
    const u = tensor([1, 2, 3, 4], [4]);
    const y = scatterAdd(u, ints([0, 2, 0, 9], [4]), { axis: 0, batchDims: 0, size: 3 });
    expect(y.toArray()).toEqual([4, 0, 6]); // 9 clamps to 2
    const u2 = iota([2, 2, 3]);
    const y2 = scatterAdd(u2, ints([1, 1], [2]), { axis: 1, batchDims: 0, size: 3 });
    expect(y2.shape).toEqual([2, 3, 3]);
    expect(y2.toArray()[0]).toEqual([[0, 0, 0], [3, 5, 7], [0, 0, 0]]);
  });

  it("gradients (float64): gather and scatter_add are each other's transpose", () => {
    const idx = ints([2, 0, 2, 1], [2, 2]);
    for (const p of [
      { axis: 0, batchDims: 0 },
      { axis: 1, batchDims: 0 },
    ] as GatherParams[]) {
      checkGradients((x) => np.sin(gather(x, idx, p)), [rand([3, 3], 1)]);
    }
    checkGradients((x) => gather(x, ints([1, 0, 2, 2], [2, 2]), { axis: 1, batchDims: 1 }), [rand([2, 3, 2], 2)]);
    checkGradients((u) => np.exp(scatterAdd(u, ints([0, 2, 0], [3]), { axis: 1, batchDims: 0, size: 4 })), [rand([2, 3], 3)]);
    checkGradients((u) => scatterAdd(u, ints([1, 1, 0, 2], [2, 2]), { axis: 1, batchDims: 1, size: 3 }), [rand([2, 2, 5], 4)]);
  });

  it("jit of take and of its gradient equals eager evaluation", () => {
    const x = rand([3, 4], 7);
    const f = (v: Tensor) => np.sum(np.square(np.take(v, [3, -1, 0], { axis: 1 })));
    assertClose((jit((v: Tensor) => np.take(v, [3, -1, 0], { axis: 1 }))(x) as Tensor).data, np.take(x, [3, -1, 0], { axis: 1 }).data, { rtol: 0, atol: 0 });
    assertClose((jit(grad(f))(x) as Tensor).data, (grad(f)(x) as Tensor).data, { rtol: 0, atol: 0 });
  });

  it("second-order: grad of grad through gather", () => {
    const idx = ints([0, 0, 1], [3]);
    const f = (x: Tensor) => np.sum(np.power(gather(x, idx, { axis: 0, batchDims: 0 }), 3));
    const g2 = grad((x: Tensor) => np.sum(grad(f)(x) as Tensor))(tensor([1, 2], [2])) as Tensor;
    // f = 2 x0^3 + x1^3; sum of grad = 6 x0^2 + 3 x1^2; its grad = [12 x0, 6 x1]
    assertClose(g2.data, [12, 12]);
  });
});

describe("gather under vmap", () => {
  const B = 3;
  const cases: [string, GatherParams, number[], number[], number][] = [
    ["axis 0", { axis: 0, batchDims: 0 }, [4, 2], [2, 3], 4],
    ["axis 1", { axis: 1, batchDims: 0 }, [2, 4, 3], [5], 4],
    ["batchDims 1", { axis: 1, batchDims: 1 }, [2, 4, 3], [2, 5], 4],
    ["axis 2 with batchDims 1", { axis: 2, batchDims: 1 }, [2, 3, 4], [2, 2], 4],
  ];
  const randIdx = (shape: number[], n: number, seed: number) => {
    const r = rand(shape, seed, 0, n);
    return tensor(Array.from(r.data, Math.floor), shape, "int32");
  };
  for (const [name, p, xs, is, n] of cases) {
    it(`${name}: every combination of batched x and indices equals a loop`, () => {
      const xb = rand([B, ...xs], 11);
      const ib = randIdx([B, ...is], n, 12);
      const x0 = rand(xs, 13);
      const i0 = randIdx(is, n, 14);
      const g = (x: Tensor, i: Tensor) => gather(x, i, p);
      const both = vmap(g)(xb, ib) as Tensor;
      assertClose(both.data, loop(B, (k) => g(row(xb, k), row(ib, k))).data, { what: "both" });
      const onlyX = vmap(g, { inAxes: [0, null] })(xb, i0) as Tensor;
      assertClose(onlyX.data, loop(B, (k) => g(row(xb, k), i0)).data, { what: "only x" });
      const onlyI = vmap(g, { inAxes: [null, 0] })(x0, ib) as Tensor;
      assertClose(onlyI.data, loop(B, (k) => g(x0, row(ib, k))).data, { what: "only indices" });
      // a batch axis that is not leading
      const xLast = np.moveaxis(xb, 0, -1);
      const moved = vmap(g, { inAxes: [-1, 0] })(xLast, ib) as Tensor;
      assertClose(moved.data, both.data, { what: "inAxes -1" });
    });

    it(`${name}: scatter_add under vmap equals a loop`, () => {
      const outShape = gather(rand(xs, 1), randIdx(is, n, 2), p).shape;
      const ub = rand([B, ...outShape], 21);
      const u0 = rand(outShape, 22);
      const ib = randIdx([B, ...is], n, 23);
      const i0 = randIdx(is, n, 24);
      const sa = (u: Tensor, i: Tensor) => scatterAdd(u, i, { ...p, size: n });
      assertClose((vmap(sa)(ub, ib) as Tensor).data, loop(B, (k) => sa(row(ub, k), row(ib, k))).data, { what: "both" });
      assertClose((vmap(sa, { inAxes: [0, null] })(ub, i0) as Tensor).data, loop(B, (k) => sa(row(ub, k), i0)).data, { what: "only updates" });
      assertClose((vmap(sa, { inAxes: [null, 0] })(u0, ib) as Tensor).data, loop(B, (k) => sa(u0, row(ib, k))).data, { what: "only indices" });
    });
  }

  it("vmap of grad through take equals per-example gradients", () => {
    const xb = rand([B, 5], 31);
    const f = (x: Tensor) => np.sum(np.square(np.take(x, [4, 0, 4])));
    const batched = vmap(grad(f))(xb) as Tensor;
    assertClose(batched.data, loop(B, (k) => grad(f)(row(xb, k)) as Tensor).data);
  });
});

describe("gather errors", () => {
  it("rejects non-int32 indices with a DTypeError naming gather and the operands", () => {
    const x = rand([3, 4], 1);
    expect(() => gather(x, rand([2], 2), { axis: 0, batchDims: 0 })).toThrow(DTypeError);
    expect(() => gather(x, rand([2], 2), { axis: 0, batchDims: 0 })).toThrow(/gather: data f64\[3,4\], indices f64\[2\].*int32/);
  });
  it("rejects bad axis / batchDims with a ShapeError naming shapes", () => {
    const x = rand([3, 4], 1);
    expect(() => gather(x, ints([0], [1]), { axis: 2, batchDims: 0 })).toThrow(ShapeError);
    expect(() => gather(x, ints([0, 1], [2, 1]), { axis: 1, batchDims: 1 })).toThrow(/gather: .*\[3\].*\[2\].*must be equal/);
    expect(() => scatterAdd(rand([3, 5], 1), ints([0, 1], [2]), { axis: 0, batchDims: 0, size: 3 })).toThrow(
      /scatter_add: updates f64\[3,5\] dims \[3\] at axis 0 must equal the index dims \[2\]/,
    );
    expect(() => scatterAdd(tensor([1], [1], "bool"), ints([0], [1]), { axis: 0, batchDims: 0, size: 3 })).toThrow(/scatter_add: .*bool/);
  });
});

describe("gather properties", () => {
  it("take matches a plain-JS reference on random shapes and indices", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.array(fc.integer({ min: -8, max: 8 }), { minLength: 0, maxLength: 5 }),
        (shape, axisSeed, rawIdx) => {
          const axis = axisSeed % shape.length;
          const n = shape[axis]!;
          const idx = rawIdx.map((v) => ((v % n) + n) % n - (v < 0 ? n : 0)); // in [-n, n)
          const x = iota(shape);
          const y = np.take(x, idx, { axis });
          const pre = shape.slice(0, axis).reduce((a, b) => a * b, 1);
          const post = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
          const expected: number[] = [];
          for (let p = 0; p < pre; p++) {
            for (const i of idx) {
              const j = i < 0 ? i + n : i;
              for (let q = 0; q < post; q++) expected.push((p * n + j) * post + q);
            }
          }
          expect(y.shape).toEqual([...shape.slice(0, axis), idx.length, ...shape.slice(axis + 1)]);
          expect(Array.from(y.data)).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });
});
