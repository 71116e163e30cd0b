/**
 * Warm process start with the jit disk cache (config.cacheDir) vs cold: the first call of the MLP
 * training step (jit(valueAndGrad(loss)) + call + readback of the loss and 4 gradients, as in the
 * jit-first-call-mlp row), each sample in a fresh process, samples taken round-robin over:
 *
 *   no cache     cacheDir unset (today's cold start)
 *   cold         cacheDir set but empty (a fresh temp dir per sample): cold + writing the entry
 *   warm trace   populated cacheDir, default mode: trace, compare the program hash, load
 *   warm trust   populated cacheDir, cacheTrustSource: load without tracing
 *
 *   npx tsx bench/disk-cache.ts                 (library from src/ via tsx)
 *   npx tsx bench/disk-cache.ts --dist          (the built dist/, rebuilt when stale, as bench/run.ts)
 *   options: --runs N (default 9), --json <file>
 *
 * Columns: median / min / max of the measured first call (ms); the median trace, optimize,
 * codegen and load times from the compile log; the disk path the call took. Outside the measured
 * region (as in bench/peers/adgen-first-call.ts): the library import, the input tensors and one
 * tiny eager op.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { checkMlpGrads, mlpData } from "./workloads/data.js";
import { mlpLoss, mlpTensors, readStep, type Lib, type StepFn } from "./peers/adgen-model.js";

const HERE = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(HERE), "..");

interface Sample {
  ms: number;
  path: string;
  traceMs: number;
  optimizeMs: number;
  codegenMs: number;
  loadMs: number;
}

// ---- child: one first call -------------------------------------------------------------------

async function childMain(cacheDir: string, mode: string, libUrl: string): Promise<void> {
  const lib = (await import(libUrl)) as Lib;
  const m = mlpTensors(lib, mlpData());
  lib.np.ones([4]).mul(2).dataSync();
  const times = { traceMs: 0, optimizeMs: 0, codegenMs: 0, loadMs: 0 };
  lib.config.update({
    cacheDir: cacheDir === "none" ? null : cacheDir,
    cacheTrustSource: mode === "trust",
    logCompiles: true,
    logger: (e) => {
      if (e.kind === "compile") Object.assign(times, e["times"]);
    },
  });
  const t0 = performance.now();
  const f = lib.jit(lib.valueAndGrad(mlpLoss(lib)), { name: "mlp_step" }) as StepFn & { cacheInfo(): { disk: { last?: string } } };
  const out = readStep(f(m.p, m.x, m.y));
  const ms = performance.now() - t0;
  const err = checkMlpGrads(m.d, out);
  if (err) {
    console.error(err);
    process.exit(1);
  }
  const s: Sample = { ms, path: f.cacheInfo().disk.last ?? "off", ...times };
  process.stdout.write(`\nSAMPLE=${JSON.stringify(s)}\n`);
  process.exit(0); // do not wait for the GEMM worker threads
}

// ---- driver ----------------------------------------------------------------------------------

function runChild(args: string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", HERE, "--child", ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      const m = /SAMPLE=(.*)/.exec(stdout);
      if (err || !m) reject(new Error(`child failed: ${err?.message ?? ""} ${stderr.slice(-600)}`));
      else resolve(JSON.parse(m[1]!) as Sample);
    });
  });
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

async function driverMain(args: string[]): Promise<void> {
  const runs = args.includes("--runs") ? Number(args[args.indexOf("--runs") + 1]) : 9;
  const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;
  let libUrl = pathToFileURL(path.join(ROOT, "src", "index.ts")).href;
  let lib = "src/ (tsx)";
  if (args.includes("--dist")) {
    const { ADGEN_DIST_URL, ensureDist } = await import("./peers/adgen-dist.js");
    const note = await ensureDist();
    libUrl = ADGEN_DIST_URL;
    lib = `dist/${note ? ` (${note})` : ""}`;
  }
  const base = mkdtempSync(path.join(os.tmpdir(), "adgen-bench-disk-cache-"));
  const warmDir = path.join(base, "warm");
  try {
    // populate once
    const first = await runChild([warmDir, "trace", libUrl]);
    if (first.path !== "stored") throw new Error(`populating the cache: expected "stored", got ${first.path}`);
    const scenarios: { label: string; args: () => string[]; samples: Sample[] }[] = [
      { label: "no cache", args: () => ["none", "trace", libUrl], samples: [] },
      { label: "cold (empty cacheDir)", args: () => [mkdtempSync(path.join(base, "cold-")), "trace", libUrl], samples: [] },
      { label: "warm, trace mode", args: () => [warmDir, "trace", libUrl], samples: [] },
      { label: "warm, cacheTrustSource", args: () => [warmDir, "trust", libUrl], samples: [] },
    ];
    for (let r = 0; r < runs; r++) {
      for (const s of scenarios) s.samples.push(await runChild(s.args()));
      process.stderr.write(`round ${r + 1}/${runs}\r`);
    }
    process.stderr.write("\n");
    const rows = scenarios.map((s) => {
      const col = (k: keyof Sample) => median(s.samples.map((x) => x[k] as number));
      const paths = [...new Set(s.samples.map((x) => x.path))].join(",");
      return {
        scenario: s.label,
        median: col("ms"),
        min: Math.min(...s.samples.map((x) => x.ms)),
        max: Math.max(...s.samples.map((x) => x.ms)),
        trace: col("traceMs"),
        optimize: col("optimizeMs"),
        codegen: col("codegenMs"),
        load: col("loadMs"),
        path: paths,
      };
    });
    const f = (x: number) => x.toFixed(1).padStart(7);
    console.log(`first call of the MLP step (batch 128, 784-256-10) in a fresh process; ${runs} runs each; library: ${lib}`);
    console.log(`${"scenario".padEnd(24)} ${"median".padStart(7)} ${"min".padStart(7)} ${"max".padStart(7)} | ${"trace".padStart(7)} ${"optim".padStart(7)} ${"codegen".padStart(7)} ${"load".padStart(7)} | path`);
    for (const r of rows) {
      console.log(`${r.scenario.padEnd(24)} ${f(r.median)} ${f(r.min)} ${f(r.max)} | ${f(r.trace)} ${f(r.optimize)} ${f(r.codegen)} ${f(r.load)} | ${r.path}`);
    }
    const cold = rows[0]!.median;
    for (const r of rows.slice(2)) console.log(`${r.scenario}: ${(cold / r.median).toFixed(2)}x faster than no cache (${(cold - r.median).toFixed(1)} ms saved)`);
    if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ runs, lib, rows }, null, 2));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") await childMain(argv[1]!, argv[2]!, argv[3]!);
else await driverMain(argv);
