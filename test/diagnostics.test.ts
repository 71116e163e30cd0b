// Diagnostics of the jit caches (docs/diagnostics.md): specializations() and cacheReport() list
// every cached entry (inner caches of grad/vmap/tape included) as printed tables; every miss is
// explained (evictions as evictions, inner caches like top-level ones); every cache is bounded in
// entries and in bytes; jit options are strict (did-you-mean, donate_argnums rejected).

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArgumentError, AdgenError, NanError, RecompileError, type Tensor, cacheReport, config, flushTimeline, grad, jit, np, variable, vmap } from "../src/index.js";
import { clearTimeline } from "../src/jit/timeline.js";
import type { LogEvent } from "../src/core/config.js";

const saved = { ...config };
let events: LogEvent[] = [];
beforeEach(() => {
  events = [];
  config.update({ autoGeneralizeShapes: false, explainCacheMisses: true, logger: (e) => events.push(e) });
});
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
});

const vec = (n: number) => np.arange(n).astype("float32");
const misses = () => events.filter((e) => e.kind === "cache-miss").map((e) => e.message.replace(/ \(called at .*\)$/, ""));
/** A printed table with times (nondeterministic) and the options column normalized. */
const normalize = (s: string) =>
  s
    .replace(/\d+\.\d\/\d+\.\d\/\d+\.\d/g, "T")
    .replace(/\(interpretBelow=[^)]*\)/g, "(OPTIONS)")
    .replace(/ {2,}/g, " | ");

describe("specializations() and cacheReport()", () => {
  it("one row per cached entry, with the key in words, hits and last use, printed as a table", () => {
    config.update({ interpretBelowWork: Infinity }); // interpreted: no code bytes, deterministic sizes
    const f = jit((x: Tensor, n: number) => np.multiply(np.sin(x), n), { name: "scale", staticArgnums: [1] });
    f(vec(3), 2);
    f(vec(3), 2);
    f(vec(4), 2);
    f(vec(3), 5);
    const rows = f.specializations();
    expect(rows.map((r) => [r.args.join(","), r.statics.join(","), r.hits, r.lastCall, r.origin, r.cache])).toEqual([
      ["arg 0: float32[3]", "arg 1 = n:2", 1, 2, "interpreted", "jit"],
      ["arg 0: float32[4]", "arg 1 = n:2", 0, 3, "interpreted", "jit"],
      ["arg 0: float32[3]", "arg 1 = n:5", 0, 4, "interpreted", "jit"],
    ]);
    expect(normalize(rows.toString())).toBe(
      [
        "function | cache | key | hits | last call | trace/opt/gen ms | wasm | js | arena | residuals | origin",
        "scale | jit | arg 0: float32[3]; static arg 1 = n:2 | 1 | #2 | T | 0 B | 0 B | 0 B | 0 B | interpreted",
        "scale | jit | arg 0: float32[4]; static arg 1 = n:2 | 0 | #3 | T | 0 B | 0 B | 0 B | 0 B | interpreted",
        "scale | jit | arg 0: float32[3]; static arg 1 = n:5 | 0 | #4 | T | 0 B | 0 B | 0 B | 0 B | interpreted",
        `3 entries, ~${rows.bytes} B; backend wasm (OPTIONS)`,
      ].join("\n"),
    );
  });

  it("rows of compiled entries carry code and arena bytes; symbolic dims print by name", () => {
    config.update({ interpretBelowWork: 0, backend: "js" });
    const f = jit((x: Tensor) => np.exp(x), { name: "e", shapes: [["B"]] });
    f(vec(8));
    const [r] = f.specializations();
    expect(r!.args).toEqual(["arg 0: float32[B]"]);
    const g = jit((x: Tensor) => np.exp(x), { name: "g" });
    g(vec(8));
    const [s] = g.specializations();
    expect(s!.origin).toBe("compiled");
    expect(s!.jsBytes).toBeGreaterThan(100);
    expect(s!.bytes).toBe(s!.wasmBytes + s!.jsBytes + s!.arenaBytes + s!.otherBytes);
  });

  it("cacheReport() covers every jitted function and the inner caches of grad, vmap and the tape", () => {
    config.update({ interpretBelowWork: Infinity });
    const f = jit((x: Tensor) => np.sum(np.sin(x)), { name: "inner_f" });
    grad(f)(vec(3));
    vmap(f)(np.ones([2, 4]));
    variable(vec(5)); // a variable: f's call on it goes through the tape
    const v = variable(vec(5));
    (f(v) as Tensor).backward();
    const rows = cacheReport().filter((r) => r.function === "inner_f");
    expect(rows.map((r) => [r.cache, r.stack, r.args.join(",")])).toEqual([
      ["inner", "jvp inside linearize", "arg 0: float32[3]"],
      ["inner", "vmap", "arg 0: float32[4]"],
      ["inner", "eager tape", "arg 0: float32[5]"],
    ]);
    const text = cacheReport().toString();
    expect(text).toMatch(/inner_f\s+inner \(eager tape\)\s+arg 0: float32\[5\]/);
    expect(text).toMatch(/^budget: config\.jitCacheMaxBytes 256\.0 MiB, config\.jitCacheSize 64 per cache$/m);
    expect(f.cacheInfo().inner).toMatchObject({ misses: 3, size: 3 });
  });
});

