// The second consumer of issue 16: models written by exportOnnx / exportOnnxVjp / exportOnnxJvp
// (and `adgen export --onnx`'s writer), read back from disk and run by onnxruntime-web (its wasm
// build, a separate ONNX Runtime compiled to WebAssembly, here in Node) and by onnxruntime-node;
// both agree with adgen. Also compileOrtWeb (src/onnx/session-web.ts): a Program on onnxruntime-web
// agrees with the interpreter at several batch sizes through one dim_param, keeps int32/bool
// dtypes, and a missing package or an unavailable provider is a clear ArgumentError.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ortWeb from "onnxruntime-web";
import { afterAll, describe, expect, it, vi } from "vitest";
import { ArgumentError, type Tensor, exportOnnx, exportOnnxJvp, exportOnnxVjp, grad, jvp, makeProgram, nn, np, spec, vjp } from "../src/index.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { compileOrtWeb, ortWebKey } from "../src/onnx/session-web.js";
import { assertClose, rand, tensor } from "./util/check.js";
import { runOnnx, type RunOutput } from "./onnx-run.js";

const dir = mkdtempSync(join(tmpdir(), "adgen-onnx-web-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a model file on onnxruntime-web (wasm), inputs in the model's input order. */
async function runWeb(bytes: Uint8Array, inputs: Tensor[]): Promise<RunOutput[]> {
  const s = await ortWeb.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  const feeds: Record<string, ortWeb.Tensor> = {};
  s.inputNames.forEach((n, i) => {
    const t = inputs[i]!;
    feeds[n] = new ortWeb.Tensor(t.dtype, t.dtype === "bool" ? Uint8Array.from(t.dataSync()) : (t.dataSync() as Float32Array), t.shape as number[]);
  });
  const res = await s.run(feeds);
  const out = s.outputNames.map((n) => ({ data: Array.from(res[n]!.data as ArrayLike<number>, Number), shape: [...res[n]!.dims], type: res[n]!.type }));
  await s.release();
  return out;
}

/** Writes the export, reads each model back, and runs it on both runtimes; returns [web, node] outputs per role. */
async function both(e: { manifest: { models: { role: string; file: string }[] }; write(d: string): Promise<string[]> }, inputs: Record<string, Tensor[]>): Promise<Record<string, [RunOutput[], RunOutput[]]>> {
  await e.write(dir);
  const out: Record<string, [RunOutput[], RunOutput[]]> = {};
  for (const m of e.manifest.models) {
    const bytes = new Uint8Array(readFileSync(join(dir, m.file)));
    out[m.role] = [await runWeb(bytes, inputs[m.role]!), await runOnnx(bytes, inputs[m.role]!)];
  }
  return out;
}

function agree(got: [RunOutput[], RunOutput[]], want: Tensor[], tol: { rtol: number; atol: number }, what: string): void {
  for (const [k, outs] of got.entries()) {
    expect(outs.length, what).toBe(want.length);
    outs.forEach((o, i) => {
      expect(o.shape, `${what} ${k ? "node" : "web"} output ${i}`).toEqual(want[i]!.shape);
      assertClose(o.data, want[i]!.dataSync(), { ...tol, what: `${what} ${k ? "onnxruntime-node" : "onnxruntime-web"} output ${i}` });
    });
  }
}

const predict = (w: Tensor, x: Tensor) => nn.softmax(np.matmul(np.tanh(x), w), { axis: -1 });
const loss = (w: Tensor, x: Tensor) => np.mean(np.square(predict(w, x)));
const F32 = { rtol: 2e-5, atol: 1e-6 };
const F64 = { rtol: 1e-12, atol: 1e-14 };

describe("second consumer: onnxruntime-web (wasm, in Node) runs the written models like onnxruntime-node", () => {
  it("value model with a symbolic batch (float32): batches 1 and 6 through one file", async () => {
    const e = exportOnnx(predict, [spec("float32", [4, 3]), spec("float32", ["B", 4])], { name: "web_predict" });
    const w = rand([4, 3], 1, -1, 1, "float32");
    for (const b of [1, 6]) {
      const x = rand([b, 4], b, -1, 1, "float32");
      const got = await both(e, { value: [w, x] });
      agree(got.value!, [predict(w, x)], F32, `B=${b}`);
    }
  });

  it("gradient model (float64)", async () => {
    const e = exportOnnx(grad(loss, { argnums: [0, 1] }), [spec("float64", [4, 3]), spec("float64", ["B", 4])], { name: "web_grad" });
    const args = [rand([4, 3], 2), rand([5, 4], 3)];
    const got = await both(e, { value: args });
    agree(got.value!, grad(loss, { argnums: [0, 1] })(...args) as Tensor[], F64, "grad");
  });

  it("split VJP with an int32 argument: forward and backward on both runtimes equal adgen's vjp", async () => {
    const picked = (x: Tensor, k: Tensor) => np.sum(np.takeAlongAxis(np.sin(x), np.expandDims(k, 1), 1));
    const e = exportOnnxVjp(picked, [spec("float32", ["N", 3]), spec("int32", ["N"])], { name: "web_vjp" });
    const x = rand([4, 3], 4, -1, 1, "float32");
    const k = tensor([0, 2, 1, 2], [4], "int32");
    const fwd = await both({ manifest: { models: [e.manifest.models[0]!] }, write: (d) => e.write(d) }, { forward: [x, k] });
    const [y, pull] = vjp((v: Tensor) => picked(v, k), x);
    const [webOut, nodeOut] = fwd.forward!;
    assertClose(webOut[0]!.data, (y as Tensor).dataSync(), { ...F32, what: "web out" });
    // the residuals each runtime produced go into its own backward run
    const yBar = tensor([1.5], [], "float32");
    const bytes = new Uint8Array(readFileSync(join(dir, e.manifest.models[1]!.file)));
    const res = (outs: RunOutput[]) => outs.slice(1).map((o, i) => tensor(o.data, o.shape, e.manifest.residuals[i]!.dtype as "float32"));
    const want = pull(yBar) as Tensor[];
    const webBar = await runWeb(bytes, [...res(webOut), yBar]);
    const nodeBar = await runOnnx(bytes, [...res(nodeOut), yBar]);
    agree([webBar, nodeBar], want, F32, "xBar");
  });

  it("JVP model (float64)", async () => {
    const e = exportOnnxJvp(predict, [spec("float64", [4, 3]), spec("float64", ["B", 4])], { name: "web_jvp" });
    const p = [rand([4, 3], 5), rand([2, 4], 6)];
    const t = [rand([4, 3], 7), rand([2, 4], 8)];
    const got = await both(e, { jvp: [...p, ...t] });
    agree(got.jvp!, jvp(predict, p, t) as Tensor[], F64, "jvp");
  });
});

describe("compileOrtWeb: Programs on onnxruntime-web", () => {
  const program = makeProgram(predict)(spec("float64", [4, 3]), spec("float64", ["B", 4]));

  it("one session serves batches 1, 3 and 17 and agrees with the interpreter", async () => {
    const c = await compileOrtWeb(program);
    expect(c.key).toBe("onnxruntime-web:wasm:threads=0");
    const w = rand([4, 3], 9);
    for (const b of [1, 3, 17]) {
      const x = rand([b, 4], 10 + b);
      const [got] = await c.run([w, x]);
      const [want] = interpret(program, [w, x]);
      expect(got!.dtype).toBe("float64");
      expect(got!.shape).toEqual([b, 3]);
      assertClose(got!.dataSync(), want!.dataSync(), F64);
    }
    await c.dispose();
  });

  it("bool and int32 results keep their dtypes; wrong inputs are rejected before ONNX Runtime", async () => {
    const p = makeProgram((x: Tensor) => [np.greater(x, 0), np.argmax(x, { axis: 0 })])(spec("float32", [6]));
    const x = rand([6], 11, -1, 1, "float32");
    const c = await compileOrtWeb(p);
    const [gt, am] = await c.run([x]);
    const [wgt, wam] = interpret(p, [x]);
    expect([gt!.dtype, am!.dtype]).toEqual(["bool", "int32"]);
    expect(Array.from(gt!.dataSync())).toEqual(Array.from(wgt!.dataSync()));
    expect(am!.item()).toBe(wam!.item());
    await expect(c.run([rand([6], 1)])).rejects.toThrow(/onnxruntime-web: input 0 is f64\[6\], the program expects f32\[6\]/);
  });

  it("an unavailable or unknown provider, and a bad option, are clear ArgumentErrors", async () => {
    await expect(compileOrtWeb(program, { executionProvider: "webgpu" })).rejects.toThrow(ArgumentError);
    await expect(compileOrtWeb(program, { executionProvider: "webgpu" })).rejects.toThrow(/execution provider "webgpu" is not available here: navigator.gpu is missing/);
    await expect(compileOrtWeb(program, { executionProvider: "cuda" })).rejects.toThrow(/unknown provider \(onnxruntime-web has "wasm", "webgpu", "webnn", "webgl"\)/);
    await expect(compileOrtWeb(program, { threads: 3 })).rejects.toThrow(/threads 3 requested, but the first session fixed 0/);
    await expect(compileOrtWeb(program, { thread: 1 } as never)).rejects.toThrow(/unknown option "thread"/);
    expect(ortWebKey({ executionProvider: "webgpu", threads: 2 })).toBe("onnxruntime-web:webgpu:threads=2");
  });

  it("a missing onnxruntime-web is an ArgumentError naming the package and how to install or hand it over", async () => {
    vi.resetModules();
    const fresh = (await import("../src/onnx/session-web.js")) as typeof import("../src/onnx/session-web.js");
    const missing = () => Promise.reject(Object.assign(new Error("Cannot find package 'onnxruntime-web' imported from x"), { code: "ERR_MODULE_NOT_FOUND" }));
    const err = await fresh.loadOnnxRuntimeWeb(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("ArgumentError");
    expect(String(err)).toMatch(/needs the optional peer dependency onnxruntime-web: install it with `npm install onnxruntime-web`.*useOnnxRuntimeWeb\(await import\("onnxruntime-web"\)\) \(loading it failed: Cannot find package/);
    // handing the module over works without the import
    fresh.useOnnxRuntimeWeb(ortWeb);
    expect((await fresh.loadOnnxRuntimeWeb(missing)).InferenceSession).toBe(ortWeb.InferenceSession);
    expect(() => fresh.useOnnxRuntimeWeb({})).toThrow(/expected the onnxruntime-web module/);
  });
});
