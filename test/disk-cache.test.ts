// The persistent jit compile cache (config.cacheDir): a second process loads what the first one
// compiled and gets the same results; corrupt, truncated and foreign files are ignored and
// replaced; the directory stays under config.cacheMaxBytes by evicting least recently used
// entries; two processes writing one directory at once leave only valid entries; a changed
// captured value is noticed (trace mode) or, with cacheTrustSource, tracing is skipped.

import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Jitted, Tensor, config, customJvp, grad, jit, lax, np } from "../src/index.js";
import { NanError } from "../src/backends/interp/interpret.js";
import type { LogEvent } from "../src/core/config.js";
import { tensor } from "./util/check.js";
import { CACHE_SUBDIR } from "../src/jit/disk-cache.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const saved = { ...config };
let events: LogEvent[] = [];
let dir = "";

beforeEach(() => {
  events = [];
  dir = mkdtempSync(path.join(tmpdir(), "adgen-disk-cache-"));
  config.update({ cacheDir: dir, interpretBelowWork: 0, autoGeneralizeShapes: false, logCompiles: true, logger: (e) => events.push(e) });
});
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
  rmSync(dir, { recursive: true, force: true });
});

/** Every jit here is created on this line: in-process "restarts" share the jit creation site. */
const mk = (f: (...a: any[]) => any, name = "t"): Jitted => jit(f, { name });

/** the cache's own subfolder of cacheDir (the only place it writes) */
const own = () => path.join(dir, CACHE_SUBDIR);
const entries = () => (existsSync(own()) ? readdirSync(own()) : []).filter((n) => n.endsWith(".adgc"));
const x4 = () => tensor([0.5, -1, 2, 0.25, 3, -0.75, 1.5, 0.1, -2, 1, 0, 0.3], [3, 4]);
const f1 = (x: Tensor) => np.sum(np.tanh(np.matmul(x, np.transpose(x))), { axis: 0 });
const lastPath = (j: Jitted) => j.cacheInfo().disk.last;

