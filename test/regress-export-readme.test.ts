// Regression of issue 9 ("the export example runs as pasted"): the code block of the README's
// "Ahead-of-time export" section is written unchanged to a file in an empty directory where
// "adgen" resolves to this checkout (a node_modules/adgen shim), run with Node (tsx strips its
// types) from that directory, and its printed gradient is compared with adgen's own grad of the
// same model on the same data.

import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type Tensor, grad, nn, np } from "../src/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const dir = mkdtempSync(path.join(tmpdir(), "adgen-readme-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first ```ts block after the "## Ahead-of-time export" heading. */
function exportExample(): string {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf("\n## Ahead-of-time export");
  expect(at).toBeGreaterThan(0);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(m).not.toBeNull();
  return m![1]!;
}

describe("README", () => {
  it("issue 9 (README export example): the Ahead-of-time export example runs as pasted and prints the right gradient", async () => {
    mkdirSync(path.join(dir, "node_modules", "adgen"), { recursive: true });
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(path.join(dir, "node_modules", "adgen", "package.json"), JSON.stringify({ name: "adgen", type: "module", exports: "./index.mjs" }));
    writeFileSync(path.join(dir, "node_modules", "adgen", "index.mjs"), `export * from ${JSON.stringify(pathToFileURL(path.join(ROOT, "src/index.ts")).href)};\n`);
    writeFileSync(path.join(dir, "example.mts"), exportExample());
    const r = await new Promise<{ err: Error | null; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ["--import", TSX, "example.mts"], { cwd: dir, timeout: 90_000 }, (err, stdout, stderr) => resolve({ err, stdout, stderr })),
    );
    expect(r.err, r.stderr.slice(-1500)).toBeNull();
    // console.log(g.W1.shape, g.b2.dtype, g.b2.data)
    const m = /^\[ 784, 256 \] float32 Float32Array\(10\) \[([^\]]*)\]/.exec(r.stdout.replace(/\s+/g, " ").trim());
    expect(m, r.stdout).not.toBeNull();
    const printed = m![1]!.split(",").map(Number);
    // the same model and data, through adgen itself
    const arr = (...shape: number[]) => np.array(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i) / 10)).reshape(shape);
    const y = np.array(Float32Array.from({ length: 320 }, (_, i) => (i % 10 === Math.floor(i / 10) % 10 ? 1 : 0))).reshape([32, 10]);
    type P = { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };
    const loss = (p: P, x: Tensor, t: Tensor) => {
      const h = nn.relu(np.add(np.matmul(x, p.W1), p.b1));
      return np.negative(np.mean(np.sum(np.multiply(nn.logSoftmax(np.add(np.matmul(h, p.W2), p.b2), { axis: -1 }), t), { axis: -1 })));
    };
    const want = (grad(loss)({ W1: arr(784, 256), b1: arr(256), W2: arr(256, 10), b2: arr(10) }, arr(32, 784), y) as P).b2;
    expect(printed).toHaveLength(10);
    printed.forEach((v, i) => expect(Math.abs(v - want.data[i]!), `b2[${i}]`).toBeLessThan(1e-5));
    // it wrote both exports where it said
    for (const f of ["mlpGrad.mjs", "mlpGrad.d.mts", "mlp.mjs", "mlp.manifest.json"]) expect(readFileSync(path.join(dir, "build", f)).length).toBeGreaterThan(0);
  }, 120_000);
});