describe("every miss is explained", () => {
  it("an evicted entry is reported as an eviction naming the budget, not as a change from the last call", () => {
    config.update({ jitCacheSize: 2 });
    const f = jit((x: Tensor) => np.sin(x), { name: "ev" });
    for (const n of [3, 4, 5, 3]) f(vec(n));
    expect(f.cacheInfo().lastMiss!.reason).toBe("this specialization was evicted from the cache (budget: config.jitCacheSize 2 entries)");
    expect(f.cacheInfo().evictions).toBe(2);
    expect(misses()).toEqual([
      "jit(ev) recompiling because arg 0 shape [3] -> [4]",
      "jit(ev) recompiling because arg 0 shape [4] -> [5]",
      "jit(ev) recompiling because this specialization was evicted from the cache (budget: config.jitCacheSize 2 entries)",
    ]);
  });

  it("a miss is explained against the closest cached entry, not the previous call", () => {
    const f = jit((x: Tensor, y: Tensor) => np.add(x, y), { name: "close" });
    f(vec(3), vec(3));
    f(vec(7).astype("float64"), vec(7).astype("float64"));
    f(vec(3), vec(1)); // previous call differs in both leaves; the first entry in one
    expect(f.cacheInfo().lastMiss!.reason).toBe("arg 1 shape [3] -> [1]");
  });

  it("grad(jit(f)), vmap(jit(f)) and the tape path log their retraces like jit misses", () => {
    const f = jit((x: Tensor) => np.sum(np.sin(x)), { name: "g" });
    const df = grad(f);
    df(vec(3));
    df(vec(4));
    df(vec(3)); // hit
    vmap(f)(np.ones([2, 6]));
    (f(variable(vec(9))) as Tensor).backward();
    expect(misses()).toEqual([
      "jit(g) inside jvp inside linearize recompiling because arg 0 shape [3] -> [4]",
      "jit(g) inside vmap recompiling because arg 0 shape [3] -> [6]", // [3] was used last
      "jit(g) inside eager tape recompiling because arg 0 shape [6] -> [9]",
    ]);
    expect(f.cacheInfo().inner).toMatchObject({ hits: 1, misses: 4, traces: 4, size: 4 });
  });
});

