// Graph breaks under jit (issue 11, items 2 and 3): jit(f) of a function that observes traced
// values in JS runs compiled regions between the observation points, with the JS in between
// deciding control flow. Results equal eager evaluation (and gradients the eager ones) across
// guard hits and guard failures, over random branch decisions (fixed seeds); the break report
// names each break once per specialization with its reason, the user's line and the observed
// value; a function whose guards fail on every call gets one warning with advice.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConcretizationError, type LogEvent, Tensor, config, grad, jit, makeProgram, np, valueAndGrad, variable, vmap } from "../src/index.js";
import { assertClose, rand, tensor } from "./util/check.js";
import { constructs } from "./util/dynamic.js";

const SEED = 20261203;
const THIS_FILE = "test/hybrid-jit.test.ts";
/** The line of this file holding `marker` (the report names user lines). */
const lineOf = (marker: string) => readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").findIndex((l) => l.includes(marker)) + 1;
const saved = { logger: config.logger, logGraphBreaks: config.logGraphBreaks, explainCacheMisses: config.explainCacheMisses };
afterEach(() => config.update(saved));

function capture(opts: { breaks?: boolean; misses?: boolean } = {}): LogEvent[] {
  const events: LogEvent[] = [];
  config.update({ logger: (e) => events.push(e), logGraphBreaks: opts.breaks ?? false, explainCacheMisses: opts.misses ?? false });
  return events;
}

describe("jit of JS control flow: values and gradients equal eager evaluation", () => {
  for (const [name, f] of Object.entries(constructs)) {
    it(name, () => {
      const jf = jit(f);
      const jg = jit(grad(f)); // breaks at the primal values grad observes
      const gj = grad(jf); // each region a jit_call under grad: compiled pullbacks, run in reverse
      const vg = jit(valueAndGrad(f));
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (seed) => {
          const x = rand([3], seed, -2, 2);
          const y = f(x).item();
          assertClose([(jf(x) as Tensor).item()], [y], { rtol: 1e-12, atol: 1e-14, what: "jit(f) vs eager" });
          const g = grad(f)(x) as Tensor;
          assertClose((jg(x) as Tensor).data, g.data, { rtol: 1e-12, atol: 1e-14, what: "jit(grad(f)) vs grad(f)" });
          assertClose((gj(x) as Tensor).data, g.data, { rtol: 1e-12, atol: 1e-14, what: "grad(jit(f)) vs grad(f)" });
          const [v, vgg] = vg(x) as [Tensor, Tensor];
          assertClose([v.item()], [y], { rtol: 1e-12, atol: 1e-14, what: "jit(valueAndGrad) value" });
          assertClose(vgg.data, g.data, { rtol: 1e-12, atol: 1e-14, what: "jit(valueAndGrad) grad" });
          // eager tape: the regions are recorded as jit_calls, backward() runs their pullbacks
          const xv = variable(x);
          (jf(xv) as Tensor).backward();
          assertClose(xv.grad!.data, g.data, { rtol: 1e-12, atol: 1e-14, what: "tape through jit(f)" });
        }),
        { numRuns: 10, seed: SEED },
      );
      const info = jf.cacheInfo().graphBreaks!;
      expect(info.replays).toBeGreaterThan(0); // compiled regions were replayed, not re-traced ops
    });
  }
});

describe("guards over random branch decisions", () => {
  // decisions d[i] > 0 choose the branch of step i; each step observes the decision in JS
  const steps = (x: Tensor, d: Tensor): Tensor => {
    let y = x;
    for (let i = 0; i < 4; i++) {
      if (d.index(i).mul(np.sum(y).mul(0).add(1)).item() > 0) y = np.sin(y).mul(x).add(i);
      else y = np.cos(y.mul(0.5)).sub(x.mul(i));
    }
    return np.sum(y.mul(y));
  };
  it("every call equals eager; a decision path seen before captures nothing", () => {
    capture(); // (jit(grad(steps)) meets a new path on most calls and warns once: not printed here)
    const jf = jit(steps);
    const jg = jit(grad(steps));
    const seen = new Set<string>();
    const decisions = fc.array(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), { minLength: 10, maxLength: 10 });
    fc.assert(
      fc.property(decisions, fc.integer({ min: 1, max: 1000 }), (calls, seed) => {
        for (const [c, ds] of calls.entries()) {
          const x = rand([3], seed + c, -1, 1);
          const d = tensor(ds.map((b) => (b ? 1 : -1)), [4]);
          const before = jf.cacheInfo().graphBreaks?.guardFailures ?? 0;
          const beforeRegions = jf.cacheInfo().graphBreaks?.regions ?? 0;
          assertClose([(jf(x, d) as Tensor).item()], [steps(x, d).item()], { rtol: 1e-12, atol: 1e-14, what: `call ${c} value` });
          const info = jf.cacheInfo().graphBreaks!;
          const path = ds.join();
          if (seen.has(path)) {
            expect(info.guardFailures, "a seen path replays").toBe(before);
            expect(info.regions).toBe(beforeRegions);
          }
          seen.add(path);
          assertClose((jg(x, d) as Tensor).data, (grad(steps)(x, d) as Tensor).data, { rtol: 1e-12, atol: 1e-14, what: `call ${c} grad` });
        }
      }),
      { numRuns: 6, seed: SEED + 1 },
    );
    // 2^4 paths, yet region programs are shared across paths: the first region, then per step
    // one per branch (each also holds the next step's d.index(i), whose params differ per step)
    expect(jf.cacheInfo().graphBreaks!.regions).toBe(9);
  });
});

