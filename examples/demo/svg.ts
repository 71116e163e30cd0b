// Writes a training-loss curve as a standalone SVG file (no dependencies): the loss of every
// step as a faint line, a moving average on top, a log10 y axis with decade grid lines, and step
// ticks on the x axis.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface SvgOpts {
  title: string;
  /** moving-average window, in steps */
  window?: number;
}

const W = 720;
const H = 380;
const M = { left: 64, right: 24, top: 44, bottom: 48 };

/** Mean of the last k values at each step (fewer at the start). */
export function movingAverage(ys: number[], k: number): number[] {
  let s = 0;
  return ys.map((v, i) => {
    s += v;
    if (i >= k) s -= ys[i - k]!;
    return s / Math.min(i + 1, k);
  });
}

/** 1, 2, 5, 10, 20, 50, ... steps between x ticks, about six ticks in all. */
function tickStep(n: number): number {
  const raw = n / 6;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Renders `losses` (one per step) and writes the SVG to `path`, creating its folder. */
export function writeLossSvg(path: string, losses: number[], opts: SvgOpts): void {
  const n = losses.length;
  const avg = movingAverage(losses, opts.window ?? 20);
  const logs = losses.map((v) => Math.log10(Math.max(v, 1e-12)));
  const lo = Math.floor(Math.min(...logs) * 2) / 2; // to half decades
  const hi = Math.ceil(Math.max(...logs) * 2) / 2;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (i: number) => M.left + (n > 1 ? (i / (n - 1)) * pw : 0);
  const y = (v: number) => M.top + ((hi - Math.log10(Math.max(v, 1e-12))) / (hi - lo || 1)) * ph;
  const pts = (ys: number[]) => ys.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");

  const grid: string[] = [];
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      const lv = Math.log10(v);
      if (lv < lo - 1e-9 || lv > hi + 1e-9) continue;
      const yy = y(v).toFixed(1);
      const major = m === 1;
      grid.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${yy}" y2="${yy}" stroke="#${major ? "d0d0d0" : "ececec"}"/>`);
      grid.push(`<text x="${M.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">${v >= 1 ? v : v.toPrecision(1)}</text>`);
    }
  }
  const step = tickStep(n);
  for (let s = 0; s <= n; s += step) {
    const xx = x(Math.max(0, s - 1)).toFixed(1);
    grid.push(`<line x1="${xx}" x2="${xx}" y1="${H - M.bottom}" y2="${H - M.bottom + 5}" stroke="#555"/>`);
    grid.push(`<text x="${xx}" y="${H - M.bottom + 18}" text-anchor="middle">${s}</text>`);
  }

  const svg = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12" fill="#333">
  <rect width="${W}" height="${H}" fill="white"/>
  <text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${esc(opts.title)}</text>
  ${grid.join("\n  ")}
  <rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#555"/>
  <polyline points="${pts(losses)}" fill="none" stroke="#9ecae1" stroke-width="1"/>
  <polyline points="${pts(avg)}" fill="none" stroke="#08519c" stroke-width="2"/>
  <text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">step</text>
  <text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">cross-entropy loss (log scale)</text>
  <g transform="translate(${W - M.right - 210} ${M.top + 12})">
    <line x1="0" x2="22" y1="0" y2="0" stroke="#9ecae1"/><text x="28" y="0" dominant-baseline="middle">minibatch loss</text>
    <line x1="0" x2="22" y1="18" y2="18" stroke="#08519c" stroke-width="2"/><text x="28" y="18" dominant-baseline="middle">moving average (${opts.window ?? 20} steps)</text>
  </g>
</svg>
`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
}
