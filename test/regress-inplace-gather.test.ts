// The memory planner let a map kernel write its result in place of a buffer it gathers from (a
// take of one row: the gather's base view looked element-for-element); the kernel-IR verifier
// (ADGEN_VERIFY=1, set for the suite) refuses that, and found it in the merged fuzzer's fixed seed.
// A gathered buffer is never an in-place donor now; values checked against eager on both backends,
// for single-row and permuting takes (where writing in place would overwrite unread rows).

import { afterEach, describe, expect, it } from "vitest";
import { config, jit, np, type Tensor } from "../src/index.js";

const saved = { backend: config.backend, interpretBelowWork: config.interpretBelowWork };
afterEach(() => config.update(saved));

describe("in-place writes never target a gathered buffer", () => {
  const x = np.array([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]], [[13, 14, 15], [16, 17, 18]]], { dtype: "float64" });
  for (const backend of ["js", "wasm"] as const) {
    for (const idx of [[0], [2], [1, 0], [2, 1, 0], [1, 1, 0]]) {
      it(`${backend}: roll(take(pad(x), ${JSON.stringify(idx)}, axis 0)) equals eager`, () => {
        config.update({ backend, interpretBelowWork: 0 });
        const f = (x0: Tensor) => np.roll(np.take(np.pad(x0, [[0, 0], [0, 0], [0, 0]]), idx, { axis: 0 }), -5, { axis: null });
        const g = (x0: Tensor, i: Tensor) => np.roll(np.take(np.multiply(x0, 2), i, { axis: 0 }), -5, { axis: null });
        expect(Array.from(jit(f)(x).dataSync())).toEqual(Array.from(f(x).dataSync()));
        const i = np.array(idx, { dtype: "int32" });
        expect(Array.from(jit(g)(x, i).dataSync())).toEqual(Array.from(g(x, i).dataSync()));
      });
    }
  }
});
