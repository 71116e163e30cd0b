// Issue 17.3: the playground in a real browser. The site is built with Vite (as `npm run
// playground:build` does, into a temporary folder), served from 127.0.0.1 under the strict
// policy it is made for (playground/csp.ts: script-src 'self' 'wasm-unsafe-eval', nothing else),
// and driven in headless Chromium: it loads and fills every pane, an edit in the editor updates
// the stages, a change of the example sizes is explained as a jit cache miss, the AOT export
// downloads a module that runs in Node with the same result as adgen in Node and a manifest with
// the symbolic dimension, the training demo's loss falls, and no CSP violation is reported.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as src from "../../src/index.js";
import { serveStatic } from "../../playground/serve.js";
import { ROOT } from "../util/dist.js";

const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

let out = "";
let server: Server;
let base = "";
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let browser: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let page: any;

beforeAll(async () => {
  if (!CHROMIUM) return;
  out = mkdtempSync(join(tmpdir(), "adgen-playground-"));
  const vite = join(ROOT, "node_modules", "vite", "bin", "vite.js");
  execFileSync(process.execPath, [vite, "build", "--config", join(ROOT, "playground", "vite.config.ts"), "--outDir", out, "--emptyOutDir", "--logLevel", "error"], { cwd: ROOT, stdio: "pipe" });
  ({ server, base } = await serveStatic(out));
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } })).newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(null)));
  if (out) rmSync(out, { recursive: true, force: true });
});

const state = () => page.evaluate(() => (globalThis as any).__playground);
const pane = (stage: string) => page.textContent(`pre[data-stage="${stage}"]`) as Promise<string>;
/** Waits until the page has finished an update after `before` updates. */
const updatedAfter = (before: number) => page.waitForFunction((n: number) => (globalThis as any).__playground.updates > n, before, { timeout: 30_000 });

