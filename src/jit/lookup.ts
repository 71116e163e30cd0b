// Step 2 of a jitted call (key -> lookup -> build -> tier -> run): the in-memory cache of one
// jitted function's specializations (LRU, bounded by config.jitCacheSize), its counters, and the
// explanation of every miss (which key component changed, and advice once recompiles pile up).

import { config, log } from "../core/config.js";
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
  lastMiss?: { reason: string };
  /** the persistent cache (config.cacheDir): loads, stale and ignored entries, writes, last path */
  disk: DiskInfo;
}

export const at = (line: string | undefined) => (line ? ` (at ${line})` : "");

export class SpecializationCache<E> {
  private readonly entries = new Map<string, E>();
  hits = 0;
  misses = 0;
  traces = 0;
  checks = 0;
  private warned = false;
  private lastMiss: { reason: string } | undefined;
  /** the key of the last miss: the next miss is explained against it */
  lastParts: KeyParts | null = null;

  constructor(private readonly name: string) {}

  /** The entry for `key` (counted as a hit and made most recently used), or undefined. */
  lookup(key: string): E | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, e); // most recently used last
    return e;
  }

  /** Stores a new entry, evicting the least recently used beyond config.jitCacheSize. */
  store(key: string, e: E): void {
    this.entries.set(key, e);
    while (this.entries.size > Math.max(1, config.jitCacheSize)) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Records a miss for `parts`, explained against the previous one (and warns about recompile storms). */
  miss(parts: KeyParts, generalized?: string): void {
    this.misses++;
    const last = this.lastParts;
    const reason = last ? (explainDifference(last, parts) ?? "evicted from the cache") : "first call";
    this.lastMiss = { reason };
    if (last && config.explainCacheMisses) {
      const where = userSourceLine();
      const g = generalized ? `; generalizing ${generalized}: one program now serves every size` : "";
      log({ kind: "cache-miss", message: `jit(${this.name}) recompiling because ${reason}${g}${where ? ` (called at ${where})` : ""}`, reason });
    }
    if (last && this.misses > config.recompileWarnAfter && !this.warned) {
      this.warned = true;
      const advice = reason.startsWith("static arg")
        ? "a static argument keeps changing value: pass it as a regular (traced) argument instead"
        : reason.includes("shape")
          ? "an argument's shape keeps changing: pad inputs to a few fixed sizes, or declare the dimension symbolic"
          : "mark configuration values as static (staticArgnums) and keep array shapes/dtypes stable";
      log({ kind: "recompile-warning", message: `jit(${this.name}) has been compiled ${this.misses} times; last change: ${reason}. Advice: ${advice}.` });
    }
    this.lastParts = parts;
  }

  /** A miss that is not a key change (a size whose trace differs from the generalized program). */
  specialized(reason: string, message: string): void {
    this.misses++;
    this.traces++;
    this.lastMiss = { reason };
    this.explain(message, reason);
  }

  explain(message: string, reason: string): void {
    if (config.explainCacheMisses) log({ kind: "cache-miss", message: `jit(${this.name}) ${message}`, reason });
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.lastParts = null;
  }

  info(disk: DiskInfo): CacheInfo {
    return { hits: this.hits, misses: this.misses, traces: this.traces, checks: this.checks, size: this.entries.size, ...(this.lastMiss ? { lastMiss: this.lastMiss } : {}), disk: { ...disk } };
  }
}
