// The timeline (`config.update({ traceFile: "adgen-trace.json" })`, or ADGEN_LOG=timeline which
// writes ./adgen-trace.json): Chrome trace-event JSON of what the jit did (cache hits and misses
// as instant events; trace, optimize, codegen and disk loads as spans; each compiled run as a
// span; on track 2 every measured compile phase: trace, each pass, lower, plan, codegen, wasm compile), openable in Perfetto (ui.perfetto.dev) or chrome://tracing. Events are buffered (bounded)
// and written when the process exits, or by `flushTimeline()`. Node only: elsewhere a no-op.

import { config } from "../core/config.js";
import { checkPath } from "../core/fs-guard.js";

/** One trace event (the Trace Event Format's "X" complete and "i" instant events). */
export interface TraceEvent {
  name: string;
  cat: string;
  ph: "X" | "i";
  /** microseconds since the process's time origin */
  ts: number;
  dur?: number;
  s?: "t";
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

/** Events kept before the oldest are dropped (a long run keeps its memory bounded). */
const MAX_EVENTS = 200_000;
const events: TraceEvent[] = [];
let dropped = 0;
let hooked = false;

export const nowUs = () => (typeof performance !== "undefined" ? performance.now() : Date.now()) * 1000;
export const timelineOn = () => config.traceFile !== null;

function push(e: TraceEvent): void {
  if (events.length >= MAX_EVENTS) {
    events.shift();
    dropped++;
  }
  events.push(e);
  const p = (globalThis as { process?: { on?: (ev: string, f: () => void) => void } }).process;
  if (!hooked && p?.on) {
    hooked = true;
    p.on("exit", () => flushTimeline());
  }
}

/** A span that ended now and lasted `ms` (or began at `startUs`). */
export function span(name: string, cat: string, startUs: number, durUs: number, args?: Record<string, unknown>, tid = 1): void {
  if (!timelineOn()) return;
  push({ name, cat, ph: "X", ts: startUs, dur: Math.max(0, durUs), pid: 1, tid, ...(args ? { args } : {}) });
}

/**
 * The compile phases as measured (trace, each optimization pass, lower, plan, codegen, wasm
 * compile, ...: core/profile.ts's `profiled` sites), on their own track (tid 2) so they nest
 * properly beside the per-stage summary spans of track 1.
 */
export const timelinePhases = { active: timelineOn, span: (name: string, startUs: number, durUs: number) => span(name, "phase", startUs, durUs, undefined, 2) };

export function instant(name: string, cat: string, args?: Record<string, unknown>): void {
  if (!timelineOn()) return;
  push({ name, cat, ph: "i", s: "t", ts: nowUs(), pid: 1, tid: 1, ...(args ? { args } : {}) });
}

/** Runs `fn` as a span. */
export function timed<T>(name: string, cat: string, fn: () => T, args?: Record<string, unknown>): T {
  if (!timelineOn()) return fn();
  const t0 = nowUs();
  try {
    return fn();
  } finally {
    span(name, cat, t0, nowUs() - t0, args);
  }
}

/** The stage spans of one compile, laid out one after another from `startUs`. */
export function stageSpans(name: string, startUs: number, times: { traceMs: number; optimizeMs: number; codegenMs: number; loadMs?: number }): void {
  if (!timelineOn()) return;
  const stages: [string, number][] = times.loadMs !== undefined ? [["trace", times.traceMs], ["disk load", times.loadMs]] : [["trace", times.traceMs], ["optimize", times.optimizeMs], ["codegen", times.codegenMs]];
  let t = startUs;
  for (const [stage, ms] of stages) {
    span(`${stage} ${name}`, "compile", t, ms * 1000);
    t += ms * 1000;
  }
}

/** The buffered events as a Trace Event Format document. */
export function timelineJson(): { traceEvents: TraceEvent[]; displayTimeUnit: "ms"; otherData: Record<string, unknown> } {
  return { traceEvents: [...events], displayTimeUnit: "ms", otherData: { producer: "adgen", dropped } };
}

/** Writes the events to config.traceFile (Node); returns the path written, or null. */
export function flushTimeline(): string | null {
  const file = config.traceFile;
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = p?.getBuiltinModule?.("node:fs") as typeof import("node:fs") | undefined;
  const path = p?.getBuiltinModule?.("node:path") as typeof import("node:path") | undefined;
  if (!file || !fs || !path) return null;
  checkPath(fs, path, file, "config.traceFile");
  fs.writeFileSync(file, JSON.stringify(timelineJson()));
  return file;
}

/** Drops the buffered events. */
export function clearTimeline(): void {
  events.length = 0;
  dropped = 0;
}
