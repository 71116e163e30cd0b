/**
 * Benchmark entry point.
 *
 *   npx tsx bench/run.ts [--quick] [--only <substr>[,<substr>...]] [--peers a,b] [--ref <peer>]
 *                        [--out <file.json>] [--no-json] [--onnx-provider <ep>] [--onnx-threads N]
 *
 * Runs every workload of bench/workloads/index.ts with every peer of PEER_MODULES (columns), in
 * one process, prints a table (median (min-max), and cost ratios against the reference column) and
 * writes bench/results/<YYYY-MM-DD>-<quick|full>.json. Progress goes to stderr, the table to stdout.
 *
 *   --quick   fewer runs and a shorter time budget per cell (whole suite ~1-1.5 min on 2 cores)
 *   --only    keep workloads whose id contains one of the substrings (e.g. --only mlp,chain-1000)
 *   --peers   keep only these peer columns (e.g. --peers jax-js,hand)
 *   --ref     reference column for the ratios (default: adgen if it has any result, else hand)
 *   --onnx-provider, --onnx-threads   execution provider ("cpu" default, "cuda", "webgpu", ...) and
 *             thread count of the onnxruntime column (bench/onnx-peer.ts; bench/onnx.ts for details)
 */
import path from "node:path";
import {
  FULL_OPTIONS,
  QUICK_OPTIONS,
  formatTable,
  isUnavailable,
  machineInfo,
  measure,
  measureSamples,
  summarize,
  toUnit,
  writeJson,
  type CellResult,
  type RunResult,
  type Setup,
  type WorkloadResult,
} from "./harness.js";
import { REPO_ROOT } from "./peers/child.js";
import type { Peer } from "./peers/types.js";
import { WORKLOADS } from "./workloads/index.js";

/**
 * Peer columns, in display order. Modules are imported lazily so a peer that fails to load
 * (e.g. a missing devDependency) only marks its own column unavailable.
 * To add a peer: write bench/peers/<name>.ts exporting a `Peer` and list it here.
 */
const PEER_MODULES: { name: string; load: () => Promise<Peer> }[] = [
  { name: "adgen", load: async () => (await import("./peers/adgen.js")).adgenPeer },
  { name: "jax-js", load: async () => (await import("./peers/jaxjs.js")).jaxjsPeer },
  { name: "tfjs-wasm", load: async () => (await import("./peers/tfjs.js")).tfjsWasmPeer },
  { name: "tfjs-cpu", load: async () => (await import("./peers/tfjs.js")).tfjsCpuPeer },
  { name: "hand", load: async () => (await import("./peers/hand.js")).handPeer },
  { name: "onnxruntime", load: async () => (await import("./onnx-peer.js")).onnxPeer },
  { name: "pytorch", load: async () => (await import("./peers/torch.js")).torchPeer },
];

interface Args {
  quick: boolean;
  only: string[];
  peers: string[];
  ref?: string;
  out?: string;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, only: [], peers: [], json: true };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${s} needs a value`);
      return v;
    };
    if (s === "--quick") a.quick = true;
    else if (s === "--full") a.quick = false;
    else if (s === "--only") a.only.push(...val().split(",").filter(Boolean));
    else if (s === "--peers") a.peers.push(...val().split(",").filter(Boolean));
    else if (s === "--ref") a.ref = val();
    else if (s === "--out") a.out = val();
    else if (s === "--no-json") a.json = false;
    else if (s === "--onnx-provider") process.env.ONNX_PROVIDER = val();
    else if (s === "--onnx-threads") process.env.ONNX_THREADS = val();
    else if (s === "--help" || s === "-h") {
      console.log(
        "usage: npx tsx bench/run.ts [--quick] [--only a,b] [--peers p,q] [--ref peer] [--out file] [--no-json] [--onnx-provider ep] [--onnx-threads n]",
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${s}`);
  }
  return a;
}

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 300);
const log = (s: string) => process.stderr.write(s + "\n");

