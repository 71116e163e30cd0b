// Rematerialization planning over the known half of a partially evaluated program (checkpoint's
// policies and memory budgets). The known half computes the primal outputs and the residuals the
// tangent half needs; a *save set* S (values defined by known equations) splits it in two: the
// forward keeps S, and the backward recomputes every needed residual from S and the inputs (the
// backward slice of the residuals, cut at S). Policies pick S by a per-value predicate (walk back
// from the residuals, stop at the first saveable value); a memory budget picks the S that
// minimises recomputed FLOPs subject to bytes(S) + bytes(inputs still read) <= budget.
//
// Why exhaustive search, not a min-cut: minimising recompute FLOPs under a byte *budget* is a
// knapsack-like problem (a min-cut solves only its Lagrangian relaxation, exact at the points of
// the lower convex hull of the FLOPs/bytes frontier, not at an arbitrary budget). The candidates
// are the values on the residuals' backward slice, usually few in a checkpointed region, so the
// plan enumerates save sets exactly (with pruning) up to EXACT_LIMIT candidates; beyond it a
// greedy (drop the value that frees the most bytes per recomputed FLOP) followed by a bounded
// local search (remat-search.ts) is used, and the plan says which method chose it.

import { type Equation, type Atom, Program, Var } from "../ir/program.js";
import { byteSize } from "../core/dtype.js";
import { type Dim, evalDim } from "../core/shape.js";
import { ArgumentError } from "../core/errors.js";
import type { ShapedArray } from "../core/aval.js";
import type { PlanSizes } from "./remat-sizes.js";
import { type Scored, greedyPlan, improvePlan } from "./remat-search.js";

/** Save sets are enumerated exactly up to this many candidate values. */
export const EXACT_LIMIT = 18;

/** The graph of the known half restricted to what the residuals need. */
export interface RematGraph {
  program: Program;
  /** residual atoms (the tangent half's inputs), in order */
  needed: Atom[];
  /** candidate values: defined by an equation on the residuals' backward slice, in program order */
  candidates: Var[];
  defs: Map<Var, Equation>;
}

export function rematGraph(program: Program, needed: Atom[]): RematGraph {
  const defs = new Map<Var, Equation>(program.equations.flatMap((e) => e.outs.map((o) => [o, e] as const)));
  const seen = new Set<Var>();
  const visit = (a: Atom) => {
    if (!(a instanceof Var) || seen.has(a)) return;
    seen.add(a);
    defs.get(a)?.inputs.forEach(visit);
  };
  needed.forEach(visit);
  const candidates = program.equations.flatMap((e) => e.outs.filter((o) => seen.has(o)));
  return { program, needed, candidates, defs };
}

/** What recomputing with save set S costs: the equations re-run and the inputs still read. */
export function recomputeSlice(g: RematGraph, saved: ReadonlySet<Var>): { equations: Equation[]; inputsRead: Var[] } {
  const eqs = new Set<Equation>();
  const ins = new Set<Var>();
  const seen = new Set<Var>();
  const visit = (a: Atom) => {
    if (!(a instanceof Var) || seen.has(a)) return;
    seen.add(a);
    if (saved.has(a)) return;
    const e = g.defs.get(a);
    if (!e) {
      if (g.program.inputs.includes(a)) ins.add(a);
      return;
    }
    eqs.add(e);
    e.inputs.forEach(visit);
  };
  g.needed.forEach(visit);
  return { equations: g.program.equations.filter((e) => eqs.has(e)), inputsRead: g.program.inputs.filter((v) => ins.has(v)) };
}

/** Policy placement: walk back from the residuals, saving the first saveable value on each path. */
export function policySaveSet(g: RematGraph, saveable: (e: Equation, v: Var) => boolean): Set<Var> {
  const saved = new Set<Var>();
  const seen = new Set<Var>();
  const visit = (a: Atom) => {
    if (!(a instanceof Var) || seen.has(a)) return;
    seen.add(a);
    const e = g.defs.get(a);
    if (!e) return;
    if (saveable(e, a)) saved.add(a);
    else e.inputs.forEach(visit);
  };
  g.needed.forEach(visit);
  return saved;
}