describe("bounded caches", () => {
  it("the inner cache of grad(jit(f)) is bounded by jitCacheSize over many shapes", () => {
    config.update({ jitCacheSize: 8, explainCacheMisses: false });
    const f = jit((x: Tensor) => np.sum(np.multiply(x, x)), { name: "many" });
    const df = grad(f);
    for (let n = 1; n <= 200; n++) {
      const g = df(vec(n)) as Tensor;
      if (n % 97 === 0) expect(Array.from(g.data)).toEqual(Array.from(vec(n).data, (v) => 2 * v));
    }
    const inner = f.cacheInfo().inner!;
    expect(inner.size).toBe(8);
    expect(inner.misses).toBe(200);
    expect(inner.evictions).toBe(192);
    expect(f.specializations()).toHaveLength(8);
  });

  it("config.jitCacheMaxBytes bounds all caches together (LRU across functions): bytes stay flat over 2000 shapes", () => {
    config.update({ interpretBelowWork: Infinity, explainCacheMisses: false, jitCacheMaxBytes: 16 * 1024 });
    const a = jit((x: Tensor) => np.exp(np.sin(x)), { name: "a" });
    const b = jit((x: Tensor) => np.cos(x), { name: "b" });
    let peak = 0;
    for (let n = 1; n <= 2000; n++) {
      (n % 2 ? a : b)(vec(n));
      if (n % 50 === 0) peak = Math.max(peak, cacheReport().totalBytes);
    }
    expect(peak).toBeLessThanOrEqual(16 * 1024);
    expect(a.cacheInfo().size + b.cacheInfo().size).toBeLessThan(128); // under the count bound: bytes decided
    expect(a.cacheInfo().evictions).toBeGreaterThan(900);
    a(vec(1)); // evicted long ago, by the byte budget
    expect(a.cacheInfo().lastMiss!.reason).toBe("this specialization was evicted from the cache (budget: config.jitCacheMaxBytes 16384 bytes, all caches together)");
  });

  it("config rejects a bad byte budget", () => {
    expect(() => config.update({ jitCacheMaxBytes: -1 })).toThrow(/jitCacheMaxBytes must be/);
  });
});

describe("strict jit options", () => {
  it("a typo gets a did-you-mean, fullGraph included", () => {
    const id = (x: Tensor) => x;
    expect(() => jit(id, { fulGraph: true } as never)).toThrow('jit: unknown option "fulGraph". Did you mean "fullGraph"? Valid options: staticArgnums, name, shapes, constraints, fullGraph.');
    expect(() => jit(id, { static_argnums: [0] } as never)).toThrow(/Did you mean "staticArgnums"\?/);
  });

  it("donate_argnums is rejected with a clear error pointing to donateArgnums (test/memory-donate.test.ts)", () => {
    expect(() => jit((x: Tensor) => x, { donate_argnums: [0] } as never)).toThrow(ArgumentError);
    expect(() => jit((x: Tensor) => x, { donate_argnums: [0] } as never)).toThrow(/jit: donate_argnums is not supported: donate arguments by index with donateArgnums/);
  });

  it("NanError is exported and is an AdgenError", () => {
    expect(new NanError("x")).toBeInstanceOf(AdgenError);
  });
});

