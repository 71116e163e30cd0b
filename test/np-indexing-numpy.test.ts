// Mixed integer + array (advanced) indexing against NumPy: shapes and values of x[spec] for
// x = arange(24).reshape(2, 3, 4), computed once with NumPy 1.24.2 and pasted (the rule: integers
// next to an array index are advanced indices too, all broadcast together, and their dims replace
// the indexed axes in place when the advanced indices are adjacent in the index, else go first).

import { describe, expect, it } from "vitest";
import { grad, jit, np, type Tensor } from "../src/index.js";

const TABLE: { spec: unknown[]; shape: number[]; values: number[] }[] = [
  { spec: [0, ":", [1, 2]], shape: [2, 3], values: [1, 5, 9, 2, 6, 10] },
  { spec: [":", 0, [1, 2]], shape: [2, 2], values: [1, 2, 13, 14] },
  { spec: [0, [1, 2]], shape: [2, 4], values: [4, 5, 6, 7, 8, 9, 10, 11] },
  { spec: [[1, 0], ":", 0], shape: [2, 3], values: [12, 16, 20, 0, 4, 8] },
  { spec: [[1, 0], ":", -1], shape: [2, 3], values: [15, 19, 23, 3, 7, 11] },
  { spec: [0, null, [1, 2]], shape: [2, 1, 4], values: [4, 5, 6, 7, 8, 9, 10, 11] },
  { spec: [0, "...", [1, 2]], shape: [2, 3], values: [1, 5, 9, 2, 6, 10] },
  { spec: [[0, 1], [2, 0]], shape: [2, 4], values: [8, 9, 10, 11, 12, 13, 14, 15] },
  { spec: [[0, 1], ":", [3, 0]], shape: [2, 3], values: [3, 7, 11, 12, 16, 20] },
  { spec: [":", [[0], [2]], [1, 3]], shape: [2, 2, 2], values: [1, 3, 9, 11, 13, 15, 21, 23] },
  { spec: [[1], "1:3", [[0, 3], [2, 1]]], shape: [2, 2, 2], values: [16, 20, 19, 23, 18, 22, 17, 21] },
  { spec: [1, [0, 2], [3, 1]], shape: [2], values: [15, 21] },
  { spec: ["::-1", [2, 0], 1], shape: [2, 2], values: [21, 13, 9, 1] },
  { spec: [[[1, 0]], "::2"], shape: [1, 2, 2, 4], values: [12, 13, 14, 15, 20, 21, 22, 23, 0, 1, 2, 3, 8, 9, 10, 11] },
  { spec: [-1, ":", [[0, 1], [2, 3]]], shape: [2, 2, 3], values: [12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23] },
  { spec: ["...", [0, 2]], shape: [2, 3, 2], values: [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22] },
  { spec: [null, 1, ":", [2]], shape: [1, 1, 3], values: [14, 18, 22] },
];

const x = np.arange(24, { dtype: "float64" }).reshape([2, 3, 4]);

describe("advanced indexing follows NumPy", () => {
  for (const row of TABLE) {
    it(`x[${JSON.stringify(row.spec)}]`, () => {
      const y = np.index(x, row.spec as any);
      expect(y.shape).toEqual(row.shape);
      expect(Array.from(y.dataSync())).toEqual(row.values);
      // traced (jit) and with index arrays as int32 tensors: the same result
      const asTensors = row.spec.map((it) => (Array.isArray(it) ? np.array(it as number[], { dtype: "int32" }) : it));
      const z = jit((a: Tensor) => np.index(a, asTensors as any))(x);
      expect(z.shape).toEqual(row.shape);
      expect(Array.from(z.dataSync())).toEqual(row.values);
    });
  }

  it("the gradient counts how often each element is selected", () => {
    // x[[1, 0, 1], ":", [3, 3, 3]]: element (1, j, 3) twice, (0, j, 3) once
    const g = grad((a: Tensor) => np.sum(np.index(a, [[1, 0, 1], ":", [3, 3, 3]])))(x) as Tensor;
    const want = new Array(24).fill(0);
    for (let j = 0; j < 3; j++) {
      want[1 * 12 + j * 4 + 3] = 2;
      want[j * 4 + 3] = 1;
    }
    expect(Array.from(g.dataSync())).toEqual(want);
  });

  it("out-of-range integers and arrays raise, naming the axis; unbroadcastable arrays raise", () => {
    expect(() => np.index(x, [2, ":", [0]])).toThrow(/index 2 is out of bounds for axis 0 with size 2/);
    expect(() => np.index(x, [0, ":", [4]])).toThrow(/index 4 is out of bounds for axis 2 with size 4/);
    expect(() => np.index(x, [[0, 1], ":", [0, 1, 2]])).toThrow(/cannot be broadcast/);
  });
});
