// Issue 9.8: out-of-range indices through np.take / np.index / takeAlongAxis raise the same
// ArgumentError eagerly and on every compiled backend (never clamped silently under jit).

import { afterEach, describe, expect, it } from "vitest";
import { config, jit, np } from "../src/index.js";

const saved = { backend: config.backend, interpretBelowWork: config.interpretBelowWork };
afterEach(() => config.update(saved));
const i32 = (v: number[]) => np.array(v, { dtype: "int32" });

describe("issue 9.8: gather indices out of range raise on every path", () => {
  for (const backend of ["wasm", "js", "interp"] as const) {
    it(`take / index / takeAlongAxis on ${backend}`, () => {
      config.update({ backend, interpretBelowWork: 0 });
      const x = np.array([1, 2, 3]);
      const take = jit((a: any, i: any) => np.take(a, i));
      const index = jit((a: any, i: any) => np.index(a, [i]));
      const along = jit((a: any, i: any) => np.takeAlongAxis(a, i, 0));
      expect(take(x, i32([2, -1])).toArray()).toEqual([3, 3]);
      expect(index(x, i32([0, 2])).toArray()).toEqual([1, 3]);
      expect(along(x, i32([1])).toArray()).toEqual([2]);
      expect(() => take(x, i32([5]))).toThrow(/take: index 5 is out of bounds/);
      expect(() => index(x, i32([-4]))).toThrow(/out of bounds/);
      expect(() => along(x, i32([3]))).toThrow(/takeAlongAxis: index 3 is out of bounds/);
      // clip and wrap compute the same everywhere
      expect(jit((a: any, i: any) => np.take(a, i, { mode: "clip" }))(x, i32([9, -9])).toArray()).toEqual([3, 1]);
      expect(jit((a: any, i: any) => np.take(a, i, { mode: "wrap" }))(x, i32([4, -4])).toArray()).toEqual([2, 3]);
    });
  }
  it("eagerly", () => {
    expect(() => np.take(np.array([1, 2, 3]), i32([5]))).toThrow(/out of bounds/);
  });
});
