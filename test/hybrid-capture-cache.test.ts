// The caches of automatic capture are bounded by bytes (config.captureCacheMaxBytes, LRU), not
// by entry count (issue 11): the value-and-gradient programs of grad under capture
// (capture-grad.ts) and the captured regions (capture.ts). Checked: the bytes held stay within the
// budget (the newest entry always stays), the least recently used entry is the one evicted, an
// evicted structure is recorded again with unchanged values, config.jitCacheSize no longer
// bounds them, and the option is validated.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Tensor, config, grad, np } from "../src/index.js";
import { captureGradStats, clearCaptureGradCache } from "../src/hybrid/capture-grad.js";
import { captureStats, clearCaptureCache } from "../src/hybrid/capture.js";
import { assertClose } from "./util/check.js";

const saved = { capture: config.capture, captureCacheMaxBytes: config.captureCacheMaxBytes, jitCacheSize: config.jitCacheSize, hotCalls: config.hotCalls };
beforeEach(() => {
  clearCaptureCache();
  clearCaptureGradCache();
  // interpreted entries: their measured bytes (the IR) do not change with tiering during a test
  config.update({ hotCalls: Infinity });
});
afterEach(() => {
  config.update(saved);
  clearCaptureCache();
  clearCaptureGradCache();
});

/** f_k(x) = sum(k chained affine-tanh steps): k structures of growing size. */
const chain = (k: number) => (x: Tensor) => {
  let y = x;
  for (let i = 0; i < k; i++) y = np.tanh(y.mul(0.5 + i / 10).add(0.1));
  return y.sum();
};
const fs = [chain(2), chain(3), chain(4), chain(5)];
const x = np.array([0.3, -0.2, 0.7]);
const reference = fs.map((f) => grad(f)(x).toArray() as number[]);

function gradCaptured(i: number): number[] {
  config.update({ capture: true });
  try {
    return grad(fs[i]!)(x).toArray() as number[];
  } finally {
    config.update({ capture: false });
  }
}

describe("capture caches are bounded by bytes (config.captureCacheMaxBytes)", () => {
  it("the default is 64 MiB; the option takes a byte count or Infinity", () => {
    expect(saved.captureCacheMaxBytes).toBe(64 * 2 ** 20);
    expect(() => config.update({ captureCacheMaxBytes: -1 })).toThrow(/captureCacheMaxBytes/);
    expect(() => config.update({ captureCacheMaxBytes: 1.5 })).toThrow(/captureCacheMaxBytes/);
    config.update({ captureCacheMaxBytes: Infinity });
    expect(config.captureCacheMaxBytes).toBe(Infinity);
  });

  it("grad under capture: LRU within the budget; an evicted structure is recorded again, values unchanged", () => {
    // measure what f2 holds alone, then f0 and f1; allow room for f0 and f2 but not all three
    gradCaptured(2);
    const b2 = captureGradStats().bytes;
    clearCaptureGradCache();
    assertClose(gradCaptured(0), reference[0]!, { rtol: 1e-6, what: "f0" });
    const b0 = captureGradStats().bytes;
    assertClose(gradCaptured(1), reference[1]!, { rtol: 1e-6, what: "f1" });
    const b01 = captureGradStats().bytes;
    expect(b0).toBeGreaterThan(0);
    expect(b01).toBeGreaterThan(b0);
    expect(b2).toBeGreaterThan(b01 - b0);
    config.update({ captureCacheMaxBytes: b0 + b2 });
    expect(captureGradStats()).toMatchObject({ structures: 2, evictions: 0 });
    // f0 is used again (now the most recent), so f1 is the least recent when f2 needs room
    const replays = captureGradStats().replays;
    assertClose(gradCaptured(0), reference[0]!, { rtol: 1e-6, what: "f0 again" });
    expect(captureGradStats().replays).toBe(replays + 1);
    assertClose(gradCaptured(2), reference[2]!, { rtol: 1e-6, what: "f2" });
    const s = captureGradStats();
    expect(s).toMatchObject({ structures: 2, evictions: 1, bytes: b0 + b2 });
    // f0 stayed (a replay), f1 was evicted (recorded again: no replay), with the same values
    assertClose(gradCaptured(0), reference[0]!, { rtol: 1e-6, what: "f0 kept" });
    expect(captureGradStats().replays).toBe(s.replays + 1);
    assertClose(gradCaptured(1), reference[1]!, { rtol: 1e-6, what: "f1 recorded again" });
    expect(captureGradStats().replays).toBe(s.replays + 1);
  });

  it("the newest entry stays even when it alone is over the budget", () => {
    config.update({ captureCacheMaxBytes: 1 });
    for (let i = 0; i < 4; i++) {
      assertClose(gradCaptured(i), reference[i]!, { rtol: 1e-6, what: `f${i}` });
      expect(captureGradStats().structures).toBe(1);
    }
    expect(captureGradStats().evictions).toBe(3);
  });

  it("config.jitCacheSize no longer bounds them (bytes do)", () => {
    config.update({ jitCacheSize: 1 });
    for (let i = 0; i < 4; i++) gradCaptured(i);
    expect(captureGradStats()).toMatchObject({ structures: 4, evictions: 0 });
  });

  it("captured regions (eager code under capture) are bounded the same way", () => {
    const run = (k: number) => {
      config.update({ capture: true });
      try {
        let y = x;
        for (let i = 0; i < k; i++) y = np.exp(y.mul(0.1 * (i + 1)));
        return y.dataSync();
      } finally {
        config.update({ capture: false });
      }
    };
    const eager = [2, 3, 4].map((k) => {
      let y = x;
      for (let i = 0; i < k; i++) y = np.exp(y.mul(0.1 * (i + 1)));
      return Array.from(y.dataSync());
    });
    assertClose(Array.from(run(2)), eager[0]!, { rtol: 1e-6, what: "region 2" });
    assertClose(Array.from(run(3)), eager[1]!, { rtol: 1e-6, what: "region 3" });
    const b = captureStats().bytes;
    config.update({ captureCacheMaxBytes: b });
    assertClose(Array.from(run(4)), eager[2]!, { rtol: 1e-6, what: "region 4" });
    const s = captureStats();
    expect(s.evictions).toBeGreaterThanOrEqual(1);
    expect(s.bytes).toBeLessThanOrEqual(b);
    assertClose(Array.from(run(2)), eager[0]!, { rtol: 1e-6, what: "region 2 recorded again" });
  });
});
