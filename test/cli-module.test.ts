// `adgen export` with several functions in one module (--fn loss --fn loss:grad --fn
// step=loss:vjp), pytree argument specs from a JSON --spec file, --constraint, --bundle and
// --shared, and derivatives added to an exported artifact (adgen export <manifest> --fn
// loss:jvp), run as a child process from source (as test/cli.test.ts does); the written modules are
// imported and compared with adgen called directly, in float64.

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INDEX_URL, type Run, runAdgen } from "./util/cli-run.js";
import { type Tensor, grad, jvp, nn, np, vjp } from "../src/index.js";
import { assertClose, rand } from "./util/check.js";

let dir = "";
const adgen = (args: string[]) => runAdgen(args, dir, {}, 60_000);
const load = (p: string) => import(/* @vite-ignore */ pathToFileURL(path.join(dir, p)).href);

// the model: an MLP loss over a params pytree, a float batch and int32 labels
const MODEL = (indexUrl: string) => `import { np, nn } from ${JSON.stringify(indexUrl)};
export function loss(p, x, labels) {
  const h = nn.tanh(np.add(np.matmul(x, p.W1), p.b1));
  const logp = nn.logSoftmax(np.matmul(h, p.W2), { axis: -1 });
  return np.negative(np.mean(np.sum(np.multiply(logp, nn.oneHot(labels, 3)), { axis: -1 })));
}
export function pairs(x) { return np.sin(x.reshape([-1, 2])); }
`;
type P = { W1: Tensor; b1: Tensor; W2: Tensor };
const loss = (p: P, x: Tensor, labels: Tensor) => {
  const h = nn.tanh(np.add(np.matmul(x, p.W1), p.b1));
  const logp = nn.logSoftmax(np.matmul(h, p.W2), { axis: -1 });
  return np.negative(np.mean(np.sum(np.multiply(logp, nn.oneHot(labels, 3)), { axis: -1 })));
};
const params: P = { W1: rand([4, 5], 1), b1: rand([5], 2), W2: rand([5, 3], 3) };
const batch = (B: number) => [rand([B, 4], 10 + B), np.array(Int32Array.from({ length: B }, (_, i) => (i * 7) % 3))] as const;
const close = { rtol: 1e-12, atol: 1e-13 };
const KEYS = ["W1", "b1", "W2"] as const;

