// grad / valueAndGrad under automatic capture (issue 11, follow-up to item 4): the transformation
// call itself is cached (src/hybrid/capture-grad.ts). The JS records its primal operations on
// every call, the recorded structure is the guard, and a structure seen before replays one cached
// [value, gradients] program instead of linearizing again. Checked: the values and gradients equal
// capture off (random programs with closed-over tensors and JS numbers that change every call,
// fast-check with a fixed seed) and float64 closed forms; repeated calls replay (one structure, one
// compile); a changed closure value is never served stale; a JS branch on a closure value records
// a new structure; a function that observes a value falls back to the ordinary path with the
// same numbers; argnums, a leaf also closed over, an unused argument, nested grad.

import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type LogEvent, type Tensor, config, grad, np, valueAndGrad } from "../src/index.js";
import { captureGradStats, clearCaptureGradCache } from "../src/hybrid/capture-grad.js";
import { clearCaptureCache } from "../src/hybrid/capture.js";
import { assertClose as closeArrays, rand } from "./util/check.js";
import { constructs } from "./util/dynamic.js";

const SEED = 20261204;
const saved = { logger: config.logger, capture: config.capture, logCompiles: config.logCompiles };
beforeEach(() => {
  clearCaptureCache();
  clearCaptureGradCache();
});
afterEach(() => config.update(saved));

function withCapture<T>(on: boolean, fn: () => T): T {
  config.update({ capture: on });
  try {
    return fn();
  } finally {
    config.update({ capture: false });
  }
}

/** Tensors or arrays equal to 1e-12 (the orders of operations are the same up to compilation). */
function assertClose(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>, rtol: number, atol: number, what = ""): void {
  const arr = (t: Tensor | ArrayLike<number>) => (t instanceof Object && "dataSync" in t ? (t as Tensor).dataSync() : (t as ArrayLike<number>));
  closeArrays(arr(a), arr(b), { rtol, atol, what });
}

const data = (t: Tensor | Tensor[]) => (Array.isArray(t) ? t.map((x) => Array.from(x.dataSync())) : Array.from(t.dataSync()));

