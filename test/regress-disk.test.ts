// Regressions of issue 9 for the jit disk cache and file handling: cacheTrustSource never lets two
// jits of one factory share an entry they should not (9.4); eviction and clearing touch only the
// files the cache created (foreign files in a shared directory survive); every path operation
// fails fast on /proc, /sys and /dev, and a FIFO is never read (each run in a child process with a
// timeout, so a regression fails instead of hanging the test runner).

import { execFile, execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Jitted, type Tensor, config, grad, jit, np } from "../src/index.js";
import { CACHE_SUBDIR, clearDiskCache } from "../src/jit/disk-cache.js";
import { tensor } from "./util/check.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const ENTRY = pathToFileURL(path.join(ROOT, "src/index.ts")).href;
const saved = { ...config };
let dir = "";

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "adgen-regress-disk-"));
  config.update({ cacheDir: dir, interpretBelowWork: 0, autoGeneralizeShapes: false });
});
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
  rmSync(dir, { recursive: true, force: true });
});

const own = () => path.join(dir, CACHE_SUBDIR);
/** the cache's entries: regular files named like its entries in its folder */
const ownEntries = () => (existsSync(own()) ? readdirSync(own()).filter((n) => /^adgen-[0-9a-f]{40}\.adgc$/.test(n) && lstatSync(path.join(own(), n)).isFile()) : []);
const xs = [0.3, -1.2, 2.5, 0.7];
const x = () => tensor(xs, [4]);
const values = (t: unknown) => Array.from((t as Tensor).data);
const near = (got: number[], want: number[]) => got.forEach((g, i) => expect(Math.abs(g - want[i]!), `element ${i}: ${g} vs ${want[i]}`).toBeLessThan(1e-5));

/** One factory, one jit call site: every step shares source text, name and creation site. */
const makeStep = (loss: (x: Tensor) => Tensor): Jitted => jit(grad(loss), { name: "step" });
const lossA = (v: Tensor) => np.sum(np.sin(v));
const lossB = (v: Tensor) => np.sum(np.exp(v));

function node(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", TSX, ...args], { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code: err && (err as { killed?: boolean }).killed ? -9 : code, stdout, stderr });
    });
  });
}

describe("issue 9.4: cacheTrustSource and jits made by one factory", () => {
  it("issue 9.4: cacheTrustSource: makeStep(lossA) and makeStep(lossB) at one call site return their own gradients in one process", () => {
    config.update({ cacheTrustSource: true });
    const stepA = makeStep(lossA);
    const stepB = makeStep(lossB);
    near(values(stepA(x())), xs.map(Math.cos)); // closed forms: d/dx sum(sin x) = cos x
    near(values(stepB(x())), xs.map(Math.exp));
    expect(stepB.cacheInfo().traces).toBe(1); // the second jit object of the key traced
    expect(stepB.cacheInfo().disk.last).toBe("stale"); // ... and saw that the entry is another program
    // a third step of the same key (in this process, or any later one) is traced and checked too
    const stepA2 = makeStep(lossA);
    near(values(stepA2(x())), xs.map(Math.cos));
    expect(stepA2.cacheInfo().traces).toBe(1);
    // the same function jitted twice still shares the entry once its program is proven equal
    const stepB2 = makeStep(lossB);
    near(values(stepB2(x())), xs.map(Math.exp));
    expect(ownEntries()).toHaveLength(1);
  });

  it("issue 9.4: across processes, a key seen to map to two programs is never trusted again; a key that never varied still is", async () => {
    const script = path.join(dir, "..", `${path.basename(dir)}-step.mts`);
    writeFileSync(
      script,
      `import { config, grad, jit, np } from ${JSON.stringify(ENTRY)};
const [cacheDir, which] = process.argv.slice(2);
config.update({ cacheDir, cacheTrustSource: true, interpretBelowWork: 0, autoGeneralizeShapes: false });
const losses = { A: (v) => np.sum(np.sin(v)), B: (v) => np.sum(np.exp(v)), C: (v) => np.sum(np.tanh(v)) };
const makeStep = (loss) => jit(grad(loss), { name: "step" });
const out = [];
for (const k of which.split(",")) {
  const s = makeStep(losses[k]);
  const g = Array.from(s(np.array(${JSON.stringify(xs)})).dataSync());
  out.push({ k, g, traces: s.cacheInfo().traces, path: s.cacheInfo().disk.last });
}
process.stdout.write("RESULT=" + JSON.stringify(out) + "\\n");
`,
    );
    const run = async (which: string) => {
      const r = await node([script, dir, which]);
      const m = /RESULT=(.*)/.exec(r.stdout);
      if (!m) throw new Error(`child failed (${r.code}): ${r.stderr.slice(-600)}`);
      return JSON.parse(m[1]!) as { k: string; g: number[]; traces: number; path: string }[];
    };
    const want: Record<string, number[]> = { A: xs.map(Math.cos), B: xs.map(Math.exp), C: xs.map((v) => 1 - Math.tanh(v) ** 2) };
    try {
      // process 1: both steps (the entry ends up holding B's program, marked as varying)
      for (const r of await run("A,B")) near(r.g, want[r.k]!);
      // process 2 makes only step A: without the mark it would trust B's program
      const [a] = await run("A");
      near(a!.g, want.A!);
      expect([a!.traces, a!.path]).toEqual([1, "stale"]);
      rmSync(own(), { recursive: true, force: true });
      // a key that never varied: the first jit object of a fresh process skips tracing
      await run("C");
      const [c] = await run("C");
      near(c!.g, want.C!);
      expect([c!.traces, c!.path]).toEqual([0, "trusted"]);
    } finally {
      rmSync(script, { force: true });
    }
  });
});

