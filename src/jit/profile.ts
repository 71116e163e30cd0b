// Per-kernel run times of one specialization: `profileKernels(jf, args)` (or
// `jf.lower(...args).compile().profileKernels(args)`) runs the compiled stage and reports each
// kernel's time and share of the call, with its flops, transcendentals and bytes moved from
// costAnalysis (cost.ts), as a printable table.
//
// How kernels are timed: a compiled program runs all its kernels in one call (one exported `run`
// of its WebAssembly module, or one generated JS function), so kernel k is timed as the
// difference between the median call time of the program cut after kernel k and of the program
// cut before it (the same lowering with its kernel list truncated, compiled with the same
// backend). "call overhead" is the program with no kernel at all: binding, copying the arguments
// in and the outputs out. The prefixes run interleaved, `repeats` times each, after a warm-up, so
// a slow phase of the machine affects all of them alike. A difference can come out slightly
// negative for a kernel much faster than the timer's noise: it is shown as 0. With the timeline
// on (config.traceFile), the kernels are written to it as consecutive spans of their median times.

import { ArgumentError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { lowerProgram } from "../lower/fuse.js";
import { codegenLowered } from "./compile.js";
import { type CostAnalysis } from "./cost.js";
import { formatBytes, formatTable } from "./report.js";
import { nowUs, span, timelineOn } from "./timeline.js";
import type { CompiledStage } from "./staged.js";

export interface KernelTime {
  kernel: number;
  kind: string;
  primitives: string[];
  /** median microseconds of this kernel per call */
  us: number;
  /** this kernel's part of the kernels' total (0..1) */
  share: number;
  flops: string;
  transcendentals: string;
  bytesRead: string;
  bytesWritten: string;
}

export interface ProfileOptions {
  /** timed calls per program prefix (default 20) */
  repeats?: number;
  /** untimed calls first (default 3) */
  warmup?: number;
}

/** The profile of one specialization: one row per kernel; prints as a table. */
export class KernelProfile extends Array<KernelTime> {
  // map/filter/slice give plain arrays (their rows are not a profile)
  static override get [Symbol.species]() {
    return Array;
  }
  /** median microseconds of the call with no kernels (binding, copies in and out) */
  overheadUs = 0;
  /** median microseconds of the whole compiled call */
  callUs = 0;
  name = "";
  repeats = 0;

  /** the sum of the kernels' times */
  get kernelUs(): number {
    return this.reduce((a, k) => a + k.us, 0);
  }

  override toString(): string {
    const us = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} us`);
    const n = (s: string) => (/^\d+$/.test(s) ? formatBytes(Number(s)) : `${s} bytes`);
    const head = ["kernel", "kind", "fuses", "time", "share", "flops", "transcendentals", "read", "written"];
    const cells = this.map((k) => [String(k.kernel), k.kind, k.primitives.join(" ") || "(copy)", us(k.us), `${(k.share * 100).toFixed(1)}%`, k.flops, k.transcendentals, n(k.bytesRead), n(k.bytesWritten)]);
    return [
      `profile of ${this.name}: medians of ${this.repeats} calls`,
      ...formatTable(head, cells),
      `kernels ${us(this.kernelUs)} + call overhead ${us(this.overheadUs)} (arguments in, outputs out); whole call ${us(this.callUs)}`,
    ].join("\n");
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Compiles the specialization of `jf` for `args` (`jf.lower(...args).compile()`) and times each
 * of its kernels on those arguments (see the file comment; docs/diagnostics.md).
 */
export function profileKernels(jf: { lower(...args: any[]): { compile(): CompiledStage } }, args: unknown[], opts?: ProfileOptions): KernelProfile {
  if (typeof jf?.lower !== "function") throw new ArgumentError(`profileKernels: expected a jitted function (jit(f)), got ${typeof jf}`);
  if (!Array.isArray(args)) throw new ArgumentError(`profileKernels: pass the arguments as an array, e.g. profileKernels(jf, [x, w])`);
  return jf.lower(...args).compile().profileKernels(args, opts);
}

/** Times each kernel of `stage` on its flat input leaves (see the file comment). */
export function profileStage(stage: CompiledStage, leaves: Tensor[], cost: CostAnalysis, opts: ProfileOptions = {}): KernelProfile {
  const repeats = opts.repeats ?? 20;
  const warmup = opts.warmup ?? 3;
  if (!Number.isInteger(repeats) || repeats < 1) throw new ArgumentError(`profileKernels: repeats must be an integer >= 1, got ${repeats}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new ArgumentError(`profileKernels: warmup must be an integer >= 0, got ${warmup}`);
  const name = stage.lowered.name;
  const lp = lowerProgram(stage.lowered.optimized);
  // prefix i runs kernels 0..i-1 (prefix 0: none); the full stage itself is timed too
  const runs: ((xs: Tensor[]) => Tensor[])[] = lp.kernels.map((_, i) => {
    const ex = codegenLowered({ ...lp, kernels: lp.kernels.slice(0, i) }, `${name} (kernels 0..${i - 1})`);
    return (xs) => ex.run(xs);
  });
  runs.push((xs) => stage.run(xs));
  const times = runs.map(() => [] as number[]);
  for (let r = -warmup; r < repeats; r++) {
    runs.forEach((run, i) => {
      const t0 = nowUs();
      run(leaves);
      if (r >= 0) times[i]!.push(nowUs() - t0);
    });
  }
  const med = times.map(median);
  const out = new KernelProfile();
  out.name = String(stage.lowered).slice("Lowered(".length, -1);
  out.repeats = repeats;
  out.overheadUs = med[0]!;
  out.callUs = med[med.length - 1]!;
  const each = cost.kernels.map((_, k) => Math.max(0, med[k + 1]! - med[k]!));
  const total = each.reduce((a, b) => a + b, 0);
  cost.kernels.forEach((c, k) =>
    out.push({ kernel: k, kind: c.kind, primitives: c.primitives, us: each[k]!, share: total > 0 ? each[k]! / total : 0, flops: c.flops, transcendentals: c.transcendentals, bytesRead: c.bytesRead, bytesWritten: c.bytesWritten }),
  );
  if (timelineOn()) {
    let t = nowUs();
    for (const k of out) {
      span(`kernel ${k.kernel} ${k.kind} (${k.primitives.join(" ")})`, "kernel", t, k.us, { function: name, medianOf: repeats });
      t += k.us;
    }
  }
  return out;
}
