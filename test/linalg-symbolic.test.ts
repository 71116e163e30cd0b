// np.linalg with a symbolic batch dimension (issue 18): exported modules of batched functions at
// [B, n, n] with B symbolic run for any B and equal the eager values; a VJP export with symbolic B
// equals grad. The matrix dimensions themselves must be concrete (the loops run over them).

import { describe, expect, it } from "vitest";
import { type Tensor, exportFunction, exportVjp, grad, np, spec } from "../src/index.js";
import { assertClose, rand } from "./util/check.js";
import { loadExported as load } from "./util/load-exported.js";

const eye = (n: number) => np.eye(n, null, { dtype: "float64" });
const spd = (shape: number[], seed: number) => {
  const r = rand(shape, seed);
  return np.add(np.matmul(r, np.swapaxes(r, -1, -2)), eye(shape.at(-1)!));
};
const general = (shape: number[], seed: number) => np.add(rand(shape, seed), np.multiply(eye(shape.at(-1)!), shape.at(-1)!));
const leaves = (r: unknown): { data: ArrayLike<number> }[] => (Array.isArray(r) ? r : [r]) as { data: ArrayLike<number> }[];

const CASES: [string, (...xs: Tensor[]) => Tensor | Tensor[], string[][], (B: number) => Tensor[]][] = [
  ["cholesky", (a) => np.linalg.cholesky(a!), [["B", "3", "3"]], (B) => [spd([B, 3, 3], 1)]],
  ["solve", (a, b) => np.linalg.solve(a!, b!), [["B", "3", "3"], ["B", "3", "2"]], (B) => [general([B, 3, 3], 2), rand([B, 3, 2], 3)]],
  ["inv", (a) => np.linalg.inv(a!), [["B", "4", "4"]], (B) => [general([B, 4, 4], 4)]],
  ["slogdet", (a) => np.linalg.slogdet(a!), [["B", "3", "3"]], (B) => [general([B, 3, 3], 5)]],
  ["qr", (a) => np.linalg.qr(a!), [["B", "4", "3"]], (B) => [rand([B, 4, 3], 6)]],
  ["eigvalsh", (a) => np.linalg.eigvalsh(a!), [["B", "3", "3"]], (B) => [spd([B, 3, 3], 7)]],
  ["svdvals", (a) => np.linalg.svdvals(a!), [["B", "3", "2"]], (B) => [rand([B, 3, 2], 8)]],
  ["norm2", (a) => np.linalg.norm(a!, { ord: 2, axis: [-2, -1] }), [["B", "3", "3"]], (B) => [rand([B, 3, 3], 9)]],
  ["triangularSolve", (a, b) => np.linalg.triangularSolve(a!, b!, { lower: true }), [["B", "3", "3"], ["B", "3", "1"]], (B) => [general([B, 3, 3], 10), rand([B, 3, 1], 11)]],
];

const dims = (s: string[]) => s.map((d) => (/^\d+$/.test(d) ? Number(d) : d));

describe("np.linalg exported with a symbolic batch dimension B", () => {
  for (const [name, f, shapes, inputs] of CASES) {
    it(`${name} at ${shapes.map((s) => `[${s}]`).join(", ")} runs for B = 1, 2, 5 and equals eager`, async () => {
      const e = exportFunction(f as (...xs: Tensor[]) => unknown, shapes.map((s) => spec("float64", dims(s))), { name: `sym_${name}` });
      // one module for every B: the batch stays symbolic in the outputs
      expect(e.manifest.symbolicDims.map((d: { name: string }) => d.name)).toEqual(["B"]);
      expect(e.manifest.functions[0]!.outputs.every((o: { shape: unknown[] }) => o.shape[0] === "B")).toBe(true);
      const m = await load(e);
      for (const B of [1, 2, 5]) {
        const xs = inputs(B);
        const got = leaves(m.default(...xs));
        const want = leaves(f(...xs));
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => assertClose(g.data, want[i]!.data, { rtol: 1e-12, atol: 1e-13 }));
      }
    });
  }
  it("exportVjp of the summed log-determinants over a symbolic batch equals grad", async () => {
    const g = (a: Tensor) => np.sum(np.linalg.slogdet(np.linalg.cholesky(a))[1]);
    const v = await load(exportVjp(g, [spec("float64", ["B", 3, 3])], { name: "sym_logdet_vjp" }));
    for (const B of [1, 3]) {
      const a = spd([B, 3, 3], 12 + B);
      const { out, residuals } = v.forward(a);
      assertClose(out.data, [g(a).item()], { rtol: 1e-12 });
      const [bar] = v.backward(residuals, { data: Float64Array.of(1), shape: [] });
      assertClose(bar.data, (grad(g)(a) as Tensor).data, { rtol: 1e-10, atol: 1e-12 });
    }
  });
});
