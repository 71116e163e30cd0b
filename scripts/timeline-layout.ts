// The layout of docs/timeline.png (scripts/timeline-screenshot.ts): maps a Chrome trace-event
// document (adgen's timeline, src/jit/timeline.ts) to bars, markers and axis ticks in pixels. The
// page that draws the picture inlines this file (compiled by esbuild), so it has no imports and
// works on plain JSON; test/timeline-render.test.ts checks it against a real trace.
//
// Rows: one per category ("cache", "compile", "run", "kernel", in order of first appearance),
// split into lanes where complete events of one category overlap. Time axis: the trace is cut
// into busy segments wherever nothing happens for more than `gapMs`; each idle gap is drawn as a
// fixed-width break labeled with its length, and each segment gets its own linear scale (a short
// segment, such as profileKernels' spans of a few microseconds, is widened to `minSegmentPx` so it
// stays readable). Tick labels are milliseconds since the first event.

export interface TraceEventLike {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  args?: Record<string, unknown>;
}

export interface LayoutOptions {
  width?: number;
  height?: number;
  /** idle time (ms) longer than this becomes a break in the axis */
  gapMs?: number;
  minSegmentPx?: number;
  breakPx?: number;
}

export interface Bar {
  /** index of the event in traceEvents */
  index: number;
  name: string;
  cat: string;
  /** ms since the first event */
  startMs: number;
  durMs: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** the text drawn in the bar ("" when none fits) */
  label: string;
  /** the full text (name and duration) */
  title: string;
}

export interface Marker {
  index: number;
  name: string;
  cat: string;
  startMs: number;
  x: number;
  y: number;
  h: number;
  /** drawn next to the marker ("" when the next marker is too close) */
  label: string;
  miss: boolean;
}

export interface Row {
  cat: string;
  lanes: number;
  y: number;
  h: number;
}

export interface Segment {
  startMs: number;
  endMs: number;
  x: number;
  w: number;
}

export interface Gap {
  x: number;
  w: number;
  label: string;
}

export interface Tick {
  x: number;
  label: string;
}

export interface TimelineLayout {
  width: number;
  height: number;
  plot: { x: number; y: number; w: number; h: number };
  rows: Row[];
  bars: Bar[];
  markers: Marker[];
  segments: Segment[];
  gaps: Gap[];
  ticks: Tick[];
  totalMs: number;
}

const CHAR_PX = 5.7; // an 11px sans-serif character, roughly

