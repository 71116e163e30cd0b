// Automatic capture of eager code (issue 11, items 4-6): with config.capture on, eager operations
// (tape-recorded ones included) are deferred and run as cached regions at observation points.
// Capture on gives the numbers of capture off (values and tape gradients) for an MLP training
// loop with an optimizer and data-dependent control flow, for the dynamic constructs of item 1,
// and for random programs (fast-check, fixed seeds); after warm-up the loop replays cached
// regions and compiles nothing new; a closed-over value that changes is never served stale.
// Also: config.checkClosures for plain jit, the re-definition warning, and the export refusal
// of a function with graph breaks.

import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ConcretizationError, type LogEvent, ShapeError, type Tensor, config, exportFunction, grad, jit, nn, np, optim, spec, variable } from "../src/index.js";
import { captureStats, clearCaptureCache } from "../src/hybrid/capture.js";
import { assertClose, rand } from "./util/check.js";
import { constructs } from "./util/dynamic.js";

const SEED = 20261203;
const saved = {
  logger: config.logger,
  capture: config.capture,
  checkClosures: config.checkClosures,
  logCompiles: config.logCompiles,
  interpretBelowWork: config.interpretBelowWork,
};
afterEach(() => config.update(saved));

function events(opts: { compiles?: boolean } = {}): LogEvent[] {
  const out: LogEvent[] = [];
  config.update({ logger: (e) => out.push(e), logCompiles: opts.compiles ?? false });
  return out;
}

/** Runs `fn` with capture on (flushing anything left pending) or off. */
function withCapture<T>(on: boolean, fn: () => T): T {
  config.update({ capture: on });
  try {
    return fn();
  } finally {
    config.update({ capture: false });
  }
}

/** An MLP trained with the eager tape and optim.sgd; the learning rate and an update skip depend on the loss. */
function trainMlp(steps: number, onStep?: (step: number) => void): number[] {
  const x = rand([16, 5], SEED, -1, 1, "float32");
  const y = np.tanh(rand([16, 2], SEED + 1, -1, 1, "float32"));
  let params = { W1: variable(rand([5, 8], SEED + 2, -0.5, 0.5, "float32")), b1: variable(np.zeros([8])), W2: variable(rand([8, 2], SEED + 3, -0.5, 0.5, "float32")) };
  const opt = optim.sgd(0.1, { momentum: 0.5 });
  let state = opt.init(params);
  const trace: number[] = [];
  for (let step = 0; step < steps; step++) {
    const h = nn.relu(np.matmul(x, params.W1).add(params.b1));
    const loss = np.mean(np.square(np.matmul(h, params.W2).sub(y)));
    loss.backward();
    const lv = loss.item(); // an observation: flushes the forward and backward region
    const grads = { W1: params.W1.grad!, b1: params.b1.grad!, W2: params.W2.grad! };
    if (lv > 10) continue; // data-dependent control flow (never taken here, but decided on the value)
    const scale = lv > 0.3 ? 1 : 0.5; // a JS branch on an observed value changes the program
    const [updates, s] = opt.update(scale === 1 ? grads : { W1: grads.W1.mul(scale), b1: grads.b1.mul(scale), W2: grads.W2.mul(scale) }, state);
    state = s;
    const next = optim.applyUpdates(params, updates);
    params = { W1: variable(next.W1), b1: variable(next.b1), W2: variable(next.W2) };
    trace.push(lv, ...grads.W1.dataSync().slice(0, 3), ...grads.b1.dataSync().slice(0, 2));
    onStep?.(step);
  }
  trace.push(...params.W2.dataSync());
  return trace;
}

