// checkpoint (rematerialization): a sub-Program whose intermediate values are recomputed in the
// backward pass instead of being saved. Its partial-evaluation rule is the whole point: the
// known half computes only the outputs (no residuals kept), and the tangent half re-runs the
// primal computation from the checkpoint's inputs, which are the only residuals. Other policies
// (dots, names, a predicate, a memory budget) save a chosen set of intermediate values and
// recompute the rest from them (the split is planned in transforms/remat.ts).

import { ArgumentError, InternalError, ShapeError } from "../core/errors.js";
import type { Dim } from "../core/shape.js";
import type { Equation, Var } from "../ir/program.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { leafToTensor } from "../core/convert.js";
import { flatten, unflatten } from "../core/tree.js";
import { type RematGraph, type RematPlan, describePlan, planBudget, planDims, policySaveSet, rematGraph, rematPrograms } from "../transforms/remat.js";
import type { Tensor } from "../core/tensor.js";
import { Program } from "../ir/program.js";
import { runProgram } from "./runner.js";
import { planSizes } from "../transforms/remat-sizes.js";
import { instantiate } from "../prims/rule-helpers.js";
import { type Tangent, Zero, isLinearIn, isZero } from "../rules/zero.js";
import { jvpProgram, partialEvalProgram, transposedProgram, vmapProgram } from "../transforms/program.js";
import { definePrimitive, type Primitive } from "../prims/primitive.js";

/** (primitive name, dtype, shape) of a value the forward pass computes: may it be saved? */
export type SaveablePredicate = (prim: string, dtype: string, shape: readonly Dim[]) => boolean;
/** Residual bytes allowed: a number, or a function of the symbolic dimensions' values. */
export type MemoryBudget = number | ((dims: Readonly<Record<string, number>>) => number);

export type CheckpointPolicy =
  | "nothingSaveable"
  | "everythingSaveable"
  | "dotsSaveable"
  | "dotsWithNoBatchDimsSaveable"
  | { saveOnlyTheseNames: string[] }
  | { saveAnyNamesBut: string[] }
  | { saveable: SaveablePredicate }
  /** (perDims: the bytes a budget function gave at dims: the plan is checked there only) */
  | { memoryBudget: MemoryBudget; dims?: Record<string, number>; perDims?: boolean };

/** Observers of every budget plan made (planCheckpoint collects them). */
export const rematPlanObservers = new Set<(p: RematPlan) => void>();

export interface CheckpointNameParams {
  name: string;
}

/** checkpointName(x, name): the identity, marking x for the name-based policies. */
export const checkpointNameP: Primitive<CheckpointNameParams> = definePrimitive<CheckpointNameParams>({
  name: "checkpoint_name",
  traits: { elementwise: true },
  linear: true,
  abstractEval: ([x]) => [x!],
  impl: ([x]) => [x!.data.slice()],
  jvp: ([x], [t], params) => [checkpointNameP.bind([x!], params), [t!]],
  transpose: ([ct]) => [ct!],
  batch: ([x], [d], params) => [checkpointNameP.bind([x!], params), [d!]],
});

/** The per-value save rule of a predicate policy (null for the budget policy). */
function saveRule(policy: Exclude<CheckpointPolicy, "nothingSaveable" | "everythingSaveable">): ((e: Equation) => boolean) | null {
  const named = (e: Equation) => (e.prim === checkpointNameP ? (e.params as CheckpointNameParams).name : null);
  if (policy === "dotsSaveable") return (e) => e.prim.name === "dot_general";
  if (policy === "dotsWithNoBatchDimsSaveable") return (e) => e.prim.name === "dot_general" && (e.params.lhsBatch as number[]).length === 0;
  if ("saveOnlyTheseNames" in policy) return (e) => policy.saveOnlyTheseNames.includes(named(e) ?? "\u0000none");
  if ("saveAnyNamesBut" in policy) return (e) => named(e) !== null && !policy.saveAnyNamesBut.includes(named(e)!);
  if ("saveable" in policy) return (e) => e.outs.length === 1 && policy.saveable(e.prim.name, e.outs[0]!.aval.dtype, e.outs[0]!.aval.shape);
  return null;
}

