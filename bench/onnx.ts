/**
 * ONNX Runtime vs adgen's own backend, in one run: the rows of bench/workloads that the onnxruntime
 * peers (bench/onnx-peer.ts) implement, timed with the same harness as bench/run.ts. Columns:
 * adgen (jit, wasm backend), onnxruntime (a session called directly), adgen-jit-ort (jit with
 * config.backend "onnxruntime").
 *
 *   npx tsx bench/onnx.ts [--quick] [--only a,b] [--onnx-provider cpu|cuda|webgpu|...] [--onnx-threads N]
 *   npm run bench -- --onnx-provider cuda       (the whole bench: its onnxruntime column on CUDA)
 *
 * After the rows, the per-call overhead of a tiny function (f(x) = x*2+1 on 4 floats, incl.
 * readback) on each execution path: adgen's interpreter, wasm and js backends, onnxruntime-node
 * synchronously (its native session, what a jit backend calls) and through its public Promise API,
 * and onnxruntime-web's wasm build: the fixed cost a tiering rule weighs against kernel speed.
 * `--only overhead` runs that section alone. Then (`--only tiering`) the crossover that sets
 * config.ortMinWork: jit with backend wasm vs backend onnxruntime (ortMinWork 0) on elementwise
 * programs and matrix products of growing size, with each program's work (jit/tier.ts programWork).
 *
 * On a machine with a GPU: install ONNX Runtime's CUDA binaries first
 * (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`), then
 * `npx tsx bench/onnx.ts --onnx-provider cuda`. A provider that cannot start marks its cells
 * unavailable with ONNX Runtime's reason. Prints median (min-max) per cell and the ratio
 * onnxruntime / adgen and adgen-jit-ort / adgen ("x", cost: below 1 means ONNX Runtime is faster).
 */
import { type Tensor, config, jit, np, spec } from "../src/index.js";
import { programWork } from "../src/jit/tier.js";
import { traceAtSpecs } from "../src/onnx/programs.js";
import { compileOrt } from "../src/onnx/session.js";
import { compileOrtWeb } from "../src/onnx/session-web.js";
import { FULL_OPTIONS, QUICK_OPTIONS, costRatio, fmtNum, isUnavailable, measure, toUnit, type TimedSetup } from "./harness.js";
import { adgenPeer } from "./peers/adgen.js";
import { onnxPeer, ortJitPeer, ortOptions } from "./onnx-peer.js";
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
const peers = [adgenPeer, onnxPeer, ortJitPeer];
const rows = WORKLOADS.filter((w) => w.id in onnxPeer.impls && (only.length === 0 || only.some((o) => w.id.includes(o))));
const overhead = only.length === 0 || only.includes("overhead");
const tiering = only.length === 0 || only.includes("tiering");

console.log(`ONNX Runtime (${JSON.stringify(onnxPeer.info?.())}) vs adgen (${JSON.stringify(adgenPeer.info?.())})`);
console.log(["row", "unit", ...peers.map((p) => p.name), "onnxruntime/adgen", "adgen-jit-ort/adgen"].join(" | "));
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
  const ratio = (i: number) => (medians[0] !== undefined && medians[i] !== undefined ? fmtNum(costRatio(w.unit, medians[i], medians[0])) : "");
  console.log([w.id, w.unit, ...cells, ratio(1), ratio(2)].join(" | "));
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
      name: `adgen jit, onnxruntime backend (${ortOptions().executionProvider}, ortMinWork 0)`,
      setup: async () => adgenJit(),
      cfg: { backend: "onnxruntime", ortProvider: ortOptions().executionProvider!, ortThreads: ortOptions().threads ?? 0, ortMinWork: 0, interpretBelowWork: 0 },
    },
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

/** Times `fn` under config `cfg` (applied for setup and every call); median us per call. */
async function timedUnder(cfg: Partial<typeof config>, make: () => () => unknown): Promise<number> {
  const cur = config as unknown as Record<string, unknown>;
  const saved = Object.fromEntries(Object.keys(cfg).map((k) => [k, cur[k]]));
  config.update(cfg);
  try {
    const fn = make();
    return (await measure("tiering", fn, options)).median * 1000;
  } finally {
    config.update(saved as Partial<typeof config>);
  }
}

/** The crossover of the tiering rule (config.ortMinWork): wasm vs ONNX Runtime by program work. */
async function tieringSection(): Promise<void> {
  const ort = { backend: "onnxruntime" as const, ortProvider: ortOptions().executionProvider!, ortThreads: ortOptions().threads ?? 0, ortMinWork: 0, interpretBelowWork: 0 };
  const wasm = { backend: "wasm" as const, interpretBelowWork: 0 };
  const cases: { name: string; f: (...a: Tensor[]) => Tensor; args: Tensor[] }[] = [];
  const ew = (x: Tensor) => np.tanh(x.mul(1.5).add(0.5)).mul(x).sum();
  for (const n of [16, 256, 4096, 65536, 1 << 20]) cases.push({ name: `elementwise (tanh(1.5x+0.5)*x).sum(), n=${n}`, f: ew, args: [np.linspace(-1, 1, n, { dtype: "float32" })] });
  const cheap = (x: Tensor) => x.mul(1.5).add(0.5).mul(x).sum();
  for (const n of [256, 4096, 16384, 65536, 262144]) cases.push({ name: `elementwise ((1.5x+0.5)*x).sum(), n=${n}`, f: cheap, args: [np.linspace(-1, 1, n, { dtype: "float32" })] });
  const mm = (a: Tensor, b: Tensor) => np.matmul(a, b);
  for (const n of [8, 32, 64, 128, 256]) {
    const a = np.linspace(-1, 1, n * n, { dtype: "float32" }).reshape([n, n]);
    cases.push({ name: `matmul ${n}x${n}`, f: mm, args: [a, a] });
  }
  console.log("");
  console.log("tiering crossover: jit backend wasm vs backend onnxruntime (ortMinWork 0), us per call incl. readback");
  console.log(["program", "work", "wasm us", "onnxruntime us", "onnxruntime/wasm"].join(" | "));
  for (const c of cases) {
    const work = programWork(traceAtSpecs(c.f, c.args.map((a) => spec(a.dtype, a.shape as number[])), "bench tiering").program);
    const make = () => {
      const jf = jit(c.f, { name: "tiering" });
      return () => (jf(...c.args) as Tensor).dataSync();
    };
    try {
      const w = await timedUnder(wasm, make);
      const o = await timedUnder(ort, make);
      console.log([c.name, work, fmtNum(w), fmtNum(o), fmtNum(o / w)].join(" | "));
    } catch (e) {
      console.log([c.name, work, `unavailable: ${(e as Error).message.split("\n")[0]}`].join(" | "));
    }
  }
}

if (tiering) await tieringSection();
