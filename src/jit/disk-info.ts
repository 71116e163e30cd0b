// The public counters of a jitted function's disk cache (part of cacheInfo()). Kept apart from
// disk-cache.ts so the public type declarations never reference Node's fs/crypto types.

/** What happened to the last specialization looked up on disk. */
export type DiskPath = "loaded" | "trusted" | "stale" | "ignored" | "absent" | "stored" | "uncacheable";

export interface DiskInfo {
  /** entries loaded from disk (trace-checked or trusted) */
  loads: number;
  /** entries found stale (the traced program differs) and recompiled */
  stale: number;
  /** corrupt or foreign files ignored */
  ignored: number;
  writes: number;
  last?: DiskPath;
}
