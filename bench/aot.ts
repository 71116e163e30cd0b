/**
 * AOT benchmark: export the MLP step's gradient (batch 128, 784-256-10, symbolic batch dim B) as a
 * standalone module, then in fresh Node processes (plain node, no tsx, no adgen) time: importing
 * the module, its first call, and the median warm call. The target (PERFORMANCE.md): no trace or
 * compile at load, and a first call within 2x of a warm call. The module warms its GEMM up at
 * import (runtime.ts primeCode), so the import time is reported next to the first call.
 *
 *   npx tsx bench/aot.ts [--runs N]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportFunction, grad, nn, np, spec, type Tensor } from "../src/index.js";
import { MLP, mlpData } from "./workloads/data.js";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 7;
const { nIn, nHidden: H, nOut: K } = MLP;
type P = { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };
const loss = (p: P, x: Tensor, y: Tensor) => {
  const h = nn.relu(np.add(np.matmul(x, p.W1), p.b1));
  return np.negative(np.mean(np.sum(np.multiply(nn.logSoftmax(np.add(np.matmul(h, p.W2), p.b2), { axis: -1 }), y), { axis: -1 })));
};
const pspec = { W1: spec("float32", [nIn, H]), b1: spec("float32", [H]), W2: spec("float32", [H, K]), b2: spec("float32", [K]) };

const dir = mkdtempSync(join(tmpdir(), "adgen-aot-bench-"));
try {
  const t0 = performance.now();
  const e = exportFunction(grad(loss), [pspec, spec("float32", ["B", nIn]), spec("float32", ["B", K])], { name: "mlpGrad" });
  await e.write(dir);
  const exportMs = performance.now() - t0;
  const d = mlpData();
  // the child runs with plain node from a directory without node_modules
  const data = join(dir, "data.json");
  writeFileSync(data, JSON.stringify({ w1: [...d.w1], b1: [...d.b1], w2: [...d.w2], b2: [...d.b2], x: [...d.x], y: [...d.y], batch: d.batch }));
  const child = join(dir, "child.mjs");
  writeFileSync(
    child,
    `import { readFileSync } from "node:fs";
const d = JSON.parse(readFileSync(${JSON.stringify(data)}, "utf8"));
const A = (v, s) => ({ data: Float32Array.from(v), shape: s });
const p = { W1: A(d.w1, [${nIn}, ${H}]), b1: A(d.b1, [${H}]), W2: A(d.w2, [${H}, ${K}]), b2: A(d.b2, [${K}]) };
const x = A(d.x, [d.batch, ${nIn}]), y = A(d.y, [d.batch, ${K}]);
let t = performance.now();
const m = await import(${JSON.stringify(join(dir, "mlpGrad.mjs"))});
const load = performance.now() - t;
t = performance.now();
m.default(p, x, y);
const first = performance.now() - t;
const warm = [];
for (let i = 0; i < 30; i++) { t = performance.now(); m.default(p, x, y); warm.push(performance.now() - t); }
warm.sort((a, b) => a - b);
console.log(JSON.stringify({ load, first, warm: warm[15] }));`,
  );
  const samples = Array.from({ length: runs }, () => JSON.parse(execFileSync(process.execPath, [child], { cwd: dir, encoding: "utf8" })));
  const med = (k: "load" | "first" | "warm") => samples.map((s) => s[k] as number).sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  const size = statSync(join(dir, "mlpGrad.mjs")).size;
  console.log(`AOT export of the MLP gradient (batch 128, ${nIn}-${H}-${K}, symbolic B), ${runs} fresh processes, medians`);
  console.log(`| step | ms |`);
  console.log(`|---|---|`);
  console.log(`| export (trace + optimize + generate, in-process) | ${exportMs.toFixed(1)} |`);
  console.log(`| module size | ${(size / 1024).toFixed(1)} KiB |`);
  console.log(`| import the module | ${med("load").toFixed(2)} |`);
  console.log(`| first call | ${med("first").toFixed(2)} |`);
  console.log(`| warm call | ${med("warm").toFixed(2)} |`);
  console.log(`| first / warm | ${(med("first") / med("warm")).toFixed(2)}x (target <= 2x) |`);
  console.log(`| (import + first) / warm | ${((med("load") + med("first")) / med("warm")).toFixed(2)}x |`);
} finally {
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); else console.log("kept", dir);
}
