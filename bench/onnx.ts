/**
 * ONNX Runtime vs adgen's own backend, in one run: the rows of bench/workloads that the onnxruntime
 * peer (bench/onnx-peer.ts) implements, timed with the same harness as bench/run.ts.
 *
 *   npx tsx bench/onnx.ts [--quick] [--only a,b] [--onnx-provider cpu|cuda|webgpu|...] [--onnx-threads N]
 *   npm run bench -- --onnx-provider cuda       (the whole bench: its onnxruntime column on CUDA)
 *
 * After the rows, the per-call overhead of a tiny function (f(x) = x*2+1 on 4 floats, incl.
 * readback) on each execution path: adgen's interpreter, wasm and js backends, onnxruntime-node
 * synchronously (its native session, what a jit backend calls) and through its public Promise API,
 * and onnxruntime-web's wasm build: the fixed cost a tiering rule weighs against kernel speed.
 * `--only overhead` runs that section alone.
 *
 * On a machine with a GPU: install ONNX Runtime's CUDA binaries first
 * (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`), then
 * `npx tsx bench/onnx.ts --onnx-provider cuda`. A provider that cannot start marks its cells
 * unavailable with ONNX Runtime's reason. Prints median (min-max) per cell and the ratio
 * onnxruntime / adgen ("x", cost: below 1 means ONNX Runtime is faster).
 */
import { type Tensor, config, jit, spec } from "../src/index.js";
import { traceAtSpecs } from "../src/onnx/programs.js";
import { compileOrt } from "../src/onnx/session.js";
import { compileOrtWeb } from "../src/onnx/session-web.js";
import { FULL_OPTIONS, QUICK_OPTIONS, costRatio, fmtNum, isUnavailable, measure, toUnit, type TimedSetup } from "./harness.js";
import { adgenPeer } from "./peers/adgen.js";
import { onnxPeer, ortOptions } from "./onnx-peer.js";
import { TINY_INPUT, checkTiny } from "./workloads/data.js";
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
const overhead = only.length === 0 || only.includes("overhead");

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

/** One way to run the tiny function: set up (outside the timing), a call, and what to undo after. */
interface Path {
  name: string;
  setup: () => Promise<() => ArrayLike<number> | Promise<ArrayLike<number>>>;
  cfg?: Partial<typeof config>;
}

async function overheadSection(): Promise<void> {
  const tiny = (v: Tensor) => v.mul(2).add(1);
  const x = (await import("../src/index.js")).np.array(Array.from(TINY_INPUT), { dtype: "float32" });
  const program = traceAtSpecs(tiny, [spec("float32", [4])], "bench overhead").program;
  const adgenJit = (): (() => ArrayLike<number>) => {
    const f = jit(tiny, { name: "tiny" });
    return () => (f(x) as Tensor).dataSync();
  };
  const paths: Path[] = [
    { name: "adgen jit, interpreter (interp backend)", setup: async () => adgenJit(), cfg: { backend: "interp" } },
    { name: "adgen jit, wasm backend", setup: async () => adgenJit(), cfg: { backend: "wasm", interpretBelowWork: 0 } },
    { name: "adgen jit, js backend", setup: async () => adgenJit(), cfg: { backend: "js", interpretBelowWork: 0 } },
    {
      name: `onnxruntime-node ${ortOptions().executionProvider}, sync (native session)`,
      setup: async () => {
        const c = compileOrt(program, ortOptions());
        return () => c.run([x])[0]!.dataSync();
      },
    },
    {
      name: `onnxruntime-node ${ortOptions().executionProvider}, async (public API)`,
      setup: async () => {
        const c = compileOrt(program, ortOptions());
        return async () => (await c.runAsync([x]))[0]!.dataSync();
      },
    },
    {
      name: "onnxruntime-web wasm, async",
      setup: async () => {
        const c = await compileOrtWeb(program);
        return async () => (await c.run([x]))[0]!.dataSync();
      },
    },
  ];
  console.log("");
  console.log("per-call overhead: f(x) = x*2+1 on 4 float32, incl. readback (us per call)");
  console.log(["path", "us median (min-max)"].join(" | "));
  for (const p of paths) {
    const saved = Object.fromEntries(Object.keys(p.cfg ?? {}).map((k) => [k, (config as unknown as Record<string, unknown>)[k]]));
    try {
      if (p.cfg) config.update(p.cfg);
      const fn = await p.setup();
      const bad = checkTiny(await fn());
      if (bad) {
        console.log([p.name, `WRONG: ${bad}`].join(" | "));
        continue;
      }
      const st = await measure(`overhead/${p.name}`, fn, options);
      console.log([p.name, `${fmtNum(st.median * 1000)} (${fmtNum(st.min * 1000)}-${fmtNum(st.max * 1000)})`].join(" | "));
    } catch (e) {
      console.log([p.name, `unavailable: ${(e as Error).message.split("\n")[0]}`].join(" | "));
    } finally {
      config.update(saved as Partial<typeof config>);
    }
  }
}

if (overhead) await overheadSection();
