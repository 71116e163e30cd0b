// Step 3 of a jitted call (key -> lookup -> build -> tier -> run): a missed specialization is
// traced (noting the residuals any gradient inside saves, and whether the function reads a learned
// size in JS), then loaded from the disk cache or compiled, cold programs for the interpreter tier
// (tier.ts). Also the compile log line.

import type { ShapedArray } from "../core/aval.js";
import { config, log } from "../core/config.js";
import { type SymDim, watchDimUses } from "../core/shape.js";
import { profiled } from "../core/profile.js";
import { userSourceLine } from "../core/source.js";
import type { Tensor } from "../core/tensor.js";
import type { TreeDef } from "../core/tree.js";
import type { Program } from "../ir/program.js";
import { type Traced, traceFlat } from "../trace/make-program.js";
import { type Residual, residualObservers } from "../transforms/linearize.js";
import { type Compiled, compileProgram } from "./compile.js";
import { type DiskEntry, type JitDiskCache, describeDiskPath } from "./disk-cache.js";
import type { DiskPath } from "./disk-info.js";
import type { KeyParts } from "./key.js";
import { at } from "./lookup.js";
import type { ShapePolicy } from "./polymorphism.js";
import { compileHot, isCold } from "./tier.js";

/** One compiled specialization of a jitted function. */
export interface Entry {
  parts: KeyParts;
  /** captured values passed as trailing inputs (eager-tape variables the function closes over) */
  consts: Tensor[];
  /** the traced program (un-optimized; inputs: the argument leaves, then `consts`) */
  program: Program;
  outTree: TreeDef;
  compiled: Compiled;
  calls: number;
  residuals: Residual[];
  /** the disk-cache file of this specialization and the traced program's hash (to store it once hot) */
  disk?: { entry: DiskEntry; hash: string };
  /**
   * Only for programs generalized over learned sizes: each concrete size already checked ->
   * null when this program serves it, else that size's own specialization.
   */
  sizes?: Map<string, Entry | null>;
  /** "inserted" for a compiled stage put into the cache by `jf.insert` (stage-export.ts) */
  origin?: "inserted";
}

/** A traced function converted a learned (symbolic) size to a JS value: it must not be generalized. */
export class SizeReadInJs extends Error {}

export interface TraceResult extends Traced {
  residuals: Residual[];
  traceMs: number;
}

/** What building needs to know about the jitted function. */
export interface BuildContext {
  name: string;
  disk: JitDiskCache;
  /** the user's argument list with these leaves in place of the dynamic ones */
  rebuild: (args: unknown[], def: TreeDef, xs: Tensor[]) => unknown[];
  /** static argument indices, sorted */
  statics: number[];
}

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

/**
 * Traces `f` at `avals`. Over learned sizes, any JS conversion of a size (the function may
 * branch on it) throws SizeReadInJs naming it.
 */
export function traceCall(f: (...args: any[]) => unknown, cx: BuildContext, policy: ShapePolicy | null, args: unknown[], def: TreeDef, avals: ShapedArray[]): TraceResult {
  const residuals: Residual[] = [];
  const obs = (r: Residual[]) => residuals.push(...r);
  residualObservers.add(obs);
  let read: string | null = null;
  const watch = (d: SymDim, how: string) => {
    if (read === null && policy?.isLearned(d)) read = `a size (${d.toString()}) ${how}${at(userSourceLine())}`;
  };
  const t0 = now();
  try {
    const run = () => profiled("trace", () => traceFlat((xs) => f(...cx.rebuild(args, def, xs)), avals, `jit(${cx.name})`));
    const t = policy?.hasLearned(avals) ? watchDimUses(watch, run) : run();
    if (read !== null) throw new SizeReadInJs(read);
    return { ...t, residuals, traceMs: now() - t0 };
  } catch (err) {
    throw read !== null ? new SizeReadInJs(read) : err;
  } finally {
    residualObservers.delete(obs);
  }
}

/**
 * The entry of a missed specialization: from the disk cache (without a trace under
 * cacheTrustSource), else traced (`traced`, or `trace()`) and compiled.
 */
export function buildEntry(cx: BuildContext, args: unknown[], parts: KeyParts, generalized: boolean, trace: () => TraceResult, traced?: TraceResult): Entry {
  const de = cx.disk.entry(parts, cx.statics.map((i) => [i, args[i]]));
  const trusted = de && cx.disk.trustSource && !traced ? de.load(null) : null;
  if (trusted) {
    // cacheTrustSource: equal source text and key stand for an equal program (no trace)
    const c = trusted.compiled;
    if (config.logCompiles) logCompile(cx.name, c.optimized, c, false, "miss", de!.path);
    return {
      parts,
      consts: [],
      get program() {
        return c.optimized; // decoded lazily: not needed to run
      },
      outTree: trusted.outTree,
      compiled: c,
      calls: 0,
      residuals: [],
      ...(generalized ? { sizes: new Map() } : {}),
    };
  }
  const t = traced ?? trace();
  // programs closing over outer tracers (eager-tape variables) are specific to this process
  const hash = de && !t.tracerConsts.length ? de.hashOf(t.program) : null;
  const hit = hash !== null ? de!.load(hash) : null;
  let compiled: Compiled;
  let cold = false;
  if (hit) {
    compiled = hit.compiled;
    compiled.times.traceMs = t.traceMs;
  } else {
    cold = isCold(t.program);
    compiled = cold ? compileProgram(t.program, cx.name, { traceMs: t.traceMs, interpretOnly: true }) : compileHot(t.program, cx.name, t.traceMs);
    if (hash !== null && compiled.exec) de!.store(hash, t.outTree, compiled);
  }
  if (config.logCompiles) logCompile(cx.name, t.program, compiled, cold, "miss", de?.path);
  const e: Entry = { parts, consts: t.tracerConsts, program: t.program, outTree: t.outTree, compiled, calls: 0, residuals: t.residuals };
  if (generalized) e.sizes = new Map();
  // (an ONNX Runtime session is not stored: a warm start optimizes again and creates a new session)
  if (hash !== null && !compiled.exec && !compiled.session) e.disk = { entry: de!, hash }; // stored once compiled (hot)
  return e;
}

export function logCompile(name: string, p: Program, c: Compiled, cold: boolean, why = "miss", disk?: DiskPath): void {
  const t = c.times;
  const lp = c.exec?.lowered;
  const arena = lp && lp.symbols.length ? `arena planned per ${lp.symbols.join(",")}` : `arena ${lp?.arenaBytes ?? 0} bytes`;
  const kernels = c.session ? c.session.summary : lp ? `${lp.kernels.length} kernels, ${arena}` : "interpreted (cold tier)";
  const traced = disk === "trusted" ? "not traced" : `traced ${p.equations.length} equations in ${t.traceMs.toFixed(1)} ms`;
  const d = describeDiskPath(disk);
  log({
    kind: "compile",
    message:
      t.loadMs !== undefined
        ? `jit(${name}) [${why}]: ${traced}, ${d}: ${kernels} in ${t.loadMs.toFixed(1)} ms`
        : `jit(${name}) [${why}]: ${traced}, ` +
          `optimized to ${c.optimized.equations.length} in ${t.optimizeMs.toFixed(1)} ms, ` +
          `${cold ? kernels : `generated ${kernels} in ${t.codegenMs.toFixed(1)} ms`}${d ? `; ${d}` : ""}`,
    times: t,
    ...(disk ? { disk } : {}),
  });
}