const runs: Record<string, Run> = {};
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "adgen-cli-module-"));
  writeFileSync(path.join(dir, "model.mjs"), MODEL(INDEX_URL));
  writeFileSync(path.join(dir, "specs.json"), JSON.stringify({ args: [{ W1: "float64[4,5]", b1: "float64[5]", W2: "float64[5,3]" }, "float64[B,4]", "int32[B]"], constraints: ["B <= 1024"] }));
  const jobs: [string, string[]][] = [
    ["multi", ["export", "model.mjs", "--fn", "loss", "--fn", "loss:grad", "--fn", "step=loss:vjp", "--spec", "specs.json", "--out", "build"]],
    ["bundle", ["export", "model.mjs", "--fn", "loss", "--fn", "loss:grad", "--spec", "specs.json", "--bundle", "--name", "one", "--out", "single"]],
    ["constraint", ["export", "model.mjs", "--fn", "pairs", "--arg", "float64[B,3]", "--constraint", "B % 2 == 0", "--shared", "--out", "pairs"]],
  ];
  const results = await Promise.all(jobs.map(([, a]) => adgen(a)));
  jobs.forEach(([k], i) => (runs[k] = results[i]!));
  // adding a derivative to the artifact: from its manifest alone, into the same directory
  runs.extend = await adgen(["export", "build/model.manifest.json", "--fn", "loss:jvp", "--name", "model2", "--out", "build"]);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("adgen export with several --fn", () => {
  it("writes one module (one shared runtime file) exporting loss, loss_grad, step_forward, step_backward", () => {
    const r = runs.multi!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("exported model: loss (loss), loss_grad (grad of loss), step (vjp of loss) from model.mjs (module export");
    expect(r.stdout).toContain("loss(0.W1: float64[4,5], 0.b1: float64[5], 0.W2: float64[5,3], 1: float64[B,4], 2: int32[B]) -> float64[]");
    expect(r.stdout).toContain("symbolic dims: B (B >= 1, B <= 1024)");
    expect(r.stdout).toContain('use: import { loss, loss_grad, step_forward, step_backward } from "./build/model.mjs";');
    const src = readFileSync(path.join(dir, "build/model.mjs"), "utf8");
    expect(src).toMatch(/^import .* from "\.\/adgen-runtime-[0-9a-f]+\.mjs";$/m);
  });

  it("its functions equal adgen's loss, grad (float arguments) and vjp for B in {1, 7}", async () => {
    const m = await load("build/model.mjs");
    for (const B of [1, 7]) {
      const [x, labels] = batch(B);
      assertClose(m.loss(params, x, labels).data, loss(params, x, labels).data, close);
      const [gp, gx] = m.loss_grad(params, x, labels);
      const [wp, wx] = grad(loss, { argnums: [0, 1] })(params, x, labels) as [P, Tensor];
      for (const k of KEYS) assertClose(gp[k].data, wp[k].data, { ...close, what: k });
      assertClose(gx.data, wx.data, close);
      const fw = m.step_forward(params, x, labels);
      const [bp, bx] = m.step_backward(fw.residuals, { data: new Float64Array([1]), shape: [] });
      for (const k of KEYS) assertClose(bp[k].data, wp[k].data, { ...close, what: `vjp ${k}` });
      assertClose(bx.data, wx.data, close);
      expect(() => m.loss(params, ...batch(1025))).toThrow(/bind B = 1025, which violates the declared constraint B <= 1024/);
    }
  });

  it("--bundle writes one file importing nothing, with the same results", async () => {
    const r = runs.bundle!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readdirSync(path.join(dir, "single")).sort()).toEqual(["one.d.mts", "one.manifest.json", "one.mjs"]);
    expect(readFileSync(path.join(dir, "single/one.mjs"), "utf8")).not.toMatch(/^\s*import[\s{*"']/m);
    const [a, b] = [await load("single/one.mjs"), await load("build/model.mjs")];
    const [x, labels] = batch(3);
    expect(Array.from(a.loss(params, x, labels).data)).toEqual(Array.from(b.loss(params, x, labels).data));
  });

  it("--constraint B % 2 == 0 lets reshape([-1, 2]) of [B,3] export (--shared: the runtime file beside it); an odd B is refused", async () => {
    const r = runs.constraint!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("pairs(0: float64[B,3]) -> float64[3*B/2,2]");
    expect(readdirSync(path.join(dir, "pairs")).some((f) => /^adgen-runtime-[0-9a-f]+\.mjs$/.test(f))).toBe(true);
    const ins = await adgen(["inspect", "pairs"]);
    expect(ins.stdout).toContain("symbolic dims:\n  B: B >= 1, B % 2 == 0\n  B/2 = B / 2 (from B % 2 == 0)");
    const m = await load("pairs/pairs.mjs");
    const x = rand([4, 3], 5);
    assertClose(m.pairs(x).data, np.sin(x.reshape([-1, 2])).data, { rtol: 0, atol: 0 });
    expect(() => m.pairs(rand([3, 3], 5))).toThrow(/bind B = 3, which violates the declared constraint B % 2 == 0/);
  });

  it("adding a JVP to the artifact from its manifest: the new module has the old entries and loss_jvp, one runtime file in the directory", async () => {
    const r = runs.extend!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("exported model2: loss_jvp (jvp of loss) from build/model.manifest.json (extended)");
    expect(r.stdout).toContain('use: import { loss, loss_grad, step_forward, step_backward, loss_jvp } from "./build/model2.mjs";');
    expect(readdirSync(path.join(dir, "build")).filter((f) => f.startsWith("adgen-runtime-"))).toHaveLength(1);
    const [m2, m1] = [await load("build/model2.mjs"), await load("build/model.mjs")];
    const [x, labels] = batch(5);
    const tp = { W1: rand([4, 5], 21), b1: rand([5], 22), W2: rand([5, 3], 23) };
    const tx = rand([5, 4], 24);
    const got = m2.loss_jvp(params, x, labels, tp, tx);
    const [out, tan] = jvp((p: P, xx: Tensor) => loss(p, xx, labels), [params, x], [tp, tx]) as [Tensor, Tensor];
    assertClose(got.out.data, out.data, close);
    assertClose(got.tangents.data, tan.data, close);
    // the old entries are still there and agree with the original module
    expect(Array.from(m2.loss(params, x, labels).data)).toEqual(Array.from(m1.loss(params, x, labels).data));
    const fw = m2.step_forward(params, x, labels);
    const [, bx] = m2.step_backward(fw.residuals, { data: new Float64Array([1]), shape: [] });
    const [, vx] = vjp((p: P, xx: Tensor) => loss(p, xx, labels), params, x)[1](np.array(1, { dtype: "float64" })) as [P, Tensor];
    assertClose(bx.data, vx.data, close);
  });
});

describe("adgen export with several --fn: rejected input", () => {
  const out = ["--out", "o"];
  const cases: [string, string[], number, string | RegExp][] = [
    ["unknown mode", ["export", "model.mjs", "--fn", "loss:hess", "--spec", "specs.json", ...out], 2, 'adgen export: bad --fn "loss:hess": unknown mode "hess" (modes: value, grad, vjp, jvp)'],
    ["bad --fn", ["export", "model.mjs", "--fn", "a=b=c", ...out], 2, /^adgen export: bad --fn "a=b=c": write <name>, <name>:<mode> or <key>=<name>:<mode>/],
    ["mode flag with several --fn", ["export", "model.mjs", "--fn", "loss", "--fn", "pairs", "--grad", ...out], 2, "adgen export: with several --fn, give each its mode (--fn loss:grad) instead of --grad"],
    ["same key twice", ["export", "model.mjs", "--fn", "loss", "--fn", "loss:value", "--spec", "specs.json", ...out], 2, 'adgen export: two --fn export "loss"; name one: --fn <key>=loss:value'],
    ["--bundle and --shared", ["export", "model.mjs", "--fn", "loss", "--bundle", "--shared", ...out], 2, "adgen export: choose one of --bundle, --shared"],
    ["--arg and --spec", ["export", "model.mjs", "--fn", "loss", "--arg", "float32[3]", "--spec", "specs.json", ...out], 2, "adgen export: give the arguments with --arg or with --spec, not both"],
    ["bad leaf in --spec", ["export", "model.mjs", "--fn", "loss", "--spec", "bad-spec.json", ...out], 2, 'adgen export: bad --spec bad-spec.json: argument 0.W1: "float33[4,5]": unknown dtype float33 (dtypes: float32, float64, int32, bool)'],
    ["--spec not JSON", ["export", "model.mjs", "--fn", "loss", "--spec", "model.mjs", ...out], 2, /^adgen export: bad --spec model\.mjs: /],
    ["--onnx with several --fn", ["export", "model.mjs", "--fn", "loss", "--fn", "loss:grad", "--spec", "specs.json", "--onnx", ...out], 2, "adgen export: --onnx exports one function (one --fn <name> and a mode flag)"],
    ["--constraint with --onnx", ["export", "model.mjs", "--fn", "pairs", "--arg", "float32[B,3]", "--constraint", "B % 2 == 0", "--onnx", ...out], 2, "adgen export: --constraint applies to ES module exports, not --onnx"],
    ["no such artifact entry", ["export", "build/model.manifest.json", "--fn", "nope:vjp", ...out], 1, 'adgen export: build/model.manifest.json has no entry "nope" (entries: loss, loss_grad, step)'],
    ["artifact entry exists", ["export", "build/model.manifest.json", "--fn", "loss", ...out], 1, /^adgen export: extendModule model: the artifact already has an entry "loss"; choose another key/],
    ["--arg with an artifact", ["export", "build/model.manifest.json", "--fn", "loss:vjp", "--arg", "float32[3]", ...out], 2, /^adgen export: build\/model\.manifest\.json is an exported artifact: its own argument specs are used/],
  ];
  beforeAll(() => writeFileSync(path.join(dir, "bad-spec.json"), JSON.stringify([{ W1: "float33[4,5]" }])));
  it.concurrent.each(cases)("%s", async (_, args, code, message) => {
    const r = await adgen(args);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    if (typeof message === "string") expect(lines[0]).toBe(message);
    else expect(lines[0]).toMatch(message);
    expect(r.code).toBe(code);
  });
});
