// Stages of `jit(f).lower(...).compile()` (docs/diagnostics.md): the "wasm" text stage (the one
// WebAssembly decoder, src/jit/wasm-listing.ts, labelling each kernel's function), and inserting
// a compiled stage into the jit cache in process and, serialized, in a fresh process (hit without
// tracing, same values; foreign, corrupt or mismatched bytes refused).

import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ArgumentError, type Tensor, config, jit, np, profileKernels } from "../src/index.js";
import { clearTimeline, timelineJson } from "../src/jit/timeline.js";

const saved = { ...config };
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
});

const WA = (globalThis as any).WebAssembly;
const step = (x: Tensor, w: Tensor) => np.sum(np.tanh(np.matmul(x, w)));
const x = np.ones([8, 4]);
const w = np.full([4, 3], 0.25);
// closed form: every entry of x @ w is 4 * 0.25 = 1
const want = 24 * Math.tanh(1);

describe('the "wasm" text stage', () => {
  it("lists the module the compiled stage runs, each kernel's function labelled, fully decoded", () => {
    config.update({ backend: "wasm" });
    const c = jit(step, { name: "step" }).lower(x, w).compile();
    const text = c.asText("wasm");
    const bytes = c.executable.wasm!.bytes;
    expect(text.startsWith(`module: ${bytes.length} bytes`)).toBe(true);
    expect(text).not.toMatch(/not decoded/);
    // imports and exports as the engine reads them
    const mod = new WA.Module(bytes);
    expect(text.split("\n").filter((l) => l.startsWith("  import ")).length).toBe(WA.Module.imports(mod).length);
    expect(text.split("\n").filter((l) => l.startsWith("  export ")).map((l) => /"(.*)"/.exec(l)![1])).toEqual(WA.Module.exports(mod).map((e: { name: string }) => e.name));
    // one labelled function per kernel, in kernel order, with what the kernel listing says it computes
    const kernels = c.lowered.text("kernels").split("\n").slice(1).map((l) => l.replace(/^ {2}kernel \d+: /, "").replace(/ {3}fuses: /, ", fuses "));
    const labels = [...text.matchAll(/;; kernel (\d+): (.*)$/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(labels).toEqual(kernels.map((k, i) => [i, k]));
    expect(kernels).toHaveLength(2);
    expect(labels[0]![1]).toMatch(/^dot float32 B=1 M=8 N=3 K=4/);
    // the dot kernel calls back into JS through the imported m.dot; run calls kernel 0 then kernel 1
    const funcs = text.split("\n  func ").slice(1);
    const kernel0 = funcs.find((f) => f.includes(";; kernel 0:"))!;
    expect(kernel0).toMatch(/call \d+ \(m\.dot\)/);
    const run = funcs.find((f) => /^\d+ "run"/.test(f))!;
    expect([...run.matchAll(/call \d+ \((kernel \d+)\)/g)].map((m) => m[1])).toEqual(["kernel 0", "kernel 1"]);
    // blocks open and close in pairs; each body ends with the function's own end
    for (const f of funcs) {
      const body = f.split("\n").slice(1).map((l) => l.trim()).filter((l) => l && !l.startsWith("section"));
      expect(body.filter((l) => l === "end").length).toBe(body.filter((l) => /^(block|loop|if)\b/.test(l)).length + 1);
    }
  });

  it("lower(...).text(\"wasm\") lists the wasm module whatever the backend; a JS-compiled stage refuses asText(\"wasm\")", () => {
    config.update({ backend: "js" });
    const l = jit(step, { name: "step" }).lower(x, w);
    expect(l.text("wasm")).toMatch(/;; kernel 1: reduce float32\[\] over \[8,3\]/);
    const c = l.compile();
    expect(() => c.asText("wasm")).toThrow(ArgumentError);
    expect(() => c.asText("wasm")).toThrow(/backend "js", which generated no WebAssembly/);
    expect(c.asText("js")).toBe(c.executable.source);
    expect(c.asText("traced")).toBe(l.text("traced"));
  });
});

describe("inserting and exporting a compiled stage", () => {
  it("jf.insert(stage): a call of the lowered types hits it without tracing, same value", () => {
    config.update({ backend: "wasm", interpretBelowWork: 0 });
    const jf = jit(step, { name: "step" });
    const c = jf.lower(x, w).compile();
    const traces = jf.cacheInfo().traces;
    jf.insert(c);
    const y = jf(x, w) as Tensor;
    expect(Math.abs(y.item() - want)).toBeLessThan(1e-5);
    const info = jf.cacheInfo();
    expect([info.hits, info.misses, info.traces]).toEqual([1, 0, traces]);
    expect(jf.specializations()[0]!.origin).toBe("inserted");
    // other argument types still miss (and compile normally)
    expect(Math.abs((jf(np.ones([2, 4]), w) as Tensor).item() - 6 * Math.tanh(1))).toBeLessThan(1e-5);
    expect(jf.cacheInfo().misses).toBe(1);
  });

  it("refuses a stage of another jitted function, and bytes of another function, backend or a corrupted copy", () => {
    config.update({ backend: "wasm" });
    const c = jit(step, { name: "step" }).lower(x, w).compile();
    expect(() => jit(step, { name: "step" }).insert(c)).toThrow(/lowered by jit\(step\), another jitted function/);
    const bytes = c.serialize();
    const other = jit((a: Tensor, b: Tensor) => np.sum(np.sin(np.matmul(a, b))), { name: "step" });
    expect(() => other.insert(bytes)).toThrow(/source text differs/);
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 5] ^= 1;
    expect(() => jit(step, { name: "step" }).insert(corrupt)).toThrow(/checksum mismatch/);
    expect(() => jit(step, { name: "step" }).insert(bytes.slice(0, -1))).toThrow(/truncated/);
    config.update({ backend: "js" });
    expect(() => jit(step, { name: "step" }).insert(bytes)).toThrow(/compiled for backend wasm .* this process compiles for backend js/);
  });

  it("serialize() in one process, insert(bytes) in a fresh one: hit without tracing, same value", async () => {
    const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
    const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const ENTRY = pathToFileURL(path.join(ROOT, "src/index.ts")).href;
    const dir = mkdtempSync(path.join(tmpdir(), "adgen-stage-"));
    const script = path.join(dir, "stage.mts");
    const file = path.join(dir, "step.adgen-stage");
    writeFileSync(
      script,
      `import { config, jit, np } from ${JSON.stringify(ENTRY)};
import { readFileSync, writeFileSync } from "node:fs";
config.update({ backend: "wasm" });
const jf = jit((x, w) => np.sum(np.tanh(np.matmul(x, w))), { name: "step" });
const [mode, file] = process.argv.slice(2);
const x = np.ones([8, 4]), w = np.full([4, 3], 0.25);
if (mode === "write") writeFileSync(file, jf.lower(x, w).compile().serialize());
else {
  jf.insert(new Uint8Array(readFileSync(file)));
  const y = jf(x, w).item();
  const { hits, misses, traces } = jf.cacheInfo();
  process.stdout.write("RESULT=" + JSON.stringify({ y, hits, misses, traces, origin: jf.specializations()[0]!.origin }) + "\\n");
}
`,
    );
    const node = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ["--import", TSX, script, ...args], { encoding: "utf8", timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
      );
    try {
      await node(["write", file]);
      expect(readFileSync(file).subarray(0, 20).toString()).toBe("adgen-compiled-stage");
      const r = JSON.parse(/RESULT=(.*)/.exec(await node(["read", file]))![1]!);
      expect(Math.abs(r.y - want)).toBeLessThan(1e-5);
      expect(r).toMatchObject({ hits: 1, misses: 0, traces: 0, origin: "inserted" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("profileKernels: per-kernel run times", () => {
  it("one row per kernel with its cost analysis; shares sum to 1; prints as a table", () => {
    config.update({ backend: "wasm" });
    const mlp = jit((a: Tensor, w1: Tensor, w2: Tensor) => np.mean(np.square(np.matmul(np.maximum(np.matmul(a, w1), 0), w2))), { name: "mlp" });
    const args = [np.ones([16, 8]), np.full([8, 8], 0.1), np.full([8, 2], 0.1)];
    const p = profileKernels(mlp, args, { repeats: 3, warmup: 1 });
    const cost = mlp.lower(...args).compile().costAnalysis();
    expect(p.map((k) => [k.kernel, k.kind, k.primitives, k.flops, k.bytesRead, k.bytesWritten])).toEqual(cost.kernels.map((k) => [k.kernel, k.kind, k.primitives, k.flops, k.bytesRead, k.bytesWritten]));
    // closed forms: first matmul 2*16*8*8 flops, second 2*16*8*2
    expect(p[0]).toMatchObject({ kind: "dot", flops: String(2 * 16 * 8 * 8) });
    expect(p.every((k) => k.us >= 0 && k.share >= 0)).toBe(true);
    const shares = p.reduce((a, k) => a + k.share, 0);
    if (p.kernelUs > 0) expect(shares).toBeCloseTo(1, 9);
    expect(p.repeats).toBe(3);
    const text = p.toString().split("\n");
    expect(text[0]).toBe("profile of mlp: float32[16,8], float32[8,8], float32[8,2]: medians of 3 calls");
    expect(text[1]).toMatch(/^kernel +kind +fuses +time +share +flops +transcendentals +read +written$/);
    expect(text).toHaveLength(p.length + 3);
    expect(text.at(-1)).toMatch(/^kernels .* \+ call overhead .* \(arguments in, outputs out\); whole call /);
  });

  it("with the timeline on, writes one span per kernel (category kernel)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "adgen-profile-"));
    try {
      clearTimeline();
      config.update({ traceFile: path.join(dir, "t.json") });
      const f = jit((a: Tensor, b: Tensor) => np.sum(np.exp(np.matmul(a, b))), { name: "f" });
      const p = profileKernels(f, [np.ones([4, 4]), np.ones([4, 4])], { repeats: 2 });
      const spans = timelineJson().traceEvents.filter((e) => e.cat === "kernel");
      expect(spans.map((e) => [e.ph, e.name, e.dur])).toEqual(p.map((k) => ["X", `kernel ${k.kernel} ${k.kind} (${k.primitives.join(" ")})`, k.us]));
    } finally {
      config.update({ traceFile: null });
      clearTimeline();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("checks its arguments and options", () => {
    const f = jit((a: Tensor) => np.sum(np.exp(a)), { name: "f" });
    expect(() => profileKernels(f, [vec3()], { repeat: 2 } as any)).toThrow(/unknown option "repeat". Did you mean "repeats"\?/);
    expect(() => profileKernels(f, vec3() as any)).toThrow(/pass the arguments as an array/);
    const c = f.lower(vec3()).compile();
    expect(() => c.profileKernels([np.ones([4])])).toThrow(/compiled for f32\[3\]/);
  });
});

function vec3() {
  return np.array([0.5, -1, 2], { dtype: "float32" });
}
