// Issue 17.2: CSP-safe loading. `import "adgen"`, eager ops, random, grad and jit on the "wasm"
// and "interp" backends evaluate no string (a Content-Security-Policy without 'unsafe-eval' needs
// only 'wasm-unsafe-eval'); the JS backend, which does, fails with a clear error there. Checked
// in Node under --disallow-code-generation-from-strings, which refuses eval/new Function as
// such a CSP does, on the bundle users load (dist/adgen.mjs), with results compared against the
// sources run normally. The runtimes written once as functions (core/runtime-text.ts) are checked
// to compute the same through their embedded text as in-process.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as src from "../src/index.js";
import { TO_INT32_JS, toInt32Saturating } from "../src/core/dtype.js";
import { defineRuntime } from "../src/core/runtime-text.js";
import { INDEX_CHECK_JS } from "../src/prims/gather.js";
import { RANDOM_JS, threefry2x32 } from "../src/prims/random.js";
import { ERF_JS, erfScalar, erfcScalar } from "../src/prims/special.js";
import { ROOT, ensureDist } from "./util/dist.js";
// @ts-expect-error plain JS module shared with the browser page
import { compareProbes, exportedArgs, probe } from "./browser/probe.mjs";

const NO_EVAL = "--disallow-code-generation-from-strings";
let dir = "";
let bundleUrl = "";
const probeUrl = pathToFileURL(join(ROOT, "test", "browser", "probe.mjs")).href;

