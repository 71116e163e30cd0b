/**
 * Benchmark harness: timing loop, workload/peer types, result table and JSON writer.
 *
 * Model
 * - A `Workload` is one row of the results table (e.g. "mlp-step"). It has a unit and, per peer
 *   (one column of the table), a `SetupFactory`.
 * - A `SetupFactory` prepares inputs outside the timed region and returns a `Setup`:
 *     - `{ fn }`: the function to time (sync or async). It must include the real compute, i.e.
 *       read results back (`dataSync()`), otherwise lazy libraries measure nothing.
 *     - `{ sample }`: for non-time metrics (e.g. RSS): each call returns one sample value, already
 *       in the workload's unit.
 *     - `{ unavailable: "reason" }`: the peer cannot run this workload (throwing does the same).
 *   A setup may carry `verify()` (checked once before timing; a returned string marks the cell as
 *   wrong) and `teardown()` (dispose tensors).
 * - Derived rows (`derived: {num, den}`) divide two other rows' medians per peer (e.g. grad/fwd).
 *
 * Units: times are collected in ms per call; "us" rows are displayed as microseconds, "GFLOP/s"
 * rows as `flops / time`. Ratios against the reference column are always cost(peer)/cost(ref):
 * above 1 means the reference is faster (or smaller); for GFLOP/s that is ref_gflops/peer_gflops.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export type Unit = "ms" | "us" | "GFLOP/s" | "MB" | "x";

export interface MeasureOptions {
  /** Warm-up calls before timing (stops early once `maxWarmupMs` has been spent, after >= 1). */
  warmup: number;
  /** Minimum number of timed samples. */
  minRuns: number;
  /** Keep sampling until at least this much time was spent in timed samples... */
  minTimeMs: number;
  /** ...but never more than this many samples... */
  maxRuns: number;
  /** ...and stop once this much time was spent (after at least one sample). */
  maxTimeMs: number;
  /** Keep warming up (after `warmup` calls) until this much time was spent... */
  minWarmupMs: number;
  /** ...but stop warming up after this much time (once at least one call was made). */
  maxWarmupMs: number;
  /**
   * Calls faster than this are batched: one sample = `inner` back-to-back calls, and the sample is
   * the mean per call. 0 disables batching.
   */
  targetSampleMs: number;
}

export interface Stats {
  /** Per-call times (ms) of each sample, or sample values for `sample` setups. */
  samples: number[];
  median: number;
  min: number;
  max: number;
  mean: number;
  runs: number;
  /** Calls per sample (batching of very fast functions). */
  inner: number;
  /** Warm-up calls, including the caller's `prewarmed` calls (run.ts: the verify() call). */
  warmupRuns: number;
}

export interface TimedSetup {
  fn: () => unknown;
  verify?: () => string | undefined | void | Promise<string | undefined | void>;
  teardown?: () => void | Promise<void>;
  /** Shown as a footnote (e.g. "includes transposes"). */
  note?: string;
  /** Force the number of calls per sample (otherwise chosen from targetSampleMs). */
  inner?: number;
  /**
   * Checks a value returned by `fn` (run.ts then uses it instead of `verify` where it times the
   * checked call itself, see `firstCallRepresentative`).
   */
  check?: (out: unknown) => string | undefined | void;
  /**
   * The first call costs what later calls cost (no compile or cache fill: eager libraries). In
   * --quick mode, rows with `quickSingleCallMs` time the checked first call, and when it is slower
   * than that it becomes the only sample (no separate verify call).
   */
  firstCallRepresentative?: boolean;
}

export interface SampledSetup {
  sample: () => number | Promise<number>;
  /** Checks the peer's result once (e.g. a peer in another process: bench/peers/torch.ts). */
  verify?: () => string | undefined | void | Promise<string | undefined | void>;
  teardown?: () => void | Promise<void>;
  note?: string;
}

export interface Unavailable {
  unavailable: string;
}

export type Setup = TimedSetup | SampledSetup | Unavailable;
export type SetupFactory = () => Setup | Promise<Setup>;

