// Memory planning: every temporary buffer of a lowered program gets a byte offset in one arena,
// reusing space by liveness (a buffer's block is free again after its last reader). A map kernel
// that reads a dying buffer element-for-element may write its result in place. The live ranges
// are computed here only, as a size-independent schedule (memorySchedule); the offsets come from
// the arena runtime (runtime/arena.ts), which exported modules embed and run on the same schedule.
// Static programs are planned once at compile time; shape-polymorphic ones once per binding of
// their symbols.

import { byteSize } from "../core/dtype.js";
import { type Dim, dimAdd, dimEq, dimLeq, dimMul, dimToString, evalDim } from "../core/shape.js";
import { type Expr, type Kernel, type LoweredProgram, type MapKernel, type View, nestedKernels } from "./kernel-ir.js";
import { contiguousStrides } from "./views.js";
import { type ArenaSchedule, type ArenaStep, planArena } from "../runtime/arena.js";

function exprViews(e: Expr, out: View[]): View[] {
  if (e.k === "load") out.push(e.view);
  else if (e.k === "op") e.args.forEach((a) => exprViews(a, out));
  else if (e.k === "guard") {
    exprViews(e.body, out);
    exprViews(e.other, out);
  } else if (e.k === "gather") {
    out.push(e.view);
    exprViews(e.index, out);
  }
  return out;
}

/** Buffers a kernel reads. */
export function kernelReads(k: Kernel): number[] {
  switch (k.kind) {
    case "map":
    case "reduce":
      return exprViews(k.expr, []).map((v) => v.buf);
    case "scatter":
      // a combining scatter reads the operand its output already holds
      return [...exprViews(k.value, []), ...exprViews(k.index, [])].map((v) => v.buf).concat(k.combine ? [k.out] : []);
    case "dot":
      return [k.lhs.buf, k.rhs.buf];
    case "call":
      return k.ins;
    case "cond":
      return [k.index, ...k.branches.flat().flatMap(kernelReads)];
    case "while":
      return [k.pred, ...nestedKernels(k).flat().flatMap(kernelReads)];
    case "loop":
      return k.body.flatMap(kernelReads);
  }
}

/** Buffers a kernel writes (control flow: everything nested kernels write, live throughout). */
export function kernelWrites(k: Kernel): number[] {
  if (k.kind === "call") return k.outs;
  if (k.kind === "loop" || k.kind === "cond" || k.kind === "while") return [...new Set(nestedKernels(k).flat().flatMap(kernelWrites))];
  return [k.out];
}

export interface MemoryPlan {
  /** byte offset of each temp buffer, by buffer id */
  offsets: number[];
  arenaBytes: number;
}

/**
 * The size-independent part of planning: the temporaries (by buffer id, in id order) and, per
 * kernel, which of them it allocates (first write; a loop carry is written again) with the dying
 * inputs it may overwrite in place, and which die there (last kernel reading or writing them).
 * This is the only place live ranges are computed: in-process planning and exported modules
 * (which receive it as data) run it through the same runtime (runtime/arena.ts).
 */
export type MemorySchedule = ArenaSchedule;

export function memorySchedule(lp: LoweredProgram, aliased: ReadonlyMap<number, number> = NO_ALIASES): MemorySchedule {
  const { temps, steps } = kernelSchedule(lp, aliased);
  return { temps, steps: steps.filter(([a, r]) => a.length || r.length) };
}

const NO_ALIASES: ReadonlyMap<number, number> = new Map();

/**
 * memorySchedule with one step per top-level kernel (empty ones kept, so step i is kernel i: the
 * peak computations add inputs' and outputs' liveness per kernel). `aliased`: buffers written in
 * place of a donated input (memory-donate.ts), which live in that input's memory, not the arena.
 */
export function kernelSchedule(lp: LoweredProgram, aliased: ReadonlyMap<number, number> = NO_ALIASES): MemorySchedule {
  const temps = lp.buffers.filter((b) => b.kind === "temp" && !aliased.has(b.id)).map((b) => b.id);
  const index = new Map(temps.map((b, t) => [b, t]));
  const lastUse = lastUses(lp);
  const allocated = new Set<number>();
  const steps: ArenaStep[] = [];
  lp.kernels.forEach((k, i) => {
    const allocs: (number | number[])[] = [];
    for (const out of kernelWrites(k)) {
      if (!index.has(out) || allocated.has(out)) continue;
      allocated.add(out);
      const donors = k.kind === "map" && !k.outOffset ? inPlaceDonors(lp, k, i, lastUse, (b) => index.has(b)) : [];
      allocs.push(donors.length ? [index.get(out)!, ...donors.map((b) => index.get(b)!)] : index.get(out)!);
    }
    const releases = [...new Set([...kernelReads(k), ...kernelWrites(k)])].filter((b) => index.has(b) && lastUse.get(b) === i).map((b) => index.get(b)!);
    steps.push([allocs, releases]);
  });
  return { temps, steps };
}

/** The last top-level kernel touching each buffer (a loop carry is read and written again inside its loop). */
export function lastUses(lp: LoweredProgram): Map<number, number> {
  const lastUse = new Map<number, number>();
  lp.kernels.forEach((k, i) => [...kernelReads(k), ...kernelWrites(k)].forEach((b) => lastUse.set(b, i)));
  return lastUse;
}

