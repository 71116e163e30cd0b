// The `adgen` command line, run as a child process from source (`node --import tsx
// src/cli/main.ts`, so no build is needed) on an example module written to a temp dir. The example
// imports adgen through an absolute file URL to src/index.ts: under tsx that is the very module
// instance the CLI itself uses, which tracing requires (dist/ may be stale, so it is not used).
// Checks export (--value, --grad, --vjp, --jvp), inspect, the generated modules called from a
// directory without node_modules under plain node, and every rejected input's exit code and
// one-line message.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INDEX_URL, type Run, VERSION, run, runAdgen } from "./util/cli-run.js";
import { grad, jvp, nn, np, Tensor } from "../src/index.js";


let dir = "";
const adgen = (args: string[], env: Record<string, string> = {}) => runAdgen(args, dir, env);
const readJson = (p: string) => JSON.parse(readFileSync(p, "utf8")) as any;

const MODEL = (indexUrl: string) => `// example module for the adgen CLI test
import { np, nn } from ${JSON.stringify(indexUrl)};
export function loss(w, x) { return np.mean(np.square(nn.tanh(np.matmul(x, w)))); }
export function predict(w, x) { return nn.softmax(np.matmul(x, w), { axis: -1 }); }
export const notAFunction = 3;
`;
const ARGS = ["--arg", "float32[3,4]", "--arg", "float32[B,3]"];

// deterministic inputs (W: [3,4], x: [2,3])
const W = Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) * 0.5);
const X = Array.from({ length: 6 }, (_, i) => Math.cos(i) * 0.7);
const DW = Array.from({ length: 12 }, (_, i) => ((i % 3) - 1) * 0.1);
const DX = Array.from({ length: 6 }, (_, i) => (i % 2 ? 0.2 : -0.1));

const exports_: Record<string, Run> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "adgen-cli-"));
  writeFileSync(path.join(dir, "model.mjs"), MODEL(INDEX_URL));
  const jobs: [string, string[]][] = [
    ["value", ["export", "model.mjs", "--fn", "predict", ...ARGS, "--out", "out-value"]],
    ["grad", ["export", "model.mjs", "--fn", "loss", ...ARGS, "--grad", "--out", "out-grad"]],
    ["vjp", ["export", "model.mjs", "--fn", "loss", ...ARGS, "--vjp", "--out", "out-vjp"]],
    ["jvp", ["export", "model.mjs", "--fn=predict", "--arg=float32[3,4]", "--arg=float32[B,3]", "--jvp", "--out=out-jvp", "--name", "predictTangent"]],
    ["js", ["export", "model.mjs", "--fn", "predict", ...ARGS, "--js", "--out", "out-js", "--name", "predictJs"]],
  ];
  const results = await Promise.all(jobs.map(([, a]) => adgen(a)));
  jobs.forEach(([k], i) => (exports_[k] = results[i]!));
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("adgen export", () => {
  it("--value writes the module, its types and a manifest, and prints the signature", () => {
    const r = exports_.value!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const f of ["predict.mjs", "predict.d.mts", "predict.manifest.json"]) {
      expect(existsSync(path.join(dir, "out-value", f))).toBe(true);
      expect(r.stdout).toContain(path.join("out-value", f));
    }
    expect(r.stdout).toContain("predict(0: float32[3,4], 1: float32[B,3]) -> float32[B,4]");
    expect(r.stdout).toContain("symbolic dims: B (B >= 1)");
    const m = readJson(path.join(dir, "out-value/predict.manifest.json"));
    expect(m.format).toBe("adgen-export");
    expect(m.kind).toBe("value");
    expect(m.adgenVersion).toBe(VERSION);
    expect(m.functions[0].inputs.map((a: any) => a.shape)).toEqual([[3, 4], ["B", 3]]);
  });

  it("--js writes JavaScript kernels instead of WebAssembly, with the same results", async () => {
    const r = exports_.js!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const jsSrc = readFileSync(path.join(dir, "out-js/predictJs.mjs"), "utf8");
    const wasmSrc = readFileSync(path.join(dir, "out-value/predict.mjs"), "utf8");
    expect(jsSrc).not.toMatch(/\$WASM_MATH/);
    expect(wasmSrc).toMatch(/m: { \.\.\.\$WASM_MATH/);
    const a = await import(pathToFileURL(path.join(dir, "out-js/predictJs.mjs")).href);
    const b = await import(pathToFileURL(path.join(dir, "out-value/predict.mjs")).href);
    const W = { data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), shape: [3, 4] };
    const x = { data: Float32Array.from({ length: 6 }, (_, i) => Math.cos(i)), shape: [2, 3] };
    expect(Array.from(a.default(W, x).data)).toEqual(Array.from(b.default(W, x).data));
  });

  it("--grad exports the gradient with respect to every argument as <fn>_grad", () => {
    const r = exports_.grad!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = readJson(path.join(dir, "out-grad/loss_grad.manifest.json"));
    expect(m.name).toBe("loss_grad");
    expect(m.functions[0].outputs.map((a: any) => a.shape)).toEqual([[3, 4], ["B", 3]]);
    expect(r.stdout).toContain("loss_grad(0: float32[3,4], 1: float32[B,3]) -> out[0]: float32[3,4], out[1]: float32[B,3]");
  });

  it("--vjp exports forward/backward and prints the residual count and bytes", () => {
    const r = exports_.vjp!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = readJson(path.join(dir, "out-vjp/loss_vjp.manifest.json"));
    expect(m.kind).toBe("vjp");
    expect(m.functions.map((f: any) => f.name)).toEqual(["forward", "backward"]);
    expect(m.residuals.length).toBeGreaterThan(0);
    expect(r.stdout).toMatch(new RegExp(`residuals: ${m.residuals.length}, \\d+( \\+ \\d+\\*B)? bytes`));
    expect(r.stdout).toContain("use: import { forward, backward } from");
  });

  it("--jvp with --name and --flag=value syntax", () => {
    const r = exports_.jvp!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = readJson(path.join(dir, "out-jvp/predictTangent.manifest.json"));
    expect(m.kind).toBe("jvp");
    expect(m.functions[0].inputs).toHaveLength(4);
  });
});

