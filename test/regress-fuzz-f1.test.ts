// Regression of fuzz finding F1: an exported module (js and wasm export backends) returned +0
// where eager and jit return -0, when a program output is a constant literal -0 (the module
// writer printed the literal with a template string, and `${-0}` is "0"). Each program here is
// exported on both backends, imported, run, and its output compared with eager by Object.is.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type Tensor, exportFunction, nn, np, spec } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "adgen-regress-f1-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

async function load(e: { write(d: string): Promise<string[]>; manifest: { files: { module: string } } }): Promise<Record<string, any>> {
  const d = join(dir, `e${seq++}`);
  await e.write(d);
  return import(/* @vite-ignore */ pathToFileURL(join(d, e.manifest.files.module)).href);
}

const x64 = np.array([1.5], { dtype: "float64" });

const CASES: [string, (x: Tensor) => Tensor | Tensor[]][] = [
  ["np.negative(0)", () => np.negative(0)],
  ["np.add(x, np.negative(0)) with a constant -0 output beside it", (x) => [np.add(x, np.negative(0)), np.negative(0)]],
  ["np.negative(nn.relu(-0))", () => np.negative(nn.relu(-0))],
  ["np.sum(np.negative(0))", () => np.sum(np.negative(0))],
  ["float64 constant -0", () => np.negative(np.zeros([], { dtype: "float64" }))],
  ["float64 constant [-0, 0, -0]", () => np.array([-0, 0, -0], { dtype: "float64" })],
];

describe("fuzz F1: exported modules keep a constant -0 output", () => {
  for (const backend of ["js", "wasm"] as const) {
    for (const [name, f] of CASES) {
      it(`F1 (${backend} export): ${name} returns -0 like eager`, async () => {
        const eager = [f(x64)].flat().map((t) => Array.from(t.data as ArrayLike<number>));
        // the case must actually produce a -0 somewhere, or the test could not fail
        expect(eager.flat().some((v) => Object.is(v, -0))).toBe(true);
        const name = `f1_${seq}_${backend}`;
        const m = await load(exportFunction(f, [spec("float64", [1])], { name, backend }));
        const got = [m[name]([1.5])].flat().map((r: { data: ArrayLike<number> }) => Array.from(r.data));
        expect(got.length).toBe(eager.length);
        got.forEach((g, i) => {
          expect(g.length).toBe(eager[i]!.length);
          g.forEach((v, j) => expect(Object.is(v, eager[i]![j]), `output ${i}[${j}]: export ${v}, eager ${eager[i]![j]}`).toBe(true));
        });
      });
    }
  }
});
