// Column reductions on the wasm backend (backends/wasm/reduce-columns.ts): a float32 sum/prod over
// leading dims with the contiguous dim kept (bias gradients) runs blocks of outputs down the rows
// with f64x2 accumulators; every output still accumulates in element order in float64, so the
// results are bit-identical to the interpreter, over kept sizes that hit every block tail (1..40),
// one and two kept dims, fused expressions, broadcast reads, and the prod reduction.

import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Tensor, config, jit, np } from "../src/index.js";
import { rand } from "./util/check.js";

const saved = { ...config };
beforeEach(() => config.update({ interpretBelowWork: 0 }));
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
});

function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

const FNS: Record<string, (x: Tensor, b: Tensor) => Tensor> = {
  sum: (x) => np.sum(x, { axis: 0 }),
  sumFused: (x, b) => np.sum(np.multiply(np.tanh(x), np.add(x, b)), { axis: 0 }),
  sumTwoAxes: (x) => np.sum(np.reshape(x, [2, -1, x.shape[1]!, x.shape[2]!]), { axis: [0, 1] }),
  prod: (x) => np.prod(np.add(np.multiply(x, 0.01), 1), { axis: 0 }),
};
const JITTED = Object.fromEntries(Object.entries(FNS).map(([k, f]) => [k, jit(f)]));

describe("column reductions", () => {
  it("are bit-identical to the interpreter", () => {
    fc.assert(
      fc.property(
        fc.record({
          fn: fc.constantFrom(...Object.keys(FNS)),
          rows: fc.integer({ min: 1, max: 9 }).map((r) => 2 * r),
          mid: fc.integer({ min: 1, max: 5 }),
          cols: fc.integer({ min: 1, max: 40 }),
          seed: fc.integer({ min: 1, max: 1e6 }),
        }),
        ({ fn, rows, mid, cols, seed }) => {
          const x = rand([rows, mid, cols], seed, -2, 2, "float32");
          const b = rand([cols], seed + 1, -1, 1, "float32");
          config.update({ backend: "interp" });
          const want = (JITTED[fn]!(x, b) as Tensor).data;
          config.update({ backend: "wasm" });
          expectSame((JITTED[fn]!(x, b) as Tensor).data, want, `${fn} [${rows},${mid},${cols}]`);
        },
      ),
      { numRuns: 80, seed: 20261203 },
    );
  });

  it("keep IEEE specials (NaN, infinities, -0) as the scalar loop does", () => {
    const cols = 21;
    const data = Float32Array.from({ length: 6 * cols }, (_, i) => [NaN, Infinity, -Infinity, -0, 1e38, 3][i % 6]! * (i % 5 === 0 ? -1 : 1));
    const x = np.reshape(np.array(data), [6, 1, cols]);
    config.update({ backend: "interp" });
    const want = (JITTED["sum"]!(x, x) as Tensor).data;
    config.update({ backend: "wasm" });
    expectSame((JITTED["sum"]!(x, x) as Tensor).data, want, "specials");
  });
});