async function main() {
  // --runtimes: the main rows on Node 20, Node 24 and Chromium, one column each (bench/runtimes.ts)
  if (process.argv.includes("--runtimes")) return (await import("./runtimes.js")).main(process.argv.slice(2));
  const args = parseArgs(process.argv.slice(2));
  const opts = args.quick ? QUICK_OPTIONS : FULL_OPTIONS;
  const t0 = performance.now();

  // Load peers.
  const peerDefs = PEER_MODULES.filter((p) => args.peers.length === 0 || args.peers.includes(p.name));
  if (peerDefs.length === 0) throw new Error(`no peer matches --peers ${args.peers.join(",")}`);
  const peers = new Map<string, Peer | { loadError: string }>();
  for (const p of peerDefs) {
    try {
      peers.set(p.name, await p.load());
    } catch (e) {
      peers.set(p.name, { loadError: `import failed: ${errMsg(e)}` });
      log(`peer ${p.name}: import failed: ${errMsg(e)}`);
    }
  }
  const initDone = new Map<string, Promise<string | undefined>>();
  const ensureInit = (name: string, peer: Peer) => {
    let p = initDone.get(name);
    if (!p) {
      p = (async () => {
        try {
          await peer.init?.();
          return undefined;
        } catch (e) {
          log(`peer ${name}: init failed: ${errMsg(e)}`);
          return `init failed: ${errMsg(e)}`;
        }
      })();
      initDone.set(name, p);
    }
    return p;
  };

  // Select workloads (a derived row also needs its two inputs).
  const match = (id: string) => args.only.length === 0 || args.only.some((s) => id.includes(s));
  const selected = new Set(WORKLOADS.filter((w) => match(w.id)).map((w) => w.id));
  for (const w of WORKLOADS) {
    if (w.derived && selected.has(w.id)) {
      selected.add(w.derived.num);
      selected.add(w.derived.den);
    }
  }
  const workloads = WORKLOADS.filter((w) => selected.has(w.id));
  if (workloads.length === 0) throw new Error(`no workload matches --only ${args.only.join(",")}`);

  const results: WorkloadResult[] = [];
  const byId = new Map<string, WorkloadResult>();
  // fresh-process rows first (see WorkloadSpec.freshProcess); results keep the declared order
  const execOrder = [...workloads.filter((w) => w.freshProcess), ...workloads.filter((w) => !w.freshProcess)];
  for (const w of execOrder) {
    const wr: WorkloadResult = { id: w.id, description: w.description, unit: w.unit, results: {} };
    if (w.flops !== undefined) wr.flops = w.flops;
    if (w.footnote !== undefined) wr.footnote = w.footnote;
    results.push(wr);
    byId.set(w.id, wr);
    if (w.derived) continue;
    for (const [name, peer] of peers) {
      const c0 = performance.now();
      const cell = await runCell(name, peer);
      const took = `${((performance.now() - c0) / 1000).toFixed(1)} s`;
      wr.results[name] = cell;
      if (cell.status === "ok") {
        log(
          `[${w.id}] ${name}: ${cell.median.toPrecision(4)} ${w.unit} (${cell.runs} runs` +
            (cell.inner > 1 ? ` x${cell.inner}` : "") +
            `; ${took})${cell.verifyError ? " WRONG: " + cell.verifyError : ""}`,
        );
      } else if (cell.status === "error") log(`[${w.id}] ${name}: ERROR ${cell.error} (${took})`);
      else if (cell.reason !== "not implemented" && performance.now() - c0 > 500) log(`[${w.id}] ${name}: n/a ${cell.reason} (${took})`);
    }

    async function runCell(name: string, peer: Peer | { loadError: string }): Promise<CellResult> {
      if ("loadError" in peer) return { status: "unavailable", reason: peer.loadError };
      const factory = peer.impls[w.id];
      if (!factory) return { status: "unavailable", reason: "not implemented" };
      const initErr = await ensureInit(name, peer);
      if (initErr) return { status: "unavailable", reason: initErr };
      let setup: Setup;
      try {
        await peer.activate?.();
        setup = await factory();
      } catch (e) {
        return { status: "unavailable", reason: errMsg(e) };
      }
      if (isUnavailable(setup)) return { status: "unavailable", reason: setup.unavailable };
      const mopts = { ...opts, ...w.measure, ...(args.quick ? w.quick : undefined) };
      try {
        let verifyError: string | undefined;
        let stats;
        let sampled = false;
        if ("sample" in setup) {
          sampled = true;
          if (setup.verify) verifyError = (await setup.verify()) || undefined;
          stats = await measureSamples(setup.sample, mopts);
        } else {
          // Verify first (also serves as an extra warm-up call), except for first-call rows where
          // it would warm caches the timed samples are meant to miss: verify those afterwards.
          const verifyAfter = (w.measure?.warmup ?? 1) === 0;
          // --quick, slow rows of eager peers: the checked first call is timed, and if it is slow
          // it is the only sample (see TimedSetup.firstCallRepresentative).
          let single: number | undefined;
          let pre = 0; // calls made before measure() (they count as warm-up calls)
          if (args.quick && w.quickSingleCallMs !== undefined && setup.check && setup.firstCallRepresentative) {
            const t0 = performance.now();
            const out = await setup.fn();
            const ms = performance.now() - t0;
            verifyError = (await setup.check(out)) || undefined;
            if (ms > w.quickSingleCallMs) single = ms;
            pre = 1;
          } else if (setup.verify && !verifyAfter) {
            verifyError = (await setup.verify()) || undefined;
            pre = 1;
          }
          stats =
            single !== undefined
              ? summarize([single], 1, 0)
              : await measure(`${w.id}/${name}`, setup.fn, {
                  ...mopts,
                  ...(setup.inner !== undefined ? { inner: setup.inner } : {}),
                  // verify() ran the same computation: it counts as one warm-up call.
                  prewarmed: pre,
                });
          if (setup.verify && verifyAfter) verifyError = (await setup.verify()) || undefined;
        }
        const v = toUnit(w, stats, sampled);
        const cell: CellResult = {
          status: "ok",
          ...v,
          runs: stats.runs,
          inner: stats.inner,
          warmupRuns: stats.warmupRuns,
          samples: stats.samples.map((x) => Number(x.toPrecision(5))),
          samplesUnit: sampled ? w.unit : "ms",
        };
        if (setup.note) cell.note = setup.note;
        if (verifyError) cell.verifyError = verifyError;
        return cell;
      } catch (e) {
        return { status: "error", error: errMsg(e) };
      } finally {
        try {
          await setup.teardown?.();
        } catch (e) {
          log(`[${w.id}] ${name}: teardown failed: ${errMsg(e)}`);
        }
      }
    }
  }

  const declared = new Map(workloads.map((w, i) => [w.id as string, i]));
  results.sort((a, b) => declared.get(a.id)! - declared.get(b.id)!);

  // Derived rows.
  for (const w of workloads) {
    if (!w.derived) continue;
    const wr = byId.get(w.id)!;
    const num = byId.get(w.derived.num)!;
    const den = byId.get(w.derived.den)!;
    for (const name of peers.keys()) {
      const a = num.results[name];
      const b = den.results[name];
      if (a?.status === "ok" && b?.status === "ok") {
        const r = a.median / b.median;
        wr.results[name] = { status: "ok", median: r, min: r, max: r, runs: 1, inner: 1, warmupRuns: 0, samples: [r] };
      } else {
        // Reuse the input row's reason, so the footnote is shared with that row.
        const bad = [a, b].find((c) => c && c.status !== "ok");
        const reason =
          bad?.status === "unavailable"
            ? bad.reason
            : bad?.status === "error"
              ? `error in ${w.derived.num} or ${w.derived.den}`
              : `needs ${w.derived.num} and ${w.derived.den}`;
        wr.results[name] = { status: "unavailable", reason };
      }
    }
  }

  // Reference column.
  const names = [...peers.keys()];
  const hasAny = (p: string) => results.some((r) => r.results[p]?.status === "ok");
  const reference =
    args.ref ?? (names.includes("adgen") && hasAny("adgen") ? "adgen" : names.includes("hand") ? "hand" : names[0]!);
  if (!names.includes(reference)) throw new Error(`--ref ${reference} is not a selected peer (${names.join(", ")})`);

  const peerMeta: Record<string, unknown> = {};
  for (const [name, p] of peers) {
    if ("loadError" in p) peerMeta[name] = { error: p.loadError };
    else {
      let info: Record<string, unknown> = {};
      try {
        info = p.info?.() ?? {};
      } catch {
        // info is best effort
      }
      peerMeta[name] = { version: p.version, ...info };
    }
  }
  const date = new Date();
  const run: RunResult = {
    meta: {
      date: date.toISOString(),
      mode: args.quick ? "quick" : "full",
      command: ["npx tsx bench/run.ts", ...process.argv.slice(2)].join(" "),
      options: opts,
      only: args.only,
      machine: machineInfo(),
      peers: peerMeta,
      durationS: Math.round((performance.now() - t0) / 100) / 10,
    },
    reference,
    peers: names,
    workloads: results,
  };

  console.log(
    `\nadgen bench (${run.meta.mode}), ${date.toISOString()}, node ${process.version}, ` +
      `${(run.meta.machine as { cpu: string }).cpu} x${(run.meta.machine as { cores: number }).cores}, ` +
      `${run.meta.durationS} s\n`,
  );
  console.log(formatTable(run));
  if (args.json) {
    const file =
      args.out ??
      path.join(REPO_ROOT, "bench", "results", `${date.toISOString().slice(0, 10)}-${args.quick ? "quick" : "full"}.json`);
    console.log(`\nwrote ${path.relative(process.cwd(), writeJson(run, file))}`);
  }
}

main().then(
  // tfjs / jax-js keep no handles open, but exit explicitly in case a backend does.
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
