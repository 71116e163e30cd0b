// What a jitted function has specialized, in words: `jf.specializations()` lists one row per
// cached entry (the key as argument types with symbolic dims, static values, backend, compiler
// options and the transformation stack; hits, last use, stage times, code / arena / residual
// bytes, origin), and `cacheReport()` lists every live cache of the process, the inner program
// caches of grad(jit(f)), vmap(jit(f)) and the eager tape included. Both print as tables.

import { config } from "../core/config.js";
import type { KeyParts } from "./key.js";
import { type SlotStats, type SpecializationCache, liveCaches, slotBytes } from "./lookup.js";

export interface Specialization extends SlotStats {
  /** the jitted function's name */
  function: string;
  /** "jit": a top-level call's compiled entry; "inner": a program traced for a call inside a transformation */
  cache: "jit" | "inner";
  /** each argument leaf, e.g. "arg 0: float32[B,3]" ("weak" marks a JS number) */
  args: string[];
  /** static arguments, e.g. "arg 1 = n:2" */
  statics: string[];
  backend: string;
  options: string;
  /** the transformations the entry was made under, innermost first, e.g. "jit" or "linearize" */
  stack: string;
  hits: number;
  /** the function's call number at its last use */
  lastCall: number;
  /** estimated bytes held (code + arena + constants and IR) */
  bytes: number;
}

/** The per-entry context a cache's values can carry (the inner cache's transformation stack). */
export type Stacked = { stack?: string };

function describeLeaf([path, aval]: [string, string]): string {
  const m = /^([a-z0-9]+)(\[.*\])(~?)$/.exec(aval);
  return m ? `${path}: ${m[1]}${m[2]}${m[3] ? " weak" : ""}` : `${path}: ${aval}`;
}

/** One row per entry of `cache`, least recently used first. */
export function rowsOf(cache: SpecializationCache<any>): Specialization[] {
  return cache.slots().map(([, s]) => {
    const stats = cache.measure(s.value);
    const p: KeyParts = s.parts;
    return {
      function: cache.name,
      cache: cache.where,
      args: p.leaves.map(describeLeaf),
      statics: p.statics.map(([i, v]) => `arg ${i} = ${v}`),
      backend: p.backend,
      options: p.options,
      stack: (s.value as Stacked).stack ?? "jit",
      hits: s.hits,
      lastCall: s.lastCall,
      ...stats,
      bytes: slotBytes(stats),
    };
  });
}

export function formatBytes(n: number): string {
  if (n < 10 * 1024) return `${n} B`;
  if (n < 10 * 2 ** 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 2 ** 20).toFixed(1)} MiB`;
}

/** Lines of a plain-text table: the header, then one line per row, columns padded to their widths. */
export function formatTable(head: readonly string[], cells: readonly string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(head), ...cells.map(line)];
}

const HEAD = ["function", "cache", "key", "hits", "last call", "trace/opt/gen ms", "wasm", "js", "arena", "residuals", "origin"];

/** A list of specializations that prints as a table. */
export class SpecializationTable extends Array<Specialization> {
  static fromRows(rows: Specialization[]): SpecializationTable {
    const t = new SpecializationTable();
    t.push(...rows);
    return t;
  }

  /** Estimated bytes of all rows. */
  get bytes(): number {
    return this.reduce((a, r) => a + r.bytes, 0);
  }

  override toString(): string {
    if (!this.length) return "(no cached specializations)";
    const ms = (x: number) => x.toFixed(1);
    const cells = this.map((r) => [
      r.function,
      r.cache === "jit" ? "jit" : `inner (${r.stack})`,
      [r.args.join(", ") || "(no arguments)", ...r.statics.map((s) => `static ${s}`)].join("; "),
      String(r.hits),
      `#${r.lastCall}`,
      r.origin === "disk" ? "disk" : `${ms(r.traceMs)}/${ms(r.optimizeMs)}/${ms(r.codegenMs)}`,
      formatBytes(r.wasmBytes),
      formatBytes(r.jsBytes),
      formatBytes(r.arenaBytes),
      formatBytes(r.residualBytes),
      r.origin,
    ]);
    const backends = [...new Set(this.map((r) => `${r.backend} (${r.options})`))];
    return [...formatTable(HEAD, cells), `${this.length} entries, ~${formatBytes(this.bytes)}; backend ${backends.join(" | ")}`].join("\n");
  }
}

/**
 * Every cached specialization of every live jitted function (inner program caches included),
 * as a table; the last line gives the total against config.jitCacheMaxBytes.
 */
export function cacheReport(): SpecializationTable & { totalBytes: number; budgetBytes: number } {
  const rows = liveCaches().flatMap(rowsOf);
  const t = SpecializationTable.fromRows(rows) as SpecializationTable & { totalBytes: number; budgetBytes: number };
  t.totalBytes = t.bytes;
  t.budgetBytes = config.jitCacheMaxBytes;
  const base = t.toString.bind(t);
  t.toString = () => `${base()}\nbudget: config.jitCacheMaxBytes ${config.jitCacheMaxBytes === Infinity ? "unbounded" : formatBytes(config.jitCacheMaxBytes)}, config.jitCacheSize ${config.jitCacheSize} per cache`;
  return t;
}
