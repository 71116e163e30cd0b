// `adgen export --onnx`, run as a child process from source like test/cli.test.ts: the value,
// gradient, split VJP and JVP of a module's functions, with a symbolic batch dim from the same
// --arg syntax, written as ONNX models plus a manifest; each model is loaded with onnxruntime-node
// and its numbers compared with adgen eager (at two batch sizes, through the one dim_param); an
// int32 argument gets no cotangent; and the rejected combinations exit with a one-line message.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INDEX_URL, type Run, VERSION, runAdgen } from "./util/cli-run.js";
import { type Tensor, grad, jvp, nn, np, vjp } from "../src/index.js";
import { assertClose, rand, tensor } from "./util/check.js";
import { runOnnx } from "./onnx-run.js";

let dir = "";
const adgen = (args: string[]) => runAdgen(args, dir);
const readJson = (p: string) => JSON.parse(readFileSync(path.join(dir, p), "utf8")) as any;
const model = (p: string) => new Uint8Array(readFileSync(path.join(dir, p)));

// the module's functions, also evaluated here in adgen eager as the reference
const loss = (w: Tensor, x: Tensor) => np.mean(np.square(nn.tanh(np.matmul(x, w))));
const predict = (w: Tensor, x: Tensor) => nn.softmax(np.matmul(x, w), { axis: -1 });
const picked = (x: Tensor, k: Tensor) => np.sum(np.takeAlongAxis(np.tanh(x), np.expandDims(k, 1), 1));
const MODEL = (indexUrl: string) => `// example module for adgen export --onnx
import { np, nn } from ${JSON.stringify(indexUrl)};
export function loss(w, x) { return np.mean(np.square(nn.tanh(np.matmul(x, w)))); }
export function predict(w, x) { return nn.softmax(np.matmul(x, w), { axis: -1 }); }
export function picked(x, k) { return np.sum(np.takeAlongAxis(np.tanh(x), np.expandDims(k, 1), 1)); }
export function ints(a, b) { return np.add(a, b); }
`;
const ARGS = ["--arg", "float32[3,4]", "--arg", "float32[B,3]"];
const w = rand([3, 4], 1, -1, 1, "float32");
const xs = [rand([2, 3], 2, -1, 1, "float32"), rand([5, 3], 3, -1, 1, "float32")];
const F32 = { rtol: 2e-5, atol: 1e-6 };

const runs: Record<string, Run> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "adgen-cli-onnx-"));
  writeFileSync(path.join(dir, "model.mjs"), MODEL(INDEX_URL));
  const jobs: [string, string[]][] = [
    ["value", ["export", "model.mjs", "--fn", "predict", ...ARGS, "--onnx", "--out", "o-value"]],
    ["grad", ["export", "model.mjs", "--fn", "loss", ...ARGS, "--grad", "--onnx", "--out", "o-grad"]],
    ["vjp", ["export", "model.mjs", "--fn", "loss", ...ARGS, "--vjp", "--onnx", "--out", "o-vjp"]],
    ["jvp", ["export", "model.mjs", "--fn=predict", "--arg=float32[3,4]", "--arg=float32[B,3]", "--jvp", "--onnx", "--out=o-jvp", "--name", "predict-tangent"]],
    ["intVjp", ["export", "model.mjs", "--fn", "picked", "--arg", "float32[N,3]", "--arg", "int32[N]", "--vjp", "--onnx", "--out", "o-int"]],
    ["intGrad", ["export", "model.mjs", "--fn", "picked", "--arg", "float32[N,3]", "--arg", "int32[N]", "--grad", "--onnx", "--out", "o-int"]],
  ];
  const results = await Promise.all(jobs.map(([, a]) => adgen(a)));
  jobs.forEach(([k], i) => (runs[k] = results[i]!));
}, 90_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function ok(r: Run): void {
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
}

