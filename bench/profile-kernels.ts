/**
 * Per-kernel profile of a jitted program on the wasm backend (issue 12: where the time of the
 * transformer block goes). The program is lowered as jit does, generated with a `tick` import
 * before every top-level kernel (generateWasm(lp, { profile: true })), and run `--reps` times after warm-up;
 * each kernel's time is the median over the runs of the gap between its tick and the next.
 * Kernels are grouped by kind and fused primitives in the summary.
 *
 *   npx tsx bench/profile-kernels.ts [--workload transformer-step|transformer-fwd|cnn-step] [--reps 20] [--top 25] [--threads N]
 */
import { config, jit, valueAndGrad, type Tensor } from "../src/index.js";
import { compileWasm } from "../src/backends/wasm/program.js";
import { generateWasm } from "../src/backends/wasm/kernels.js";
import { sharedWasmMemories } from "../src/runtime/wasm/memory.js";
import { flatten } from "../src/core/tree.js";
import { optimizeForBackend } from "../src/jit/compile.js";
import { lowerProgram } from "../src/lower/fuse.js";
import type { Kernel, LoweredProgram } from "../src/lower/kernel-ir.js";
import { transformerLoss, transformerTensors } from "./peers/adgen-transformer.js";
import { cnnLoss, cnnTensors } from "./peers/adgen-cnn.js";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const workload = arg("workload", "transformer-step");
const reps = Number(arg("reps", "20"));
if (process.argv.includes("--threads")) config.update({ matmulThreads: Number(arg("threads", "2")) });

const cnn = workload === "cnn-step";
const { p, x, target } = cnn ? cnnTensors() : transformerTensors();
const fn = cnn ? valueAndGrad(cnnLoss) : workload === "transformer-fwd" ? transformerLoss : valueAndGrad(transformerLoss);
const low = jit(fn, { name: workload }).lower(p, x, target);
const lp: LoweredProgram = lowerProgram(optimizeForBackend(low.program));
const [leaves] = flatten([p, x, target]);

const n = lp.kernels.length;
let t = new Float64Array(n + 1);
const tick = (k: number) => (t[k] = performance.now());
const exec = compileWasm(lp, workload, generateWasm(lp, { profile: true, threads: sharedWasmMemories }), tick);
const runs: Float64Array[] = [];
for (let r = 0; r < reps + 5; r++) {
  t = new Float64Array(n + 1);
  exec.run(leaves as Tensor[]);
  if (r >= 5) runs.push(t);
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
const per = Array.from({ length: n }, (_, k) => median(runs.map((r) => r[k + 1]! - r[k]!)));
const total = median(runs.map((r) => r[n]! - r[0]!));

const eqns = low.optimized.equations;
const label = (k: Kernel): string => {
  const prims = [...new Set(k.eqns.map((e) => eqns[e]?.prim.name ?? "?"))].filter((s) => !/^(broadcast_in_dim|reshape|stop_gradient)$/.test(s));
  const b = k.kind === "call" ? "" : lp.buffers[(k as { out: number }).out]!;
  const shape = k.kind === "map" ? `[${k.shape}]` : k.kind === "reduce" ? `[${k.outShape}]/[${k.redShape}]` : k.kind === "dot" ? `B${k.B} ${k.M}x${k.N}x${k.K}` : "";
  return `${k.kind} ${b ? b.dtype : ""} ${shape} ${prims.slice(0, 6).join(",")}`;
};
const rows = lp.kernels.map((k, i) => ({ i, ms: per[i]!, kind: k.kind, label: label(k) }));
console.log(`${workload}: ${n} kernels, median total ${total.toFixed(2)} ms over ${reps} runs`);
const byKind = new Map<string, number>();
for (const r of rows) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + r.ms);
console.log("by kind: " + [...byKind].map(([k, ms]) => `${k} ${ms.toFixed(2)} ms (${((100 * ms) / total).toFixed(0)}%)`).join(", "));
for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, Number(arg("top", "25"))))
  console.log(`  k${String(r.i).padStart(3)} ${r.ms.toFixed(3).padStart(8)} ms  ${r.label}`);
