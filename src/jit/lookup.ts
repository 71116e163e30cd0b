// Step 2 of a jitted call (key -> lookup -> build -> tier -> run): the in-memory cache of one
// jitted function's specializations, its counters, and the explanation of every miss. Every cache
// (the top-level one of each jitted function and the inner program cache its calls inside grad,
// vmap or the eager tape use) is bounded twice: by entries (config.jitCacheSize, LRU per cache)
// and by bytes (config.jitCacheMaxBytes, LRU across all caches of the process, measured as code +
// arena + captured constants + traced IR). A miss is explained against the closest cached entry
// (fewest differing key components), and a key that was cached before and evicted is reported as
// an eviction naming the budget that forced it, not as a change from the previous call.

import { config, log } from "../core/config.js";
import { RecompileError } from "../core/errors.js";
import { userSourceLine } from "../core/source.js";
import type { DiskInfo } from "./disk-info.js";
import { type KeyParts, explainDifference } from "./key.js";

export interface CacheInfo {
  hits: number;
  misses: number;
  traces: number;
  /** concrete traces that checked a program generalized over learned sizes at a new size */
  checks: number;
  size: number;
  /** entries evicted (by the entry count or the byte budget) */
  evictions: number;
  /** estimated bytes held by the cached entries (see SlotStats) */
  bytes: number;
  lastMiss?: { reason: string };
  /** the persistent cache (config.cacheDir): loads, stale and ignored entries, writes, last path */
  disk: DiskInfo;
  /** the program cache used by calls inside other transformations and on the eager tape */
  inner?: Omit<CacheInfo, "disk" | "inner">;
}

/** What one cached value costs and where it came from (measured when asked: tiering changes it). */
export interface SlotStats {
  traceMs: number;
  optimizeMs: number;
  codegenMs: number;
  wasmBytes: number;
  jsBytes: number;
  arenaBytes: number;
  residualBytes: number;
  /** captured constants and an estimate of the traced IR (equations x IR_BYTES_PER_EQUATION) */
  otherBytes: number;
  /** "compiled", "interpreted" (cold tier), "disk" (loaded from config.cacheDir), "traced" (inner) */
  origin: string;
}

/**
 * Bytes of one traced equation (objects, avals, params, its captured source line) for the byte
 * budget. Measured on V8 (Node 20) as heap growth per cached entry over its equations: about
 * 0.5 KiB per equation without source lines, 1.6 KiB with (config.captureSourceLines, the
 * default: each line keeps its unformatted stack until printed).
 */
export const IR_BYTES_PER_EQUATION = 1024;

export const slotBytes = (s: SlotStats) => s.wasmBytes + s.jsBytes + s.arenaBytes + s.otherBytes;

interface Slot<E> {
  value: E;
  parts: KeyParts;
  hits: number;
  /** the function's call count at the last use (a deterministic "last use") */
  lastCall: number;
  /** process-wide use order, for LRU across caches */
  tick: number;
  /** bytes measured when stored (or at the last budget scan) */
  bytes: number;
}

export const at = (line: string | undefined) => (line ? ` (at ${line})` : "");

/** Every live cache, for the process-wide byte budget and adgen.cacheReport(). */
const registry = new Set<WeakRef<SpecializationCache<any>>>();
let ticks = 0;
/**
 * Bytes of all entries as last measured (at store, or at the last full scan). A full scan (which
 * re-measures everything, tiering and arena growth included, and forgets collected caches) runs
 * only when this exceeds the budget, so a store costs O(1) below it.
 */
let approxBytes = 0;

export function liveCaches(): SpecializationCache<any>[] {
  const out: SpecializationCache<any>[] = [];
  for (const r of registry) {
    const c = r.deref();
    if (c) out.push(c);
    else registry.delete(r);
  }
  return out;
}

/** Component-wise distance between two keys (a different argument structure is far). */
function distance(a: KeyParts, b: KeyParts): number {
  if (a.tree !== b.tree) return 1000;
  let d = a.leaves.filter((l, i) => l[1] !== b.leaves[i]?.[1]).length;
  d += a.statics.filter((s, i) => s[1] !== b.statics[i]?.[1]).length;
  return d + Number(a.backend !== b.backend) + Number(a.options !== b.options);
}

/** How many evicted keys a cache remembers (to report a later miss on one as an eviction). */
const EVICTED_MEMORY = 1024;