describe("disk cache in one process (a new jit instance stands for a new process)", () => {
  it("stores on the first compile, loads it afterwards (same values) and logs the path taken", () => {
    const a = mk(f1);
    const ya = a(x4()) as Tensor;
    expect(lastPath(a)).toBe("stored");
    expect(entries()).toHaveLength(1);
    const b = mk(f1);
    const yb = b(x4()) as Tensor;
    expect(lastPath(b)).toBe("loaded");
    expect(b.cacheInfo().traces).toBe(1); // trace mode still traces
    expect(Array.from(yb.data)).toEqual(Array.from(ya.data));
    const msgs = events.filter((e) => e.kind === "compile").map((e) => e.message);
    expect(msgs[0]).toContain("written to disk cache");
    expect(msgs[1]).toContain("loaded from disk cache");
  });

  it("keys include the jit creation site: wrappers that print alike (grad(f), grad(g)) get separate entries", () => {
    const lossA = (x: Tensor) => np.sum(np.sin(x));
    const lossB = (x: Tensor) => np.sum(np.exp(x));
    expect(grad(lossA).toString()).toBe(grad(lossB).toString());
    const ga = jit(grad(lossA), { name: "g" });
    const gb = jit(grad(lossB), { name: "g" });
    ga(x4());
    gb(x4());
    expect([lastPath(ga), lastPath(gb)]).toEqual(["stored", "stored"]);
    expect(entries()).toHaveLength(2);
  });

  it("a truncated or garbled entry is ignored, recompiled (still correct) and replaced", () => {
    const expected = Array.from((mk(f1)(x4()) as Tensor).data);
    const file = path.join(own(), entries()[0]!);
    const good = readFileSync(file);
    const damage: [string, () => void][] = [
      ["truncated", () => truncateSync(file, Math.floor(good.length / 2))],
      ["garbled", () => writeFileSync(file, Buffer.from(good).fill(0x41, good.length - 200, good.length - 150))],
      ["empty", () => writeFileSync(file, "")],
      ["header only", () => writeFileSync(file, good.subarray(0, good.indexOf(10, 20) + 1))],
    ];
    for (const [what, hurt] of damage) {
      hurt();
      const j = mk(f1);
      expect(Array.from((j(x4()) as Tensor).data), what).toEqual(expected);
      expect(lastPath(j), what).toBe("ignored");
      expect(j.cacheInfo().disk.writes, what).toBe(1);
      expect(readFileSync(file).equals(good), `${what}: file replaced by a valid entry`).toBe(true);
      const again = mk(f1);
      again(x4());
      expect(lastPath(again), what).toBe("loaded");
    }
  });

  it("a foreign file (valid JSON, another format, or another key's entry) is ignored", () => {
    const expected = Array.from((mk(f1)(x4()) as Tensor).data);
    const f2 = (x: Tensor) => np.exp(np.multiply(x, 0.5));
    mk(f2)(x4());
    const files = entries().map((n) => path.join(own(), n));
    const f1File = files.find((p) => readFileSync(p, "utf8").includes("tanh"))!;
    const f2File = files.find((p) => p !== f1File)!;
    writeFileSync(f1File, JSON.stringify({ format: "something-else", version: 1, data: [1, 2, 3] }));
    let j = mk(f1);
    expect(Array.from((j(x4()) as Tensor).data)).toEqual(expected);
    expect(lastPath(j)).toBe("ignored");
    // a valid entry of another specialization under this key's name
    copyFileSync(f2File, f1File);
    j = mk(f1);
    expect(Array.from((j(x4()) as Tensor).data)).toEqual(expected);
    expect(lastPath(j)).toBe("ignored");
    expect(events.some((e) => e.kind === "disk-cache" && /different key/.test(e.message))).toBe(true);
  });

  it("keeps the directory under cacheMaxBytes by evicting the least recently used entries", () => {
    const f = (x: Tensor) => np.sum(np.sin(x), { axis: 1 });
    const at = (n: number) => tensor(Array.from({ length: n * 4 }, (_, i) => i / 7), [n, 4]);
    // file mtimes order the entries: keep operations apart by more than the clock granularity
    const pause = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    const fileOf = new Map<number, string>();
    const lru: number[] = []; // the model: least recently used first
    for (let n = 1; n <= 8; n++) {
      const before = new Set(entries());
      mk(f)(at(n));
      fileOf.set(n, entries().find((e) => !before.has(e)) ?? "");
      lru.push(n);
      if (n === 1) config.update({ cacheMaxBytes: Math.floor(statSync(path.join(own(), fileOf.get(1)!)).size * 3.5) });
      while (lru.length > 3) lru.shift();
      const total = entries().reduce((s, e) => s + statSync(path.join(own(), e)).size, 0);
      expect(total).toBeLessThanOrEqual(config.cacheMaxBytes);
      expect(new Set(entries())).toEqual(new Set(lru.map((k) => fileOf.get(k)!)));
      pause();
      if (n === 5) {
        // a hit on the oldest entry makes it the most recently used: entry 4 goes next instead
        const j = mk(f);
        j(at(3));
        expect(lastPath(j)).toBe("loaded");
        lru.push(...lru.splice(lru.indexOf(3), 1));
        pause();
      }
    }
    expect(lru).toEqual([6, 7, 8]);
  });

  it("the LRU touch keeps a recently loaded entry alive", () => {
    const f = (x: Tensor) => np.cos(x);
    const at = (n: number) => tensor(Array.from({ length: n }, (_, i) => i), [n]);
    mk(f)(at(1));
    const first = entries()[0]!;
    const size = statSync(path.join(own(), first)).size;
    config.update({ cacheMaxBytes: Math.floor(size * 2.5) });
    const old = Date.now() / 1000 - 1000;
    utimesSync(path.join(own(), first), old, old);
    mk(f)(at(2));
    for (const e of entries()) if (e !== first) utimesSync(path.join(own(), e), old + 1, old + 1);
    const j = mk(f);
    j(at(1)); // hit: touched, now the most recent
    expect(lastPath(j)).toBe("loaded");
    mk(f)(at(3)); // over the bound: the entry for size 2 goes
    expect(entries()).toContain(first);
    expect(entries()).toHaveLength(2);
  });

  it("notices a changed captured value (same source text) and recompiles", () => {
    const scaled = (c: number) => (x: Tensor) => np.multiply(np.sin(x), c);
    const withConst = (w: number[]) => {
      const t = tensor(w, [4]);
      return (x: Tensor) => np.add(x, t);
    };
    const a = mk(scaled(2));
    const x = x4();
    expect(Array.from((a(x) as Tensor).data)).toEqual(Array.from((np.multiply(np.sin(x), 2) as Tensor).data));
    const b = mk(scaled(3));
    expect(Array.from((b(x) as Tensor).data)).toEqual(Array.from((np.multiply(np.sin(x), 3) as Tensor).data));
    expect(lastPath(b)).toBe("stale");
    expect(events.some((e) => e.kind === "compile" && e.message.includes("disk cache stale: recompiled"))).toBe(true);
    const c = mk(scaled(3));
    c(x);
    expect(lastPath(c)).toBe("loaded");
    // a captured tensor: its bytes are part of the program hash
    mk(withConst([1, 2, 3, 4]))(x);
    const d = mk(withConst([1, 2, 3, 5]));
    expect(Array.from((d(x) as Tensor).data)).toEqual(Array.from((np.add(x, tensor([1, 2, 3, 5], [4])) as Tensor).data));
    expect(lastPath(d)).toBe("stale");
  });

  it("cacheTrustSource: in one process only the first jit object of a key skips tracing (issue 9.4); others trace and are checked", () => {
    // trusted (untraced) hits of a first jit object in a fresh process: see "across processes" below
    const scaled = (c: number) => (x: Tensor) => np.multiply(np.sin(x), c);
    const x = x4();
    mk(scaled(2))(x);
    config.update({ cacheTrustSource: true });
    const j = mk(scaled(2));
    const y = j(x) as Tensor;
    expect([j.cacheInfo().traces, lastPath(j)]).toEqual([1, "loaded"]); // equal program: shared
    expect(Array.from(y.data)).toEqual(Array.from((np.multiply(np.sin(x), 2) as Tensor).data));
    // a different captured number with the same source text is noticed
    const k = mk(scaled(5));
    expect(Array.from((k(x) as Tensor).data)).toEqual(Array.from((np.multiply(np.sin(x), 5) as Tensor).data));
    expect(lastPath(k)).toBe("stale");
    // bound functions all print as "[native code]": never trusted, always traced and checked
    const mul = (c: number, x: Tensor) => np.multiply(np.cos(x), c);
    mk(mul.bind(null, 2))(x);
    const bound = mk(mul.bind(null, 4));
    expect(Array.from((bound(x) as Tensor).data)).toEqual(Array.from((np.multiply(np.cos(x), 4) as Tensor).data));
    expect([bound.cacheInfo().traces, lastPath(bound)]).toEqual([1, "stale"]);
    // a miss still traces, compiles and stores
    const m = mk((x: Tensor) => np.tanh(x));
    m(x);
    expect(m.cacheInfo().traces).toBe(1);
    expect(lastPath(m)).toBe("stored");
  });

  it("round-trips symbolic shapes, call kernels (scan) and pytree outputs", () => {
    const poly = (x: Tensor) => ({ s: np.sum(np.multiply(x, x), { axis: 1 }), m: np.mean(x) });
    const mkPoly = () => jit(poly, { name: "poly", shapes: [["B", 4]] });
    const xs = [2, 5].map((n) => tensor(Array.from({ length: n * 4 }, (_, i) => Math.sin(i)), [n, 4]));
    const want = xs.map((x) => mkPoly()(x) as { s: Tensor; m: Tensor });
    const p = mkPoly();
    xs.forEach((x, i) => {
      const got = p(x) as { s: Tensor; m: Tensor };
      expect(got.s.shape).toEqual(want[i]!.s.shape);
      expect(Array.from(got.s.data)).toEqual(Array.from(want[i]!.s.data));
      expect(got.m.item()).toBe(want[i]!.m.item());
    });
    expect(lastPath(p)).toBe("loaded");
    const cum = (x: Tensor) => lax.scan((c: Tensor, v: Tensor) => [np.add(c, v), np.multiply(c, v)], np.zeros([4], { dtype: "float64" }), x);
    const [c0, y0] = mk(cum)(x4()) as [Tensor, Tensor];
    const s = mk(cum);
    const [c1, y1] = s(x4()) as [Tensor, Tensor];
    expect(lastPath(s)).toBe("loaded");
    expect(Array.from(c1.data)).toEqual(Array.from(c0.data));
    expect(Array.from(y1.data)).toEqual(Array.from(y0.data));
  });

  it("does not store programs holding JS closures or identity-keyed static arguments (logged, not an error)", () => {
    const sq = customJvp((x: Tensor) => np.multiply(x, x), {
      jvp: ([x], [t]) => [np.multiply(x, x), np.multiply(np.multiply(x, 2), t)],
    });
    const viaScan = (x: Tensor) => lax.scan((c: Tensor, v: Tensor) => [np.add(c, sq(v)), c], np.zeros([4], { dtype: "float64" }), x)[0];
    const j = mk(viaScan);
    const want = Array.from((viaScan(x4()) as Tensor).data);
    expect(Array.from((j(x4()) as Tensor).data)).toEqual(want);
    const statik = jit((x: Tensor, g: (t: Tensor) => Tensor) => g(x), { staticArgnums: [1] });
    statik(x4(), np.sin);
    expect(lastPath(statik)).toBe("uncacheable");
    expect(events.filter((e) => e.kind === "disk-cache").every((e) => e["level"] === "debug")).toBe(true);
    for (const e of entries()) expect(readFileSync(path.join(own(), e), "utf8")).not.toContain("custom_jvp");
  });

  it("a loaded entry keeps its optimized program for the interpreter (debugNans names the equation)", () => {
    const f = (x: Tensor) => np.sum(np.log(np.subtract(x, 1)));
    mk(f)(x4());
    const j = mk(f);
    config.update({ debugNans: true });
    expect(() => j(x4())).toThrow(NanError);
    expect(() => j(x4())).toThrow(/log produced a NaN/);
    expect(lastPath(j)).toBe("loaded");
  });

  it("stores a cold (interpreted) program once it is promoted to generated code", () => {
    config.update({ interpretBelowWork: 1e9, hotCalls: 2 });
    const j = mk((x: Tensor) => np.sin(np.cos(x)));
    j(x4());
    expect(entries()).toHaveLength(0);
    j(x4());
    expect(entries()).toHaveLength(1);
    const k = mk((x: Tensor) => np.sin(np.cos(x)));
    k(x4());
    expect(lastPath(k)).toBe("loaded");
  });

  it("leaves no temp files and is off without cacheDir", () => {
    mk(f1)(x4());
    expect(readdirSync(own()).filter((n) => !n.endsWith(".adgc"))).toEqual([]);
    config.update({ cacheDir: null });
    const j = mk((x: Tensor) => np.log1p(np.abs(x)));
    j(x4());
    expect(j.cacheInfo().disk).toEqual({ loads: 0, stale: 0, ignored: 0, writes: 0 });
  });
});