describe("staged compile: lower(...).compile() with cost and memory analysis", () => {
  it("counts flops, transcendentals and bytes per kernel and in total (closed forms)", () => {
    config.update({ backend: "js" });
    const f = jit((x: Tensor, w: Tensor) => np.sum(np.tanh(np.matmul(x, w))), { name: "layer" });
    const x = np.ones([8, 4]).astype("float32");
    const w = np.ones([4, 3]).astype("float32");
    const c = f.lower(x, w).compile();
    const cost = c.costAnalysis();
    // matmul: 2*M*N*K = 2*8*3*4; tanh: one transcendental per element (24); sum: one flop per element read (24)
    expect(cost.totalNumbers).toEqual({ flops: 2 * 8 * 3 * 4 + 24, transcendentals: 24, bytesRead: 4 * (32 + 12) + 4 * 24, bytesWritten: 4 * 24 + 4 });
    expect(cost.kernels.map((k) => [k.kind, k.primitives.join(" ")])).toEqual([
      ["dot", "dot_general"],
      ["reduce", "tanh reduce_sum"],
    ]);
    const m = c.memoryAnalysis();
    expect(m).toEqual({ arenaBytes: 96, residualBytes: "0", inputBytes: "176", outputBytes: "4", constantBytes: "0", peakLiveBytes: "276" });
    expect(Array.from((c.callWith(x, w) as Tensor).data)).toEqual(Array.from((f(x, w) as Tensor).data));
    expect(() => c.callWith(np.ones([3, 4]).astype("float32"), w)).toThrow("jit(layer).lower(...).compile(): called with f32[3,4], f32[4,3] but it was compiled for f32[8,4], f32[4,3]");
    expect(c.toString()).toBe(
      [
        "Compiled(layer: float32[8,4], float32[4,3]): 2 kernels",
        "  kernel 0 dot (dot_general): flops 192, transcendentals 0, read 176 B, written 96 B",
        "  kernel 1 reduce (tanh reduce_sum): flops 24, transcendentals 24, read 96 B, written 4 B",
        "  total: flops 216, transcendentals 24, read 272 B, written 100 B",
        "  memory: arena 96 B, inputs 176 B, outputs 4 B, constants 0 B, residuals 0 B, peak live <= 276 B",
      ].join("\n"),
    );
  });

  it("formulas in the symbolic dims of jit(f, {shapes})", () => {
    const g = jit((x: Tensor) => np.sum(np.exp(x)), { name: "sym", shapes: [["B", 3]] });
    const c = g.lower(np.ones([5, 3])).compile();
    expect(c.costAnalysis().total).toEqual({ flops: "3*B", transcendentals: "3*B", bytesRead: "12*B", bytesWritten: "4" });
    expect(c.costAnalysis().totalNumbers).toBeNull();
    expect(c.memoryAnalysis().arenaBytes).toBeNull();
    const y = c.callWith(np.ones([7, 3])) as Tensor;
    expect(y.data[0]).toBeCloseTo(21 * Math.E, 4);
  });

  it("reports the residuals a gradient inside the function saves", () => {
    const h = jit(grad((x: Tensor) => np.sum(np.sin(np.sin(x)))), { name: "gs" });
    const m = h.lower(np.ones([10])).compile().memoryAnalysis();
    expect(m.residualBytes).toBe(String(h.lower(np.ones([10])).residuals().reduce((n, r) => n + r.bytes, 0)));
    expect(Number(m.residualBytes)).toBeGreaterThan(0);
  });
});

