// The compile-time profile (bench/workloads/compile.ts; issue 12 item 4): milliseconds spent in
// each phase of turning a function into running code (trace, each optimization pass, lowering,
// memory planning, code generation, WebAssembly compilation, ...), summed over a run while it is
// switched on. Times are exclusive: a phase nested in another (the verifier inside a pass, the
// wasm compile inside codegen) is subtracted from its parent, so the phases add up to the
// profiled total. Off by default, and then `profiled(name, fn)` is just `fn()`.
//
// The clock is the process's CPU time where there is one (Node: process.cpuUsage, user + system,
// all threads), else wall time: on a shared machine wall time mostly measures waiting for a core,
// while CPU time stays comparable between runs.

const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
/** Milliseconds on the profile's clock. */
export const profileClock: () => number = proc?.cpuUsage
  ? () => {
      const u = proc.cpuUsage!();
      return (u.user + u.system) / 1000;
    }
  : () => (typeof performance !== "undefined" ? performance.now() : Date.now());
const now = profileClock;

let on = false;
const totals = new Map<string, number>();
const counts = new Map<string, number>();
/** time spent in nested phases, per open phase (innermost last) */
const childTime: number[] = [];

/** Switches profiling on or off; switching on clears what was recorded. */
export function profileCompile(enable: boolean): void {
  on = enable;
  if (enable) {
    totals.clear();
    counts.clear();
  }
}

/** Who else sees each phase as a wall-clock span: the timeline (jit/timeline.ts, wired in index.ts). */
export interface PhaseObserver {
  active(): boolean;
  span(name: string, startUs: number, durUs: number): void;
}
let observer: PhaseObserver | null = null;
export function observePhases(o: PhaseObserver | null): void {
  observer = o;
}
const wallUs = () => (typeof performance !== "undefined" ? performance.now() : Date.now()) * 1000;

/** Runs `fn` as phase `name` (exclusive time added to the phase's total when profiling; a span on the timeline when it is on). */
export function profiled<T>(name: string, fn: () => T): T {
  const watch = observer !== null && observer.active();
  if (!on && !watch) return fn();
  const w0 = watch ? wallUs() : 0;
  const t0 = on ? now() : 0;
  if (on) childTime.push(0);
  try {
    return fn();
  } finally {
    if (on) {
      const total = now() - t0;
      const inner = childTime.pop()!;
      totals.set(name, (totals.get(name) ?? 0) + total - inner);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (childTime.length) childTime[childTime.length - 1]! += total;
    }
    if (watch) observer!.span(name, w0, wallUs() - w0);
  }
}

/** The recorded phases: exclusive milliseconds and how many times each ran, largest first. */
export function compileProfile(): { phase: string; ms: number; count: number }[] {
  return [...totals].map(([phase, ms]) => ({ phase, ms, count: counts.get(phase)! })).sort((a, b) => b.ms - a.ms);
}