describe("capture on gives the numbers of capture off", () => {
  it("an MLP training loop on the tape with an optimizer and data-dependent control flow", () => {
    const off = withCapture(false, () => trainMlp(12));
    clearCaptureCache();
    const on = withCapture(true, () => trainMlp(12));
    // compiled regions may reassociate float32 sums: agreement to float32 rounding
    assertClose(on, off, { rtol: 2e-5, atol: 1e-6, what: "capture on vs off" });
  });

  it("runs compiled after warm-up: later steps replay cached regions and compile nothing", () => {
    clearCaptureCache();
    config.update({ interpretBelowWork: 0 }); // this small MLP would stay in the interpreter (tiering)
    const log = events({ compiles: true });
    const at = new Map<number, { compiles: number; regions: number; replays: number }>();
    withCapture(true, () =>
      trainMlp(16, (step) => at.set(step, { compiles: log.filter((e) => e.kind === "compile").length, ...captureStats() })),
    );
    const compiles = log.filter((e) => e.kind === "compile");
    expect(compiles.length).toBeGreaterThan(0);
    expect(compiles.some((e) => e.message.includes("captured region"))).toBe(true);
    // from step 6 to the last step: no new region structure, no compile, one replay per step
    expect(at.get(15)!.compiles).toBe(at.get(6)!.compiles);
    expect(at.get(15)!.regions).toBe(at.get(6)!.regions);
    expect(at.get(15)!.replays - at.get(6)!.replays).toBe(9);
  });

  for (const [name, f] of Object.entries(constructs)) {
    it(`tape gradient of "${name}"`, () => {
      const run = (on: boolean) =>
        withCapture(on, () => {
          const out: number[] = [];
          for (let k = 0; k < 4; k++) {
            const x = variable(rand([3], SEED + k * 7, -2, 2));
            const y = f(x);
            y.backward();
            out.push(y.item(), ...x.grad!.dataSync());
          }
          return out;
        });
      assertClose(run(true), run(false), { rtol: 1e-12, atol: 1e-14, what: name });
    });
  }

  it("grad of a 30-op chain (the transformation's eager work is captured too)", () => {
    const chain = (x: Tensor) => {
      let y = x;
      for (let i = 0; i < 10; i++) y = np.tanh(np.sin(y).mul(1.1)).add(0.1);
      return np.sum(y);
    };
    const x = rand([7], SEED, -2, 2);
    const off = withCapture(false, () => grad(chain)(x).dataSync());
    for (let k = 0; k < 4; k++) assertClose(withCapture(true, () => grad(chain)(x).dataSync()), off, { rtol: 1e-12, atol: 1e-14 });
  });

  it("random programs (fast-check): values and tape gradients, each program replayed", () => {
    const unary = ["sin", "tanh", "exp", "square", "neg", "abs"] as const;
    const step = fc.record({ op: fc.integer({ min: 0, max: 9 }), a: fc.nat(), b: fc.nat(), c: fc.double({ min: -2, max: 2, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 14 }), fc.integer({ min: 1, max: 2 ** 30 }), (prog, seed) => {
        const run = (on: boolean) =>
          withCapture(on, () => {
            const out: number[] = [];
            for (let rep = 0; rep < 3; rep++) {
              const x = variable(rand([4], seed + rep, -1, 1));
              const pool: Tensor[] = [x, x.mul(0.5)];
              for (const s of prog) {
                const a = pool[s.a % pool.length]!;
                const b = pool[s.b % pool.length]!;
                let r: Tensor;
                if (s.op < unary.length) r = np.clip(a, -3, 3)[unary[s.op]!]();
                else if (s.op === 6) r = a.mul(b);
                else if (s.op === 7) r = a.add(b).mul(s.c);
                else if (s.op === 8) r = np.sum(a).item() > s.c ? a.sub(b) : b.mul(a).add(1); // a JS branch
                else r = np.where(a.greater(s.c), a, b);
                pool.push(r);
              }
              const y = np.sum(pool[pool.length - 1]!.mul(pool[pool.length - 1]!));
              y.backward();
              out.push(y.item(), ...(x.grad?.dataSync() ?? [0, 0, 0, 0]));
            }
            return out;
          });
        assertClose(run(true), run(false), { rtol: 1e-10, atol: 1e-12, what: "random program" });
      }),
      { seed: SEED, numRuns: 40 },
    );
  });
});

