// Graph-break regions in the persistent jit cache (config.cacheDir), through the jit's own disk
// cache (jit/disk-cache.ts): one file per region program, keyed like any specialization of the
// jitted function (its source text, creation site and name) plus the region's structural hash,
// so a warm process start loads a region's generated code instead of compiling it. Checked as
// every disk entry is (format, versions, key, checksum); a region program that cannot be
// serialized is simply not stored.

import { config } from "../core/config.js";
import { flatten } from "../core/tree.js";
import type { Program } from "../ir/program.js";
import { adoptCompiled, compiledFor, compiledIfAny } from "../jit/compile.js";
import { JitDiskCache } from "../jit/disk-cache.js";
import { type KeyParts, keyParts } from "../jit/key.js";
import type { TreeDef } from "../core/tree.js";

export class RegionDisk {
  private readonly disk: JitDiskCache;

  constructor(f: (...args: any[]) => unknown, name: string) {
    this.disk = new JitDiskCache(f, `${name} graph-break region`);
  }

  get info() {
    return this.disk.info;
  }

  /**
   * Before `p` first runs compiled: its compiled form from the disk cache, or (a miss) compiled
   * now and stored. Nothing without config.cacheDir, or once `p` is compiled in this process.
   */
  prepare(p: Program, name: string): void {
    if (!config.cacheDir || compiledIfAny(p)) return;
    const parts = keyParts({ kind: "leaf" } as TreeDef, p.inAvals, []);
    const probe = this.disk.entry(parts, []);
    if (!probe) return;
    const hash = probe.hashOf(p);
    if (hash === null) return;
    const de = this.disk.entry({ ...parts, tree: `region ${hash}` } as KeyParts, [])!;
    const hit = de.load(hash);
    if (hit) {
      adoptCompiled(p, hit.compiled);
      return;
    }
    const c = compiledFor(p, name);
    if (c.exec) de.store(hash, flatten(p.outputs.map(() => 0))[1], c);
  }
}