describe.skipIf(!CHROMIUM)("playground in Chromium (strict CSP)", () => {
  it("issue 17.3: loads and fills every stage pane, the residual table and the fusion report", async () => {
    const errors: string[] = [];
    page.on("pageerror", (e: Error) => errors.push(e.message));
    await page.goto(base);
    await page.waitForFunction(() => (globalThis as any).__playground?.updates >= 1, null, { timeout: 60_000 });
    expect((await state()).error).toBeNull();
    expect(errors).toEqual([]);
    // the example: tanh(x @ w), mean of squares plus an L2 term; x has the symbolic batch B
    expect(await pane("traced")).toMatch(/a:f32\[B,3\] b:f32\[3,4\]/);
    expect(await pane("traced")).toContain("tanh");
    expect(await pane("jvp")).toContain("dot_general");
    expect(await pane("linearized")).toContain("lambda");
    expect(await pane("transposed")).toMatch(/dot_general\[lhsContract=\[0\]/);
    expect(await pane("optimized")).toContain("reduce_sum");
    expect(await pane("kernels")).toMatch(/^\d+ kernels, arena planned per B/);
    expect(await pane("js")).toContain('"use strict"');
    expect(await pane("wasm")).toMatch(/^module: \d+ bytes\n/);
    expect(await pane("wasm")).toContain("import env.memory");
    expect(await pane("wasm")).toMatch(/\n\s+f32\.load align=4\n/);
    expect(await pane("wasm")).not.toMatch(/not decoded/);
    const residuals = await page.$$eval("#residuals tr", (rows: any[]) => rows.map((r) => r.textContent));
    expect(residuals.length).toBeGreaterThan(1);
    expect(residuals.join("\n")).toMatch(/float32/);
    expect(await page.textContent("#fusion")).toMatch(/kernel 0 \(dot\): dot_general#0/);
    // the jitted call at B=4 equals adgen's own in Node
    const f = (x: src.Tensor, w: src.Tensor) => src.np.add(src.np.mean(src.np.square(src.np.tanh(src.np.matmul(x, w)))), src.np.multiply(0.1, src.np.sum(src.np.multiply(w, w))));
    const want = (f(...(exampleArgs() as [src.Tensor, src.Tensor])).data as Float32Array)[0]!;
    const shown = Number(/([-\d.e]+)\s*$/.exec((await page.textContent("#result")).trim())![1]);
    expect(Math.abs(shown - want)).toBeLessThanOrEqual(1e-4 * Math.abs(want));
  });

  it("issue 17.3: an edit in the editor updates the stages; a size change is an explained cache miss", async () => {
    let before = (await state()).updates;
    // type an edit: tanh -> sin, through the keyboard, as a user would
    const text: string = await page.inputValue("#editor");
    const at = text.indexOf("np.tanh") + "np.".length;
    await page.focus("#editor");
    await page.evaluate((i: number) => (globalThis as any).document.getElementById("editor").setSelectionRange(i, i + 4), at);
    await page.keyboard.type("sin");
    await updatedAfter(before);
    expect((await state()).error).toBeNull();
    expect(await page.inputValue("#editor")).toContain("np.sin(np.matmul(x, w))");
    expect(await pane("traced")).toContain("sin");
    expect(await pane("traced")).not.toContain("tanh");
    expect(await pane("kernels")).toMatch(/fuses: sin#1/);
    expect(await page.textContent("#cachelog")).toContain("[edit] function text changed");

    before = (await state()).updates;
    await page.fill("#sizes", "B=7");
    await updatedAfter(before);
    expect(await page.textContent("#cachelog")).toMatch(/\[cache-miss\] jit\(f\)[^\n]*(shape|size|B)/);

    // a syntax error is shown, not thrown, and the panes keep their last content
    before = (await state()).updates;
    await page.fill("#editor", "(x, w) => np.sum(");
    await updatedAfter(before);
    expect((await state()).error).toMatch(/line 1, column \d+/);
    expect(await pane("traced")).toContain("sin");
  });

  it("issue 17.3: the AOT export downloads a module that runs in Node like adgen, and its manifest", async () => {
    let before = (await state()).updates;
    await page.fill("#editor", "(x, w) => np.sum(np.tanh(np.matmul(x, w)))");
    await page.fill("#sizes", "B=4");
    await updatedAfter(before);
    before = (await state()).updates;
    await page.selectOption("#transform", "grad");
    await updatedAfter(before);
    expect((await state()).error).toBeNull();

    const [mod] = await Promise.all([page.waitForEvent("download"), page.click("#export-module")]);
    expect(mod.suggestedFilename()).toBe("playground.mjs");
    const modPath = await mod.path();
    const source = readFileSync(modPath, "utf8");
    expect(source).not.toMatch(/from\s+["']adgen/);
    const [man] = await Promise.all([page.waitForEvent("download"), page.click("#export-manifest")]);
    expect(man.suggestedFilename()).toBe("playground.manifest.json");
    const manifest = JSON.parse(readFileSync(await man.path(), "utf8"));
    expect(manifest.name).toBe("playground");
    expect(JSON.stringify(manifest)).toContain('"B"');

    // the downloaded module, run in Node: d/dx of sum(tanh(x @ w)) equals adgen's grad in Node
    const copy = join(out, "downloaded-playground.mjs");
    execFileSync("cp", [modPath, copy]);
    const m = await import(pathToFileURL(copy).href);
    const [x, w] = exampleArgs();
    const fn = m.default;
    const got = fn({ data: x!.data, shape: x!.shape }, { data: w!.data, shape: w!.shape });
    const want = src.grad((a: src.Tensor, b: src.Tensor) => src.np.sum(src.np.tanh(src.np.matmul(a, b))))(x, w);
    const gotData = Array.from((got.data ?? got) as Float32Array);
    const wantData = Array.from(want.data as Float32Array);
    expect(gotData.length).toBe(wantData.length);
    gotData.forEach((v, i) => expect(Math.abs(v - wantData[i]!)).toBeLessThanOrEqual(1e-5));
  });

  it("issue 17.3: the training demo's loss falls, plotted live", async () => {
    await page.click("#train");
    await page.waitForFunction(() => (globalThis as any).__playground.trainingDone, null, { timeout: 120_000 });
    const s = await state();
    expect(s.error).toBeNull();
    expect(s.losses.length).toBe(300);
    expect(s.losses.every((l: number) => Number.isFinite(l))).toBe(true);
    expect(s.losses.at(-1)).toBeLessThan(s.losses[0] * 0.1);
    // the canvas was drawn on: not all one colour
    const distinct = await page.evaluate(() => {
      // (this function runs in the page: DOM types are not in the test's tsconfig)
      const c = (globalThis as any).document.getElementById("loss");
      const d: Uint8ClampedArray = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4 * 37) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return seen.size;
    });
    expect(distinct).toBeGreaterThan(2);
  });

  it("issue 17.2/17.3: no Content-Security-Policy violation in the whole session", async () => {
    // the page's own securitypolicyviolation listener: loading adgen, eager ops, grad, jit on
    // wasm, export and training triggered none (events are dispatched as tasks: let them arrive)
    await page.waitForTimeout(100);
    expect((await state()).violations).toEqual([]);
  });
});

/** The playground's example arguments at B=4 (stages.ts exampleArgs: sin(i * 0.37 + k)). */
function exampleArgs(): src.Tensor[] {
  return [
    [4, 3],
    [3, 4],
  ].map((shape, k) => src.np.array(Array.from({ length: shape[0]! * shape[1]! }, (_, i) => Math.sin(i * 0.37 + k)), { dtype: "float32" }).reshape(shape));
}