describe("errors under capture", () => {
  it("a shape error is raised at the operation, not at the observation", () => {
    expect(() => withCapture(true, () => np.add(np.ones([2]), np.ones([3])))).toThrow(ShapeError);
  });
});

describe("captured state is never stale", () => {
  it("a closed-over tensor and JS number that change every iteration are read afresh", () => {
    const body = () => {
      const out: number[] = [];
      let k = np.array([1, 2, 3]);
      let s = 0.5;
      const f = (x: Tensor) => np.sum(x.mul(k).add(s)); // closes over k and s
      const x = np.array([1, 1, 1]);
      for (let i = 0; i < 8; i++) {
        out.push(f(x).item());
        k = k.add(1);
        s = s * 2;
      }
      return out;
    };
    clearCaptureCache();
    const on = withCapture(true, body);
    expect(on).toEqual(withCapture(false, body));
    expect(on).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => 6 + 3 * i + 3 * 0.5 * 2 ** i));
    expect(captureStats().replays).toBeGreaterThan(4); // the same region, with new inputs
  });

  it("config.checkClosures: a changed closure value is detected, warned once and recompiled", () => {
    const log = events();
    let k = np.array([1, 2, 3]);
    const f = jit((x: Tensor) => x.mul(k), { name: "scaled" });
    const x = np.ones([3]);
    expect(f(x).toArray()).toEqual([1, 2, 3]);
    k = np.array([4, 5, 6]);
    expect(f(x).toArray()).toEqual([1, 2, 3]); // the documented stale result without the check
    config.update({ checkClosures: true });
    expect(f(x).toArray()).toEqual([4, 5, 6]);
    k = np.array([7, 8, 9]);
    expect(f(x).toArray()).toEqual([7, 8, 9]);
    k = np.array([0, 0, 1]);
    expect(f(x).toArray()).toEqual([0, 0, 1]);
    const warnings = log.filter((e) => e.kind === "stale-closure");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain("jit(scaled)");
    expect(warnings[0]!.message).toContain("closes over");
  });

  it("jit(f) re-created in a loop warns once", () => {
    const log = events();
    const x = np.ones([2]);
    for (let i = 0; i < 6; i++) expect(jit((y: Tensor) => y.add(i))(x).toArray()).toEqual([1 + i, 1 + i]);
    const w = log.filter((e) => e.message.includes("re-defined repeatedly"));
    expect(w).toHaveLength(1);
    expect(w[0]!.message).toContain("hybrid-capture.test.ts");
  });
});

describe("export of a function with graph breaks", () => {
  function branchy(x: Tensor): Tensor {
    let y = np.sin(x);
    if (np.sum(y).item() > 0) y = y.mul(2); // BREAK-1
    let n = 0;
    while (Number(np.max(y)) < 3 && n < 4) { // BREAK-2
      y = y.add(1);
      n++;
    }
    return y;
  }

  it("refuses, listing each break with its line and how to express it", () => {
    let err: unknown;
    try {
      exportFunction(branchy, [spec("float32", [3])]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConcretizationError);
    const msg = (err as Error).message;
    expect(msg).toContain("exportFunction: the function has 2 graph breaks");
    expect(msg).toMatch(/1\. call \.item\(\) on a traced value \(f32\[\]\) at .*hybrid-capture\.test\.ts:\d+/);
    expect(msg).toMatch(/2\. convert to a JS number or boolean a traced value \(f32\[\]\) at .*hybrid-capture\.test\.ts:\d+/);
    expect(msg).toContain("lax.cond");
    expect(msg).toContain("lax.whileLoop");
  });

  it("a function without breaks exports as before", () => {
    const e = exportFunction((x: Tensor) => np.sin(x).mul(2), [spec("float32", [3])], { name: "plain" });
    expect(e.name).toBe("plain");
    expect(e.source.length).toBeGreaterThan(100);
  });
});
