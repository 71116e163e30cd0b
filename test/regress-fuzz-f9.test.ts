// Regression tests for fuzz finding F9 (test/fuzz/FINDINGS.md): np.linalg's Householder and
// Jacobi codes formed sums of squares of the raw entries, so matrices with entries beyond ~1e154
// (float32: ~1e19) overflowed: eigh/eigvalsh silently returned the unrotated diagonal (wrong
// eigenvalues, no NaN), qr and svd gave NaN. Each matrix is now scaled by an exact power of two
// into range first (1 for ordinary matrices, so their bits are unchanged). Expected values: NumPy.

import { describe, expect, it } from "vitest";
import { jit, np } from "../src/index.js";

const f64 = (d: number[][]) => np.array(d, { dtype: "float64" });
const close = (got: number[], want: number[], rtol = 1e-14) => got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(rtol * Math.abs(want[i]!)));

describe("fuzz F9: np.linalg on matrices with huge or tiny entries", () => {
  it("eigvalsh of [[1e200, 1e200], [1e200, 2e200]] (was [1e200, 2e200])", () => {
    const a = f64([[1e200, 1e200], [1e200, 2e200]]);
    const want = [3.819660112501051e199, 2.6180339887498943e200]; // numpy.linalg.eigvalsh
    close(np.linalg.eigvalsh(a).toArray() as number[], want);
    close(jit((x) => np.linalg.eigh(x)[0])(a).toArray() as number[], want);
  });

  it("qr and the 2-norm of [[1e200, 1], [1e200, 2]] are finite (were NaN)", () => {
    const a = f64([[1e200, 1], [1e200, 2]]);
    const r = np.linalg.qr(a)[1].toArray() as number[][];
    close([r[0]![0]!, r[0]![1]!, r[1]![1]!], [-1.4142135623730956e200, -2.1213203435596424, 0.7071067811865475], 1e-12);
    close([np.linalg.norm(a, { ord: 2 }).item()], [1.414213562373095e200]);
    close([np.linalg.svdvals(a).toArray()[0] as number], [1.414213562373095e200]);
  });

  it("tiny matrices keep their eigenvalues; float32 beyond 1e19 too", () => {
    close(np.linalg.eigvalsh(f64([[2e-200, 1e-200], [1e-200, 2e-200]])).toArray() as number[], [1e-200, 3e-200]);
    const a32 = np.array([[4e20, 1e20], [1e20, 4e20]], { dtype: "float32" });
    close(np.linalg.eigvalsh(a32).toArray() as number[], [3e20, 5e20], 1e-6);
  });

  it("ordinary matrices: unchanged (scale 1)", () => {
    const a = f64([[4, 1], [1, 3]]);
    close(np.linalg.eigvalsh(a).toArray() as number[], [(7 - Math.sqrt(5)) / 2, (7 + Math.sqrt(5)) / 2]);
  });
});
