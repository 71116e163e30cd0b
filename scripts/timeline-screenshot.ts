// Takes docs/timeline.png (the picture of the timeline in docs/diagnostics.md) from a real trace:
// runs a small workload with the timeline on (jit of an MLP's valueAndGrad: the first call's
// trace / optimize / codegen and run, cached calls, a new-shape miss and its compile, then
// profileKernels' kernel spans), writes the trace to docs/timeline-trace.json, draws it on a canvas
// in a self-contained page (scripts/timeline-layout.ts compiled and inlined; no external assets:
// Perfetto's UI needs the network) in headless Chromium, and saves the screenshot.
// `npx tsx scripts/timeline-screenshot.ts` (needs Chromium: apt-get install chromium).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** scripts/timeline-layout.ts as a script defining the global `TimelineLayout` (its exports). */
export async function inlineLayoutSource(): Promise<string> {
  const { transform } = await import("esbuild");
  const src = readFileSync(join(ROOT, "scripts", "timeline-layout.ts"), "utf8");
  return (await transform(src, { loader: "ts", format: "iife", globalName: "TimelineLayout", target: "es2020" })).code;
}

/** The page: the trace as JSON, the layout, and a canvas drawing of the layout. */
export function pageHtml(trace: unknown, layoutJs: string, title: string, width = 1200, height = 600): string {
  const json = JSON.stringify(trace).replace(/</g, "\\u003c");
  const draw = `
const doc = JSON.parse(document.getElementById("trace").textContent);
const L = TimelineLayout.layoutTimeline(doc, { width: ${width}, height: ${height} });
const cv = document.getElementById("cv");
cv.width = L.width; cv.height = L.height;
const g = cv.getContext("2d");
const COLORS = { cache: "#8e8e8e", compile: "#e8a33d", run: "#3b82c4", kernel: "#5aa469" };
const color = (c) => COLORS[c] || "#9467bd";
g.fillStyle = "#fff"; g.fillRect(0, 0, L.width, L.height);
g.font = "bold 15px sans-serif"; g.fillStyle = "#222"; g.textBaseline = "alphabetic";
g.fillText(${JSON.stringify(title)}, 12, 22);
g.font = "12px sans-serif"; g.fillStyle = "#555";
const nx = L.bars.length, ni = L.markers.length;
g.fillText(nx + " complete events (spans), " + ni + " instant events, " + L.totalMs.toFixed(1) + " ms from first to last; time axis broken at idle gaps, each part on its own scale", 12, 40);
// rows
L.rows.forEach((r, i) => {
  g.fillStyle = i % 2 ? "#f6f7f9" : "#eef1f5"; g.fillRect(L.plot.x, r.y - 3, L.plot.w, r.h + 6);
  g.fillStyle = "#222"; g.font = "bold 12px sans-serif"; g.textBaseline = "middle"; g.fillText(r.cat, 10, r.y + r.h / 2);
});
// idle gaps
L.gaps.forEach((gp) => {
  g.fillStyle = "#fff"; g.fillRect(gp.x + 2, L.plot.y - 6, gp.w - 4, L.plot.h + 12);
  g.strokeStyle = "#aaa"; g.setLineDash([4, 3]);
  for (const dx of [6, gp.w - 6]) { g.beginPath(); g.moveTo(gp.x + dx, L.plot.y - 6); g.lineTo(gp.x + dx, L.plot.y + L.plot.h + 6); g.stroke(); }
  g.setLineDash([]);
  g.save(); g.translate(gp.x + gp.w / 2 + 4, L.plot.y + L.plot.h / 2); g.rotate(-Math.PI / 2);
  g.fillStyle = "#777"; g.font = "11px sans-serif"; g.textAlign = "center"; g.fillText(gp.label, 0, 0); g.restore();
});
// bars
L.bars.forEach((b) => {
  g.fillStyle = color(b.cat); g.fillRect(b.x, b.y, b.w, b.h);
  g.strokeStyle = "rgba(0,0,0,0.35)"; g.lineWidth = 1; g.strokeRect(b.x + 0.5, b.y + 0.5, Math.max(0.5, b.w - 1), b.h - 1);
  if (b.label) {
    g.save(); g.beginPath(); g.rect(b.x, b.y, b.w, b.h); g.clip();
    g.fillStyle = "#fff"; g.font = "11px sans-serif"; g.textBaseline = "middle"; g.fillText(b.label, b.x + 3, b.y + b.h / 2); g.restore();
  }
});
// instant events
L.markers.forEach((m) => {
  g.strokeStyle = m.miss ? "#d62728" : "#2ca02c"; g.lineWidth = m.miss ? 2 : 1.5;
  g.beginPath(); g.moveTo(m.x, m.y); g.lineTo(m.x, m.y + m.h); g.stroke();
  g.fillStyle = g.strokeStyle; g.beginPath(); g.moveTo(m.x - 5, m.y); g.lineTo(m.x + 5, m.y); g.lineTo(m.x, m.y + 8); g.fill();
  if (m.label) { g.font = "11px sans-serif"; g.textBaseline = "middle"; g.fillText(m.label, m.x + 4, m.y + m.h / 2 + 4); }
});
// axis
const ay = L.plot.y + L.plot.h + 12;
g.strokeStyle = "#444"; g.lineWidth = 1;
L.segments.forEach((s) => { g.beginPath(); g.moveTo(s.x, ay); g.lineTo(s.x + s.w, ay); g.stroke(); });
g.fillStyle = "#333"; g.font = "11px sans-serif"; g.textAlign = "center"; g.textBaseline = "top";
L.ticks.forEach((t) => { g.beginPath(); g.moveTo(t.x, ay); g.lineTo(t.x, ay + 5); g.stroke(); g.fillText(t.label, t.x, ay + 8); });
g.textAlign = "left"; g.fillText("ms since the first event", L.plot.x, ay + 26);
// legend
let lx = L.plot.x + 220; const ly = ay + 32;
for (const [k, c] of Object.entries(COLORS)) { g.fillStyle = c; g.fillRect(lx, ly - 4, 14, 10); g.fillStyle = "#333"; g.textBaseline = "middle"; g.fillText(k, lx + 18, ly + 1); lx += 90; }
for (const [k, c] of [["cache miss", "#d62728"], ["cache hit", "#2ca02c"]]) { g.fillStyle = c; g.fillRect(lx + 6, ly - 5, 2, 12); g.fillStyle = "#333"; g.fillText(k, lx + 14, ly + 1); lx += 100; }
window.__drawn = { bars: L.bars.length, markers: L.markers.length };
`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>adgen timeline</title>
<style>html,body{margin:0;background:#fff}canvas{display:block}</style></head>
<body><canvas id="cv" width="${width}" height="${height}"></canvas>
<script type="application/json" id="trace">${json}</script>
<script>${layoutJs}</script>
<script>${draw}</script>
</body></html>`;
}

/** Runs the workload with the timeline on, writes it to `file` and returns it (parsed). */
export async function writeTrace(file: string): Promise<unknown> {
  const { config, flushTimeline, jit, np, profileKernels, valueAndGrad } = await import("../src/index.js");
  type Tensor = import("../src/index.js").Tensor;
  config.update({ traceFile: file });
  const loss = (p: { w1: Tensor; w2: Tensor }, x: Tensor, y: Tensor) => np.mean(np.square(np.subtract(np.matmul(np.tanh(np.matmul(x, p.w1)), p.w2), y)));
  const step = jit(valueAndGrad(loss), { name: "mlpStep" });
  const p = { w1: np.full([16, 32], 0.01), w2: np.full([32, 4], 0.01) };
  for (let i = 0; i < 4; i++) step(p, np.ones([64, 16]), np.zeros([64, 4])); // first call, then hits
  for (let i = 0; i < 2; i++) step(p, np.ones([128, 16]), np.zeros([128, 4])); // a new shape: miss, then a hit
  profileKernels(step, [p, np.ones([64, 16]), np.zeros([64, 4])], { repeats: 20 });
  flushTimeline();
  config.update({ traceFile: null });
  return JSON.parse(readFileSync(file, "utf8"));
}

async function main(): Promise<void> {
  const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
  if (!CHROMIUM) throw new Error("timeline-screenshot needs Chromium (apt-get install chromium)");
  mkdirSync(join(ROOT, "docs"), { recursive: true });
  const traceFile = join(ROOT, "docs", "timeline-trace.json");
  const trace = await writeTrace(traceFile);
  const html = pageHtml(trace, await inlineLayoutSource(), "adgen timeline: jit(valueAndGrad(mlp loss)), from docs/timeline-trace.json");
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 600 }, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.setContent(html); // resolves at "load": the inline scripts have run
    const drawn = (await page.evaluate(() => (globalThis as { __drawn?: { bars: number; markers: number } }).__drawn)) ?? null;
    if (errors.length || !drawn || drawn.bars === 0) throw new Error(`the timeline page did not draw: ${errors.join("; ") || JSON.stringify(drawn)}`);
    await page.locator("#cv").screenshot({ path: join(ROOT, "docs", "timeline.png") });
    console.log(`wrote docs/timeline-trace.json and docs/timeline.png (${drawn.bars} spans, ${drawn.markers} instants)`);
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