/** Runs an ES module script under Node with `flags`; returns its stdout parsed as JSON. */
function runScript(code: string, flags: string[] = [NO_EVAL]): any {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, code);
  return JSON.parse(execFileSync(process.execPath, [...flags, file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
}

beforeAll(() => {
  bundleUrl = pathToFileURL(ensureDist()).href;
  dir = mkdtempSync(join(tmpdir(), "adgen-csp-"));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("CSP-safe loading (no string evaluation)", () => {
  it("issue 17.2: the flag really forbids new Function in the child process", () => {
    const out = runScript(`let r; try { new Function("return 1"); r = "allowed"; } catch (e) { r = e.constructor.name; } console.log(JSON.stringify(r));`);
    expect(out).toBe("EvalError");
  });

  it("issue 17.2: import, eager ops, grad, lax, random and jit on wasm and interp run under --disallow-code-generation-from-strings, equal to the sources", async () => {
    const got = runScript(`const a = await import(${JSON.stringify(bundleUrl)}); const { probe } = await import(${JSON.stringify(probeUrl)});
      console.log(JSON.stringify(await probe(a, { backends: ["wasm", "interp"] })));`);
    const want = await probe(src, { backends: ["wasm", "interp"] });
    expect(Object.keys(got).length).toBeGreaterThan(20);
    expect(compareProbes(got, want, 0)).toEqual([]); // same engine: bit for bit
  });

  it("issue 17.2: the js backend says it needs string evaluation (and which backends do not); Lowered.text('js') still lists the code", () => {
    const out = runScript(`const { np, jit, config } = await import(${JSON.stringify(bundleUrl)});
      config.update({ backend: "js", interpretBelowWork: 0 });
      const f = jit((x) => np.sum(np.sin(x)));
      const listing = f.lower(np.array([1, 2])).text("js");
      let err = null;
      try { f(np.array([1, 2])); } catch (e) { err = { name: e.constructor.name, message: e.message }; }
      console.log(JSON.stringify({ listing: listing.length > 0 && listing.includes("Math.sin"), err }));`);
    expect(out.listing).toBe(true);
    expect(out.err?.name).toBe("ArgumentError");
    expect(out.err?.message).toMatch(/"js" backend compiles generated JavaScript.*backend: "wasm".*"interp"/s);
  });

  it("issue 17.2: where the engine has no WebAssembly (--jitless), jit on backend wasm falls back to generated JS with the same results", async () => {
    const got = runScript(
      `const a = await import(${JSON.stringify(bundleUrl)}); const { probe } = await import(${JSON.stringify(probeUrl)});
      console.log(JSON.stringify({ wasm: typeof WebAssembly, r: await probe(a, { backends: ["wasm"] }) }));`,
      ["--jitless"],
    );
    expect(got.wasm).toBe("undefined");
    const want = await probe(src, { backends: ["wasm"] });
    // bit for bit except the large products, where the JS matmul kernel replaces the wasm GEMM
    // (another summation order in float32)
    const gemm = (r: Record<string, unknown>, keep: boolean) => Object.fromEntries(Object.entries(r).filter(([k]) => k.startsWith("gemm.") === keep));
    expect(compareProbes(gemm(got.r, false), gemm(want, false), 0)).toEqual([]);
    expect(compareProbes(gemm(got.r, true), gemm(want, true), 1e-5)).toEqual([]);
  });

  it("issue 17.2: a random-number function exported from the bundled build runs under the flag and matches the bundle's eager draw", () => {
    // the export is generated by the bundle itself (so the Threefry text is the one that went
    // through esbuild), written, then imported by a second process that also forbids eval
    const exported = runScript(`const { random, exportFunction, spec, np } = await import(${JSON.stringify(bundleUrl)});
      const draw = (k) => np.add(random.uniform(k, [6]), random.normal(random.foldIn(k, 7), [6]));
      const key = random.key(1234);
      const e = exportFunction(draw, [spec("int32", [2])], { name: "draw" });
      const wasmE = exportFunction(draw, [spec("int32", [2])], { name: "draw", backend: "wasm" });
      console.log(JSON.stringify({ js: e.source, wasm: wasmE.source, key: Array.from(key.data), want: Array.from(draw(key).data) }));`);
    for (const kind of ["js", "wasm"] as const) {
      const file = join(dir, `draw-${kind}.mjs`);
      writeFileSync(file, exported[kind]);
      const got = runScript(`const m = await import(${JSON.stringify(pathToFileURL(file).href)});
        console.log(JSON.stringify(Array.from(m.draw({ data: Int32Array.from(${JSON.stringify(exported.key)}), shape: [2] }).data)));`);
      expect(got, kind).toEqual(exported.want);
    }
  });

  it("issue 17.2: an exported gradient module runs under the flag and equals adgen's gradient", async () => {
    const want = await probe(src, { backends: ["wasm"], exportSource: true });
    const file = join(dir, "probeGrad.mjs");
    writeFileSync(file, want["export.source"]);
    const args = exportedArgs().map((a: { data: Float32Array; shape: number[] }) => ({ data: Array.from(a.data), shape: a.shape }));
    const got = runScript(`const m = await import(${JSON.stringify(pathToFileURL(file).href)});
      const a = ${JSON.stringify(args)}.map((x) => ({ data: Float32Array.from(x.data), shape: x.shape }));
      console.log(JSON.stringify(Array.from(m.probeGrad(...a).data)));`);
    expect(compareProbes({ g: { values: got } }, { g: want["grad.mlp.grad"] })).toEqual([]);
  });
});

describe("runtimes written once (core/runtime-text.ts)", () => {
  /** Evaluates an embedded runtime text (here, where eval is allowed) and returns its $ names. */
  const evalText = (text: string, names: string[], params: Record<string, unknown> = {}) =>
    new Function(...Object.keys(params), `${text}\nreturn { ${names.map((n) => `${n}: $${n}`).join(", ")} };`)(...Object.values(params));

  it("issue 17.2: erf/erfc from ERF_JS equal the in-process functions bit for bit", () => {
    const t = evalText(ERF_JS, ["erf", "erfc", "ERF_A"]);
    const xs = [0, -0, 1e-300, 0.1, 0.46875, 0.5, 1, 2.5, 4, 4.5, 10, 26.7, 30, -0.3, -3, Infinity, -Infinity, NaN];
    for (const x of xs) {
      expect(Object.is(t.erf(x), erfScalar(x)), `erf(${x})`).toBe(true);
      expect(Object.is(t.erfc(x), erfcScalar(x)), `erfc(${x})`).toBe(true);
    }
    expect(erfScalar(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(t.ERF_A).toEqual([3.1611237438705656, 113.86415415105016, 377.485237685302021, 3209.37758913846947, 0.185777706184603153]);
  });

  it("issue 17.2: threefry from RANDOM_JS equals the in-process function and the published test vector", () => {
    const t = evalText(RANDOM_JS, ["threefry", "TF"]);
    // Salmon et al. / JAX known-answer test: threefry2x32(key = (0x13198a2e, 0x03707344), ctr = (0x243f6a88, 0x85a308d3))
    t.threefry(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3);
    expect([t.TF[0], t.TF[1]]).toEqual([0xc4923a9c, 0x483df7a0]);
    expect(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3)).toEqual([0xc4923a9c, 0x483df7a0]);
  });

  it("issue 17.2: index_check from INDEX_CHECK_JS fails through the embedding module's $fail; $toInt32Sat saturates", () => {
    const failed: string[] = [];
    const t = evalText(INDEX_CHECK_JS, ["indexCheck"], { $fail: (m: string) => failed.push(m) });
    const out = new Int32Array(3);
    t.indexCheck([Int32Array.from([0, 5, 1])], [out], { size: 4, op: "take" });
    expect(failed).toEqual(["take: index 5 is out of bounds for an axis of size 4"]);
    const c = evalText(TO_INT32_JS, ["toInt32Sat"]);
    for (const v of [1e10, -1e10, NaN, 2.9, -2.9, 2147483647.5]) expect(c.toInt32Sat(v)).toBe(toInt32Saturating(v));
    expect(toInt32Saturating(1e10)).toBe(2147483647);
  });

  it("issue 17.2: the text stays self-contained when a bundler keeps names (esbuild keepNames adds __name calls, as tsx does)", async () => {
    const { transformSync } = await import("esbuild");
    const code = transformSync("function rt() { function twice(x) { return 2 * x; } return { twice }; }\nexport { rt };", { keepNames: true, format: "esm" }).code;
    expect(code).toContain("__name(twice");
    const rt = new Function(`${code.replace(/export\s*\{[^}]*\};?/, "")}\nreturn rt;`)() as () => { twice: (x: number) => number };
    const r = defineRuntime(rt, []);
    expect(r.value.twice(21)).toBe(42);
    expect(new Function(`${r.text}\nreturn $twice(21);`)()).toBe(42); // no __name in this scope
  });

  it("issue 17.2: defineRuntime rejects a runtime whose parameters are not all bound and named", () => {
    function r(x: number) {
      return { x };
    }
    expect(() => defineRuntime(r, [1], [])).toThrow(/1 parameters, given 1 values and 0 names/);
    const ok = defineRuntime(r, [1], ["$one"]);
    expect(ok.value).toEqual({ x: 1 });
    expect(ok.text.startsWith("const { x: $x } = ((__name) => (function r(")).toBe(true);
    expect(ok.text.endsWith(")($one);")).toBe(true);
  });
});