export interface Workload {
  id: string;
  description: string;
  unit: Unit;
  /** Floating point operations per call, required for unit "GFLOP/s". */
  flops?: number;
  /** Per-workload overrides of the measurement options (e.g. no warm-up for first-call rows). */
  measure?: Partial<MeasureOptions>;
  /** Derived row: per peer, median(num row) / median(den row), unit "x". */
  derived?: { num: string; den: string };
  /** Printed under the table (e.g. published reference values for a ratio row). */
  footnote?: string;
  impls: Record<string, SetupFactory>;
}

export function unavailable(reason: string): Unavailable {
  return { unavailable: reason };
}

export function isUnavailable(s: Setup): s is Unavailable {
  return typeof (s as Unavailable).unavailable === "string";
}

const now = (): number => performance.now();

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function"
  );
}

export function summarize(samples: number[], inner: number, warmupRuns: number): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, n);
  return { samples, median, min: sorted[0] ?? NaN, max: sorted[n - 1] ?? NaN, mean, runs: n, inner, warmupRuns };
}

/**
 * Time `fn`. Sync and async functions are both supported: if the first call returns a thenable,
 * every call is awaited (inside the timed region). Returns per-call times in ms.
 */
export async function measure(
  name: string,
  fn: () => unknown,
  options: Partial<MeasureOptions> & {
    inner?: number;
    log?: (msg: string) => void;
    /** Warm-up calls the caller already made (counted against `warmup`; saves slow calls). */
    prewarmed?: number;
  } = {},
): Promise<Stats> {
  const o: MeasureOptions = { ...FULL_OPTIONS, ...options };
  // First call: tells us whether fn is async.
  let t0 = now();
  const first = fn();
  const isAsync = isThenable(first);
  if (isAsync) await first;
  let last = now() - t0;
  const call = isAsync ? async () => void (await fn()) : () => void fn();

  // Warm-up (the first call counts as a warm-up call when warmup >= 1, and so do the caller's
  // `prewarmed` calls, e.g. run.ts's verify() call). Warm-up lasts at least `warmup` calls and
  // `minWarmupMs` of steady calls (JS engines tier generated code up only after some hundreds of
  // calls; a call 10x slower than the fastest so far and > 20 ms, e.g. a lazy compile, restarts
  // that window; shorter outliers are GC pauses), and at most `maxWarmupMs` in total.
  const warmStart = t0;
  const firstSamples: number[] = [];
  const pre = o.warmup > 0 ? Math.max(0, options.prewarmed ?? 0) : 0;
  let warmupRuns = 1 + pre;
  let fastest = last;
  let steadyStart = now();
  const willBatch =
    options.inner === undefined ? o.targetSampleMs > 0 && o.warmup > 0 && last < o.targetSampleMs : options.inner > 1;
  if (o.warmup <= 0) firstSamples.push(last);
  else if (pre > 0 && pre >= o.warmup && !willBatch && last >= o.minWarmupMs) {
    // Enough warm-up happened before this call: a slow first call is already a valid sample.
    firstSamples.push(last);
    warmupRuns = pre;
  }
  const warmEnough = () =>
    warmupRuns >= o.warmup && (last >= o.minWarmupMs || now() - steadyStart >= o.minWarmupMs);
  while (o.warmup > 0 && !warmEnough() && now() - warmStart < o.maxWarmupMs) {
    t0 = now();
    if (isAsync) await call();
    else call();
    last = now() - t0;
    if (last > 10 * fastest && last > 20) {
      steadyStart = now();
      fastest = last;
    } else fastest = Math.min(fastest, last);
    warmupRuns++;
  }
  if (o.warmup <= 0) warmupRuns = 0;

  // Batching of fast calls.
  let inner = options.inner ?? 1;
  // (decided on the fastest warm-up call: one GC pause must not turn batching off)
  if (options.inner === undefined && o.targetSampleMs > 0 && o.warmup > 0 && fastest < o.targetSampleMs) {
    // Re-estimate with a short batch: single-call timings of microsecond functions are noisy.
    let k = 1;
    let el = 0;
    while (true) {
      t0 = now();
      for (let i = 0; i < k; i++) {
        if (isAsync) await call();
        else call();
      }
      el = now() - t0;
      if (el >= o.targetSampleMs / 4 || k >= 1 << 20) break;
      k *= 4;
    }
    inner = Math.max(1, Math.ceil((o.targetSampleMs * k) / Math.max(el, 1e-6)));
  }

  const samples: number[] = [...firstSamples];
  let spent = firstSamples.reduce((a, b) => a + b, 0) * inner;
  while (samples.length < o.maxRuns) {
    if (samples.length >= o.minRuns && spent >= o.minTimeMs) break;
    if (samples.length >= 1 && spent >= o.maxTimeMs) break;
    t0 = now();
    if (isAsync) {
      for (let i = 0; i < inner; i++) await call();
    } else {
      for (let i = 0; i < inner; i++) call();
    }
    const el = now() - t0;
    spent += el;
    samples.push(el / inner);
  }
  const stats = summarize(samples, inner, warmupRuns);
  options.log?.(
    `${name}: median ${fmtNum(stats.median)} ms over ${stats.runs} runs` +
      (inner > 1 ? ` x${inner} calls` : "") +
      ` (${warmupRuns} warm-up)`,
  );
  return stats;
}

