// Dtype promotion against JAX's documented table (docs.jax.dev "Type promotion semantics",
// restricted to adgen's dtypes: b1 bool, i4 int32, f4 float32, f8 float64, i* weak int32, f* weak
// float32), every ordered pair, through the lattice (core/dtype promoteTypes) and through np.add
// (the dtype every binary np function sees). Rows with a JS number ("n") follow the JS-number rule
// of issue 18 and are marked JS-specific where they differ from JAX (docs/promotion.md).

import { describe, expect, it } from "vitest";
import { np, type Tensor } from "../src/index.js";
import { type DType, type TypeInfo, promoteTypes } from "../src/core/dtype.js";
import { resultType, scalarTensor } from "../src/api/np/coerce.js";
import { DTypeError } from "../src/core/errors.js";

type Name = "b1" | "i4" | "f4" | "f8" | "i*" | "f*";
const NAMES: Name[] = ["b1", "i4", "f4", "f8", "i*", "f*"];
const INFO: Record<Name, TypeInfo> = {
  b1: { dtype: "bool", weak: false },
  i4: { dtype: "int32", weak: false },
  f4: { dtype: "float32", weak: false },
  f8: { dtype: "float64", weak: false },
  "i*": { dtype: "int32", weak: true },
  "f*": { dtype: "float32", weak: true },
};

// JAX's table, rows b1 i4 f4 f8 i* f*, columns in the same order (upper triangle + diagonal;
// the table is symmetric), pasted from the documentation
const JAX: Record<Name, Name[]> = {
  b1: ["b1", "i4", "f4", "f8", "i*", "f*"],
  i4: ["i4", "i4", "f4", "f8", "i4", "f*"],
  f4: ["f4", "f4", "f4", "f8", "f4", "f4"],
  f8: ["f8", "f8", "f8", "f8", "f8", "f8"],
  "i*": ["i*", "i4", "f4", "f8", "i*", "f*"],
  "f*": ["f*", "f*", "f4", "f8", "f*", "f*"],
};

/** A tensor of each type (weak ones are rank-0 scalars, as JAX's weak values usually are). */
function make(n: Name): Tensor {
  switch (n) {
    case "b1":
      return np.array([true, false, true]);
    case "i4":
      return np.array([1, -2, 3], { dtype: "int32" });
    case "f4":
      return np.array([0.5, -1, 2], { dtype: "float32" });
    case "f8":
      return np.array([0.25, 3, -1], { dtype: "float64" });
    case "i*":
      return scalarTensor(2, "int32", true);
    case "f*":
      return scalarTensor(0.5, "float32", true);
  }
}

const nameOf = (t: TypeInfo): string => (t.weak ? (t.dtype === "int32" ? "i*" : t.dtype === "float32" ? "f*" : `${t.dtype}*`) : { bool: "b1", int32: "i4", float32: "f4", float64: "f8" }[t.dtype]);
const dtypeOf = (n: Name): DType => INFO[n].dtype;

describe("promotion follows JAX's lattice for typed operands", () => {
  it("the table is symmetric (a sanity check of the pasted rows)", () => {
    for (const a of NAMES) for (const [j, b] of NAMES.entries()) expect(JAX[a][j]).toBe(JAX[b][NAMES.indexOf(a)]);
  });
  for (const a of NAMES) {
    for (const [j, b] of NAMES.entries()) {
      it(`${a} with ${b} -> ${JAX[a][j]}`, () => {
        const want = JAX[a][j]!;
        expect(nameOf(promoteTypes([INFO[a], INFO[b]]))).toBe(want);
        expect(nameOf(resultType([make(a), make(b)]))).toBe(want);
        // np.add: bool + bool is logical or (bool); every other pair computes in the promoted dtype
        const y = np.add(make(a), make(b));
        expect(y.dtype).toBe(dtypeOf(want));
      });
    }
  }
  it("bool - bool raises (NumPy and JAX too); bool * bool is logical and", () => {
    expect(() => np.subtract(make("b1"), make("b1"))).toThrow(DTypeError);
    expect(() => np.subtract(make("b1"), make("b1"))).toThrow(/subtract: boolean operands are not supported/);
    expect(np.multiply(np.array([true, true, false]), np.array([true, false, false])).toArray()).toEqual([true, false, false]);
    expect(np.add(np.array([true, false, false]), np.array([true, true, false])).toArray()).toEqual([true, true, false]);
  });
  it("negative of a bool raises (NumPy raises TypeError for - on bool); other dtypes keep theirs", () => {
    expect(() => np.negative(make("b1"))).toThrow(DTypeError);
    expect(() => np.negative(true)).toThrow(/negative: boolean operands are not supported/);
    expect(() => make("b1").neg()).toThrow(DTypeError);
    for (const n of ["i4", "f4", "f8"] as const) expect(np.negative(make(n)).dtype).toBe(dtypeOf(n));
    expect(np.negative(np.array([1, -2], { dtype: "int32" })).toArray()).toEqual([-1, 2]);
  });
});

