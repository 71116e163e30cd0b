// The playground page: reads the editor (a function of np/lax/nn, interpreted by mini-js because
// the page's CSP forbids eval), the argument specs and example sizes, and on every edit (debounced)
// fills the stage panes, the residual table, the fusion report, the jitted call's result and jit's
// explained cache misses; offers the AOT export as downloads and runs the training demo.
// window.__playground exposes counters and results to the browser test (test/browser/).

import * as adgen from "../../src/index.js";
import { compileFunction } from "./mini-js.js";
import { type Analysis, STAGE_PANES, type Transform, analyze, parseSizes, parseSpecs } from "./stages.js";
import { train } from "./train.js";

const { config, np, lax, nn } = adgen;

const EXAMPLE = `(x, w) => {
  const h = np.tanh(np.matmul(x, w));
  return np.mean(np.square(h)) + 0.1 * np.sum(w * w);
}`;

interface PlaygroundState {
  updates: number;
  error: string | null;
  violations: string[];
  losses: number[];
  trainingDone: boolean;
  downloads: string[];
}
const state: PlaygroundState = { updates: 0, error: null, violations: [], losses: [], trainingDone: false, downloads: [] };
(globalThis as { __playground?: PlaygroundState }).__playground = state;
document.addEventListener("securitypolicyviolation", (e) => state.violations.push(`${e.violatedDirective} ${e.blockedURI}`));

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const editor = $<HTMLTextAreaElement>("editor");
const specsBox = $<HTMLTextAreaElement>("specs");
const sizesBox = $<HTMLInputElement>("sizes");
const transformBox = $<HTMLSelectElement>("transform");
const status = $("status");
const cacheLog = $("cachelog");

// Blob-URL workers would be refused by worker-src 'self': products stay on one thread here
// source lines would point into the bundle (and the interpreter of mini-js), not at the editor
config.update({ matmulThreads: 1, backend: "wasm", explainCacheMisses: true, logCompiles: true, interpretBelowWork: 0, captureSourceLines: false });
const logLines: string[] = [];
function logLine(line: string): void {
  logLines.push(line);
  if (logLines.length > 40) logLines.shift();
  cacheLog.textContent = logLines.join("\n");
  cacheLog.scrollTop = cacheLog.scrollHeight;
}
config.update({
  logger: (e) => {
    if (e.kind === "cache-miss" || e.kind === "recompile-warning" || (e.kind === "compile" && !e.message.includes("train_step"))) logLine(`[${e.kind}] ${e.message}`);
  },
});

// one pane per stage
const stagesEl = $("stages");
const panes: Record<string, HTMLPreElement> = {};
for (const s of STAGE_PANES) {
  const box = document.createElement("div");
  const h = document.createElement("h3");
  h.textContent = s === "wasm" ? "wasm (module listing)" : s;
  const pre = document.createElement("pre");
  pre.className = "pane";
  pre.dataset["stage"] = s;
  box.append(h, pre);
  stagesEl.append(box);
  panes[s] = pre;
}

let lastExport: { module: string; manifest: string; name: string } | null = null;
let lastKey = "";

function renderResiduals(rows: Analysis["residuals"]): void {
  const table = $<HTMLTableElement>("residuals");
  table.replaceChildren();
  const tr = (cells: string[], tag: "td" | "th") => {
    const r = document.createElement("tr");
    for (const c of cells) {
      const el = document.createElement(tag);
      el.textContent = c;
      r.append(el);
    }
    table.append(r);
  };
  if (typeof rows === "string") return tr([rows], "td");
  tr(["name", "dtype", "shape", "bytes", "produced by"], "th");
  for (const r of rows) tr([r.name, r.dtype, `[${r.shape}]`, String(r.bytes), r.producedBy], "td");
}

function update(): void {
  const src = editor.value;
  const t = transformBox.value as Transform;
  try {
    const f = compileFunction(src, { np, lax, nn, Math }, np as unknown as Record<string, (...a: unknown[]) => unknown>, "f");
    const { specs } = parseSpecs(specsBox.value);
    const sizes = parseSizes(sizesBox.value);
    if (src !== lastKey) logLine(lastKey ? "[edit] function text changed: a new jitted function (first call below)" : "[start] first call");
    lastKey = src;
    const a = analyze(src, f, t, specs, sizes);
    for (const s of STAGE_PANES) panes[s]!.textContent = a.stages[s]!;
    renderResiduals(a.residuals);
    $("fusion").textContent = a.fusion;
    $("result").textContent = a.result;
    if (typeof a.exported === "string") {
      lastExport = null;
      $("manifest").textContent = a.exported;
    } else {
      lastExport = a.exported;
      $("manifest").textContent = a.exported.manifest;
    }
    state.error = null;
    status.className = "status";
    status.textContent = `updated (${++state.updates})`;
  } catch (e) {
    state.error = (e as Error).message;
    state.updates++;
    status.className = "status error";
    status.textContent = `error: ${(e as Error).message}`;
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;
const later = () => {
  clearTimeout(timer);
  timer = setTimeout(update, 250);
};
for (const el of [editor, specsBox, sizesBox]) el.addEventListener("input", later);
transformBox.addEventListener("change", update);

function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  state.downloads.push(name);
}
$("export-module").addEventListener("click", () => lastExport && download(`${lastExport.name}.mjs`, lastExport.module, "text/javascript"));
$("export-manifest").addEventListener("click", () => lastExport && download(`${lastExport.name}.manifest.json`, lastExport.manifest, "application/json"));

const trainButton = $<HTMLButtonElement>("train");
const canvas = $<HTMLCanvasElement>("loss");
trainButton.addEventListener("click", () => {
  trainButton.disabled = true;
  state.trainingDone = false;
  train(canvas, 300, 10, (t) => (state.losses = t.losses.slice())).then(
    () => {
      state.trainingDone = true;
      trainButton.disabled = false;
    },
    (e) => {
      state.error = `training: ${(e as Error).message}`;
      status.className = "status error";
      status.textContent = state.error;
      trainButton.disabled = false;
    },
  );
});

editor.value = EXAMPLE;
specsBox.value = "x: float32[B, 3]\nw: float32[3, 4]";
sizesBox.value = "B=4";
update();
