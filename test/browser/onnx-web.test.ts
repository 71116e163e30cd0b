// Issue 16's second consumer in a real browser: models written by adgen's ONNX exporter (a value
// model with a symbolic batch, a gradient, the split VJP of a function with an int32 argument) are
// fetched by a page in Debian's Chromium (headless, through playwright-core, as browser.test.ts)
// and run by onnxruntime-web's wasm build loaded from node_modules; the page's outputs agree with
// onnxruntime-node and with adgen in Node. The page and the ORT files come from a small static
// server on 127.0.0.1 (.wasm as application/wasm). Skipped with a message without Chromium (a
// failure in CI, as the other browser suite).
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Tensor, exportOnnx, exportOnnxVjp, grad, nn, np, spec, vjp } from "../../src/index.js";
import { assertClose, rand, tensor } from "../util/check.js";
import { runOnnx } from "../onnx-run.js";

const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!CHROMIUM) {
  const msg = "browser tests (onnxruntime-web): Chromium not found; install it with `apt-get install chromium` to run them";
  if (process.env["CI"]) throw new Error(msg);
  console.warn(`SKIPPED ${msg}`);
}
// the wasm build's files (resolving "./ort-wasm-simd-threaded.wasm", one of the package's exports)
const ORT_DIST = dirname(createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>adgen onnxruntime-web test</title></head>
<body><script type="module" src="./page.mjs"></script></body></html>`;
const PAGE_JS = `import * as ort from "./ort/ort.wasm.min.mjs";
const ARR = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array };
try {
  ort.env.wasm.numThreads = 1; // no cross-origin isolation on this page
  const cases = await (await fetch("./cases.json")).json();
  const out = {};
  for (const c of cases) {
    const bytes = new Uint8Array(await (await fetch("./" + c.model)).arrayBuffer());
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
    const feeds = {};
    c.inputs.forEach((t, i) => (feeds[s.inputNames[i]] = new ort.Tensor(t.dtype, ARR[t.dtype].from(t.data), t.shape)));
    const r = await s.run(feeds);
    out[c.name] = s.outputNames.map((n) => ({ name: n, shape: [...r[n].dims], data: Array.from(r[n].data, Number) }));
  }
  globalThis.__ort = { out, userAgent: navigator.userAgent };
} catch (e) {
  globalThis.__ort = { error: String((e && e.stack) || e) };
}
`;

interface Case {
  name: string;
  model: string;
  inputs: Tensor[];
}
const asJson = (t: Tensor) => ({ dtype: t.dtype, shape: t.shape, data: Array.from(t.dataSync(), Number) });

const predict = (w: Tensor, x: Tensor) => nn.softmax(np.matmul(np.tanh(x), w), { axis: -1 });
const loss = (w: Tensor, x: Tensor) => np.mean(np.square(predict(w, x)));
const picked = (x: Tensor, k: Tensor) => np.sum(np.takeAlongAxis(np.sin(x), np.expandDims(k, 1), 1));

const value = exportOnnx(predict, [spec("float32", [4, 3]), spec("float32", ["B", 4])], { name: "predict" });
const gradient = exportOnnx(grad(loss, { argnums: [0, 1] }), [spec("float64", [4, 3]), spec("float64", ["B", 4])], { name: "loss_grad" });
const split = exportOnnxVjp(picked, [spec("float32", ["N", 3]), spec("int32", ["N"])], { name: "picked_vjp" });
const w32 = rand([4, 3], 1, -1, 1, "float32");
const xs32 = [rand([1, 4], 2, -1, 1, "float32"), rand([6, 4], 3, -1, 1, "float32")];
const w64 = rand([4, 3], 4);
const x64 = rand([5, 4], 5);
const px = rand([4, 3], 6, -1, 1, "float32");
const pk = tensor([0, 2, 1, 2], [4], "int32");

let server: Server;
let base = "";
let files: Record<string, { body: Buffer | string; type: string }> = {};
let casesUsed: Case[] = [];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let browser: any;

beforeAll(async () => {
  if (!CHROMIUM) return;
  // the backward model's inputs come from the forward model run by onnxruntime-node
  const fwd = await runOnnx(split.model("forward"), [px, pk]);
  const res = fwd.slice(1).map((o, i) => tensor(o.data, o.shape, split.manifest.residuals[i]!.dtype as "float32"));
  const cases: Case[] = [
    ...xs32.map((x, i) => ({ name: `value${i}`, model: "predict.onnx", inputs: [w32, x] })),
    { name: "grad", model: "loss_grad.onnx", inputs: [w64, x64] },
    { name: "forward", model: "picked_vjp.forward.onnx", inputs: [px, pk] },
    { name: "backward", model: "picked_vjp.backward.onnx", inputs: [...res, tensor([1.5], [], "float32")] },
  ];
  casesUsed = cases;
  const js = "text/javascript; charset=utf-8";
  files = {
    "page.html": { body: PAGE, type: "text/html; charset=utf-8" },
    "page.mjs": { body: PAGE_JS, type: js },
    "cases.json": { body: JSON.stringify(cases.map((c) => ({ ...c, inputs: c.inputs.map(asJson) }))), type: "application/json" },
    "predict.onnx": { body: Buffer.from(value.bytes), type: "application/octet-stream" },
    "loss_grad.onnx": { body: Buffer.from(gradient.bytes), type: "application/octet-stream" },
    "picked_vjp.forward.onnx": { body: Buffer.from(split.model("forward")), type: "application/octet-stream" },
    "picked_vjp.backward.onnx": { body: Buffer.from(split.model("backward")), type: "application/octet-stream" },
  };
  server = createServer((req, res) => {
    const name = (req.url ?? "").split("?")[0]!.replace(/^\//, "");
    let f = files[name];
    if (!f && name.startsWith("ort/") && /^ort\/[\w.-]+\.(mjs|wasm)$/.test(name)) {
      const p = join(ORT_DIST, name.slice(4));
      if (existsSync(p)) f = { body: readFileSync(p), type: p.endsWith(".wasm") ? "application/wasm" : js };
    }
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": f.type, "Cache-Control": "no-store" }).end(f.body);
  });
  base = await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(null)));
});

describe.skipIf(!CHROMIUM)("onnxruntime-web in Chromium", () => {
  it("runs adgen's exported models (value with a symbolic batch, float64 gradient, split VJP with an int32 argument) like onnxruntime-node and adgen", async () => {
    const page = await browser.newPage();
    const log: string[] = [];
    page.on("console", (m: { type(): string; text(): string }) => log.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e: Error) => log.push(`pageerror: ${e.message}`));
    let r: { out?: Record<string, { name: string; shape: number[]; data: number[] }[]>; error?: string };
    try {
      await page.goto(`${base}/page.html`);
      await page.waitForFunction(() => (globalThis as any).__ort !== undefined, null, { timeout: 90_000 });
      r = await page.evaluate(() => (globalThis as any).__ort);
    } finally {
      await page.close();
    }
    expect(r.error, log.join("\n")).toBeUndefined();
    const out = r.out!;
    // adgen in Node, the reference
    const [y, pull] = vjp((v: Tensor) => picked(v, pk), px);
    const want: Record<string, Tensor[]> = {
      value0: [predict(w32, xs32[0]!)],
      value1: [predict(w32, xs32[1]!)],
      grad: grad(loss, { argnums: [0, 1] })(w64, x64) as Tensor[],
      backward: pull(tensor([1.5], [], "float32")) as Tensor[],
    };
    const tol = (name: string) => (name === "grad" ? { rtol: 1e-12, atol: 1e-14 } : { rtol: 2e-5, atol: 1e-6 });
    for (const c of casesUsed) {
      const node = await runOnnx(c.model === "predict.onnx" ? value.bytes : c.model === "loss_grad.onnx" ? gradient.bytes : split.model(c.name), c.inputs);
      const web = out[c.name]!;
      expect(web.length, c.name).toBe(node.length);
      web.forEach((o, i) => {
        expect(o.shape, `${c.name} output ${i}`).toEqual(node[i]!.shape);
        assertClose(o.data, node[i]!.data, { ...tol(c.name), what: `${c.name} output ${i}: onnxruntime-web (Chromium) vs onnxruntime-node` });
        if (want[c.name]) assertClose(o.data, want[c.name]![i]!.dataSync(), { ...tol(c.name), what: `${c.name} output ${i}: onnxruntime-web (Chromium) vs adgen` });
      });
    }
    assertClose(out.forward![0]!.data, (y as Tensor).dataSync(), { rtol: 2e-5, atol: 1e-6, what: "forward out vs adgen" });
    expect(out.backward!.map((o) => o.name)).toEqual(["argBar0"]);
  });
});