/** Collect values from `sample()` (non-time metrics, e.g. memory, or child-process timings). */
export async function measureSamples(
  sample: () => number | Promise<number>,
  options: Partial<MeasureOptions> = {},
): Promise<Stats> {
  const o: MeasureOptions = { ...FULL_OPTIONS, ...options };
  // Samples are expensive (child processes): exactly min(minRuns, maxRuns) of them.
  const samples: number[] = [];
  const n = Math.max(1, Math.min(o.minRuns, o.maxRuns));
  while (samples.length < n) samples.push(await sample());
  return summarize(samples, 1, 0);
}

export const FULL_OPTIONS: MeasureOptions = {
  warmup: 3,
  minRuns: 10,
  minTimeMs: 1500,
  maxRuns: 200,
  maxTimeMs: 10_000,
  minWarmupMs: 250,
  maxWarmupMs: 3000,
  targetSampleMs: 2,
};

export const QUICK_OPTIONS: MeasureOptions = {
  warmup: 1,
  minRuns: 3,
  minTimeMs: 250,
  maxRuns: 50,
  maxTimeMs: 1000,
  minWarmupMs: 150,
  maxWarmupMs: 500,
  targetSampleMs: 1,
};

// ---------------------------------------------------------------------------------------------
// Results

export type CellResult =
  | {
      status: "ok";
      /** Median/min/max in the workload's unit (for GFLOP/s: min is the slowest run). */
      median: number;
      min: number;
      max: number;
      runs: number;
      inner: number;
      warmupRuns: number;
      /** Raw samples, in `samplesUnit` (ms per call for timed rows, the row's unit for sampled rows). */
      samples: number[];
      samplesUnit?: string;
      note?: string;
      verifyError?: string;
    }
  | { status: "unavailable"; reason: string }
  | { status: "error"; error: string };

export interface WorkloadResult {
  id: string;
  description: string;
  unit: Unit;
  flops?: number;
  /** Printed under the table (see Workload.footnote). */
  footnote?: string;
  results: Record<string, CellResult>;
}

export interface RunResult {
  meta: Record<string, unknown>;
  reference: string;
  peers: string[];
  workloads: WorkloadResult[];
}

/** Convert stats (ms per call, or raw sample values) to the workload's display unit. */
export function toUnit(w: Pick<Workload, "unit" | "flops">, stats: Stats, sampled: boolean) {
  if (sampled || w.unit === "ms" || w.unit === "MB" || w.unit === "x") {
    return { median: stats.median, min: stats.min, max: stats.max };
  }
  if (w.unit === "us") return { median: stats.median * 1e3, min: stats.min * 1e3, max: stats.max * 1e3 };
  // GFLOP/s: flops / (ms * 1e6)
  const f = w.flops ?? NaN;
  return { median: f / (stats.median * 1e6), min: f / (stats.max * 1e6), max: f / (stats.min * 1e6) };
}

/** "Cost" direction of a unit: lower is better for everything except throughput. */
export function costRatio(unit: Unit, peer: number, ref: number): number {
  return unit === "GFLOP/s" ? ref / peer : peer / ref;
}