describe("adgen export --onnx", () => {
  it("--value writes <name>.onnx and a manifest with the symbolic dim; the model equals adgen at batches 2 and 5", async () => {
    const r = runs.value!;
    ok(r);
    expect(r.stdout).toContain(`exported predict: model.mjs#predict (ONNX value export, opset 18, IR version`);
    expect(r.stdout).toContain("value(arg0: float32[3,4], arg1: float32[B,3]) -> (out: float32[B,4])");
    expect(r.stdout).toContain("symbolic dims: B (ONNX dim_params");
    for (const f of ["predict.onnx", "predict.manifest.json"]) expect(r.stdout).toContain(path.join("o-value", f));
    const m = readJson("o-value/predict.manifest.json");
    expect([m.format, m.kind, m.opset, m.adgenVersion]).toEqual(["adgen-onnx", "value", 18, VERSION]);
    expect(m.symbolicDims).toEqual(["B"]);
    expect(m.models[0].inputs[1]).toEqual({ name: "arg1", dtype: "float32", shape: ["B", 3] });
    for (const x of xs) {
      const [got] = await runOnnx(model("o-value/predict.onnx"), [w, x]);
      expect(got!.shape).toEqual([x.shape[0], 4]);
      assertClose(got!.data, predict(w, x).dataSync(), { ...F32, what: `predict B=${x.shape[0]}` });
    }
  });

  it("--grad: one model returning the gradient with respect to every float argument", async () => {
    const r = runs.grad!;
    ok(r);
    expect(r.stdout).toContain("exported loss_grad: gradient of model.mjs#loss (ONNX grad export");
    expect(existsSync(path.join(dir, "o-grad/loss_grad.onnx"))).toBe(true);
    for (const x of xs) {
      const [gw, gx] = await runOnnx(model("o-grad/loss_grad.onnx"), [w, x]);
      const want = grad(loss, { argnums: [0, 1] })(w, x) as Tensor[];
      assertClose(gw!.data, want[0]!.dataSync(), { ...F32, what: "dW" });
      assertClose(gx!.data, want[1]!.dataSync(), { ...F32, what: "dx" });
    }
  });

  it("--vjp: forward and backward models; backward(residuals, outBar) equals adgen's vjp", async () => {
    const r = runs.vjp!;
    ok(r);
    const m = readJson("o-vjp/loss_vjp.manifest.json");
    expect(m.files.models).toEqual(["loss_vjp.forward.onnx", "loss_vjp.backward.onnx"]);
    expect(r.stdout).toContain(`residuals: ${m.residuals.length} (forward returns them after the outputs`);
    expect(r.stdout).toMatch(/forward\(arg0: float32\[3,4\], arg1: float32\[B,3\]\) -> \(out: float32\[\], r0/);
    for (const x of xs) {
      const outs = await runOnnx(model("o-vjp/loss_vjp.forward.onnx"), [w, x]);
      const res = outs.slice(1).map((o, i) => tensor(o.data, o.shape, m.residuals[i].dtype));
      const yBar = tensor([0.75], [], "float32");
      const bars = await runOnnx(model("o-vjp/loss_vjp.backward.onnx"), [...res, yBar]);
      const [y, pull] = vjp(loss, w, x);
      assertClose(outs[0]!.data, (y as Tensor).dataSync(), { ...F32, what: "loss" });
      const want = pull(yBar) as Tensor[];
      assertClose(bars[0]!.data, want[0]!.dataSync(), { ...F32, what: "wBar" });
      assertClose(bars[1]!.data, want[1]!.dataSync(), { ...F32, what: "xBar" });
    }
  });

  it("--jvp with --name and --flag=value: primals then tangents in, outputs then tangents out", async () => {
    const r = runs.jvp!;
    ok(r);
    const m = readJson("o-jvp/predict-tangent.manifest.json");
    expect(m.models[0].inputs.map((i: any) => i.name)).toEqual(["arg0", "arg1", "tangent0", "tangent1"]);
    const dw = rand([3, 4], 4, -1, 1, "float32");
    const dx = rand([2, 3], 5, -1, 1, "float32");
    const [out, tan] = await runOnnx(model("o-jvp/predict-tangent.onnx"), [w, xs[0]!, dw, dx]);
    const [wo, wt] = jvp(predict, [w, xs[0]!], [dw, dx]) as [Tensor, Tensor];
    assertClose(out!.data, wo.dataSync(), { ...F32, what: "out" });
    assertClose(tan!.data, wt.dataSync(), { ...F32, what: "tangent" });
  });

  it("an int32 argument: --vjp's backward and --grad return the float argument's cotangent only", async () => {
    ok(runs.intVjp!);
    ok(runs.intGrad!);
    expect(runs.intGrad!.stdout).toContain("gradient with respect to argument 0 (the non-float ones are not differentiated)");
    const m = readJson("o-int/picked_vjp.manifest.json");
    expect(m.models[1].outputs.map((o: any) => o.name)).toEqual(["argBar0"]);
    const x = rand([4, 3], 6, -1, 1, "float32");
    const k = tensor([2, 0, 1, 2], [4], "int32");
    const outs = await runOnnx(model("o-int/picked_vjp.forward.onnx"), [x, k]);
    const res = outs.slice(1).map((o, i) => tensor(o.data, o.shape, m.residuals[i].dtype));
    const [bar] = await runOnnx(model("o-int/picked_vjp.backward.onnx"), [...res, tensor([1], [], "float32")]);
    const want = grad((v: Tensor) => picked(v, k))(x) as Tensor;
    assertClose(bar!.data, want.dataSync(), { ...F32, what: "xBar" });
    const [g] = await runOnnx(model("o-int/picked_grad.onnx"), [x, k]);
    assertClose(g!.data, want.dataSync(), { ...F32, what: "grad" });
  });

  it("adgen inspect reads the ONNX manifest: models, opset, dim_params, residual table, files", async () => {
    const r = await adgen(["inspect", "o-vjp"]);
    ok(r);
    const m = readJson("o-vjp/loss_vjp.manifest.json");
    expect(r.stdout).toContain("loss_vjp  (ONNX vjp export)");
    expect(r.stdout).toContain(`adgen      ${VERSION}, manifest format adgen-onnx v1`);
    expect(r.stdout).toContain("ONNX       opset 18, IR version 8");
    expect(r.stdout).toMatch(/model forward: loss_vjp\.forward\.onnx\n {2}inputs:\n {4}arg0 +float32 +\[3,4\]\n {4}arg1 +float32 +\[B,3\]/);
    expect(r.stdout).toMatch(/model backward: loss_vjp\.backward\.onnx/);
    expect(r.stdout).toContain("symbolic dims: B (ONNX dim_params)");
    expect(r.stdout).toContain(`residuals (${m.residuals.length}; forward returns them`);
    expect(r.stdout).toMatch(/\n {2}name +dtype +shape +producedBy\n {2}r0 +float32 /);
    expect(r.stdout).toMatch(/loss_vjp\.backward\.onnx +[0-9,]+ bytes/);
  });

  it.each([
    ["--js with --onnx", ["export", "model.mjs", "--fn", "loss", ...ARGS, "--js", "--onnx", "--out", "o"], 2, "adgen export: --js chooses the kernels of an ES module; it does not apply to --onnx"],
    ["an ONNX name with $", ["export", "model.mjs", "--fn", "loss", ...ARGS, "--onnx", "--name", "a$b", "--out", "o"], 2, 'adgen export: bad --name "a$b": must consist of letters, digits, _ and - (an ONNX model and file name)'],
    ["--vjp of integer arguments only", ["export", "model.mjs", "--fn", "ints", "--arg", "int32[3]", "--arg", "int32[3]", "--vjp", "--onnx", "--out", "o"], 1, /^adgen export: exportOnnxVjp: no float argument to differentiate \(arguments are int32, int32\)/],
    ["--out under /proc", ["export", "model.mjs", "--fn", "loss", ...ARGS, "--onnx", "--out", "/proc/adgen-test/o"], 1, /^adgen export: cannot write to \/proc\/adgen-test\/o: .*refusing "\/proc\/adgen-test\/o" is under \/proc/],
  ] as [string, string[], number, string | RegExp][])("%s is rejected with one line", async (_, args, code, message) => {
    const r = await adgen(args);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    if (typeof message === "string") expect(lines[0]).toBe(message);
    else expect(lines[0]).toMatch(message);
    expect(r.code).toBe(code);
  });
});
