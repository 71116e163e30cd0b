// Takes docs/playground.png (the README's picture of the playground): builds the site with Vite
// into a temporary folder, serves it under its CSP, runs the training demo in headless Chromium
// and captures the page. `npm run playground:screenshot` (needs Chromium: apt-get install chromium).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serveStatic } from "./serve.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!CHROMIUM) throw new Error("playground:screenshot needs Chromium (apt-get install chromium)");

const out = mkdtempSync(join(tmpdir(), "adgen-playground-shot-"));
execFileSync(process.execPath, [join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "--config", join(ROOT, "playground", "vite.config.ts"), "--outDir", out, "--emptyOutDir", "--logLevel", "error"], { cwd: ROOT, stdio: "inherit" });
const { server, base } = await serveStatic(out);
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  await page.goto(base);
  await page.waitForFunction(() => (globalThis as any).__playground?.updates >= 1);
  await page.selectOption("#transform", "grad");
  await page.waitForFunction(() => (globalThis as any).__playground?.updates >= 2);
  await page.click("#train");
  await page.waitForFunction(() => (globalThis as any).__playground?.trainingDone, null, { timeout: 120_000 });
  mkdirSync(join(ROOT, "docs"), { recursive: true });
  await page.screenshot({ path: join(ROOT, "docs", "playground.png"), fullPage: true });
  console.log("wrote docs/playground.png");
} finally {
  await browser.close();
  server.close();
  rmSync(out, { recursive: true, force: true });
}