describe("timeline (config.traceFile)", () => {
  it("writes Chrome trace-event JSON: cache instants, compile stage spans in order, run spans", () => {
    const dir = mkdtempSync(join(tmpdir(), "adgen-timeline-"));
    try {
      const file = join(dir, "trace.json");
      clearTimeline();
      config.update({ traceFile: file, interpretBelowWork: 0, backend: "js" });
      const f = jit((x: Tensor) => np.sum(np.tanh(x)), { name: "tl" });
      f(vec(10));
      f(vec(10));
      f(vec(12));
      expect(flushTimeline()).toBe(file);
      const doc = JSON.parse(readFileSync(file, "utf8")) as { traceEvents: Record<string, unknown>[]; displayTimeUnit: string };
      expect(doc.displayTimeUnit).toBe("ms");
      // the Trace Event Format: name, cat, ph, ts (us), pid, tid; "X" has dur >= 0; "i" has scope s
      for (const e of doc.traceEvents) {
        expect(typeof e["name"]).toBe("string");
        expect(typeof e["cat"]).toBe("string");
        expect(["X", "i"]).toContain(e["ph"]);
        expect(Number.isFinite(e["ts"])).toBe(true);
        expect(Number.isInteger(e["pid"]) && Number.isInteger(e["tid"])).toBe(true);
        if (e["ph"] === "X") expect(e["dur"] as number).toBeGreaterThanOrEqual(0);
        else expect(["g", "p", "t"]).toContain(e["s"]);
      }
      // track 1: cache events, the per-stage summary and runs; track 2: every measured compile phase
      const main = doc.traceEvents.filter((e) => e["tid"] === 1);
      const phases = doc.traceEvents.filter((e) => e["tid"] === 2) as { name: string; cat: string; ts: number; dur: number }[];
      const names = main.map((e) => e["name"]);
      expect(names).toEqual([
        "cache miss jit(tl)", "trace jit(tl)", "optimize jit(tl)", "codegen jit(tl)", "run jit(tl)",
        "cache hit jit(tl)", "run jit(tl)",
        "cache miss jit(tl)", "trace jit(tl)", "optimize jit(tl)", "codegen jit(tl)", "run jit(tl)",
      ]);
      expect(main[7]!["args"]).toEqual({ reason: "arg 0 shape [10] -> [12]" });
      // each compile's phases: the trace, every optimization pass, lowering, planning, JS codegen
      expect(phases.every((e) => e.cat === "phase")).toBe(true);
      const phaseNames = new Set(phases.map((e) => e.name));
      for (const n of ["trace", "simplify", "fold", "cse", "dce", "lower", "plan", "codegen-js", "js-eval"]) expect(phaseNames.has(n)).toBe(true);
      expect(phases.filter((e) => e.name === "trace").length).toBe(2); // two compiles
      // every phase lies inside the process's compile work: after the first miss, before the last run ends
      const first = main[0] as { ts: number };
      const last = main[main.length - 1] as { ts: number; dur: number };
      for (const e of phases) expect(e.ts >= first.ts && e.ts + e.dur <= last.ts + last.dur).toBe(true);
      // the stages of one compile follow each other
      const [tr, op, cg] = main.slice(1, 4) as { ts: number; dur: number }[];
      expect(op!.ts).toBeCloseTo(tr!.ts + tr!.dur, 6);
      expect(cg!.ts).toBeCloseTo(op!.ts + op!.dur, 6);
    } finally {
      config.update({ traceFile: null });
      clearTimeline();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a bad traceFile", () => {
    expect(() => config.update({ traceFile: "" })).toThrow(/traceFile must be a non-empty file path or null/);
  });
});

describe("recompile stance (config.recompileLimit, onRecompileLimit)", () => {
  it('"error" throws a RecompileError listing every miss', () => {
    config.update({ recompileLimit: 2, onRecompileLimit: "error" });
    const f = jit((x: Tensor) => np.sin(x), { name: "stance" });
    for (const n of [1, 2, 3]) f(vec(n));
    f(vec(2)); // a hit is never limited
    expect(() => f(vec(4))).toThrow(RecompileError);
    let msg = "";
    try {
      f(vec(5));
    } catch (e) {
      msg = (e as Error).message.split("\n  at ")[0]!;
    }
    expect(msg).toBe(
      [
        "jit(stance) recompiled 4 times, more than config.recompileLimit 2; its misses:",
        "  1. first call",
        "  2. arg 0 shape [1] -> [2]",
        "  3. arg 0 shape [2] -> [3]",
        "  4. arg 0 shape [2] -> [4]", // against the closest entry, [2] (used last)
        "  5. arg 0 shape [2] -> [5]",
      ].join("\n"),
    );
  });

  it('"interpret" runs new keys eagerly: same values, no new entries', () => {
    config.update({ recompileLimit: 1, onRecompileLimit: "interpret", explainCacheMisses: false });
    const f = jit((x: Tensor) => np.multiply(np.sin(x), 2), { name: "eager" });
    for (let n = 1; n <= 6; n++) {
      const y = f(vec(n)) as Tensor;
      expect(Array.from(y.data)).toEqual(Array.from((np.multiply(np.sin(vec(n)), 2) as Tensor).data));
    }
    expect(f.cacheInfo().size).toBe(2);
    expect(events.filter((e) => e.kind === "recompile-warning").map((e) => e.message)).toContain(
      'jit(eager) recompiled 2 times, more than config.recompileLimit 1: running new keys eagerly (op by op) from now on (config.onRecompileLimit "interpret")',
    );
  });

  it('"warn" logs the history once and keeps compiling', () => {
    config.update({ recompileLimit: 1, onRecompileLimit: "warn", explainCacheMisses: false, recompileWarnAfter: Infinity });
    const f = jit((x: Tensor) => np.cos(x), { name: "w" });
    for (let n = 1; n <= 5; n++) f(vec(n));
    expect(f.cacheInfo().size).toBe(5);
    const warns = events.filter((e) => e.kind === "recompile-warning");
    expect(warns).toHaveLength(1);
    expect(warns[0]!.message).toMatch(/^jit\(w\) recompiled 2 times, more than config.recompileLimit 1; its misses:\n  1\. first call\n  2\. arg 0 shape \[1\] -> \[2\]\n  3\. arg 0 shape \[2\] -> \[3\]$/);
  });
});
