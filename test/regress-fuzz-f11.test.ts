// Fuzz finding F11 (test/fuzz/FINDINGS.md): vmap of x.at(i).min/max/multiply over a symbolic batch
// raised "dimension B is symbolic" (the scatter primitive's batching rule built iota(batch) and
// batch * n in JS). Its rows' offsets now come from a cumulative sum over the (symbolic) batch.
// Compared with a per-example loop of the eager function, for several batch sizes.

import { describe, expect, it } from "vitest";
import { type Tensor, exportFunction, jit, np, spec, vmap } from "../src/index.js";
import { loadExported } from "./util/load-exported.js";

const ops = ["min", "max", "multiply"] as const;
const f = (op: (typeof ops)[number]) => (x: Tensor, u: Tensor) => np.at(x, [[1, 1, 3]])[op](u);

function perExample(g: (x: Tensor, u: Tensor) => Tensor, xs: number[][], us: number[][]): number[] {
  return xs.flatMap((x, b) => Array.from(g(np.array(x, { dtype: "float64" }), np.array(us[b]!, { dtype: "float64" })).dataSync() as Float64Array));
}

describe("F11: scatter (x.at(i).min/max/multiply) under vmap with a symbolic batch", () => {
  for (const op of ops) {
    it(`exportFunction(vmap(${op})) at [B, 4] runs for B = 1, 2, 5 and equals the per-example loop`, async () => {
      const e = exportFunction(vmap(f(op)), [spec("float64", ["B", 4]), spec("float64", ["B", 3])]);
      const mod = await loadExported(e);
      for (const B of [1, 2, 5]) {
        const xs = Array.from({ length: B }, (_, b) => [0.5 + b, -1 - b, 2 * b, 3.25]);
        const us = Array.from({ length: B }, (_, b) => [b - 1.5, 0.75 * b, -2]);
        const out = mod.default({ data: Float64Array.from(xs.flat()), shape: [B, 4] }, { data: Float64Array.from(us.flat()), shape: [B, 3] });
        expect(out.shape).toEqual([B, 4]);
        expect(Array.from(out.data)).toEqual(perExample(f(op), xs, us));
      }
    });
  }

  it("jit(vmap(min)) with a declared symbolic batch equals the per-example loop", () => {
    const g = jit(vmap(f("min")), { shapes: [["B", 4], ["B", 3]] } as any);
    for (const B of [2, 3]) {
      const xs = Array.from({ length: B }, (_, b) => [1 + b, -b, 2, 3 * b]);
      const us = Array.from({ length: B }, (_, b) => [-b, 0.5, b]);
      const out = g(np.array(xs, { dtype: "float64" }), np.array(us, { dtype: "float64" })) as Tensor;
      expect(Array.from(out.dataSync())).toEqual(perExample(f("min"), xs, us));
    }
  });
});