// ---- across processes ------------------------------------------------------------------------

const CHILD = `
import { config, jit, np, lax } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "src/index.ts")).href)};
const [dir, mode, which] = process.argv.slice(2);
config.update({ cacheDir: dir, cacheTrustSource: mode === "trust", interpretBelowWork: 0, autoGeneralizeShapes: false });
const fns = {
  f: (x) => np.sum(np.tanh(np.matmul(x, np.transpose(x))), { axis: 0 }),
  g: (x) => np.exp(np.multiply(np.sin(x), 0.5)),
  h: (x) => lax.scan((c, v) => [np.add(c, v), np.multiply(c, v)], np.zeros([x.shape[1]]), x),
};
const report = [];
if (which === "fight") {
  // one key (same source text and site), a different captured number per process: every load in
  // one process finds the other's entry stale and rewrites it
  const c = Number(process.argv[5]);
  const x = np.array(Float32Array.from({ length: 64 }, (_, i) => Math.cos(i))).reshape([8, 8]);
  const want = Array.from(np.multiply(np.sin(x), c).dataSync());
  // start together (a file barrier: each announces itself and waits for the other, however long
  // the import took under load), then fight for 0.7 s and until the other's entry was found
  // stale at least once (at most 20 s: the test then fails on its overlap assertion)
  const { existsSync, writeFileSync } = await import("node:fs");
  writeFileSync(dir + "/ready-" + c, "");
  const other = dir + "/ready-" + (c === 2 ? 3 : 2);
  const waitStart = Date.now();
  while (!existsSync(other) && Date.now() < waitStart + 60000);
  const start = Date.now();
  let stale = 0;
  for (let i = 0; Date.now() < start + 700 || (stale === 0 && Date.now() < start + 20000); i++) {
    const j = jit((x) => np.multiply(np.sin(x), c), { name: "fight" });
    const y = Array.from(j(x).dataSync());
    const ok = y.every((v, k) => Math.abs(v - want[k]) <= 1e-6);
    if (j.cacheInfo().disk.last === "stale") stale++;
    report.push({ name: "fight", n: i, path: j.cacheInfo().disk.last, traces: 1, value: [ok ? 1 : 0] });
  }
}
for (const name of which === "fight" ? [] : which.split(",")) {
  for (const n of [3, 8, 17]) {
    const x = np.array(Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37))).reshape([n, n]);
    const j = jit(fns[name], { name });
    const y = j(x);
    const flat = (Array.isArray(y) ? y : [y]).flatMap((t) => Array.from(t.dataSync()));
    const info = j.cacheInfo();
    report.push({ name, n, path: info.disk.last, traces: info.traces, value: flat });
  }
}
process.stdout.write("\\nRESULT=" + JSON.stringify(report) + "\\n");
`;