describe("issue 9: the disk cache touches only the files it created", () => {
  const HEX = "0123456789abcdef0123456789abcdef01234567";
  const HOUR_AGO = Date.now() / 1000 - 3600;

  /** Foreign files a shared cacheDir may hold (also inside the cache's own folder); all old. */
  function plantForeign(): Map<string, string> {
    const files = new Map<string, string>();
    const put = (rel: string) => {
      const p = path.join(dir, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, `foreign ${rel}`);
      utimesSync(p, HOUR_AGO, HOUR_AGO);
      files.set(p, `foreign ${rel}`);
    };
    for (const rel of [
      "old.tmp",
      "upload.part.tmp",
      "x.adgc",
      `${HEX}.adgc`, // the old (v1) flat layout's name: not in the cache's folder
      `adgen-${HEX}.adgc`,
      "notes.txt",
      "other/a.tmp",
      "other/adgen-x.adgc",
      `${CACHE_SUBDIR}/foreign.tmp`,
      `${CACHE_SUBDIR}/adgen-foo.adgc`,
      `${CACHE_SUBDIR}/adgen-${HEX}.adgc.tmp`,
      `${CACHE_SUBDIR}/readme.txt`,
      `${CACHE_SUBDIR}/keep/adgen-${HEX}.adgc`,
      `${CACHE_SUBDIR}/keep/adgen-${HEX}.adgc.1.a.tmp`,
    ])
      put(rel);
    // a link named like an entry, pointing at a foreign file: neither is deleted
    symlinkSync(path.join(dir, "notes.txt"), path.join(own(), `adgen-${HEX.replace("0", "f")}.adgc`));
    return files;
  }
  const survive = (files: Map<string, string>) => {
    for (const [p, text] of files) expect(readFileSync(p, "utf8"), p).toBe(text);
    expect(lstatSync(path.join(own(), `adgen-${HEX.replace("0", "f")}.adgc`)).isSymbolicLink()).toBe(true);
  };

  it("issue 9 (eviction): foreign *.tmp files, other names and subfolders survive eviction; only the cache's own stale temp files go", () => {
    const foreign = plantForeign();
    const ownStale = path.join(own(), `adgen-${HEX}.adgc.4242.abc.tmp`); // what a crashed writer leaves
    writeFileSync(ownStale, "partial");
    utimesSync(ownStale, HOUR_AGO, HOUR_AGO);
    const ownFresh = path.join(own(), `adgen-${HEX}.adgc.4243.abd.tmp`); // a writer active now
    writeFileSync(ownFresh, "partial");
    config.update({ cacheMaxBytes: 1 }); // every store evicts every entry
    near(values(jit((v: Tensor) => np.sin(v))(x())), xs.map(Math.sin));
    near(values(jit((v: Tensor) => np.cos(v))(x())), xs.map(Math.cos));
    expect(ownEntries()).toEqual([]);
    expect(existsSync(ownStale)).toBe(false);
    expect(existsSync(ownFresh)).toBe(true);
    survive(foreign);
  });

  it("issue 9 (clearing): clearDiskCache deletes the cache's entries only, and its folder only when nothing else is in it", () => {
    const foreign = plantForeign();
    jit((v: Tensor) => np.sin(v))(x());
    jit((v: Tensor) => np.tanh(v))(x());
    expect(ownEntries()).toHaveLength(2);
    expect(clearDiskCache(dir)).toBe(2);
    expect(ownEntries()).toEqual([]);
    survive(foreign);
    expect(existsSync(own())).toBe(true); // foreign files inside: kept
    rmSync(own(), { recursive: true });
    jit((v: Tensor) => np.sin(v))(x());
    expect(clearDiskCache(dir)).toBe(1);
    expect(existsSync(own())).toBe(false);
    expect(existsSync(path.join(dir, "notes.txt"))).toBe(true);
  });

  it("issue 9 (clearing): adgen cache clear <dir> deletes the cache's entries and nothing else", async () => {
    const foreign = plantForeign();
    jit((v: Tensor) => np.sin(v))(x());
    expect(ownEntries()).toHaveLength(1);
    const r = await node([path.join(ROOT, "src/cli/main.ts"), "cache", "clear", dir]);
    expect([r.code, r.stdout.trim()]).toEqual([0, `deleted 1 file of the adgen jit cache in ${dir}`]);
    expect(ownEntries()).toEqual([]);
    survive(foreign);
    const bad = await node([path.join(ROOT, "src/cli/main.ts"), "cache", "wipe", dir]);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'adgen cache: unknown action "wipe" (adgen cache clear <cacheDir>)']);
  });
});

