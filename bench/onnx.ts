/**
 * ONNX Runtime vs adgen's own backend, in one run: the rows of bench/workloads that the onnxruntime
 * peer (bench/onnx-peer.ts) implements, timed with the same harness as bench/run.ts.
 *
 *   npx tsx bench/onnx.ts [--quick] [--only a,b] [--onnx-provider cpu|cuda|webgpu|...] [--onnx-threads N]
 *
 * On a machine with a GPU: install ONNX Runtime's CUDA binaries first
 * (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`), then
 * `npx tsx bench/onnx.ts --onnx-provider cuda`. A provider that cannot start marks its cells
 * unavailable with ONNX Runtime's reason. Prints median (min-max) per cell and the ratio
 * onnxruntime / adgen ("x", cost: below 1 means ONNX Runtime is faster).
 */
import { FULL_OPTIONS, QUICK_OPTIONS, costRatio, fmtNum, isUnavailable, measure, toUnit, type TimedSetup } from "./harness.js";
import { adgenPeer } from "./peers/adgen.js";
import { onnxPeer } from "./onnx-peer.js";
import { WORKLOADS } from "./workloads/index.js";

const argv = process.argv.slice(2);
let quick = false;
const only: string[] = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const val = () => argv[++i] ?? (() => { throw new Error(`${a} needs a value`); })();
  if (a === "--quick") quick = true;
  else if (a === "--only") only.push(...val().split(","));
  else if (a === "--onnx-provider") process.env.ONNX_PROVIDER = val();
  else if (a === "--onnx-threads") process.env.ONNX_THREADS = val();
  else throw new Error(`unknown argument ${a} (see the comment at the top of bench/onnx.ts)`);
}

const options = quick ? QUICK_OPTIONS : FULL_OPTIONS;
const peers = [adgenPeer, onnxPeer];
const rows = WORKLOADS.filter((w) => w.id in onnxPeer.impls && (only.length === 0 || only.some((o) => w.id.includes(o))));

console.log(`ONNX Runtime (${JSON.stringify(onnxPeer.info?.())}) vs adgen (${JSON.stringify(adgenPeer.info?.())})`);
console.log(["row", "unit", ...peers.map((p) => p.name), "onnxruntime/adgen"].join(" | "));
for (const w of rows) {
  const cells: string[] = [];
  const medians: number[] = [];
  for (const p of peers) {
    const make = p.impls[w.id as keyof typeof p.impls];
    if (!make) {
      cells.push("n/a");
      continue;
    }
    const setup = await make();
    if (isUnavailable(setup)) {
      cells.push(`unavailable: ${setup.unavailable}`);
      continue;
    }
    const s = setup as TimedSetup;
    const bad = await s.verify?.();
    if (bad) {
      cells.push(`WRONG: ${bad}`);
      continue;
    }
    const stats = await measure(`${w.id}/${p.name}`, s.fn, { ...options, ...w.measure, ...(s.inner ? { inner: s.inner } : {}) });
    const u = toUnit(w, stats, false);
    medians[peers.indexOf(p)] = u.median;
    cells.push(`${fmtNum(u.median)} (${fmtNum(u.min)}-${fmtNum(u.max)})`);
    await s.teardown?.();
  }
  const ratio = medians[0] !== undefined && medians[1] !== undefined ? fmtNum(costRatio(w.unit, medians[1], medians[0])) : "";
  console.log([w.id, w.unit, ...cells, ratio].join(" | "));
}
