// Regression tests for issue 9 case 8 (np parts): clip follows NumPy/JAX when the bounds cross,
// and a plain JS number combined with int32 operands must be an exact int32 value (a DTypeError
// otherwise), so the result dtype never depends on a value and nothing wraps silently.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { np } from "../src/index.js";
import { DTypeError } from "../src/core/errors.js";

describe("issue 9.8: np.clip and int32 with plain numbers", () => {
  it("issue 9.8: clip(x, 3, 1) is minimum(maximum(x, 3), 1) as NumPy/JAX: every element is 1", () => {
    const x = np.array([0, 2, 5, -1]);
    expect(Array.from(np.clip(x, 3, 1).data)).toEqual([1, 1, 1, 1]);
    // against the NumPy definition evaluated in JS, for random bounds (crossed or not) and nulls
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 8 }), fc.option(fc.integer({ min: -20, max: 20 })), fc.option(fc.integer({ min: -20, max: 20 })), (xs, lo, hi) => {
        const ref = xs.map((v) => {
          let r = v;
          if (lo !== null) r = Math.max(r, lo);
          if (hi !== null) r = Math.min(r, hi);
          return r;
        });
        expect(Array.from(np.clip(np.array(xs, { dtype: "int32" }), lo, hi).data)).toEqual(ref);
        expect(Array.from(np.clip(np.array(xs), lo, hi).data)).toEqual(ref);
      }),
    );
  });

  it("issue 9.8: int32 + 2**40 and int32 + 1.5 are DTypeErrors (no wrap, no value-dependent dtype)", () => {
    const x = np.array([1, 2], { dtype: "int32" });
    expect(() => np.add(x, 2 ** 40)).toThrow(DTypeError);
    expect(() => np.add(x, 2 ** 40)).toThrow(/add: the number 1099511627776 is outside the int32 range/);
    expect(() => np.add(x, 1.5)).toThrow(/add: the number 1.5 is not an integer/);
    expect(() => np.multiply(x, 2 ** 31)).toThrow(DTypeError);
    expect(() => np.subtract(x, -(2 ** 31) - 1)).toThrow(DTypeError);
    expect(() => np.where(np.array([true, false]), x, 0.5)).toThrow(DTypeError);
    expect(() => np.maximum(x, 1e10)).toThrow(DTypeError);
    // all plain numbers: float32 whatever their values (issue 18's JS-number rule, docs/promotion.md)
    expect(np.add(2 ** 40, 1).dtype).toBe("float32");
    // exact int32 values keep int32; the extremes are exact
    expect(np.add(x, 2).dtype).toBe("int32");
    expect(Array.from(np.add(x, -(2 ** 31)).data)).toEqual([-(2 ** 31) + 1, -(2 ** 31) + 2]);
    expect(Array.from(np.subtract(np.array([0], { dtype: "int32" }), 2 ** 31 - 1).data)).toEqual([-(2 ** 31) + 1]);
    // operations that are float anyway (true division) accept any number
    expect(Array.from(np.divide(x, 1.5).data)).toEqual([Math.fround(1 / 1.5), Math.fround(2 / 1.5)]);
    // float tensors are unaffected
    expect(Array.from(np.add(np.array([1, 2], { dtype: "float64" }), 2 ** 40 + 0.5).data)).toEqual([2 ** 40 + 1.5, 2 ** 40 + 2.5]);
  });

  it("issue 9.8: comparing int32 with any number is exact (bool result, compared in float64)", () => {
    const x = np.array([1, 2, 2 ** 31 - 1, -(2 ** 31)], { dtype: "int32" });
    expect(Array.from(np.less(x, 1.5).data)).toEqual([1, 0, 0, 1]);
    expect(Array.from(np.equal(x, 2 ** 40 + 1).data)).toEqual([0, 0, 0, 0]); // would be [1, ...] if 2**40+1 wrapped to 1
    expect(Array.from(np.less(x, 2 ** 40).data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(np.greaterEqual(x, 2147483646.5).data)).toEqual([0, 0, 1, 0]);
    expect(np.less(x, 1.5).dtype).toBe("bool");
  });

  it("issue 9.8: int32 arrays made from numbers follow the astype rule (saturate, NaN -> 0), never wrap", () => {
    const vals = [1e10, -1e10, 2 ** 31, -(2 ** 31) - 1, 2.7, -2.7, NaN, 2 ** 40 + 3];
    // reference: astype of the same values held exactly in float64 (the one cast rule)
    const ref = Array.from(np.astype(np.array(vals, { dtype: "float64" }), "int32").data);
    expect(ref.slice(0, 2)).toEqual([2147483647, -2147483648]);
    expect(Array.from(np.array(vals, { dtype: "int32" }).data)).toEqual(ref);
    expect(Array.from(np.array(Float64Array.from(vals), { dtype: "int32" }).data)).toEqual(ref);
    for (const [i, v] of vals.entries()) {
      expect(np.full([1], v, { dtype: "int32" }).item(), String(v)).toBe(ref[i]);
      expect(np.fullLike(np.array([0], { dtype: "int32" }), v).item(), String(v)).toBe(ref[i]);
    }
  });
});