describe("adgen inspect", () => {
  it("prints signature, symbolic dims, residual table, kernels, arena and file sizes", async () => {
    const r = await adgen(["inspect", "out-vjp"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain("loss_vjp  (vjp export)");
    expect(out).toContain(`adgen      ${VERSION}, manifest format adgen-export v1`);
    expect(out).toMatch(/IR hash {4}[0-9a-f]+-[0-9a-f]+/);
    expect(out).toContain("function forward(0: float32[3,4], 1: float32[B,3]) -> float32[]");
    expect(out).toMatch(/function backward\(residuals: \d+ arrays|function backward\(residuals\[0\]/);
    expect(out).toContain("symbolic dims:\n  B: B >= 1");
    expect(out).toMatch(/residuals \(\d+, .* bytes; forward returns them/);
    expect(out).toMatch(/\n {2}name +dtype +shape +bytes +producedBy\n {2}r0 +float32 /);
    expect(out).toMatch(/kernels \(\d+\):\n +0 {2}\S/);
    expect(out).toContain("arena: per binding");
    expect(out).toMatch(/loss_vjp\.mjs +[0-9,]+ bytes/);
    expect(out).toMatch(/loss_vjp\.manifest\.json +[0-9,]+ bytes/);
  });

  it("accepts a manifest path, and a value export has no residual section", async () => {
    const r = await adgen(["inspect", path.join("out-value", "predict.manifest.json")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("predict  (value export)");
    expect(r.stdout).toContain("    1  float32  [B,3]");
    expect(r.stdout).not.toContain("residuals (");
  });
});

describe("the exported modules", () => {
  it("import nothing and run under plain node from a directory without node_modules", async () => {
    const iso = mkdtempSync(path.join(os.tmpdir(), "adgen-cli-iso-"));
    try {
      const files = [["out-value", "predict.mjs"], ["out-grad", "loss_grad.mjs"], ["out-vjp", "loss_vjp.mjs"], ["out-jvp", "predictTangent.mjs"]];
      for (const [d, f] of files) {
        const src = readFileSync(path.join(dir, d!, f!), "utf8");
        expect(src).not.toMatch(/^\s*import[\s{*"']|\bimport\(|\brequire\(/m);
        copyFileSync(path.join(dir, d!, f!), path.join(iso, f!));
      }
      writeFileSync(
        path.join(iso, "main.mjs"),
        `import predict from "./predict.mjs";
import { loss_grad } from "./loss_grad.mjs";
import { forward, backward } from "./loss_vjp.mjs";
import predictTangent from "./predictTangent.mjs";
const W = { data: Float32Array.from(${JSON.stringify(W)}), shape: [3, 4] };
const x = { data: Float32Array.from(${JSON.stringify(X)}), shape: [2, 3] };
const dW = { data: Float32Array.from(${JSON.stringify(DW)}), shape: [3, 4] };
const dx = { data: Float32Array.from(${JSON.stringify(DX)}), shape: [2, 3] };
const arr = (r) => ({ shape: r.shape, dtype: r.dtype, data: Array.from(r.data) });
const f = forward(W, x);
const bars = backward(f.residuals, { data: new Float32Array([1]), shape: [] });
const t = predictTangent(W, x, dW, dx);
let rejected = "";
try { predict(W, { data: new Float32Array(5), shape: [5] }); } catch (e) { rejected = e.message; }
console.log(JSON.stringify({ predict: arr(predict(W, x)), grad: loss_grad(W, x).map(arr), loss: arr(f.out), bars: bars.map(arr),
  jvpOut: arr(t.out), jvpTan: arr(t.tangents), rejected }));
`,
      );
      expect(readdirSync(iso)).not.toContain("node_modules");
      const r = await run(process.execPath, ["main.mjs"], iso);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const got = JSON.parse(r.stdout);
      // the same computations in adgen itself
      const w = np.array(W, { dtype: "float32" }).reshape([3, 4]);
      const x = np.array(X, { dtype: "float32" }).reshape([2, 3]);
      const lossF = (w: Tensor, x: Tensor) => np.mean(np.square(nn.tanh(np.matmul(x, w))));
      const predictF = (w: Tensor, x: Tensor) => nn.softmax(np.matmul(x, w), { axis: -1 });
      const close = (a: { data: number[]; shape: number[] }, b: Tensor) => {
        expect(a.shape).toEqual(b.shape);
        const ref = Array.from(b.dataSync());
        a.data.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 5));
      };
      close(got.predict, predictF(w, x));
      close(got.loss, lossF(w, x));
      const [gw, gx] = grad(lossF, { argnums: [0, 1] })(w, x) as Tensor[];
      for (const g of [got.grad, got.bars]) {
        close(g[0], gw!);
        close(g[1], gx!);
      }
      const [out, tan] = jvp(predictF, [w, x], [np.array(DW, { dtype: "float32" }).reshape([3, 4]), np.array(DX, { dtype: "float32" }).reshape([2, 3])]) as [Tensor, Tensor];
      close(got.jvpOut, out);
      close(got.jvpTan, tan);
      expect(got.rejected).toMatch(/shape \[B,3\]/);
    } finally {
      rmSync(iso, { recursive: true, force: true });
    }
  });
});

describe("help and version", () => {
  it("--help, <command> --help, --version", async () => {
    const [h, he, hi, v] = await Promise.all([adgen(["--help"]), adgen(["export", "--help"]), adgen(["inspect", "-h"]), adgen(["--version"])]);
    for (const r of [h, he, hi, v]) {
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
    }
    expect(h.stdout).toContain("Usage:");
    expect(h.stdout).toContain("Examples:");
    expect(h.stdout).toContain("adgen export <module> --fn <name> --arg <spec>...");
    expect(he.stdout).toContain("--arg <spec>");
    expect(he.stdout).toContain("--vjp");
    expect(hi.stdout).toContain("adgen inspect <dir | manifest.json");
    expect(v.stdout.trim()).toBe(VERSION);
  });
});

describe("rejected input: exit code and a one-line reason", () => {
  const out = ["--out", "o"];
  const cases: [string, string[], number, string | RegExp][] = [
    ["missing module file", ["export", "model.mj", "--fn", "loss", ...ARGS, ...out], 1, "adgen: no such file: model.mj"],
    ["no such export", ["export", "model.mjs", "--fn", "lossGrad", ...ARGS, ...out], 1, 'adgen export: model.mjs has no export named "lossGrad" (exports: loss, predict)'],
    ["export is not a function", ["export", "model.mjs", "--fn", "notAFunction", ...ARGS, ...out], 1, 'adgen export: export "notAFunction" of model.mjs is a number, not a function (exports: loss, predict)'],
    ["not a module", ["export", "notes.txt", "--fn", "loss", ...ARGS, ...out], 1, /^adgen export: notes\.txt is not a JavaScript or TypeScript module/],
    ["unknown dtype", ["export", "model.mjs", "--fn", "loss", "--arg", "float33[3]", ...out], 2, 'adgen export: bad --arg "float33[3]": unknown dtype float33 (dtypes: float32, float64, int32, bool)'],
    ["dtype alias", ["export", "model.mjs", "--fn", "loss", "--arg", "f32[3]", ...out], 2, /^adgen export: bad --arg "f32\[3\]": unknown dtype f32 \(did you mean float32\?/],
    ["non-integer dim", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[2.5]", ...out], 2, 'adgen export: bad --arg "float32[2.5]": dimension 2.5 is not an integer'],
    ["negative dim", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[-1,3]", ...out], 2, 'adgen export: bad --arg "float32[-1,3]": dimension -1 is negative'],
    ["unclosed bracket", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[3", ...out], 2, /^adgen export: bad --arg "float32\[3": unbalanced brackets/],
    ["extra bracket", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[3]]", ...out], 2, /^adgen export: bad --arg "float32\[3\]\]": unbalanced brackets/],
    ["reversed brackets", ["export", "model.mjs", "--fn", "loss", "--arg", "float32]3[", ...out], 2, /^adgen export: bad --arg "float32\]3\[": unbalanced brackets/],
    ["nested brackets", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[[3]]", ...out], 2, /^adgen export: bad --arg "float32\[\[3\]\]": nested or repeated brackets/],
    ["missing shape", ["export", "model.mjs", "--fn", "loss", "--arg", "float32", ...out], 2, 'adgen export: bad --arg "float32": missing shape: write float32[] for a scalar or float32[3] for a vector'],
    ["empty dim", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[3,]", ...out], 2, 'adgen export: bad --arg "float32[3,]": dimension 2 is empty'],
    ["bad expression", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[B+]", ...out], 2, /^adgen export: bad --arg "float32\[B\+\]": dimension "B\+" is not an integer, a symbol name/],
    ["parentheses", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[2*(B+1)]", ...out], 2, /parentheses are not supported/],
    ["junk after ]", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[3]x", ...out], 2, 'adgen export: bad --arg "float32[3]x": unexpected text "x" after "]"'],
    ["unknown command", ["exprot"], 2, 'adgen: unknown command "exprot" (did you mean "export"?)'],
    ["no command", [], 2, "adgen: missing command (export or inspect; see adgen --help)"],
    ["missing --out", ["export", "model.mjs", "--fn", "loss", ...ARGS], 2, "adgen export: missing --out <dir> (where to write the module)"],
    ["missing --fn", ["export", "model.mjs", ...ARGS, ...out], 2, "adgen export: missing --fn <name> (the function to export)"],
    ["missing module argument", ["export", "--fn", "loss", ...ARGS, ...out], 2, "adgen export: missing <module> (see adgen export --help)"],
    ["unknown flag", ["export", "model.mjs", "--fn", "loss", "--frob", ...out], 2, 'adgen export: unknown flag "--frob" (see adgen export --help)'],
    ["flag without value", ["export", "model.mjs", "--fn", "loss", "--out"], 2, "adgen export: --out needs a value"],
    ["two modes", ["export", "model.mjs", "--fn", "loss", ...ARGS, "--grad", "--vjp", ...out], 2, "adgen export: choose one of --grad, --vjp"],
    ["bad --name", ["export", "model.mjs", "--fn", "loss", ...ARGS, "--name", "1x", ...out], 2, 'adgen export: bad --name "1x": not a valid JavaScript identifier'],
    ["no --arg", ["export", "model.mjs", "--fn", "loss", ...out], 2, /^adgen export: missing --arg: loss takes 2 arguments/],
    ["trace failure", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[3,4]", "--arg", "float32[B,5]", ...out], 1, /^adgen export: .*matmul.*model\.mjs:3/],
    ["inspect: not JSON", ["inspect", "notes.txt"], 1, /^adgen inspect: notes\.txt is not an adgen manifest \(not JSON: /],
    ["inspect: other JSON", ["inspect", "other.json"], 1, 'adgen inspect: other.json is not an adgen manifest (no "format": "adgen-export" field)'],
    ["inspect: missing", ["inspect", "nothere"], 1, "adgen: no such file: nothere"],
    ["inspect: empty dir", ["inspect", "empty"], 1, "adgen inspect: no *.manifest.json in empty"],
    ["inspect: two manifests", ["inspect", "two"], 1, "adgen inspect: two holds 2 manifests (a.manifest.json, b.manifest.json); name one"],
    ["inspect: extra argument", ["inspect", "a", "b"], 2, 'adgen inspect: unexpected argument "b" (one <dir | manifest.json> only)'],
  ];

  beforeAll(() => {
    writeFileSync(path.join(dir, "notes.txt"), "not a manifest\n");
    writeFileSync(path.join(dir, "other.json"), JSON.stringify({ name: "x", functions: [] }));
    mkdirSync(path.join(dir, "empty"), { recursive: true });
    mkdirSync(path.join(dir, "two"), { recursive: true });
    const m = readFileSync(path.join(dir, "out-value/predict.manifest.json"));
    writeFileSync(path.join(dir, "two/a.manifest.json"), m);
    writeFileSync(path.join(dir, "two/b.manifest.json"), m);
  });

  it.concurrent.each(cases)("%s", async (_, args, code, message) => {
    const r = await adgen(args);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    if (typeof message === "string") expect(lines[0]).toBe(message);
    else expect(lines[0]).toMatch(message);
    expect(r.code).toBe(code);
  });

  it("ADGEN_DEBUG=1 adds the stack trace", async () => {
    const r = await adgen(["export", "model.mj", "--fn", "loss", "--out", "o"], { ADGEN_DEBUG: "1" });
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines[0]).toBe("adgen: no such file: model.mj");
    expect(lines.length).toBeGreaterThan(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});
