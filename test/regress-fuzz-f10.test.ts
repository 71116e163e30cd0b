// Regression test for fuzz finding F10 (test/fuzz/FINDINGS.md), a sibling of F3: np.astype of a
// JS number went through the weak float32 scalar the number otherwise becomes, so
// astype(1.5e300, "float64") was Infinity and astype(0.1, "float64") was fround(0.1). A number
// now converts from its exact value (as np.array(v, {dtype}) and JAX with x64 do).

import { describe, expect, it } from "vitest";
import { type Tensor, jit, np } from "../src/index.js";

describe("fuzz F10: np.astype of a JS number", () => {
  it("keeps the exact value for float64, eagerly and under jit", () => {
    expect(np.astype(1.5e300, "float64").item()).toBe(1.5e300);
    expect(np.astype(0.1, "float64").item()).toBe(0.1);
    expect(np.astype(0.1, "float64").dtype).toBe("float64");
    const x = np.array([1], { dtype: "float64" });
    expect(jit((t: Tensor) => np.add(t, np.astype(0.1, "float64")))(x).toArray()).toEqual([1.1]);
  });

  it("rounds once for float32 and truncates the exact value for int32", () => {
    expect(np.astype(0.1, "float32").item()).toBe(Math.fround(0.1));
    expect(np.astype(1.5e300, "float32").item()).toBe(Infinity);
    expect(np.astype(16777217.5, "int32").item()).toBe(16777217); // through float32 it was 16777216
    expect(np.astype(-2.7, "int32").item()).toBe(-2);
    expect(np.astype(0.5, "bool").toArray()).toEqual(np.astype(np.array(0.5, { dtype: "float64" }), "bool").toArray());
  });
});
