/**
 * Measurements that need a fresh process.
 *
 * - RSS after import: spawn plain `node` (no tsx, no flags) running an ES module snippet from the
 *   repository root, which imports the peer, makes its backend ready, and prints
 *   process.memoryUsage().rss. The sample is that RSS minus the median RSS of a bare node process
 *   running only the print (MB = 2^20 bytes).
 * - Peak RSS while working: spawn plain `node` running a snippet that imports the peer and runs
 *   20 MLP steps (mlpStepRssSetup); the sample is the peak RSS (VmHWM) of that process minus the
 *   median peak RSS of a bare node process. Inputs come from a binary file written by the
 *   parent (the snippet cannot import the TypeScript data module); the child prints the loss and
 *   the L1 norm of each gradient of its last step, which are checked against the float64 reference.
 * - Cold first calls: spawn `node --import tsx <script.ts>`; the script measures what it wants
 *   (e.g. jit + first call, after the library is imported and initialised) and prints
 *   `SAMPLE=<value>`; tsx's own start-up is outside the measured region.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SampledSetup, SetupFactory } from "../harness.js";
import { checkMlpLoss, MLP, mlpData, mlpReferenceCached } from "../workloads/data.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export function runChildOut(args: string[], pattern: RegExp): Promise<{ value: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: REPO_ROOT, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const m = pattern.exec(stdout);
      if (err || !m) {
        const detail = (stderr || stdout).trim().split("\n").slice(-3).join(" | ").slice(0, 400);
        reject(new Error(`child process failed: ${err?.message.split("\n")[0] ?? "no sample printed"} ${detail}`));
      } else resolve({ value: Number(m[1]), stdout });
    });
  });
}

async function runChild(args: string[], pattern: RegExp): Promise<number> {
  return (await runChildOut(args, pattern)).value;
}

const PRINT_RSS = `process.stdout.write("\\nRSS=" + process.memoryUsage().rss + "\\n");`;
const childRss = (code: string) => runChild(["--input-type=module", "-e", code + "\n" + PRINT_RSS], /RSS=(\d+)/);

let baseline: Promise<number> | undefined;
/** Median RSS of bare node (5 processes), computed once per run. */
export function baselineRss(): Promise<number> {
  baseline ??= (async () => {
    const v: number[] = [];
    for (let i = 0; i < 5; i++) v.push(await childRss(""));
    v.sort((a, b) => a - b);
    return v[2]!;
  })();
  return baseline;
}

/** A sampled setup: each sample = RSS(child running `code`) - RSS(bare node), in MB. */
export function rssSetup(code: string, note?: string): SetupFactory {
  return async (): Promise<SampledSetup> => {
    const base = await baselineRss();
    return { sample: async () => ((await childRss(code)) - base) / 2 ** 20, ...(note ? { note } : {}) };
  };
}

// ---------------------------------------------------------------------------------------------
// Peak RSS while running 20 MLP steps

/**
 * Peak RSS of the current process in bytes: VmHWM of /proc/self/status (Linux). Not
 * process.resourceUsage().maxRSS: on Linux, ru_maxrss survives exec, so a child spawned by a large
 * parent reports at least the parent's RSS at fork time (the bench process: hundreds of MB).
 * Elsewhere maxRSS is the fallback (in KiB).
 */
const PEAK_FN = `(() => {
  try {
    const m = /VmHWM:\\s+(\\d+) kB/.exec(__rf("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {}
  return process.resourceUsage().maxRSS * 1024;
})()`;
const PRINT_PEAK = `process.stdout.write("\\nPEAK=" + ${PEAK_FN} + "\\n");`;
const PEAK_IMPORT = `import { readFileSync as __rf } from "node:fs";\n`;

let peakBaseline: Promise<number> | undefined;
/** Median peak RSS (VmHWM) of bare node (5 processes), computed once per run. */
export function baselinePeakRss(): Promise<number> {
  peakBaseline ??= (async () => {
    const v: number[] = [];
    for (let i = 0; i < 5; i++) v.push(await runChild(["--input-type=module", "-e", PEAK_IMPORT + PRINT_PEAK], /PEAK=(\d+)/));
    v.sort((a, b) => a - b);
    return v[2]!;
  })();
  return peakBaseline;
}

/** Offsets (in floats) of the MLP inputs in the file written by mlpInputFile(). */
const MLP_PARTS = (() => {
  const { batch: B, nIn, nHidden: H, nOut: K } = MLP;
  const sizes = { x: B * nIn, y: B * K, w1: nIn * H, b1: H, w2: H * K, b2: K };
  const out: Record<string, [number, number]> = {};
  let o = 0;
  for (const [k, n] of Object.entries(sizes)) {
    out[k] = [o, n];
    o += n;
  }
  return out as Record<keyof typeof sizes, [number, number]>;
})();