describe("grad under capture: the transformation call is cached", () => {
  it("repeated calls replay one structure, compiled once, with the closed form's gradient", () => {
    const out: LogEvent[] = [];
    config.update({ logger: (e) => out.push(e), logCompiles: true });
    const f = (x: Tensor) => np.sum(np.sin(x).mul(x).add(np.exp(x.mul(0.5))));
    const df = (v: number) => Math.cos(v) * v + Math.sin(v) + 0.5 * Math.exp(0.5 * v);
    const g = grad(f);
    withCapture(true, () => {
      for (let i = 0; i < 8; i++) {
        const x = rand([5], SEED + i);
        assertClose(g(x), Array.from(x.dataSync(), df), 1e-12, 1e-12, `call ${i}`);
      }
    });
    const s = captureGradStats();
    expect(s).toMatchObject({ calls: 8, structures: 1, replays: 7, fallbacks: 0 });
    expect(out.filter((e) => e.kind === "compile" && /captured grad/.test(e.message))).toHaveLength(1);
  });

  it("closed-over tensors and JS numbers that change every call are read afresh (never stale)", () => {
    let w = rand([4], SEED);
    let c = 0.5;
    const g = valueAndGrad((x: Tensor) => np.sum(np.tanh(x.mul(w)).mul(c)));
    for (let i = 0; i < 6; i++) {
      w = rand([4], SEED + 10 + i);
      c = 0.25 * (i + 1);
      const x = rand([4], SEED + 20 + i);
      const [vOn, gOn] = withCapture(true, () => g(x));
      const [vOff, gOff] = g(x);
      assertClose(vOn, vOff, 1e-12, 1e-12, `value ${i}`);
      assertClose(gOn, gOff, 1e-12, 1e-12, `grad ${i}`);
      // closed form: d/dx c * tanh(w x) = c w (1 - tanh^2)
      const xd = x.dataSync();
      const wd = w.dataSync();
      assertClose(gOn, Array.from(xd, (v, j) => c * wd[j]! * (1 - Math.tanh(wd[j]! * v) ** 2)), 1e-12, 1e-12, `closed form ${i}`);
    }
    expect(captureGradStats()).toMatchObject({ structures: 1, replays: 5 });
  });

  it("a JS branch on a closed-over value records another structure; each gives its own gradient", () => {
    let mode = 0;
    const g = grad((x: Tensor) => (mode % 2 === 0 ? np.sum(np.square(x)) : np.sum(np.sin(x))));
    const x = rand([3], SEED + 1);
    const xd = Array.from(x.dataSync());
    withCapture(true, () => {
      for (mode = 0; mode < 6; mode++) {
        const want = mode % 2 === 0 ? xd.map((v) => 2 * v) : xd.map(Math.cos);
        assertClose(g(x), want, 1e-12, 1e-12, `mode ${mode}`);
      }
    });
    expect(captureGradStats()).toMatchObject({ calls: 6, structures: 2, replays: 4 });
  });

  it("argnums, a leaf also closed over (a constant there), an unused argument", () => {
    const a = rand([3], SEED + 2);
    const b = rand([3], SEED + 3);
    const u = rand([2], SEED + 4);
    // a is both argument 0 and closed over: only the argument is differentiated
    const f = (x: Tensor, y: Tensor, _unused: Tensor) => np.sum(x.mul(y).mul(a));
    const g = grad(f, { argnums: [0, 1, 2] });
    for (let i = 0; i < 4; i++) {
      const on = withCapture(true, () => g(a, b, u)) as Tensor[];
      expect(data(on)).toEqual(data(g(a, b, u) as Tensor[]));
      const ad = a.dataSync();
      const bd = b.dataSync();
      assertClose(on[0]!, Array.from(ad, (v, j) => bd[j]! * v), 1e-12, 1e-12);
      assertClose(on[1]!, Array.from(ad, (v) => v * v), 1e-12, 1e-12);
      expect(data(on[2]!)).toEqual([0, 0]);
    }
    expect(captureGradStats().fallbacks).toBe(0);
  });

  it("functions that observe values fall back to the ordinary path with the same numbers", () => {
    for (const [name, fn] of Object.entries(constructs)) {
      const g = grad(fn);
      for (let i = 0; i < 5; i++) {
        const x = rand([3], SEED + 30 + i, -1.5, 1.5);
        assertClose(withCapture(true, () => g(x)), g(x), 1e-12, 1e-12, `${name}, call ${i}`);
      }
    }
    const s = captureGradStats();
    expect(s.fallbacks).toBeGreaterThan(0);
    // backoff: a function that keeps observing is not recorded on every call
    expect(s.fallbacks).toBeLessThan(5 * Object.keys(constructs).length);
  });

  it("nested grad under capture: the inner grad takes the ordinary path inside the recording", () => {
    const g2 = grad((x: Tensor) => np.sum(grad((y: Tensor) => np.sum(np.sin(y).mul(y)))(x)));
    for (let i = 0; i < 4; i++) {
      const x = rand([3], SEED + 40 + i);
      // d/dx (cos x * x + sin x) = 2 cos x - x sin x
      assertClose(withCapture(true, () => g2(x)), Array.from(x.dataSync(), (v) => 2 * Math.cos(v) - v * Math.sin(v)), 1e-12, 1e-12);
    }
    expect(captureGradStats()).toMatchObject({ structures: 1, fallbacks: 0 });
  });

  it("random programs (fast-check): capture on equals capture off on every call, closure values changing", () => {
    const unary = ["sin", "tanh", "exp", "square", "neg", "cos"] as const;
    const step = fc.record({ op: fc.integer({ min: 0, max: 8 }), a: fc.nat(), b: fc.nat(), c: fc.double({ min: -2, max: 2, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 2 ** 30 }), (prog, seed) => {
        let w = rand([4], seed);
        let k = 1;
        const f = (x: Tensor, y: Tensor) => {
          const pool: Tensor[] = [x, y, x.mul(w)];
          for (const s of prog) {
            const a = pool[s.a % pool.length]!;
            const b = pool[s.b % pool.length]!;
            let r: Tensor;
            if (s.op < unary.length) r = np.clip(a, -2, 2)[unary[s.op]!]();
            else if (s.op === 6) r = a.mul(b);
            else if (s.op === 7) r = a.add(b).mul(s.c * k);
            else r = a.sub(w);
            pool.push(r);
          }
          return np.sum(pool[pool.length - 1]!.mul(pool[pool.length - 1]!));
        };
        const g = valueAndGrad(f, { argnums: [0, 1] });
        for (let rep = 0; rep < 4; rep++) {
          w = rand([4], seed + 100 + rep);
          k = rep + 1;
          const x = rand([4], seed + rep);
          const y = rand([4], seed + 50 + rep);
          const [vOn, gOn] = withCapture(true, () => g(x, y)) as [Tensor, Tensor[]];
          const [vOff, gOff] = g(x, y) as [Tensor, Tensor[]];
          assertClose(vOn, vOff, 1e-12, 1e-12);
          gOn.forEach((t, i) => assertClose(t, gOff[i]!, 1e-12, 1e-12));
        }
      }),
      { seed: SEED, numRuns: 40 },
    );
  });
});
