/**
 * Measurements that need a fresh process.
 *
 * - RSS after import: spawn plain `node` (no tsx, no flags) running an ES module snippet from the
 *   repository root, which imports the peer, makes its backend ready, and prints
 *   process.memoryUsage().rss. The sample is that RSS minus the median RSS of a bare node process
 *   running only the print (MB = 2^20 bytes).
 * - Cold first calls: spawn `node --import tsx <script.ts>`; the script measures what it wants
 *   (e.g. jit + first call, after the library is imported and initialised) and prints
 *   `SAMPLE=<value>`; tsx's own start-up is outside the measured region.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SampledSetup, SetupFactory } from "../harness.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function runChild(args: string[], pattern: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: REPO_ROOT, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const m = pattern.exec(stdout);
      if (err || !m) {
        const detail = (stderr || stdout).trim().split("\n").slice(-3).join(" | ").slice(0, 400);
        reject(new Error(`child process failed: ${err?.message.split("\n")[0] ?? "no sample printed"} ${detail}`));
      } else resolve(Number(m[1]));
    });
  });
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