// JS numbers ("n"): the dtype never depends on the value. Columns b1 i4 f4 f8 i* f* n; `js` marks
// where the result differs from what JAX gives a Python int or float
const NUMBER_ROW: { with: Name | "n"; want: Name; js?: string }[] = [
  { with: "b1", want: "f4", js: "JAX: b1 + 1 is i4 (weak int), b1 + 0.5 f4; a JS number is never an int, so always f4" },
  { with: "i4", want: "i4", js: "JAX: i4 + 0.5 is f4; here a number that is not an exact int32 is a DTypeError" },
  { with: "f4", want: "f4" },
  { with: "f8", want: "f8" },
  { with: "i*", want: "i*", js: "JAX: i* + 0.5 is f*; here a DTypeError (the number takes int32)" },
  { with: "f*", want: "f*" },
  { with: "n", want: "f*", js: "JAX: 1 + 2 is i* (Python ints); two JS numbers are f* (JS numbers make float32)" },
];

describe("JS numbers take the other operands' type (the JS-number rule)", () => {
  for (const row of NUMBER_ROW) {
    it(`n with ${row.with} -> ${row.want}${row.js ? " (JS-specific)" : ""}`, () => {
      const other = row.with === "n" ? 3 : make(row.with);
      for (const v of [2, -7, 0]) {
        expect(nameOf(resultType([v, other]))).toBe(row.want);
        expect(np.add(v, other).dtype).toBe(dtypeOf(row.want));
        expect(np.add(other, v).dtype).toBe(dtypeOf(row.want));
      }
      // a fractional number gives the same dtype, or a DTypeError where the type is int32
      if (dtypeOf(row.want) === "int32") expect(() => np.add(other, 1.5)).toThrow(/the number 1.5 is not an integer/);
      else expect(np.add(other, 1.5).dtype).toBe(dtypeOf(row.want));
    });
  }
  it("int32 + 3e9 raises instead of wrapping (JAX raises too)", () => {
    expect(() => np.add(make("i4"), 3e9)).toThrow(/the number 3000000000 is outside the int32 range/);
    expect(() => np.multiply(make("i4"), -(2 ** 31) - 1)).toThrow(DTypeError);
    expect(np.add(make("i4"), 2 ** 31 - 1).dtype).toBe("int32");
  });
  it("numbers make float32 arrays unless a dtype is given (np.array and np.full alike)", () => {
    expect(np.array([1, 2]).dtype).toBe("float32");
    expect(np.array(3).dtype).toBe("float32");
    expect(np.full([2], 3).dtype).toBe("float32");
    expect(np.full([2], 3.5).dtype).toBe("float32");
    expect(np.full([2], 3, { dtype: "int32" }).dtype).toBe("int32");
    expect(np.full([2], true).dtype).toBe("bool");
    expect(np.array([true, false]).dtype).toBe("bool");
  });
  it("np.arange is float32 unless a dtype is given, whatever its arguments' values", () => {
    for (const args of [[5], [1, 7, 2], [0, 1, 0.25], [0.5, 3]] as [number, number?, number?][]) {
      expect(np.arange(...(args as [number, number, number])).dtype).toBe("float32");
    }
    expect(np.arange(4, { dtype: "int32" }).dtype).toBe("int32");
    expect(np.arange(4, { dtype: "float64" }).dtype).toBe("float64");
    expect(() => np.arange(0, 2.5, { dtype: "int32" })).toThrow(/arange: the number 2.5 is not an int32 value/);
  });
  it("a JS number combined with float64 keeps its exact value (no float32 rounding)", () => {
    expect(np.add(np.zeros([1], { dtype: "float64" }), 0.1).item()).toBe(0.1);
  });
});

describe("integer power (JAX: int32)", () => {
  it("int32 ** int32 is int32, wrapping like NumPy; negative exponents truncate 1 / x^-e", () => {
    const x = np.array([2, -3, 0, 1, -1, 7, 2, 3, -1, 0, 5, -1], { dtype: "int32" });
    const e = np.array([10, 3, 0, -2, -3, 0, 31, 40, 4, 5, -1, -4], { dtype: "int32" });
    const y = np.power(x, e);
    expect(y.dtype).toBe("int32");
    // NumPy 1.24 for the non-negative exponents (x ** e with int32 wrapping)
    expect(Array.from(y.dataSync())).toEqual([1024, -27, 1, 1, -1, 1, -2147483648, 689956897, 1, 0, 0, 1]);
    expect(np.power(np.array([3], { dtype: "int32" }), 2).toArray()).toEqual([9]);
    expect(np.power(np.array([2], { dtype: "int32" }), np.array([0.5], { dtype: "float32" })).dtype).toBe("float32");
    expect(() => np.power(np.array([2], { dtype: "int32" }), 0.5)).toThrow(DTypeError);
  });
});
