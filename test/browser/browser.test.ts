// Issue 17.1 (and 17.2 in the browser): adgen in a real browser. Debian's Chromium, driven headless
// by playwright-core (pointed at the system browser: nothing is downloaded), loads a page from a
// small static server on 127.0.0.1 that serves the bundle users get (dist/adgen.mjs), the API
// probe (eager, grad, lax control flow, random, jit on wasm and interp, a GEMM-sized product) and
// an exported module through <script type="module">. The page's results are compared with Node's:
//   - cross-origin isolated (COOP/COEP): SharedArrayBuffer exists and the GEMM starts workers;
//   - without those headers: no SharedArrayBuffer, the single-thread fallback, no workers;
//   - with a strict CSP (script-src 'self' 'wasm-unsafe-eval'): no string is evaluated.
// Without Chromium the suite is skipped with a message (install: apt-get install chromium); in CI
// (CI=true) a missing browser is a failure.
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as src from "../../src/index.js";
import { ensureDist } from "../util/dist.js";
// @ts-expect-error plain JS module shared with the page
import { compareProbes, exportedArgs, probe } from "./probe.mjs";

const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const HERE = new URL(".", import.meta.url).pathname;
const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; object-src 'none'; base-uri 'none'";
/** The same, letting the GEMM start its workers (they are created from blob: URLs). */
const STRICT_CSP_THREADS = STRICT_CSP.replace("worker-src 'self'", "worker-src 'self' blob:");

if (!CHROMIUM) {
  const msg = "browser tests: Chromium not found; install it with `apt-get install chromium` to run them";
  if (process.env["CI"]) throw new Error(`${msg} (CI must run them: .ci/run installs it)`);
  console.warn(`SKIPPED ${msg}`);
}

type Mode = "coi" | "plain" | "csp" | "cspthreads";
const HEADERS: Record<Mode, Record<string, string>> = {
  coi: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" },
  plain: {},
  csp: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", "Content-Security-Policy": STRICT_CSP },
  cspthreads: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", "Content-Security-Policy": STRICT_CSP_THREADS },
};

let server: Server;
let base = "";
let files: Record<string, string> = {};
let want: Record<string, { values: number[]; exact: boolean }> & { "export.source"?: string };

/** Serves /<mode>/<file> from `files`, with the headers of that mode. */
function startServer(): Promise<string> {
  server = createServer((req, res) => {
    const [, mode, name] = (req.url ?? "").split("?")[0]!.split("/") as [string, Mode, string];
    const body = HEADERS[mode] !== undefined ? files[name] : undefined;
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const type = name.endsWith(".html") ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8";
    res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store", ...HEADERS[mode] }).end(body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
let browser: any;

beforeAll(async () => {
  if (!CHROMIUM) return;
  const bundle = ensureDist();
  want = await probe(src, { backends: ["wasm", "interp"], exportSource: true });
  files = {
    "adgen.mjs": readFileSync(bundle, "utf8"),
    "exported.mjs": want["export.source"]!,
    ...Object.fromEntries(["page.html", "page.mjs", "probe.mjs", "run-exported.mjs"].map((f) => [f, readFileSync(join(HERE, f), "utf8")])),
  };
  base = await startServer();
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(null)));
});

/** Loads the page in `mode` and returns what it published. */
async function runPage(mode: Mode) {
  const page = await browser.newPage();
  const console_: string[] = [];
  page.on("console", (m: { type(): string; text(): string }) => console_.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e: Error) => console_.push(`pageerror: ${e.message}`));
  try {
    await page.goto(`${base}/${mode}/page.html`);
    await page.waitForFunction(() => (globalThis as any).__adgen !== undefined && (globalThis as any).__exported !== undefined, null, { timeout: 90_000 });
    const r = await page.evaluate(() => ({ adgen: (globalThis as any).__adgen, exported: (globalThis as any).__exported }));
    return { ...r, console: console_ };
  } finally {
    await page.close();
  }
}

/** The checks every mode shares: the probe and the exported module agree with Node. */
function expectAgreesWithNode(r: Awaited<ReturnType<typeof runPage>>) {
  expect(r.adgen.error, r.console.join("\n")).toBeUndefined();
  // float results within 1e-5 (Chromium's GEMM takes relaxed-SIMD FMA, Node 20's does not); integer
  // results (random bits, keys, int32 casts) bit for bit
  expect(compareProbes(r.adgen.probe, want)).toEqual([]);
  expect(r.adgen.afterThreads).toBe(256 * 256 * 256);
  expect(r.exported.error).toBeUndefined();
  const nodeExported = (src as any).grad((w: any, x: any) => src.np.mean(src.np.square(src.np.tanh(src.np.matmul(x, w)))));
  const [w, x] = exportedArgs().map((a: { data: Float32Array; shape: number[] }) => src.np.array(Array.from(a.data), { dtype: "float32" }).reshape(a.shape));
  expect(compareProbes({ g: { values: r.exported.values } }, { g: { values: Array.from(nodeExported(w, x).data as Float32Array), exact: false } })).toEqual([]);
}

describe.skipIf(!CHROMIUM)("in Chromium", () => {
  it("issue 17.1: cross-origin isolated page: SharedArrayBuffer, GEMM worker threads, results equal Node's", async () => {
    const r = await runPage("coi");
    expectAgreesWithNode(r);
    expect(r.adgen.crossOriginIsolated).toBe(true);
    expect(r.adgen.sab).toBe("function");
    expect(r.adgen.workers).toBeGreaterThan(0);
    expect(r.adgen.violations).toEqual([]);
  });

  it("issue 17.1: page without COOP/COEP: no SharedArrayBuffer, single-thread GEMM fallback, same results", async () => {
    const r = await runPage("plain");
    expectAgreesWithNode(r);
    expect(r.adgen.crossOriginIsolated).toBe(false);
    expect(r.adgen.sab).toBe("undefined");
    expect(r.adgen.workers).toBe(0);
  });

  it("issue 17.2: strict CSP (script-src 'self' 'wasm-unsafe-eval'): import, eager, grad, jit wasm/interp and the exported module work", async () => {
    const r = await runPage("csp");
    expectAgreesWithNode(r);
    // no string is ever offered for evaluation (the eager loop specializer does not probe in a
    // browser); the only refusal is the GEMM's blob: worker, which this policy forbids (products
    // stay on one thread)
    expect(r.adgen.violations.filter((v: string) => v.startsWith("script-src"))).toEqual([]);
    for (const v of r.adgen.violations) expect(v).toBe("worker-src blob");
  });

  it("issue 17.2: strict CSP with worker-src blob: the GEMM threads start, same results", async () => {
    const r = await runPage("cspthreads");
    expectAgreesWithNode(r);
    expect(r.adgen.workers).toBeGreaterThan(0);
    expect(r.adgen.violations).toEqual([]);
  });
});
