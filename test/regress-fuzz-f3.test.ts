// Regression tests for fuzz finding F3 (/work/notes/fuzz-findings.md): a JS number inside
// np.stack / np.concatenate (and vstack / hstack) is weakly typed exactly as in binary ops, so
// next to a float64 array it keeps float64 precision instead of being rounded to float32 first.

import { describe, expect, it } from "vitest";
import { Tensor, jit, np } from "../src/index.js";
import { DTypeError } from "../src/core/errors.js";

const x64 = () => np.array(2, { dtype: "float64" });

describe("fuzz F3: weak literals in np.stack / np.concatenate", () => {
  it("F3: np.stack([1e-30, x64]) keeps 1e-30 exactly (as np.add / np.where)", () => {
    const s = np.stack([1e-30, x64()]);
    expect(s.dtype).toBe("float64");
    expect(s.toArray()).toEqual([1e-30, 2]);
    // the same value the binary ops' weak promotion gives
    expect(np.where(np.greater(x64(), 0), 1e-30, x64()).item()).toBe(s.toArray()[0]);
    expect(np.stack([x64(), 0.1]).toArray()).toEqual([2, 0.1]);
    expect(jit((x: Tensor) => np.stack([1e-30, x]))(x64()).toArray()).toEqual([1e-30, 2]);
  });

  it("F3: np.concatenate / vstack / hstack with a nested JS array and float64 keep float64 values", () => {
    const c = np.concatenate([[0.1, 1e-30], np.array([2], { dtype: "float64" })]);
    expect(c.dtype).toBe("float64");
    // a nested JS array is an array input (float32 by default, as np.array) not a weak scalar
    expect(c.toArray()).toEqual([Math.fround(0.1), Math.fround(1e-30), 2]);
    expect(np.hstack([1e-30, np.array([2], { dtype: "float64" })]).toArray()).toEqual([1e-30, 2]);
    expect(np.vstack([1e-30, x64()]).toArray()).toEqual([[1e-30], [2]]);
  });

  it("F3: with float32 arrays the literal is float32 and the result stays float32", () => {
    const s = np.stack([1e-30, np.array(2, { dtype: "float32" })]);
    expect(s.dtype).toBe("float32");
    expect(s.toArray()).toEqual([Math.fround(1e-30), 2]);
    const c = np.concatenate([np.array([1], { dtype: "float32" }), np.expandDims(np.asarray(0.1), 0)]);
    expect(c.dtype).toBe("float32");
    // only literals: float32 whatever their values (issue 18's JS-number rule, as np.array([1, 2]))
    expect(np.stack([1.5, 2.5]).dtype).toBe("float32");
    expect(np.stack([1, 2]).dtype).toBe("float32");
  });

  it("F3: a literal with an int32 array follows binary-op promotion (int stays int32; 1.5 is a DTypeError as in np.add)", () => {
    const i = np.array(3, { dtype: "int32" });
    const s = np.stack([1, i]);
    expect(s.dtype).toBe("int32");
    expect(s.toArray()).toEqual([1, 3]);
    expect(() => np.add(i, 1.5)).toThrow(DTypeError);
    expect(() => np.stack([1.5, i])).toThrow(DTypeError);
  });
});