export class SpecializationCache<E> {
  private readonly entries = new Map<string, Slot<E>>();
  hits = 0;
  misses = 0;
  traces = 0;
  checks = 0;
  evictions = 0;
  /** calls of the function (hits and misses) */
  calls = 0;
  private warned = false;
  private lastMiss: { reason: string } | undefined;
  /** evicted key -> why */
  private readonly evicted = new Map<string, string>();
  /** the most recently stored entry (re-measured at the next store) */
  private newest: [string, Slot<E>] | null = null;
  /** the key of the last miss (the shape policy generalizes against it) */
  lastParts: KeyParts | null = null;
  /** every miss reason, in order (bounded), for reports */
  readonly history: string[] = [];

  /**
   * @param name the jitted function's name
   * @param where "jit", or "inner" for the program cache used inside other transformations
   * @param measure the cost of one cached value
   */
  constructor(
    readonly name: string,
    readonly where: "jit" | "inner",
    readonly measure: (e: E) => SlotStats,
  ) {
    registry.add(new WeakRef(this));
  }

  /** The entry for `key` (counted as a hit and made most recently used), or undefined. */
  lookup(key: string): E | undefined {
    const s = this.entries.get(key);
    if (s === undefined) return undefined;
    this.hits++;
    this.use(s);
    this.entries.delete(key);
    this.entries.set(key, s); // most recently used last
    return s.value;
  }

  /** Counts a call of the function (once per call, hit or miss). */
  called(): void {
    this.calls++;
  }

  private use(s: Slot<E>): void {
    s.hits++;
    s.lastCall = this.calls;
    s.tick = ++ticks;
  }

  /** Stores a new entry, then enforces the entry bound of this cache and the process byte budget. */
  store(key: string, parts: KeyParts, value: E): void {
    // the newest entry may have grown since it was stored (an inner entry's derived programs and
    // their compiled forms appear on its first use): re-measure it, so the budget sees them
    const prev = this.newest;
    if (prev && this.entries.get(prev[0]) === prev[1]) {
      const now = slotBytes(this.measure(prev[1].value));
      approxBytes += now - prev[1].bytes;
      prev[1].bytes = now;
    }
    const old = this.entries.get(key);
    if (old) approxBytes -= old.bytes;
    const bytes = slotBytes(this.measure(value));
    approxBytes += bytes;
    const slot = { value, parts, hits: 0, lastCall: this.calls, tick: ++ticks, bytes };
    this.entries.set(key, slot);
    this.newest = [key, slot];
    this.evicted.delete(key);
    while (this.entries.size > Math.max(1, config.jitCacheSize)) this.evict(this.entries.keys().next().value!, `config.jitCacheSize ${config.jitCacheSize} entries`);
    enforceByteBudget();
  }

  evict(key: string, budget: string): void {
    approxBytes -= this.entries.get(key)?.bytes ?? 0;
    this.entries.delete(key);
    this.evictions++;
    this.evicted.set(key, budget);
    if (this.evicted.size > EVICTED_MEMORY) this.evicted.delete(this.evicted.keys().next().value!);
  }

  /** [key, slot] pairs, least recently used first. */
  slots(): [string, Slot<E>][] {
    return [...this.entries];
  }

  /** Why `key` missed: an eviction, or the difference from the closest cached entry (else the last miss). */
  reasonFor(key: string, parts: KeyParts): string {
    const budget = this.evicted.get(key);
    if (budget !== undefined) return `this specialization was evicted from the cache (budget: ${budget})`;
    let best: KeyParts | null = null;
    let bestD = Infinity;
    // most recently used first: ties go to the most recent entry
    for (const s of [...this.entries.values()].reverse()) {
      const d = distance(s.parts, parts);
      if (d < bestD) [best, bestD] = [s.parts, d];
    }
    const against = best ?? this.lastParts;
    if (!against) return "first call";
    return explainDifference(against, parts) ?? "evicted from the cache";
  }