describe("issue 9: path operations fail fast on special file systems; FIFOs are never read", () => {
  it.runIf(process.platform === "linux")("issue 9 (/proc): cacheDir and export output under /proc, /sys, /dev and FIFO paths finish quickly with a clear error", async () => {
    const fifoDir = path.join(dir, "fifo");
    mkdirSync(fifoDir);
    const script = path.join(dir, "..", `${path.basename(dir)}-special.mts`);
    writeFileSync(
      script,
      `import { config, exportFunction, jit, np, spec } from ${JSON.stringify(ENTRY)};
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import path from "node:path";
import { CACHE_SUBDIR } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "src/jit/disk-cache.ts")).href)};
import { readRegularFile } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "src/core/fs-guard.ts")).href)};
const fifoDir = process.argv[2];
const out = {};
const attempt = (k, f) => { try { out[k] = "ok:" + JSON.stringify(f()); } catch (e) { out[k] = e.name + ": " + e.message.split("\\n")[0]; } };
for (const d of ["/proc/adgen-test/x", "/proc/self", "/sys/adgen-test", "/dev/adgen-test"]) {
  config.update({ cacheDir: d, interpretBelowWork: 0 });
  attempt("cache " + d, () => Array.from(jit((x) => np.sin(x))(np.array([1])).dataSync()));
}
config.update({ cacheDir: null });
const e = exportFunction((x) => np.sin(x), [spec("float32", [2])], { name: "f" });
for (const d of ["/proc/adgen-test/x", "/sys/adgen-test", "/dev/adgen-test"]) {
  try { await e.write(d); out["export " + d] = "ok"; } catch (err) { out["export " + d] = err.name + ": " + err.message.split("\\n")[0]; }
}
// a FIFO where the export's module file goes
execFileSync("mkfifo", [path.join(fifoDir, "f.mjs")]);
try { await e.write(fifoDir); out["export fifo"] = "ok"; } catch (err) { out["export fifo"] = err.name + ": " + err.message.split("\\n")[0]; }
attempt("read fifo", () => readRegularFile(fs, path.join(fifoDir, "f.mjs")).length);
// a FIFO where a disk-cache entry goes: the entry is recompiled and replaced, never read
const cacheDir = path.join(fifoDir, "cache");
config.update({ cacheDir, interpretBelowWork: 0 });
const mk = () => jit((x) => np.cos(x)); // one creation site: one key
mk()(np.array([1]));
const entry = fs.readdirSync(path.join(cacheDir, CACHE_SUBDIR)).find((n) => n.endsWith(".adgc"));
fs.rmSync(path.join(cacheDir, CACHE_SUBDIR, entry));
execFileSync("mkfifo", [path.join(cacheDir, CACHE_SUBDIR, entry)]);
const j = mk();
attempt("cache fifo", () => [Array.from(j(np.array([1])).dataSync()), j.cacheInfo().disk.last, fs.statSync(path.join(cacheDir, CACHE_SUBDIR, entry)).isFile()]);
process.stdout.write("RESULT=" + JSON.stringify(out) + "\\n");
`,
    );
    try {
      const r = await node([script, fifoDir]);
      const m = /RESULT=(.*)/.exec(r.stdout);
      expect(m, `child (exit ${r.code}) ${r.stderr.slice(-600)}`).not.toBeNull();
      const out = JSON.parse(m![1]!) as Record<string, string>;
      for (const d of ["/proc/adgen-test/x", "/proc/self", "/sys/adgen-test", "/dev/adgen-test"]) expect(out[`cache ${d}`]).toMatch(/^UnsafePathError: config.cacheDir: refusing ".*" is (under|on) .*pseudo file system/);
      for (const d of ["/proc/adgen-test/x", "/sys/adgen-test", "/dev/adgen-test"]) expect(out[`export ${d}`]).toMatch(/^UnsafePathError: export f: write\(.*\): refusing .*pseudo file system/);
      expect(out["export fifo"]).toMatch(/^UnsafePathError: .*f\.mjs" exists and is not a regular file/);
      expect(out["read fifo"]).toMatch(/^UnsafePathError: .* is not a regular file/);
      expect(out["cache fifo"]).toBe(`ok:${JSON.stringify([[Math.fround(Math.cos(1))], "stored", true])}`);
      expect(existsSync("/dev/adgen-test")).toBe(false);
    } finally {
      rmSync(script, { force: true });
    }
  });

  it.runIf(process.platform === "linux")("issue 9 (/proc): adgen export --out /proc/..., a FIFO module and adgen inspect of a FIFO exit 1 quickly", async () => {
    const mod = path.join(dir, "m.mjs");
    writeFileSync(mod, `import { np } from ${JSON.stringify(ENTRY)};\nexport const f = (x) => np.sin(x);\n`);
    const MAIN = path.join(ROOT, "src/cli/main.ts");
    const out = await node([MAIN, "export", mod, "--fn", "f", "--arg", "float32[3]", "--out", "/proc/adgen-test/out"], dir);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^adgen export: cannot write to \/proc\/adgen-test\/out: .*refusing "\/proc\/adgen-test\/out" is under \/proc/);
    execFileSync("mkfifo", [path.join(dir, "fifo.mjs"), path.join(dir, "fifo.manifest.json")]);
    const fifoModule = await node([MAIN, "export", path.join(dir, "fifo.mjs"), "--fn", "f", "--arg", "float32[3]", "--out", path.join(dir, "o")], dir);
    expect([fifoModule.code, fifoModule.stderr.trim()]).toEqual([1, `adgen export: ${path.join(dir, "fifo.mjs")} is not a regular file (a FIFO, device or socket); give the module file`]);
    const inspect = await node([MAIN, "inspect", path.join(dir, "fifo.manifest.json")], dir);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).toMatch(/is not a regular file/);
  });
});