describe("values are run-time inputs of the regions", () => {
  it("a captured tensor or JS number that changes between calls is never served stale", () => {
    let scale = tensor([2], []);
    let offset = 0.5;
    const g = (x: Tensor) => (np.sum(x).item() > 0 ? x.mul(scale).add(offset) : x.sub(offset)).sum();
    const jg = jit(g);
    const x = tensor([1, 2], [2]);
    for (const [s, o] of [[2, 0.5], [3, 0.5], [3, -1], [0.25, 7]] as const) {
      scale = tensor([s], []);
      offset = o;
      assertClose([(jg(x) as Tensor).item()], [g(x).item()], { rtol: 1e-12, atol: 1e-14, what: `scale ${s} offset ${o}` });
    }
    expect(jg.cacheInfo().graphBreaks).toEqual({ regions: 2, replays: 6, guardFailures: 0 });
  });
});

describe("region outputs", () => {
  it("later calls compute only the values the rest of the function used; a skipped one needed later is recomputed", () => {
    const g = (x: Tensor) => {
      const a = np.sin(x);
      const b = np.cos(x).mul(3);
      return np.sum(x).item() > 0 ? a.sum() : b.sum();
    };
    const jg = jit(g);
    const gj = grad(jg);
    // branch a, a (pruned region: b skipped), b (b recomputed), b (b now computed), a
    for (const v of [1, 2, -1, -2, 3]) {
      const x = tensor([v, 0.5 * v], [2]);
      assertClose([(jg(x) as Tensor).item()], [g(x).item()], { rtol: 1e-12, atol: 1e-14, what: `value at ${v}` });
      assertClose((gj(x) as Tensor).data, (grad(g)(x) as Tensor).data, { rtol: 1e-12, atol: 1e-14, what: `grad at ${v}` });
    }
  });
});

describe("composition", () => {
  it("jit of a function calling a jitted function with breaks, jit(jit(f)), jit(grad(jit(f)))", () => {
    const f = constructs["while with a data-dependent trip count"]!;
    const jf = jit(f);
    const outer = jit((x: Tensor) => jf(np.tanh(x)).mul(np.sum(x)));
    const jj = jit(jf);
    const jgj = jit(grad(jf));
    for (let seed = 1; seed <= 4; seed++) {
      const x = rand([3], seed, -2, 2);
      assertClose([(outer(x) as Tensor).item()], [f(np.tanh(x)).mul(np.sum(x)).item()], { rtol: 1e-12, atol: 1e-14, what: "outer" });
      assertClose([(jj(x) as Tensor).item()], [f(x).item()], { rtol: 1e-12, atol: 1e-14, what: "jit(jit(f))" });
      assertClose((jgj(x) as Tensor).data, (grad(f)(x) as Tensor).data, { rtol: 1e-12, atol: 1e-14, what: "jit(grad(jit(f)))" });
    }
  });
});

describe("what stays an error", () => {
  const f = constructs["if/else on item"]!;
  const x = tensor([0.3, -1.2, 0.8], [3]);
  it("fullGraph: true keeps the ConcretizationError", () => {
    expect(() => jit(f, { fullGraph: true })(x)).toThrow(ConcretizationError);
    expect(() => jit(f, { fullGraph: true }).lower(x)).toThrow(ConcretizationError);
    expect(() => jit(f, { fullGraph: 1 as unknown as boolean })).toThrow(/fullGraph must be a boolean/);
    expect(() => jit(f, 5 as never)).toThrow(/options must be an object/);
    expect(() => jit(f, { fullGraph: false, nmae: "x" } as never)).toThrow(/unknown option "nmae". Did you mean "name"/);
  });
  it("a break inside an enclosing staging trace or vmap raises that trace's error", () => {
    const jf = jit(f);
    expect(() => makeProgram(jf)(x)).toThrow(/inside tracing/);
    expect(() => vmap(jf)(tensor([0.3, -1.2, 0.8, 0.1, 0.2, 0.3], [2, 3]))).toThrow(/inside vmap/);
    // and the same jitted function still runs at top level
    assertClose([(jf(x) as Tensor).item()], [f(x).item()], { rtol: 1e-12, atol: 1e-14 });
  });
});

