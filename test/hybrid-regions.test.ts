// Graph-break regions are bounded like every jit cache (issue 11 follow-up): by entries
// (config.jitCacheSize, LRU) and by bytes (config.jitCacheMaxBytes, across all caches). A region
// evicted by either budget is captured and compiled again when its path recurs, and the values
// stay those of eager evaluation; the cacheReport lists the regions' cache. With config.cacheDir,
// region programs are stored in the persistent jit cache and loaded by a later wrapper.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type LogEvent, Tensor, cacheReport, config, jit, np } from "../src/index.js";
import { assertClose, rand, tensor } from "./util/check.js";

const saved = { cacheDir: config.cacheDir, logger: config.logger, jitCacheSize: config.jitCacheSize, jitCacheMaxBytes: config.jitCacheMaxBytes, explainCacheMisses: config.explainCacheMisses };
afterEach(() => config.update(saved));

/** Four steps, each branching on a decision observed in JS: 9 distinct regions over the 16 paths. */
const steps = (x: Tensor, d: Tensor): Tensor => {
  let y = x;
  for (let i = 0; i < 4; i++) {
    if (d.index(i).mul(np.sum(y).mul(0).add(1)).item() > 0) y = np.sin(y).mul(x).add(i);
    else y = np.cos(y.mul(0.5)).sub(x.mul(i));
  }
  return np.sum(y.mul(y));
};
const paths = Array.from({ length: 16 }, (_, p) => [0, 1, 2, 3].map((i) => ((p >> i) & 1 ? 1 : -1)));

function runAll(jf: (x: Tensor, d: Tensor) => unknown, rounds: number): void {
  for (let r = 0; r < rounds; r++) {
    for (const [k, ds] of paths.entries()) {
      const x = rand([3], 100 * r + k, -1, 1);
      const d = tensor(ds, [4]);
      assertClose([(jf(x, d) as Tensor).item()], [steps(x, d).item()], { rtol: 1e-12, atol: 1e-14, what: `round ${r} path ${k}` });
    }
  }
}

describe("graph-break regions under the jit cache budgets", () => {
  it("unbounded: 9 regions serve all 16 paths, nothing evicted", () => {
    const jf = jit(steps);
    runAll(jf, 2);
    expect(jf.cacheInfo().graphBreaks).toMatchObject({ regions: 9 });
    const table = [...cacheReport()].filter((r) => r.function === "steps graph-break regions" && r.stack === "graph-break region");
    expect(table.length).toBe(9);
  });

  it("config.jitCacheSize bounds the regions (LRU); evicted ones are captured again, values unchanged", () => {
    config.update({ jitCacheSize: 3 });
    const jf = jit(steps);
    runAll(jf, 2);
    const info = jf.cacheInfo().graphBreaks!;
    expect(info.regions).toBe(3);
    // the second round met evicted regions again: they were captured anew (guard failures)
    expect(info.guardFailures).toBeGreaterThan(0);
  });

  it("config.jitCacheMaxBytes bounds them across caches; the most recent region stays", () => {
    const misses: LogEvent[] = [];
    config.update({ jitCacheMaxBytes: 1, logger: (e) => misses.push(e) });
    const jf = jit(steps);
    runAll(jf, 1);
    expect(jf.cacheInfo().graphBreaks!.regions).toBe(1);
  });
});

describe("graph-break regions in the persistent cache (config.cacheDir)", () => {
  it("a second wrapper of the same function (as in a new process) loads its regions from disk; values unchanged", () => {
    const dir = mkdtempSync(join(tmpdir(), "adgen-regions-"));
    try {
      config.update({ cacheDir: dir });
      const made: ReturnType<typeof jit>[] = [];
      for (let i = 0; i < 2; i++) made.push(jit(steps)); // one creation site: one disk key
      const [cold, warm] = made as [ReturnType<typeof jit>, ReturnType<typeof jit>];
      runAll(cold, 1);
      const wrote = cold.cacheInfo().graphBreaks!.disk!;
      expect(wrote.writes).toBeGreaterThan(0);
      expect(wrote.loads).toBe(0);
      runAll(warm, 1);
      const read = warm.cacheInfo().graphBreaks!.disk!;
      expect(read.loads).toBe(wrote.writes);
      expect(read.writes).toBe(0);
    } finally {
      config.update({ cacheDir: null });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
