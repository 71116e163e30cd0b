// The process heap stays flat over a long run of distinct shapes through jit(f) and grad(jit(f))
// (issue 13 item 3): measured in child processes started with --expose-gc, as heapUsed after
// full collections, once the caches are full (after a warm-up) and again 600 shapes later. With
// the default budgets (config.jitCacheSize entries per cache) and with only the byte budget
// (config.jitCacheMaxBytes 2 MiB, entry count unbounded) the growth stays under a generous
// bound; the same run with both budgets disabled grows several times past that bound, which
// shows the measurement can fail when a cache grows without bound. (No timing is asserted.)

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const ENTRY = pathToFileURL(path.join(ROOT, "src/index.ts")).href;
const MiB = 2 ** 20;
/** the allowed growth of a bounded run (it measures about 1.3 MiB) */
const BOUND = 8 * MiB;

const SCRIPT = `import { config, grad, jit, np } from ${JSON.stringify(ENTRY)};
const mode = process.argv[2];
const budgets = {
  defaults: {},
  bytes: { jitCacheSize: 2 ** 30, jitCacheMaxBytes: 2 * 2 ** 20 },
  none: { jitCacheSize: 2 ** 30, jitCacheMaxBytes: Infinity },
}[mode];
config.update({ autoGeneralizeShapes: false, recompileWarnAfter: Infinity, ...budgets });
const loss = jit((x) => np.sum(np.tanh(np.multiply(x, x))), { name: "loss" });
const dloss = grad(loss);
const step = (n) => {
  const x = np.ones([n]);
  loss(x);
  dloss(x);
};
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
let n = 1;
for (; n <= 100; n++) step(n); // warm-up: the caches fill
const before = heap();
for (; n <= 700; n++) step(n);
const after = heap();
const info = loss.cacheInfo();
process.stdout.write("RESULT=" + JSON.stringify({ growth: after - before, entries: info.size, inner: info.inner.size, misses: info.misses + info.inner.misses }) + "\\n");
`;

describe("heap stays flat over many shapes (child processes with --expose-gc)", () => {
  it("with the default budgets and with the byte budget alone; without budgets it grows past the bound", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "adgen-heap-"));
    const script = path.join(dir, "heap.mts");
    writeFileSync(script, SCRIPT);
    const run = (mode: string) =>
      new Promise<{ growth: number; entries: number; inner: number; misses: number }>((resolve, reject) =>
        execFile(process.execPath, ["--expose-gc", "--import", TSX, script, mode], { encoding: "utf8", timeout: 300_000 }, (err, stdout, stderr) => {
          const m = /RESULT=(.*)/.exec(stdout);
          if (err || !m) reject(new Error(`child ${mode} failed: ${err?.message}\n${stderr.slice(-800)}`));
          else resolve(JSON.parse(m[1]!));
        }),
      );
    try {
      const [defaults, bytes, none] = await Promise.all([run("defaults"), run("bytes"), run("none")]);
      // every shape missed in both caches: 700 top-level and 700 inner specializations were made
      for (const r of [defaults, bytes, none]) expect(r.misses).toBe(1400);
      expect([defaults.entries, defaults.inner]).toEqual([64, 64]);
      expect(bytes.entries + bytes.inner).toBeLessThan(64);
      expect([none.entries, none.inner]).toEqual([700, 700]);
      expect(defaults.growth, `growth with default budgets: ${(defaults.growth / MiB).toFixed(1)} MiB`).toBeLessThan(BOUND);
      expect(bytes.growth, `growth with the byte budget: ${(bytes.growth / MiB).toFixed(1)} MiB`).toBeLessThan(BOUND);
      expect(none.growth, `growth without budgets: ${(none.growth / MiB).toFixed(1)} MiB`).toBeGreaterThan(3 * BOUND);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 400_000);
});