/** The split programs for save set S. */
export function rematPrograms(g: RematGraph, nKnownOut: number, saved: readonly Var[]): { known: Program; recompute: Program; inputsRead: Var[] } {
  const p = g.program;
  const { equations, inputsRead } = recomputeSlice(g, new Set(saved));
  const known = new Program(p.inputs, p.consts, p.constValues, p.equations, [...p.outputs.slice(0, nKnownOut), ...saved]);
  const recompute = new Program([...saved, ...inputsRead], p.consts, p.constValues, equations, g.needed);
  return { known, recompute, inputsRead };
}

// ---- costs ----

const numel = (a: ShapedArray, env: Readonly<Record<string, number>>) => a.shape.reduce<number>((n, d: Dim) => n * evalDim(d, env), 1);
export const bytesOfAval = (a: ShapedArray, env: Readonly<Record<string, number>>) => numel(a, env) * byteSize(a.dtype);

/**
 * FLOPs of one equation (the model the planner minimises): 2*M*N*K for a dot_general (the
 * contracted size times the output's elements, twice), the sum over its body for an equation
 * holding a program, else the larger of its output and input element counts (one operation per
 * element produced or consumed: elementwise ops, reductions, data movement).
 */
export function equationFlops(e: Equation, env: Readonly<Record<string, number>>): number {
  if (e.prim.name === "dot_general") {
    const lhs = e.inputs[0]!.aval;
    const k = (e.params.lhsContract as number[]).reduce((n, ax) => n * evalDim(lhs.shape[ax]!, env), 1);
    return 2 * k * numel(e.outs[0]!.aval, env);
  }
  const body = e.params?.program;
  if (body instanceof Program) return body.equations.reduce((s, x) => s + equationFlops(x, env), 0);
  return Math.max(...e.outs.map((o) => numel(o.aval, env)), ...e.inputs.map((a) => numel(a.aval, env)));
}

// ---- budget placement ----

export interface RematPlan {
  method: "exact" | "greedy+local" | "policy";
  /** the dimension values the plan was made for (empty at concrete shapes) */
  dims: Record<string, number>;
  budget: number | null;
  saved: { value: string; producedBy: string; bytes: number }[];
  recomputed: { producedBy: string; flops: number }[];
  inputsRead: number;
  /** residual bytes when everything needed is saved (no recomputation) */
  bytesBefore: number;
  /** residual bytes of this plan: saved values plus inputs the recomputation reads */
  bytesAfter: number;
  extraFlops: number;
  /** for which sizes of the symbolic dims the plan is known to fit (remat-sizes.ts) */
  sizes?: PlanSizes;
  toString(): string;
}

export function score(g: RematGraph, saved: Var[], env: Readonly<Record<string, number>>): Scored {
  const { equations, inputsRead } = recomputeSlice(g, new Set(saved));
  const directIns = g.needed.filter((a): a is Var => a instanceof Var && g.program.inputs.includes(a));
  const ins = new Set([...inputsRead, ...directIns]);
  const bytes = saved.reduce((s, v) => s + bytesOfAval(v.aval, env), 0) + [...ins].reduce((s, v) => s + bytesOfAval(v.aval, env), 0);
  return { saved, bytes, flops: equations.reduce((s, e) => s + equationFlops(e, env), 0) };
}

const better = (a: Scored, b: Scored | null) => b === null || a.flops < b.flops || (a.flops === b.flops && a.bytes < b.bytes);

