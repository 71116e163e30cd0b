// Regression tests for issue 9's last dtype cases: one cast rule for every way a JS number becomes
// an element (np.array, np.full, typed arrays, scalars, astype), and isclose with a plain number.
// References: NumPy's bool(v) is v != 0 (NaN -> True, -0.0 -> False, 0.5 -> True); NumPy's
// isclose(float64 x, 0.1) compares with the float64 0.1.

import { describe, expect, it } from "vitest";
import { jit, np } from "../src/index.js";

const VALUES = [NaN, -0, 0, 0.5, -2, Infinity, -Infinity, 1e-310];
const numpyBool = (v: number) => !Number.isNaN(v) ? v !== 0 : true;

describe("issue 9: NaN and fractions to bool agree on every creation path", () => {
  it("np.array, typed arrays, np.full, np.asarray scalars and astype all give NumPy's bool(v)", () => {
    const want = VALUES.map(numpyBool);
    expect(np.array(VALUES, { dtype: "bool" }).toArray()).toEqual(want);
    expect(np.array(Float64Array.from(VALUES), { dtype: "bool" }).toArray()).toEqual(want);
    expect(np.astype(np.array(VALUES, { dtype: "float64" }), "bool").toArray()).toEqual(want);
    expect(jit((x) => np.astype(x, "bool"))(np.array(VALUES, { dtype: "float64" })).toArray()).toEqual(want);
    for (const v of VALUES) {
      expect(np.full([2], v, { dtype: "bool" }).toArray()).toEqual([numpyBool(v), numpyBool(v)]);
      expect(np.array(v, { dtype: "bool" }).toArray()).toEqual(numpyBool(v));
    }
    expect(np.array([true, false, 1, 0] as never, { dtype: "bool" }).toArray()).toEqual([true, false, true, false]);
  });

  it("int32 creation keeps the saturating cast (NaN -> 0)", () => {
    expect(np.array([NaN, 2.7, -2.7, 3e9, -3e9], { dtype: "int32" }).toArray()).toEqual([0, 2, -2, 2147483647, -2147483648]);
    expect(np.full([1], 3e9, { dtype: "int32" }).toArray()).toEqual([2147483647]);
  });
});

describe("issue 9: isclose with a plain number keeps the number's value", () => {
  it("isclose(float64, 0.1) with zero tolerances is exact equality with 0.1", () => {
    const x = np.array([0.1, Math.fround(0.1), 0.1000001], { dtype: "float64" });
    const opts = { rtol: 0, atol: 0 };
    expect(np.isclose(x, 0.1, opts).toArray()).toEqual([true, false, false]);
    expect(np.isclose(0.1, x, opts).toArray()).toEqual([true, false, false]);
    // float32 operands still compare with the float32 0.1 (the number adopts the tensor's dtype)
    expect(np.isclose(np.array([0.1], { dtype: "float32" }), 0.1, opts).toArray()).toEqual([true]);
  });
});
