// Issue 10 (tests that specify more): the residual ABI of a full exportVjp, asserted IN FULL for
// a small MLP at a concrete batch and at a symbolic batch "B": the forward and backward
// functions' argument and result arrays (paths, dtypes, shapes as formulas, order), the symbolic
// dimensions, the residual list (names, dtypes, shapes, bytes, producing primitive) and which
// residuals are inputs (returned as the caller's array, not copied). Written out literally, so
// any change to the ABI fails here and has to be made on purpose.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type Tensor, exportVjp, np, spec } from "../src/index.js";
import type { Manifest } from "../src/aot/manifest.js";
import { loadExported } from "./util/load-exported.js";

type Params = { W1: Tensor; b1: Tensor; W2: Tensor };
const loss = (p: Params, x: Tensor) => np.sum(np.square(np.matmul(np.tanh(np.add(np.matmul(x, p.W1), p.b1)), p.W2))); // MARK-mlp

const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
const mark = lines.findIndex((l) => l.includes("MARK-mlp") && !l.includes("findIndex")) + 1;
const at = (prim: string) => expect.stringMatching(new RegExp(`^${prim} at test/residual-abi\\.test\\.ts:${mark}:\\d+$`));

const specs = (batch: number | "B") => [{ W1: spec("float32", [3, 4]), b1: spec("float32", [4]), W2: spec("float32", [4, 2]) }, spec("float32", [batch, 3])];

/** The ABI part of a manifest: everything a caller of forward/backward depends on. */
function abi(m: Manifest) {
  return {
    kind: m.kind,
    functions: m.functions.map((f) => ({ name: f.name, inputs: f.inputs, outputs: f.outputs })),
    symbolicDims: m.symbolicDims,
    residuals: m.residuals,
    residualInputs: m.residualInputs,
  };
}

/** The expected ABI: batch 5, or "B" (then shapes hold "B" and bytes are formulas). */
function expected(batch: 5 | "B") {
  const b = batch;
  const bytes = (n: number) => (batch === "B" ? `${n}*B` : n * 5);
  const a = (path: string, shape: (number | string)[]) => ({ path, dtype: "float32", shape });
  return {
    kind: "vjp",
    functions: [
      { name: "forward", inputs: [a("0.W1", [3, 4]), a("0.b1", [4]), a("0.W2", [4, 2]), a("1", [b, 3])], outputs: [a("out", [])] },
      {
        name: "backward",
        inputs: [
          a("residuals[0]", [3, 4]),
          a("residuals[1]", [b, 3]),
          a("residuals[2]", [b, 4]),
          a("residuals[3]", [4, 2]),
          a("residuals[4]", [b, 4]),
          a("residuals[5]", [b, 2]),
          a("outBar", []),
        ],
        outputs: [a("out[0].W1", [3, 4]), a("out[0].b1", [4]), a("out[0].W2", [4, 2]), a("out[1]", [b, 3])],
      },
    ],
    symbolicDims: batch === "B" ? [{ name: "B", constraints: ["B >= 1"] }] : [],
    residuals: [
      { name: "r0", dtype: "float32", shape: [3, 4], bytes: 48, producedBy: "input arg 0.W1" },
      { name: "r1", dtype: "float32", shape: [b, 3], bytes: bytes(12), producedBy: "input arg 1" },
      { name: "r2", dtype: "float32", shape: [b, 4], bytes: bytes(16), producedBy: at("sub") },
      { name: "r3", dtype: "float32", shape: [4, 2], bytes: 32, producedBy: "input arg 0.W2" },
      { name: "r4", dtype: "float32", shape: [b, 4], bytes: bytes(16), producedBy: at("tanh") },
      { name: "r5", dtype: "float32", shape: [b, 2], bytes: bytes(8), producedBy: at("dot_general") },
    ],
    // W1, x and W2 are residuals as they are: forward returns the caller's arrays
    residualInputs: [
      { residual: 0, input: 0 },
      { residual: 1, input: 3 },
      { residual: 3, input: 2 },
    ],
  };
}

describe("residual ABI of a full exportVjp (MLP), in full", () => {
  it("concrete batch", () => {
    expect(abi(exportVjp(loss, specs(5)).manifest)).toEqual(expected(5));
  });

  it("symbolic batch B", () => {
    expect(abi(exportVjp(loss, specs("B")).manifest)).toEqual(expected("B"));
  });

  it("the module does what the ABI says: input residuals are the caller's arrays, the others have the listed shapes", async () => {
    const e = exportVjp(loss, specs("B"), { name: "mlp" });
    const m = await loadExported(e);
    const arr = (n: number, shape: number[], s: number) => ({ data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * s)), shape });
    const p = { W1: arr(12, [3, 4], 1), b1: arr(4, [4], 2), W2: arr(8, [4, 2], 3) };
    const x = arr(21, [7, 3], 4);
    const { residuals } = m.forward(p, x);
    const leaves = [p.W1.data, p.b1.data, p.W2.data, x.data];
    const want = expected("B");
    expect(residuals).toHaveLength(want.residuals.length);
    want.residuals.forEach((r, i) => expect(residuals[i].shape, r.name).toEqual(r.shape.map((d) => (d === "B" ? 7 : d))));
    for (const { residual, input } of want.residualInputs) expect(residuals[residual].data).toBe(leaves[input]);
  });
});

describe("residuals named by checkpointName (issue 15 item 3)", () => {
  it("carry the user's name in .residuals() and in the exported manifest, and only those", async () => {
    const { checkpoint, checkpointName, grad, jit } = await import("../src/index.js");
    const f = (w: Tensor, x: Tensor) => np.sum(np.sin(checkpointName(np.tanh(np.matmul(x, w)), "hidden")));
    const g = (w: Tensor, x: Tensor) => checkpoint(f, { policy: { saveOnlyTheseNames: ["hidden"] } })(w, x);
    const w = np.ones([3, 2]);
    const x = np.ones([4, 3]);
    const named = (rs: { userName?: string }[]) => rs.map((r) => r.userName ?? null);
    expect(named(jit(grad(g)).lower(w, x).residuals())).toEqual(["hidden", null, null]);
    const m = exportVjp(g, [spec("float32", [3, 2]), spec("float32", [4, 3])]).manifest;
    expect(m.residuals.map((r) => [r.dtype, r.shape, r.userName ?? null])).toEqual([
      ["float32", [4, 2], "hidden"],
      ["float32", [3, 2], null],
      ["float32", [4, 3], null],
    ]);
  });
});