/** Assigns arena offsets to temporaries given every buffer's element count (by buffer id). */
export function planMemory(lp: LoweredProgram, sizes: readonly number[], schedule = memorySchedule(lp)): MemoryPlan {
  const plan = planArena(schedule, sizes, lp.buffers.map((b) => byteSize(b.dtype)));
  return { offsets: plan.offsets, arenaBytes: plan.end };
}

/**
 * Buffers that die at map kernel `k` (`candidate` ones: temporaries, or for donation the holders
 * of a donated input's memory) and that it reads only element-for-element with the element width
 * of its output (so output element i only overlaps input element i, already read); the planner
 * takes the first whose block is large enough. A gathered buffer is read at data-dependent
 * positions (a gather's view is only its base), so it is never a donor; the kernel verifier's
 * in-place rule (verify.ts) is the same.
 */
export function inPlaceDonors(lp: LoweredProgram, k: MapKernel, i: number, lastUse: ReadonlyMap<number, number>, candidate: (b: number) => boolean): number[] {
  const views = exprViews(k.expr, []);
  const gathered = new Set<number>();
  const collect = (e: Expr): void => {
    if (e.k === "gather") gathered.add(e.view.buf), collect(e.index);
    else if (e.k === "op") e.args.forEach(collect);
    else if (e.k === "guard") [e.body, e.other].forEach(collect);
  };
  collect(k.expr);
  const shape = k.shape;
  const cs = contiguousStrides(shape);
  const identity = (v: View) => v.offset === 0 && v.strides.every((s, j) => dimEq(s, cs[j]!) || shape[j] === 1);
  const outDType = lp.buffers[k.out]!.dtype;
  const donors: number[] = [];
  for (const v of views) {
    const b = v.buf;
    if (!candidate(b) || b === k.out || lastUse.get(b) !== i || donors.includes(b) || gathered.has(b)) continue;
    if (byteSize(lp.buffers[b]!.dtype) === byteSize(outDType) && views.filter((w) => w.buf === b).every(identity)) donors.push(b);
  }
  return donors;
}

/** The peak of the temporaries' live bytes, for every value of the symbols at once where possible. */
export interface LivePeak {
  /** the candidates no other one dominates for every size: one Dim when the peak is a formula */
  candidates: Dim[];
  /** "8*B*T + 64", or "max(a, b)" when which step peaks depends on the sizes */
  formula: string;
  /** the peak at a binding of the symbols */
  at(env: Readonly<Record<string, number>>): number;
}

/**
 * Peak live bytes of a lowered program's temporaries from its memory schedule: at each kernel the
 * temporaries live across it (allocated so far and not yet released; a result written in place of
 * a dying input holds that input's block, as the arena does). Each step's
 * sum is a polynomial in the symbols; a step whose sum is <= another's for all sizes (dimLeq) is
 * dropped, so a program whose peak step does not depend on the sizes gets one formula. This is the
 * live set, a lower bound of the arena (whose placement may fragment) and independent of it.
 */
export function livePeak(lp: LoweredProgram, schedule = memorySchedule(lp)): LivePeak {
  return peakOf(stepSums(lp, schedule));
}

/** The temporaries' live bytes at each step of a schedule (after its allocations, before its releases). */
export function stepSums(lp: LoweredProgram, schedule: MemorySchedule): Dim[] {
  const bytes = schedule.temps.map((b) => dimMul(lp.buffers[b]!.size, byteSize(lp.buffers[b]!.dtype)));
  // live temporaries -> the bytes of the block each holds (an in-place result holds its donor's)
  const live = new Map<number, Dim>();
  const sums: Dim[] = [];
  for (const [allocs, releases] of schedule.steps) {
    for (const a of allocs) {
      const [t, ...donors] = typeof a === "number" ? [a] : a;
      // as the arena: the first live donor whose block is large enough (for every size) is taken
      const d = donors.find((x) => live.has(x) && dimLeq(bytes[t!]!, live.get(x)!) === true);
      if (d === undefined) live.set(t!, bytes[t!]!);
      else {
        live.set(t!, live.get(d)!);
        live.delete(d);
      }
    }
    sums.push([...live.values()].reduce<Dim>((s, b) => dimAdd(s, b), 0));
    for (const r of releases) live.delete(r);
  }
  return sums;
}

/** The maximum of per-step byte formulas, with the steps dominated for every size dropped. */
export function peakOf(sums: readonly Dim[]): LivePeak {
  const kept: Dim[] = [];
  for (const d of sums) {
    if (kept.some((k) => dimLeq(d, k) === true)) continue;
    for (let i = kept.length - 1; i >= 0; i--) if (dimLeq(kept[i]!, d) === true) kept.splice(i, 1);
    kept.push(d);
  }
  if (!kept.length) kept.push(0);
  const formula = kept.length === 1 ? dimToString(kept[0]!) : `max(${kept.map(dimToString).join(", ")})`;
  return { candidates: kept, formula, at: (env) => Math.max(...kept.map((d) => evalDim(d, env))) };
}
