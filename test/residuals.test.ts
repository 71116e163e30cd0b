// Issue 10 item 4 (one split, one report): the vjp split exists once (transforms/vjp.ts vjpSplit,
// the staged form of the eager vjpFlat), and jit's lowered report, the exportVjp manifest's
// residual ABI and the ONNX vjp export report the same residual list for the same function: a
// snapshot for a small MLP (names, dtypes, shapes, bytes and producing primitive at the line of
// this file), concrete and with a symbolic batch. The split's programs compute adgen's own vjp.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type Tensor, exportOnnxVjp, exportVjp, grad, jit, np, spec, vjp } from "../src/index.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { residualAbi } from "../src/aot/export.js";
import { flatten } from "../src/core/tree.js";
import { printProgram } from "../src/ir/printer.js";
import { makeProgram } from "../src/trace/make-program.js";
import { vjpSplit } from "../src/transforms/vjp.js";
import { assertClose } from "./util/check.js";

type Params = { W1: Tensor; W2: Tensor };
const loss = (p: Params, x: Tensor) => np.sum(np.square(np.matmul(np.tanh(np.matmul(x, p.W1)), p.W2))); // MARK-mlp

const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
const mark = lines.findIndex((l) => l.includes("MARK-mlp") && !l.includes("findIndex")) + 1;
/** "<prim> at <this file>:<line of MARK-mlp>:<column>" (columns follow the transpiled code) */
const at = (prim: string) => expect.stringMatching(new RegExp(`^${prim} at test/residuals\\.test\\.ts:${mark}:\\d+$`));

const W1 = np.multiply(np.reshape(np.arange(12, { dtype: "float32" }), [3, 4]), 0.1);
const W2 = np.multiply(np.reshape(np.arange(8, { dtype: "float32" }), [4, 2]), -0.2);
const x = np.multiply(np.reshape(np.arange(15, { dtype: "float32" }), [5, 3]), 0.05);

/** The expected report: batch is 5 or "B" (then bytes are formulas). */
function expected(batch: number | "B") {
  const rows = (n: number) => (batch === "B" ? `${n}*B` : n * 5);
  return [
    { name: "r0", dtype: "float32", shape: [3, 4], bytes: 48, producedBy: "input arg 0.W1" },
    { name: "r1", dtype: "float32", shape: [batch, 3], bytes: rows(12), producedBy: "input arg 1" },
    { name: "r2", dtype: "float32", shape: [batch, 4], bytes: rows(16), producedBy: at("sub") },
    { name: "r3", dtype: "float32", shape: [4, 2], bytes: 32, producedBy: "input arg 0.W2" },
    { name: "r4", dtype: "float32", shape: [batch, 4], bytes: rows(16), producedBy: at("tanh") },
    { name: "r5", dtype: "float32", shape: [batch, 2], bytes: rows(8), producedBy: at("dot_general") },
  ];
}

const specs = (batch: number | "B") => [{ W1: spec("float32", [3, 4]), W2: spec("float32", [4, 2]) }, spec("float32", [batch, 3])];

describe("issue 10 item 4: one vjp split, one residual report", () => {
  it("jit's lowered report, the export manifest, the ONNX export and vjpSplit list the same residuals (MLP snapshot)", () => {
    const fromJit = jit(grad(loss, { argnums: [0, 1] })).lower({ W1, W2 }, x).residuals();
    expect(fromJit).toEqual(expected(5));
    expect(exportVjp(loss, specs(5)).manifest.residuals).toEqual(fromJit);
    expect(exportOnnxVjp(loss, specs(5)).manifest.residuals).toEqual(fromJit);
    const p = makeProgram(loss)({ W1, W2 }, x);
    const s = vjpSplit(p, [true, true, true]);
    expect(residualAbi(s.forward, s.numOutputs, flatten([{ W1, W2 }, x])[1])).toEqual(fromJit);
  });

  it("at a symbolic batch the shapes carry B and the bytes are formulas, in every export", () => {
    const fromExport = exportVjp(loss, specs("B")).manifest.residuals;
    expect(fromExport).toEqual(expected("B"));
    expect(exportOnnxVjp(loss, specs("B")).manifest.residuals).toEqual(fromExport);
    expect(jit(grad(loss, { argnums: [0, 1] }), { shapes: [null, ["B", 3]] }).lower({ W1, W2 }, x).residuals()).toEqual(fromExport);
  });

  it("the split's forward and backward programs compute adgen's vjp (interpreter vs eager vjp)", () => {
    const p = makeProgram(loss)({ W1, W2 }, x);
    const s = vjpSplit(p, [true, true, true]);
    const fwd = interpret(s.forward, [W1, W2, x]);
    expect(fwd).toHaveLength(s.numOutputs + s.numResiduals);
    const ct = np.array(0.5);
    const bars = interpret(s.backward, [...fwd.slice(s.numOutputs), ct]);
    const [out, pullback] = vjp(loss, { W1, W2 }, x);
    assertClose(fwd[0]!.data, (out as Tensor).data, { rtol: 0, atol: 0 });
    const [pb, xb] = pullback(ct) as [Params, Tensor];
    assertClose(bars[0]!.data, pb.W1.data, { rtol: 1e-6, atol: 1e-6 });
    assertClose(bars[1]!.data, pb.W2.data, { rtol: 1e-6, atol: 1e-6 });
    assertClose(bars[2]!.data, xb.data, { rtol: 1e-6, atol: 1e-6 });
  });

  it("lower's linearized and transposed stages are the split's tangent map and backward program", () => {
    const f = (v: Tensor) => np.sum(np.multiply(np.sin(v), v));
    const v = np.array([0.5, 1, 2]);
    const l = jit(f).lower(v);
    const s = vjpSplit(makeProgram(f)(v), [true]);
    expect(l.text("linearized")).toBe(printProgram(s.linear));
    expect(l.text("transposed")).toBe(printProgram(s.backward));
    // d(sin(v) v) = cos(v) v dv + sin(v) dv: cos is computed forward and saved, backward multiplies
    expect(printProgram(s.forward)).toMatch(/= cos/);
    expect(l.text("transposed")).not.toMatch(/= cos/);
    expect(l.text("transposed")).toMatch(/= mul/);
  });
});