let mlpFile: string | undefined;
/** Writes the batch-128 MLP inputs (float32, in MLP_PARTS order) to a temporary file, once. */
function mlpInputFile(): string {
  if (!mlpFile) {
    const d = mlpData();
    const parts = [d.x, d.y, d.w1, d.b1, d.w2, d.b2];
    const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    const file = path.join(os.tmpdir(), `adgen-bench-mlp-${process.pid}.f32`);
    writeFileSync(file, new Uint8Array(all.buffer));
    process.on("exit", () => rmSync(file, { force: true }));
    mlpFile = file;
  }
  return mlpFile;
}

/**
 * JS prelude of the peak-RSS child: reads the MLP inputs into `D` (x, y, w1, b1, w2, b2:
 * Float32Arrays); constants `B, NIN, H, K`; `report(out)` prints the check line of the last step
 * (out = {loss, w1, b1, w2, b2}) and the peak RSS, then exits.
 */
function mlpPrelude(): string {
  const { batch, nIn, nHidden, nOut } = MLP;
  return `${PEAK_IMPORT}const __buf = __rf(${JSON.stringify(mlpInputFile())});
const __all = new Float32Array(__buf.buffer.slice(__buf.byteOffset, __buf.byteOffset + __buf.byteLength));
const __p = ${JSON.stringify(MLP_PARTS)};
const D = Object.fromEntries(Object.entries(__p).map(([k, [o, n]]) => [k, __all.slice(o, o + n)]));
const B = ${batch}, NIN = ${nIn}, H = ${nHidden}, K = ${nOut};
const __l1 = (a) => { let s = 0; for (let i = 0; i < a.length; i++) s += Math.abs(a[i]); return s; };
const report = (out) => {
  process.stdout.write("\\nCHECK=" + JSON.stringify({ loss: out.loss, w1: __l1(out.w1), b1: __l1(out.b1), w2: __l1(out.w2), b2: __l1(out.b2) }) + "\\n");
  ${PRINT_PEAK}
  process.exit(0);
};
`;
}

/** Compare the child's CHECK line with the float64 reference (loss, L1 norms of the gradients). */
function checkChildMlp(stdout: string): string | undefined {
  const m = /CHECK=(\{.*\})/.exec(stdout);
  if (!m) return "child printed no CHECK line";
  const got = JSON.parse(m[1]!) as Record<string, number>;
  const d = mlpData();
  const lossErr = checkMlpLoss(d, got["loss"]!);
  if (lossErr) return lossErr;
  const ref = mlpReferenceCached(d);
  for (const k of ["w1", "b1", "w2", "b2"] as const) {
    let l1 = 0;
    for (let i = 0; i < ref[k].length; i++) l1 += Math.abs(ref[k][i]!);
    const e = Math.abs(got[k]! - l1) / l1;
    if (!(e <= 1e-3)) return `grad ${k}: L1 norm ${got[k]}, expected ${l1}`;
  }
  return undefined;
}

/**
 * A sampled setup: each sample = peak RSS (VmHWM) of a child running `code` minus that of bare
 * node, in MB. `code` (plain JS, ES module) runs after mlpPrelude(): it must import the library,
 * run 20 MLP steps (loss + the 4 gradients read back each time) and call report(out) with the
 * last step's results. A wrong result throws (the cell shows ERR).
 */
export function mlpStepRssSetup(code: string, note?: string): SetupFactory {
  return async (): Promise<SampledSetup> => {
    const base = await baselinePeakRss();
    const script = mlpPrelude() + code;
    return {
      sample: async () => {
        const { value, stdout } = await runChildOut(["--input-type=module", "-e", script], /PEAK=(\d+)/);
        const err = checkChildMlp(stdout);
        if (err) throw new Error(`wrong result in the child: ${err}`);
        return (value - base) / 2 ** 20;
      },
      ...(note ? { note } : {}),
    };
  };
}

/** Print a sample from a child script (see childSampleSetup). */
export function printSample(value: number): void {
  process.stdout.write(`\nSAMPLE=${value}\n`);
}

/**
 * A sampled setup: each sample runs `node --import tsx <script> ...args` in a fresh process and
 * takes the value it prints with printSample(). `script` is relative to the repository root.
 */
export function childSampleSetup(script: string, args: string[] = [], note?: string): SetupFactory {
  return (): SampledSetup => ({
    sample: () => runChild(["--import", "tsx", path.join(REPO_ROOT, script), ...args], /SAMPLE=([-+0-9.eE]+)/),
    ...(note ? { note } : {}),
  });
}

/** Version from node_modules/<pkg>/package.json (read directly: some packages do not export it). */
export function pkgVersion(pkg: string): string {
  try {
    const j = JSON.parse(readFileSync(path.join(REPO_ROOT, "node_modules", pkg, "package.json"), "utf8"));
    return String(j.version);
  } catch {
    return "not installed";
  }
}