/** The save set, and for a budget its plan, of a policy on the known half. */
function chooseSaved(g: RematGraph, policy: Exclude<CheckpointPolicy, "nothingSaveable" | "everythingSaveable">): Var[] {
  const rule = saveRule(policy);
  if (rule) return [...policySaveSet(g, (e) => rule(e))];
  const { memoryBudget, dims, perDims } = policy as { memoryBudget: MemoryBudget; dims?: Record<string, number>; perDims?: boolean };
  const env = planDims(g, dims);
  const budget = typeof memoryBudget === "function" ? memoryBudget(env) : memoryBudget;
  if (typeof budget !== "number" || !(budget >= 0)) throw new ArgumentError(`checkpoint: memoryBudget must be a number of bytes >= 0, got ${String(budget)}`);
  const { best, method, all } = planBudget(g, budget, env);
  const plan = describePlan(g, best, all.bytes, method, budget, env, planSizes(g, best.saved, budget, env, perDims === true || typeof memoryBudget === "function"));
  for (const obs of rematPlanObservers) obs(plan);
  return best.saved;
}

export interface CheckpointParams {
  program: Program;
  policy: CheckpointPolicy;
}

/** The same program computing only the outputs selected by `keep`. */
function onlyOutputs(p: Program, keep: boolean[]): Program {
  return new Program(p.inputs, p.consts, p.constValues, p.equations, p.outputs.filter((_, i) => keep[i]));
}

export const checkpointP: Primitive<CheckpointParams> = definePrimitive<CheckpointParams>({
  name: "checkpoint",
  traits: { higherOrder: true },
  linear: true,
  abstractEval: (ins, { program }) => {
    ins.forEach((a, i) => {
      if (!a.strong().equals(program.inAvals[i]!.strong())) throw new ShapeError(`checkpoint: operand ${i} is ${a}, the function expects ${program.inAvals[i]}`);
    });
    return program.outAvals;
  },
  impl: (ins, { program }) => runProgram(program, ins).map((t) => t.data),
  jvp: (primals, tangents, { program, policy }) => {
    const nz = tangents.map((t) => !isZero(t));
    const { program: jp, outNonZero } = jvpProgram(program, nz);
    const outs = checkpointP.bind([...primals, ...(tangents.filter((t) => !isZero(t)) as Tensor[])], { program: jp, policy });
    const n = program.outputs.length;
    let k = n;
    const ts: Tangent[] = program.outAvals.map((a, i) => (outNonZero[i] ? outs[k++]! : new Zero(a.strong())));
    return [outs.slice(0, n), ts];
  },
  batch: (args, dims, { program, policy }, size) => {
    const outs = checkpointP.bind(args, { program: vmapProgram(program, dims, size), policy });
    return [outs, outs.map(() => 0)];
  },
  transpose: (cts, inputs, { program, policy }) => {
    const linear = inputs.map(isLinearIn);
    const tp = transposedProgram(program, linear);
    const nonLin = inputs.filter((x) => !isLinearIn(x)) as Tensor[];
    const res = checkpointP.bind([...nonLin, ...cts.map(instantiate)], { program: tp, policy });
    let k = 0;
    return inputs.map((x) => (isLinearIn(x) ? res[k++]! : null));
  },
  partialEval: (ctx, inputs, { program, policy }) => {
    const unknown = inputs.map((x) => ctx.isUnknown(x));
    const pe = partialEvalProgram(program, unknown);
    const knownIns = inputs.filter((_, i) => !unknown[i]);
    const nKnownOut = pe.outUnknown.filter((u) => !u).length;
    if (policy === "everythingSaveable") {
      // ordinary partial evaluation: save every residual
      const known = ctx.known(() => checkpointP.bind(knownIns, { program: pe.known, policy }));
      const ukOuts = ctx.stage(checkpointP, [...known.slice(nKnownOut), ...inputs.filter((_, i) => unknown[i])], { program: pe.unknown, policy });
      let a = 0;
      let b = 0;
      return pe.outUnknown.map((u) => (u ? ukOuts[b++]! : known[a++]!));
    }
    if (policy !== "nothingSaveable") {
      // save the policy's set S: the known half also returns S; the staged half recomputes the
      // residuals from S and the known inputs it reads, then runs the tangent half
      const g = rematGraph(pe.known, pe.known.outputs.slice(nKnownOut));
      const saved = chooseSaved(g, policy);
      const { known: kp, recompute, inputsRead } = rematPrograms(g, nKnownOut, saved);
      const kOuts = ctx.known(() => checkpointP.bind(knownIns, { program: kp, policy }));
      const readIdx = inputsRead.map((v) => pe.known.inputs.indexOf(v));
      const unknownIns = inputs.filter((_, i) => unknown[i]);
      const avals = [...saved, ...inputsRead].map((v) => v.aval).concat(unknownIns.map((x) => x.aval));
      const staged = traceFlat((xs) => {
        const res = evalProgram(recompute, xs.slice(0, saved.length + inputsRead.length));
        return evalProgram(pe.unknown, [...res, ...xs.slice(saved.length + inputsRead.length)]);
      }, avals, "checkpoint");
      if (staged.tracerConsts.length) throw new InternalError("checkpoint: the recomputation captured outer tracers");
      const ukOuts = ctx.stage(checkpointP, [...kOuts.slice(nKnownOut), ...readIdx.map((k) => knownIns[k]!), ...unknownIns], { program: staged.program, policy });
      let a = 0;
      let b = 0;
      return pe.outUnknown.map((u) => (u ? ukOuts[b++]! : kOuts[a++]!));
    }
    // save nothing: the known half drops its residuals; the unknown half recomputes from the inputs
    const keepKnown = pe.known.outputs.map((_, i) => i < nKnownOut);
    const known = ctx.known(() => checkpointP.bind(knownIns, { program: onlyOutputs(pe.known, keepKnown), policy }));
    const ukOuts = ctx.stage(checkpointP, inputs, { program: onlyOutputs(program, pe.outUnknown), policy });
    let a = 0;
    let b = 0;
    return pe.outUnknown.map((u) => (u ? ukOuts[b++]! : known[a++]!));
  },
});