  /** Records a miss of `key`, explains it (and warns about recompile storms). */
  miss(key: string, parts: KeyParts, generalized?: string, context = ""): void {
    this.misses++;
    const reason = this.reasonFor(key, parts);
    const first = reason === "first call";
    this.note(reason);
    if (!first && config.explainCacheMisses) {
      const where = userSourceLine();
      const g = generalized ? `; generalizing ${generalized}: one program now serves every size` : "";
      log({ kind: "cache-miss", message: `${this.title(context)} recompiling because ${reason}${g}${where ? ` (called at ${where})` : ""}`, reason });
    }
    if (!first && this.misses > config.recompileWarnAfter && !this.warned) {
      this.warned = true;
      const advice = reason.startsWith("static arg")
        ? "a static argument keeps changing value: pass it as a regular (traced) argument instead"
        : reason.includes("evicted")
          ? "the cache is too small for the specializations in use: raise config.jitCacheSize / config.jitCacheMaxBytes, or use fewer shapes"
          : reason.includes("shape")
            ? "an argument's shape keeps changing: pad inputs to a few fixed sizes, or declare the dimension symbolic"
            : "mark configuration values as static (staticArgnums) and keep array shapes/dtypes stable";
      log({ kind: "recompile-warning", message: `${this.title(context)} has been compiled ${this.misses} times; last change: ${reason}. Advice: ${advice}.` });
    }
    this.lastParts = parts;
  }

  /**
   * Applies config.onRecompileLimit once this cache has recompiled more than config.recompileLimit
   * times: "error" throws the full miss history, "warn" logs once; returns true for "interpret"
   * (the caller runs the call eagerly instead of building an entry).
   */
  overLimit(): boolean {
    if (this.misses - 1 <= config.recompileLimit) return false;
    const history = () => this.history.map((r, i) => `\n  ${i + 1}. ${r}`).join("");
    const head = `${this.title()} recompiled ${this.misses - 1} times, more than config.recompileLimit ${config.recompileLimit}`;
    if (config.onRecompileLimit === "error") throw new RecompileError(`${head}; its misses:${history()}`);
    if (config.onRecompileLimit === "interpret") {
      if (!this.limitLogged) log({ kind: "recompile-warning", message: `${head}: running new keys eagerly (op by op) from now on (config.onRecompileLimit "interpret")` });
      this.limitLogged = true;
      return true;
    }
    if (!this.limitLogged) log({ kind: "recompile-warning", message: `${head}; its misses:${history()}` });
    this.limitLogged = true;
    return false;
  }

  private limitLogged = false;

  /** "jit(f)", or "jit(f) inside linearize" for the inner cache. */
  title(context = ""): string {
    return `jit(${this.name})${context ? ` inside ${context}` : ""}`;
  }

  private note(reason: string): void {
    this.lastMiss = { reason };
    this.history.push(reason);
    if (this.history.length > 256) this.history.shift();
  }

  /** A miss that is not a key change (a size whose trace differs from the generalized program). */
  specialized(reason: string, message: string): void {
    this.misses++;
    this.traces++;
    this.note(reason);
    this.explain(message, reason);
  }

  explain(message: string, reason: string): void {
    if (config.explainCacheMisses) log({ kind: "cache-miss", message: `jit(${this.name}) ${message}`, reason });
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes of all entries (measured now). */
  get bytes(): number {
    let b = 0;
    for (const s of this.entries.values()) b += slotBytes(this.measure(s.value));
    return b;
  }

  clear(): void {
    for (const s of this.entries.values()) approxBytes -= s.bytes;
    this.entries.clear();
    this.evicted.clear();
    this.limitLogged = false;
    this.lastParts = null;
  }

  counters(): Omit<CacheInfo, "disk" | "inner"> {
    const { hits, misses, traces, checks, evictions } = this;
    return { hits, misses, traces, checks, size: this.entries.size, evictions, bytes: this.bytes, ...(this.lastMiss ? { lastMiss: this.lastMiss } : {}) };
  }

  info(disk: DiskInfo): CacheInfo {
    return { ...this.counters(), disk: { ...disk } };
  }
}

/**
 * Evicts the least recently used entries of the process (across all caches) until the measured
 * bytes are within config.jitCacheMaxBytes; the most recently stored entry always stays.
 */
export function enforceByteBudget(): void {
  const max = config.jitCacheMaxBytes;
  if (max === Infinity || approxBytes <= max) return;
  const all: { cache: SpecializationCache<any>; key: string; tick: number; bytes: number }[] = [];
  let total = 0;
  for (const cache of liveCaches()) {
    for (const [key, s] of cache.slots()) {
      const bytes = (s.bytes = slotBytes(cache.measure(s.value)));
      total += bytes;
      all.push({ cache, key, tick: s.tick, bytes });
    }
  }
  approxBytes = total;
  if (total <= max) return;
  all.sort((a, b) => a.tick - b.tick);
  for (const v of all.slice(0, -1)) {
    if (total <= max) break;
    v.cache.evict(v.key, `config.jitCacheMaxBytes ${max} bytes, all caches together`);
    total -= v.bytes;
  }
}