interface Row {
  name: string;
  n: number;
  path: string;
  traces: number;
  value: number[];
}

function child(script: string, args: string[]): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const m = /RESULT=(.*)/.exec(stdout);
      if (err || !m) reject(new Error(`child failed: ${err?.message ?? ""} ${stderr.slice(-800)}`));
      else resolve(JSON.parse(m[1]!) as Row[]);
    });
  });
}

describe("disk cache across processes", () => {
  const script = () => {
    const p = path.join(dir, "..", `${path.basename(dir)}-child.mts`);
    writeFileSync(p, CHILD);
    return p;
  };

  it("a second process loads what the first compiled and gets equal results (trace and trust modes)", async () => {
    const s = script();
    try {
      const cold = await child(s, [dir, "trace", "f,h"]);
      expect(cold.map((r) => r.path)).toEqual(cold.map(() => "stored"));
      const warm = await child(s, [dir, "trace", "f,h"]);
      expect(warm.map((r) => r.path)).toEqual(warm.map(() => "loaded"));
      expect(warm.map((r) => r.value)).toEqual(cold.map((r) => r.value));
      const trusted = await child(s, [dir, "trust", "f,h"]);
      expect(trusted.map((r) => [r.path, r.traces])).toEqual(trusted.map(() => ["trusted", 0]));
      expect(trusted.map((r) => r.value)).toEqual(cold.map((r) => r.value));
    } finally {
      rmSync(s, { force: true });
    }
  });

  it("two processes writing one directory at once both succeed and leave valid entries", async () => {
    const s = script();
    try {
      const [a, b] = await Promise.all([child(s, [dir, "trace", "f,g"]), child(s, [dir, "trace", "g,h,f"])]);
      for (const r of [...a, ...b]) expect(["stored", "loaded"]).toContain(r.path);
      const same = (x: Row[], y: Row[]) => x.forEach((r) => y.filter((q) => q.name === r.name && q.n === r.n).forEach((q) => expect(q.value).toEqual(r.value)));
      same(a, b);
      expect(readdirSync(own()).filter((n) => !n.endsWith(".adgc"))).toEqual([]);
      expect(entries()).toHaveLength(9);
      const check = await child(s, [dir, "trace", "f,g,h"]);
      expect(check.map((r) => r.path)).toEqual(check.map(() => "loaded"));
      same(check, [...a, ...b]);
    } finally {
      rmSync(s, { force: true });
    }
  });

  it("two processes rewriting the same entry at once never read a torn file", async () => {
    const s = script();
    try {
      const [a, b] = await Promise.all([child(s, [dir, "trace", "fight", "2"]), child(s, [dir, "trace", "fight", "3"])]);
      for (const r of [...a, ...b]) {
        expect(r.value).toEqual([1]); // correct result every time
        expect(["stored", "loaded", "stale"]).toContain(r.path); // never "ignored" (a partial file)
      }
      // they did overlap: each found the other's entry at least once
      expect(a.filter((r) => r.path === "stale").length).toBeGreaterThan(0);
      expect(b.filter((r) => r.path === "stale").length).toBeGreaterThan(0);
      expect(entries()).toHaveLength(1);
      expect(readdirSync(own()).filter((n) => !n.endsWith(".adgc"))).toEqual([]);
    } finally {
      rmSync(s, { force: true });
      for (const c of [2, 3]) rmSync(path.join(dir, `ready-${c}`), { force: true });
    }
  });
});