/** f as one checkpoint region with `policy` (checkpoint(), and grad/exportVjp's memoryBudget). */
export function checkpointed<F extends (...args: any[]) => any>(f: F, policy: CheckpointPolicy): F {
  return ((...args: unknown[]) => {
    const [leaves, def] = flatten(args);
    const xs = leaves.map((l, i) => leafToTensor(l, `checkpoint: argument leaf ${i}`));
    const t = traceFlat((ins) => f(...(unflatten(def, ins) as unknown[])), xs.map((x) => x.aval), "checkpoint");
    const outs = checkpointP.bind([...xs, ...t.tracerConsts], { program: t.program, policy });
    return unflatten(t.outTree, outs);
  }) as F;
}

/** The budget policy of a memoryBudget option (checked: a number >= 0 or a function of the dims). */
export function budgetPolicy(what: string, memoryBudget: unknown, dims: unknown): CheckpointPolicy {
  if (!(typeof memoryBudget === "function" || (typeof memoryBudget === "number" && memoryBudget >= 0))) {
    throw new ArgumentError(`${what}: memoryBudget must be a number of bytes >= 0 or a function (dims) => bytes, got ${String(memoryBudget)}`);
  }
  if (dims !== undefined && (dims === null || typeof dims !== "object" || Object.values(dims).some((v) => !Number.isInteger(v)))) {
    throw new ArgumentError(`${what}: dims must map symbolic dimension names to integers, got ${String(dims)}`);
  }
  if (dims === undefined) return { memoryBudget: memoryBudget as MemoryBudget };
  // with the dims known, a budget function is evaluated now: the policy stays plain data (serializable)
  const env = dims as Record<string, number>;
  const bytes = typeof memoryBudget === "function" ? (memoryBudget as (d: Record<string, number>) => number)(env) : memoryBudget;
  return typeof memoryBudget === "function" ? { memoryBudget: bytes, dims: env, perDims: true } : { memoryBudget: bytes, dims: env };
}
