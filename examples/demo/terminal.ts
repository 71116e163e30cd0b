// Terminal output for the demo, with no dependencies: ANSI styles (off when stdout is not a
// terminal or NO_COLOR is set), a live progress bar that log lines can print above (one line per
// fifth of the run when stdout is not a terminal), and a Unicode braille line plot.

const out = process.stdout;
export const isTTY = !!out.isTTY;
const color = isTTY && !process.env["NO_COLOR"] && process.env["TERM"] !== "dumb";

const sgr = (code: string) => (s: string | number) => (color ? `\x1b[${code}m${s}\x1b[0m` : String(s));
export const bold = sgr("1");
export const dim = sgr("2");
export const red = sgr("31");
export const green = sgr("32");
export const yellow = sgr("33");
export const blue = sgr("34");
export const cyan = sgr("36");

/** "1.23 s" or "456 ms". */
export function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

/** "5.1 KiB" etc. */
export function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

let activeBar: ProgressBar | null = null;

/** Output width: the terminal's (kept between 60 and 110 columns), or 100 when not a terminal. */
export const columns = isTTY ? Math.max(60, Math.min(110, out.columns || 80)) : 100;

const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "").length;

/**
 * Word-wraps a line to `columns`; continuation lines are indented by `hang` columns (default: the
 * line's own indent plus 2). Escape codes do not count towards the width.
 */
export function wrap(line: string, hang?: number): string {
  if (visible(line) <= columns) return line;
  const indent = /^ */.exec(line)![0].length;
  const pad = " ".repeat(hang ?? indent + 2);
  const lines: string[] = [];
  let cur = line.slice(0, indent);
  for (const word of line.slice(indent).split(" ")) {
    const sep = cur.trim() === "" ? "" : " ";
    if (cur.trim() !== "" && visible(cur) + 1 + visible(word) > columns) {
      lines.push(cur);
      cur = pad + word;
    } else cur += sep + word;
  }
  lines.push(cur);
  return lines.join("\n");
}

/** Prints a line (wrapped); a live progress bar is cleared first and drawn again below it. */
export function say(line = "", hang?: number): void {
  const text = wrap(line, hang);
  if (activeBar && isTTY) {
    out.write(`\r\x1b[K${text}\n`);
    activeBar.draw();
  } else out.write(text + "\n");
}

/** Steps, a bar, the latest loss and the elapsed time, redrawn in place at most every 40 ms. */
export class ProgressBar {
  private readonly t0 = performance.now();
  private step = 0;
  private loss = NaN;
  private lastDraw = 0;
  private nextLine = 0;

  constructor(
    private readonly total: number,
    private readonly label: string,
    // the whole line must fit on one terminal row, or "\r" cannot redraw it
    private readonly width = Math.max(10, Math.min(28, columns - 52)),
  ) {
    activeBar = this;
  }

  update(step: number, loss: number): void {
    this.step = step;
    this.loss = loss;
    const now = performance.now();
    if (isTTY) {
      if (now - this.lastDraw >= 40 || step === this.total) this.draw();
    } else if (step >= this.nextLine || step === this.total) {
      // not a terminal (a pipe, a CI log): a plain line at 0%, 20%, ..., 100%
      out.write(this.text() + "\n");
      this.nextLine = step + Math.ceil(this.total / 5);
    }
  }

  draw(): void {
    this.lastDraw = performance.now();
    out.write(`\r\x1b[K${this.text()}`);
  }

  private text(): string {
    const frac = Math.min(1, this.step / this.total);
    const cells = frac * this.width;
    const full = Math.floor(cells);
    const part = " ▏▎▍▌▋▊▉"[Math.floor((cells - full) * 8)] ?? "";
    const bar = "█".repeat(full) + (full < this.width ? part : "") + " ".repeat(Math.max(0, this.width - full - 1));
    const n = String(this.total).length;
    const elapsed = performance.now() - this.t0;
    return (
      `  ${this.label} ${cyan(`│${bar}│`)} ${String(this.step).padStart(n)}/${this.total} steps` +
      `  loss ${Number.isNaN(this.loss) ? "  -   " : this.loss.toFixed(4)}  ${dim(seconds(elapsed).padStart(8))}`
    );
  }

  /** Leaves the final state on screen. */
  finish(): number {
    if (isTTY) {
      this.draw();
      out.write("\n");
    }
    activeBar = null;
    return performance.now() - this.t0;
  }
}

export interface PlotOpts {
  width?: number;
  height?: number;
  /** log10 y axis (for a loss over several decades) */
  logY?: boolean;
}

/**
 * A line plot of `ys` (one value per step) in braille characters: each character cell holds a
 * 2 x 4 grid of dots. Each dot column shows the mean of the steps it covers, joined to the previous
 * column by a vertical run so the curve reads as a line. Returns the lines, y labels on the left.
 */
export function brailleLines(ys: number[], opts: PlotOpts = {}): string[] {
  const W = opts.width ?? 60;
  const H = opts.height ?? 10;
  const f = opts.logY ? (v: number) => Math.log10(Math.max(v, 1e-12)) : (v: number) => v;
  const cols = W * 2;
  const rows = H * 4;
  const means: number[] = [];
  for (let c = 0; c < cols; c++) {
    const a = Math.floor((c * ys.length) / cols);
    const b = Math.max(a + 1, Math.floor(((c + 1) * ys.length) / cols));
    const chunk = ys.slice(a, b).map(f);
    if (chunk.length) means.push(chunk.reduce((s, v) => s + v, 0) / chunk.length);
  }
  const lo = Math.min(...means);
  const hi = Math.max(...means);
  const span = hi - lo || 1;
  const rowOf = (v: number) => Math.round(((hi - v) / span) * (rows - 1));
  const grid = Array.from({ length: H }, () => new Array<number>(W).fill(0));
  // dot bit of (x in 0..1, y in 0..3) inside one braille cell
  const BITS = [
    [0x01, 0x02, 0x04, 0x40],
    [0x08, 0x10, 0x20, 0x80],
  ];
  let prev: number | null = null;
  means.forEach((v, c) => {
    const r = rowOf(v);
    const [from, to] = prev === null ? [r, r] : [Math.min(prev, r), Math.max(prev, r)];
    for (let y = from; y <= to; y++) grid[Math.floor(y / 4)]![Math.floor(c / 2)]! |= BITS[c % 2]![y % 4]!;
    prev = r;
  });
  const g = opts.logY ? (v: number) => 10 ** v : (v: number) => v;
  const label = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));
  const labels = new Map([
    [0, label(g(hi))],
    [Math.floor((H - 1) / 2), label(g((hi + lo) / 2))],
    [H - 1, label(g(lo))],
  ]);
  const lw = Math.max(...[...labels.values()].map((s) => s.length));
  const lines = grid.map((row, i) => {
    const text = row.map((bits) => String.fromCharCode(0x2800 + bits)).join("");
    return `${(labels.get(i) ?? "").padStart(lw)} ┤${cyan(text)}`;
  });
  const n = ys.length;
  const axis = `${" ".repeat(lw)} └${"─".repeat(W)}`;
  const ticks = `${" ".repeat(lw + 2)}1${`step ${n}`.padStart(W - 1)}`;
  return [...lines, axis, dim(ticks)];
}