export function formatMs(ms: number): string {
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(ms * 1000 >= 10 ? 0 : 1)} us`;
}

function fit(candidates: string[], px: number): string {
  for (const c of candidates) if (c.length * CHAR_PX + 5 <= px) return c;
  return "";
}

export function layoutTimeline(doc: { traceEvents: TraceEventLike[] }, opts: LayoutOptions = {}): TimelineLayout {
  const width = opts.width ?? 1200;
  const height = opts.height ?? 600;
  const gapMs = opts.gapMs ?? 10;
  const minSegmentPx = opts.minSegmentPx ?? 340;
  const breakPx = opts.breakPx ?? 56;
  const evs = doc.traceEvents.map((e, index) => ({ e, index })).filter(({ e }) => (e.ph === "X" || e.ph === "i" || e.ph === "I") && Number.isFinite(e.ts));
  const plot = { x: 90, y: 56, w: width - 110, h: height - 130 };
  const empty: TimelineLayout = { width, height, plot, rows: [], bars: [], markers: [], segments: [], gaps: [], ticks: [], totalMs: 0 };
  if (evs.length === 0) return empty;
  const t0 = Math.min(...evs.map(({ e }) => e.ts));
  const startOf = (e: TraceEventLike) => (e.ts - t0) / 1000;
  const endOf = (e: TraceEventLike) => startOf(e) + (e.ph === "X" ? Math.max(0, e.dur ?? 0) / 1000 : 0);
  const totalMs = Math.max(...evs.map(({ e }) => endOf(e)));

  // busy segments
  const spans = evs.map(({ e }) => [startOf(e), endOf(e)] as [number, number]).sort((a, b) => a[0] - b[0]);
  const segs: { startMs: number; endMs: number }[] = [];
  for (const [s, t] of spans) {
    const last = segs[segs.length - 1];
    if (last && s - last.endMs <= gapMs) last.endMs = Math.max(last.endMs, t);
    else segs.push({ startMs: s, endMs: t });
  }
  // a little room either side of each segment (a segment of instants alone has no length)
  for (const s of segs) {
    const pad = Math.max((s.endMs - s.startMs) * 0.02, 0.002);
    s.startMs -= pad;
    s.endMs += pad;
  }
  // widths: proportional to duration, at least minSegmentPx (when the plot has room for that)
  const avail = plot.w - breakPx * (segs.length - 1);
  const minPx = Math.min(minSegmentPx, avail / segs.length);
  const durs = segs.map((s) => s.endMs - s.startMs);
  const widths = durs.map(() => 0);
  let fixed = new Set<number>();
  for (let round = 0; round < segs.length; round++) {
    const freeDur = durs.reduce((a, d, i) => a + (fixed.has(i) ? 0 : d), 0);
    const freePx = avail - fixed.size * minPx;
    let changed = false;
    durs.forEach((d, i) => {
      if (fixed.has(i)) return (widths[i] = minPx);
      widths[i] = freeDur > 0 ? (freePx * d) / freeDur : freePx / (segs.length - fixed.size);
      if (widths[i]! < minPx) {
        fixed = new Set([...fixed, i]);
        changed = true;
      }
    });
    if (!changed) break;
  }
  const segments: Segment[] = [];
  const gaps: Gap[] = [];
  let x = plot.x;
  segs.forEach((s, i) => {
    if (i > 0) {
      gaps.push({ x, w: breakPx, label: `${formatMs(s.startMs - segs[i - 1]!.endMs)} idle` });
      x += breakPx;
    }
    segments.push({ startMs: s.startMs, endMs: s.endMs, x, w: widths[i]! });
    x += widths[i]!;
  });
  const xOf = (ms: number) => {
    const s = segments.find((g) => ms <= g.endMs) ?? segments[segments.length - 1]!;
    return s.x + ((Math.min(Math.max(ms, s.startMs), s.endMs) - s.startMs) / (s.endMs - s.startMs)) * s.w;
  };

  // ticks: a "nice" step per segment, about one per 80 px
  const ticks: Tick[] = [];
  for (const s of segments) {
    const raw = ((s.endMs - s.startMs) * 80) / s.w;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * p).find((v) => v >= raw)!;
    const digits = Math.max(0, -Math.floor(Math.log10(step)));
    for (let t = Math.ceil(s.startMs / step) * step; t <= s.endMs; t += step) ticks.push({ x: xOf(t), label: t.toFixed(digits) });
  }

  // rows and lanes (greedy: the first lane free at the span's start)
  const cats: string[] = [];
  for (const { e } of evs) if (!cats.includes(e.cat)) cats.push(e.cat);
  const laneEnds = new Map<string, number[]>(cats.map((c) => [c, []]));
  const laneOf = new Map<number, number>();
  for (const { e, index } of evs) {
    if (e.ph !== "X") continue;
    const ends = laneEnds.get(e.cat)!;
    let lane = ends.findIndex((end) => end <= startOf(e) + 1e-9);
    if (lane < 0) lane = ends.push(0) - 1;
    ends[lane] = endOf(e);
    laneOf.set(index, lane);
  }
  const laneCount = (c: string) => Math.max(1, laneEnds.get(c)!.length);
  const totalLanes = cats.reduce((a, c) => a + laneCount(c), 0);
  const laneH = Math.min(120, (plot.h - 8 * (cats.length - 1)) / totalLanes);
  const rows: Row[] = [];
  let y = plot.y;
  for (const c of cats) {
    rows.push({ cat: c, lanes: laneCount(c), y, h: laneH * laneCount(c) });
    y += laneH * laneCount(c) + 8;
  }
  const rowOf = (c: string) => rows.find((r) => r.cat === c)!;

  const bars: Bar[] = [];
  const markers: Marker[] = [];
  for (const { e, index } of evs) {
    const r = rowOf(e.cat);
    const s = startOf(e);
    if (e.ph === "X") {
      const durMs = Math.max(0, e.dur ?? 0) / 1000;
      const bx = xOf(s);
      const bw = Math.max(1.5, xOf(s + durMs) - bx);
      const title = `${e.name} ${formatMs(durMs)}`;
      const short = e.name.replace(/ jit\([^)]*\)/, "").replace(/ \(.*\)$/, "");
      const words = short.split(" ");
      const abbrev = words.length > 1 ? `${words[0]![0]}${words[1]}` : ""; // "kernel 3 map" -> "k3"
      const label = fit([title, e.name, `${short} ${formatMs(durMs)}`, short, words.slice(0, 2).join(" "), `${abbrev} ${words.slice(2).join(" ")}`.trim(), abbrev], bw);
      bars.push({ index, name: e.name, cat: e.cat, startMs: s, durMs, x: bx, y: r.y + laneOf.get(index)! * laneH + 3, w: bw, h: laneH - 6, label, title });
    } else {
      markers.push({ index, name: e.name, cat: e.cat, startMs: s, x: xOf(s), y: r.y, h: r.h, label: "", miss: /miss/.test(e.name) });
    }
  }
  // marker labels: a miss says why ("first call", "arg 1 shape ..."); a hit just "hit"; drop a
  // label that would run into the next marker's
  const texts = markers.map((m) => {
    const ev = doc.traceEvents[m.index]!;
    const reason = ev.args?.["reason"];
    return m.miss ? `miss: ${typeof reason === "string" ? reason : m.name}` : /hit/.test(m.name) ? "hit" : m.name;
  });
  markers.forEach((m, i) => {
    const next = markers.slice(i + 1).find((n) => n.cat === m.cat);
    const room = next ? next.x - m.x : width - m.x;
    if (texts[i]!.length * CHAR_PX + 8 <= room) m.label = texts[i]!;
    else if (m.miss) m.label = fit(["miss"], room);
  });
  return { width, height, plot, rows, bars, markers, segments, gaps, ticks, totalMs };
}
