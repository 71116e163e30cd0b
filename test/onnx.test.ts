// ONNX export checked against ONNX Runtime (onnxruntime-node, CPU provider): every row of the
// per-primitive table is exported and run, in float64 and in float32, and must agree with adgen's
// interpreter on the same inputs (float64: 1e-12 relative; float32: float32 tolerance); random
// numbers (Threefry as int64 graph arithmetic) must agree bit for bit. The mapping table
// must cover exactly the registry's primitives.

import { describe, expect, it } from "vitest";
import { ArgumentError, type Tensor, exportOnnx, makeProgram, spec } from "../src/index.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { primitives } from "../src/higher-order/registry.js";
import { ONNX_RULES } from "../src/onnx/table.js";
import { ROWS, type Row, type ArgSpec } from "./prims.table.js";
import { rand, tensor } from "./util/check.js";
import { runOnnx } from "./onnx-run.js";

function makeArgs(specs: ArgSpec[], seed: number, dtype: "float32" | "float64"): Tensor[] {
  return specs.map((a, i) => {
    const t = rand(a.shape, seed * 101 + i, a.lo ?? -1, a.hi ?? 1, a.dtype === "int32" || a.dtype === "bool" ? "float64" : dtype);
    if (a.dtype === "int32") return tensor(Array.from(t.dataSync(), Math.floor), a.shape, "int32");
    return t;
  });
}

const title = (row: Row) => `${row.prim}${row.variant ? ` (${row.variant})` : ""}`;

/** Rows ONNX export refuses on purpose, with the reason the error must give (none at present). */
const REFUSED: Record<string, RegExp> = {};

/** Rows whose function is written for float64 operands (they mix in float64 constants). */
const FLOAT64_ONLY = new Set(["dim_value"]);

const TOL = { float64: { rtol: 1e-12, atol: 1e-13 }, float32: { rtol: 2e-5, atol: 2e-6 } };

function expectClose(got: number[], want: ArrayLike<number>, tol: { rtol: number; atol: number }, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!;
    const b = Number(want[i]);
    if (Number.isNaN(b)) {
      expect(Number.isNaN(a), `${what}[${i}]: ${a} vs NaN`).toBe(true);
      continue;
    }
    const ok = a === b || Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b);
    expect(ok, `${what}[${i}]: onnxruntime ${a}, interpreter ${b}`).toBe(true);
  }
}

describe("ONNX export: the primitive table on onnxruntime-node", () => {
  it("the mapping table covers exactly the registered primitives", () => {
    expect(Object.keys(ONNX_RULES).sort()).toEqual([...primitives.keys()].sort());
  });

  for (const row of ROWS) {
    for (const dtype of ["float64", "float32"] as const) {
      it.skipIf(dtype === "float32" && FLOAT64_ONLY.has(row.prim))(`${title(row)} in ${dtype} agrees with the interpreter`, async () => {
        const xs = makeArgs(row.args, 1, dtype);
        const specs = xs.map((x) => spec(x.dtype, x.shape as number[]));
        const refused = REFUSED[row.prim];
        if (refused) {
          let err: unknown;
          try {
            exportOnnx(row.fn, specs, { name: "row" });
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(ArgumentError);
          expect(String((err as Error).message)).toMatch(new RegExp(`primitive ${row.prim} \\(from test/prims\\.table\\.ts:\\d+`));
          expect(String((err as Error).message)).toMatch(refused);
          return;
        }
        const program = makeProgram(row.fn)(...xs);
        const want = interpret(program, xs);
        const e = exportOnnx(row.fn, specs, { name: "row" });
        const got = await runOnnx(e.bytes, xs);
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => {
          expect(g.shape, `output ${i} shape`).toEqual(want[i]!.shape);
          const tol = want[i]!.dtype === "float32" ? TOL.float32 : dtype === "float32" && want[i]!.dtype === "float64" ? TOL.float32 : TOL.float64;
          expectClose(g.data, want[i]!.dataSync(), tol, `${title(row)} output ${i}`);
        });
      });
    }
  }
});