describe("break report", () => {
  const f = (x: Tensor) => {
    const s = np.sum(x);
    if (s.item() > 0) return np.sin(x).sum(); // the break
    return np.cos(x).sum();
  };
  const breakLine = `${THIS_FILE}:${lineOf("if (s.item() > 0)")}:11`;

  it("each break is logged once per specialization, with reason, line, value and producer", () => {
    const events = capture({ breaks: true });
    const jf = jit(f, { name: "branchy" });
    for (let s = 1; s <= 6; s++) jf(rand([3], s));
    jf(rand([4], 9)); // a new specialization (shape [4]) reports its break again
    const breaks = events.filter((e) => e.kind === "graph-break");
    expect(breaks.length).toBe(2);
    const first = rand([3], 1);
    const m = breaks[0]!.message;
    expect(m).toContain("jit(branchy) graph break 1: call .item() on a traced value (f64[], computed by reduce_sum at");
    expect(m).toContain(`at ${breakLine}`);
    expect(m).toContain(`observed ${np.sum(first).item()}`);
    const report = jf.lower(first).breaks();
    expect(report).toEqual([
      { index: 1, reason: "call .item() on", source: breakLine, aval: "f64[]", value: String(np.sum(first).item()), producer: `reduce_sum at ${THIS_FILE}:${lineOf("const s = np.sum(x);")}:18` },
    ]);
    expect(jit((x: Tensor) => np.sin(x)).lower(first).breaks()).toEqual([]);
  });

  it("ADGEN_LOG=graph-breaks (and all) turn the log on", async () => {
    for (const env of ["graph-breaks", "compiles,graph-breaks", "all"]) {
      vi.stubEnv("ADGEN_LOG", env);
      vi.resetModules();
      const fresh = await import("../src/core/config.js");
      expect(fresh.config.logGraphBreaks, env).toBe(true);
    }
    vi.unstubAllEnvs();
    vi.resetModules();
    expect((await import("../src/core/config.js")).config.logGraphBreaks).toBe(false);
  });

  it("an observed argument is a break too (it decides control flow)", () => {
    const g = (x: Tensor) => (x.toArray() as number[])[0]! > 0 ? np.exp(x) : np.negative(x);
    const jg = jit(g);
    const x = tensor([-0.5, 2], [2]);
    assertClose((jg(x) as Tensor).data, g(x).data);
    expect(jg.lower(x).breaks()).toEqual([expect.objectContaining({ reason: "call .toArray() on", aval: "f64[2]", value: "[-0.5, 2]", producer: "an argument" })]);
  });

  it("a guard failure is explained like a cache miss, naming the break and its value", () => {
    const events = capture({ misses: true });
    const jf = jit(f, { name: "branchy" });
    jf(tensor([1, 1, 1], [3]));
    jf(tensor([2, 1, 1], [3])); // same branch: replayed
    expect(events.filter((e) => e.kind === "cache-miss")).toEqual([]);
    jf(tensor([-1, -1, -1], [3])); // the other branch: captured
    const misses = events.filter((e) => e.kind === "cache-miss");
    expect(misses.length).toBe(1);
    expect(misses[0]!.message).toContain(`jit(branchy) capturing region 1 after graph break 1 (call .item() on a traced value at ${breakLine}; first observed 3)`);
    expect(misses[0]!.message).toMatch(/took a path not captured before \(\d+ equations, starting with cos at /);
    expect(misses[0]!.message).toContain(`starting with cos at ${THIS_FILE}:${lineOf("return np.cos(x).sum();")}:`);
    expect(jf.cacheInfo().graphBreaks).toEqual({ regions: 3, replays: 3, guardFailures: 1 });
  });

  it("guards that fail on every call give one warning with advice", () => {
    const events = capture();
    // the observed value picks a slice length: every new value is new code
    const h = (x: Tensor) => {
      const k = Math.floor(x.index(0).item());
      return np.sum(np.sin(x.index(np.s(0, k))));
    };
    const jh = jit(h, { name: "slicer" });
    for (let k = 1; k <= 12; k++) {
      const x = tensor([k + 0.5, ...Array.from({ length: 15 }, (_, i) => i / 10)], [16]);
      assertClose([(jh(x) as Tensor).item()], [h(x).item()], { rtol: 1e-12, atol: 1e-14 });
    }
    const warnings = events.filter((e) => e.kind === "recompile-warning");
    expect(warnings.length).toBe(1);
    expect(warnings[0]!.message).toContain(`jit(slicer) captured new code on each of the last ${config.recompileWarnAfter} calls`);
    expect(warnings[0]!.message).toContain(`graph break 1 at ${THIS_FILE}:${lineOf("const k = Math.floor")}:`);
    expect(warnings[0]!.message).toMatch(/lax\.cond.*lax\.whileLoop.*static argument/);
  });
});