export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 10) return v.toFixed(2);
  if (a >= 1) return v.toFixed(2);
  if (a >= 0.01) return v.toFixed(3);
  return v.toExponential(2);
}

function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return "-";
  if (r >= 100) return r.toFixed(0) + "x";
  if (r >= 10) return r.toFixed(1) + "x";
  if (r >= 0.01) return r.toFixed(2) + "x";
  return r.toExponential(1) + "x";
}

/** Render the results as an aligned text table plus footnotes. */
export function formatTable(run: RunResult): string {
  const { reference } = run;
  const hasAny = (p: string) => run.workloads.some((w) => w.results[p]?.status === "ok");
  // Peers without any result get no column (they are listed under the table instead).
  const empty = run.peers.filter((p) => !hasAny(p));
  const peers = run.peers.filter((p) => hasAny(p));
  const refOk = peers.includes(reference);
  const others = peers.filter((p) => p !== reference);
  const header = ["workload", "unit", ...peers, ...(refOk ? others.map((p) => `${p}/ref`) : [])];
  const rows: string[][] = [];
  // Footnotes are grouped by (peer, text) and list the workloads they apply to.
  const notes: { text: string; where: string[] }[] = [];
  const noteIndex = new Map<string, number>();
  const mark = (peer: string, wid: string, text: string): string => {
    const key = `${peer}: ${text}`;
    let i = noteIndex.get(key);
    if (i === undefined) {
      notes.push({ text: key, where: [] });
      i = notes.length;
      noteIndex.set(key, i);
    }
    notes[i - 1]!.where.push(wid);
    return `[${i}]`;
  };
  for (const w of run.workloads) {
    const cells = peers.map((p) => {
      const r = w.results[p];
      if (!r) return "";
      if (r.status === "unavailable") return "n/a " + mark(p, w.id, r.reason);
      if (r.status === "error") return "ERR " + mark(p, w.id, `ERROR ${r.error}`);
      let s = fmtNum(r.median);
      if (r.runs > 1) s += ` (${fmtNum(r.min)}-${fmtNum(r.max)})`;
      if (r.verifyError) s += " !" + mark(p, w.id, `WRONG RESULT: ${r.verifyError}`);
      if (r.note) s += " " + mark(p, w.id, r.note);
      return s;
    });
    const ref = w.results[reference];
    const ratios = refOk
      ? others.map((p) => {
          const r = w.results[p];
          if (!ref || ref.status !== "ok" || !r || r.status !== "ok") return "-";
          return fmtRatio(costRatio(w.unit, r.median, ref.median));
        })
      : [];
    rows.push([w.id, w.unit, ...cells, ...ratios]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cols: string[]) =>
    cols.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  const out: string[] = [];
  out.push(line(header));
  out.push(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) out.push(line(r));
  out.push("");
  out.push(
    "cells: median (min-max) over the runs" +
      (refOk
        ? `; <peer>/ref columns: cost(peer)/cost(${reference}), >1 = ${reference} is faster/smaller` +
          " (for GFLOP/s: ref/peer)."
        : `; no ratio columns: the reference ${reference} has no result.`),
  );
  for (const p of empty) {
    const reasons = new Set<string>();
    for (const w of run.workloads) {
      const r = w.results[p];
      if (r && r.status !== "ok") reasons.add(r.status === "error" ? `ERROR ${r.error}` : r.reason);
    }
    out.push(`no results for ${p}: ${[...reasons].slice(0, 3).join("; ")}`);
  }
  if (notes.length) {
    out.push("notes:");
    const all = run.workloads.length;
    notes.forEach((n, i) => {
      const where = n.where.length === all || n.where.length > 4 ? `${n.where.length} rows` : n.where.join(", ");
      out.push(`  [${i + 1}] ${n.text}  (${where})`);
    });
  }
  const rowNotes = run.workloads.filter((w) => w.footnote);
  if (rowNotes.length) {
    out.push("rows:");
    for (const w of rowNotes) out.push(`  ${w.id}: ${w.footnote}`);
  }
  return out.join("\n");
}

export function writeJson(run: RunResult, file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(run, null, 2) + "\n");
  return file;
}

export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    totalMemGB: Math.round(os.totalmem() / 2 ** 30),
  };
}
