// The caches of automatic capture (capture.ts's regions, capture-grad.ts's value-and-gradient
// programs) are bounded by what they hold, not by how many entries: a structure of 5 equations
// and one of 5000 cost very different amounts. `ByteLru` keeps entries in least-recently-used
// order with each entry's measured bytes (compiled code, arenas, IR: `programBytes`, the same
// estimate as the jit caches' byte budget) and evicts the least recent ones while the total is
// over config.captureCacheMaxBytes; the newest entry always stays (a single entry over the
// budget is still used, as jit's caches do). An entry is re-measured when it is compiled (tiering).

import { config } from "../core/config.js";
import type { Program } from "../ir/program.js";
import { compiledIfAny } from "../jit/compile.js";
import { IR_BYTES_PER_EQUATION, type SlotStats, slotBytes } from "../jit/lookup.js";

/** What `programs` hold: their IR and, for each one compiled, its code, arena and times. */
export function measurePrograms(programs: Iterable<Program>): SlotStats {
  const s: SlotStats = { traceMs: 0, optimizeMs: 0, codegenMs: 0, wasmBytes: 0, jsBytes: 0, arenaBytes: 0, residualBytes: 0, otherBytes: 0, origin: "traced" };
  for (const p of programs) {
    s.otherBytes += p.equations.length * IR_BYTES_PER_EQUATION;
    const c = compiledIfAny(p);
    const ex = c?.exec;
    if (!c) continue;
    s.optimizeMs += c.times.optimizeMs;
    s.codegenMs += c.times.codegenMs;
    s.wasmBytes += ex?.wasm?.bytes.length ?? 0;
    s.jsBytes += ex && !ex.wasm ? ex.source.length : 0;
    s.arenaBytes += ex ? (ex.memoryBytes?.() ?? ex.lowered.arenaBytes ?? 0) : 0;
    s.origin = c.times.loadMs !== undefined ? "disk" : ex ? "compiled" : "interpreted";
  }
  return s;
}

/** Bytes of `programs` for the capture caches' budget. */
export const programBytes = (programs: Iterable<Program>): number => slotBytes(measurePrograms(programs));

/** An LRU map bounded by the measured bytes of its values (config.captureCacheMaxBytes). */
export class ByteLru<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;
  evictions = 0;

  constructor(private readonly measure: (v: V) => number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Bytes held by all entries (as last measured). */
  get bytes(): number {
    return this.total;
  }

  /** The value under `key`, made the most recent. */
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  /** The value under `key` without touching the order. */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Stores `value` as the most recent entry and evicts down to the budget. */
  set(key: string, value: V): void {
    const old = this.entries.get(key);
    if (old) {
      this.total -= old.bytes;
      this.entries.delete(key);
    }
    const bytes = this.measure(value);
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    this.evict();
  }

  /** Measures `key`'s value again (it was compiled since it was stored) and evicts down to the budget. */
  remeasure(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    const bytes = this.measure(e.value);
    this.total += bytes - e.bytes;
    e.bytes = bytes;
    this.evict();
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
    this.evictions = 0;
  }

  private evict(): void {
    const limit = config.captureCacheMaxBytes;
    while (this.total > limit && this.entries.size > 1) {
      const [key, e] = this.entries.entries().next().value!;
      this.entries.delete(key);
      this.total -= e.bytes;
      this.evictions++;
    }
  }
}