/** The save set of least recompute FLOPs whose residual bytes fit `budget` (exact when small). */
export function planBudget(g: RematGraph, budget: number, env: Readonly<Record<string, number>>): { best: Scored; method: "exact" | "greedy+local"; all: Scored; none: Scored } {
  const c = g.candidates;
  const all = score(g, [...policySaveSet(g, () => true)], env);
  const none = score(g, [], env);
  let best: Scored | null = null;
  let method: "exact" | "greedy+local" = "exact";
  if (c.length <= EXACT_LIMIT) {
    for (let mask = 0; mask < 1 << c.length; mask++) {
      const saved = c.filter((_, i) => mask & (1 << i));
      if (saved.reduce((s, v) => s + bytesOfAval(v.aval, env), 0) > budget) continue; // prune before slicing
      const s = score(g, saved, env);
      if (s.bytes <= budget && better(s, best)) best = s;
    }
  } else {
    // beyond exact enumeration: greedy, then a bounded local search from it (remat-search.ts)
    method = "greedy+local";
    const sc = (saved: Var[]) => score(g, saved, env);
    const greedy = greedyPlan(all, none, budget, sc);
    if (greedy) best = improvePlan(g, greedy, budget, sc).best;
  }
  if (best === null) {
    const min = c.length <= EXACT_LIMIT ? minimumBytes(g, env) : none.bytes;
    throw new ArgumentError(
      `checkpoint: memoryBudget ${budget} bytes cannot be met: even recomputing everything keeps ${min} bytes of residuals (the inputs the backward pass reads); the smallest feasible budget is ${min}`,
    );
  }
  return { best, method, all, none };
}

function minimumBytes(g: RematGraph, env: Readonly<Record<string, number>>): number {
  let min = Infinity;
  for (let mask = 0; mask < 1 << g.candidates.length; mask++) min = Math.min(min, score(g, g.candidates.filter((_, i) => mask & (1 << i)), env).bytes);
  return min;
}

/** The printed/returned plan for a save set. */
export function describePlan(g: RematGraph, chosen: Scored, before: number, method: RematPlan["method"], budget: number | null, env: Record<string, number>, sizes?: PlanSizes): RematPlan {
  const where = (e: Equation | undefined) => (e ? `${e.prim.name}${e.source !== undefined ? ` at ${String(e.source)}` : ""}` : "input");
  const { equations } = recomputeSlice(g, new Set(chosen.saved));
  const plan: RematPlan = {
    method,
    dims: env,
    budget,
    saved: chosen.saved.map((v) => ({ value: String(v.aval), producedBy: where(g.defs.get(v)), bytes: bytesOfAval(v.aval, env) })),
    recomputed: equations.map((e) => ({ producedBy: where(e), flops: equationFlops(e, env) })),
    inputsRead: chosen.bytes - chosen.saved.reduce((s, v) => s + bytesOfAval(v.aval, env), 0),
    bytesBefore: before,
    bytesAfter: chosen.bytes,
    extraFlops: chosen.flops,
    ...(sizes ? { sizes } : {}),
    toString: () => formatPlan(plan),
  };
  return plan;
}

function formatPlan(p: RematPlan): string {
  const dims = Object.keys(p.dims).length ? ` at ${Object.entries(p.dims).map(([k, v]) => `${k}=${v}`).join(", ")}` : "";
  return [
    `remat plan (${p.method})${dims}: residuals ${p.bytesBefore} -> ${p.bytesAfter} bytes${p.budget !== null ? ` (budget ${p.budget})` : ""}, +${p.extraFlops} FLOPs recomputed`,
    ...p.saved.map((s) => `  save      ${`${s.bytes} B`.padStart(12)}  ${s.value.padEnd(12)} ${s.producedBy}`),
    ...p.recomputed.map((r) => `  recompute ${`${r.flops} FLOPs`.padStart(12)}  ${r.producedBy}`),
    `  inputs read by the recomputation: ${p.inputsRead} B`,
    ...(p.sizes?.text ? [p.sizes.text] : []),
  ].join("\n");
}

/** The dims a budget is planned for: the given ones, checked to cover every symbolic dim. */
export function planDims(g: RematGraph, given: Record<string, number> | undefined): Record<string, number> {
  const env = given ?? {};
  const avals = [...g.program.inputs, ...g.candidates].map((v) => v.aval);
  for (const a of avals) {
    for (const d of a.shape) {
      if (typeof d !== "number") {
        try {
          evalDim(d, env);
        } catch {
          throw new ArgumentError(`checkpoint: memoryBudget at symbolic shape ${a} needs dimension values: pass {memoryBudget, dims: {${d.toString()}: ...}}`);
        }
      }
    }
  }
  return env;
}
