// For which sizes a memory-budget plan holds (issue 14 item 2). A budget is planned at one
// binding of the symbolic dims (the dims given), but a program traced with symbolic shapes runs
// at every size, so the plan says where its save set is known to fit:
//   all      the plan's residual bytes do not depend on the dims: it fits at every size;
//   bounded  the budget is a number and the residual bytes a polynomial with nonnegative
//            coefficients in the dims (element counts times element bytes), hence nondecreasing in
//            each dim: the save set fits for every binding at or below the dims given in each dim,
//            and for one symbol up to the largest value whose bytes still fit (found exactly by
//            doubling and bisection on the monotone formula);
//   at-dims  the budget is a function of the dims (a black box here): checked at the dims given;
//   concrete no symbolic dims.
// The placement itself (which values to save) is the one optimal at the dims given; "holds"
// means fits the budget, which is what running out of memory depends on.

import { byteSize } from "../core/dtype.js";
import { type Dim, dimAdd, dimMul, dimToString, evalDim, shapeSize } from "../core/shape.js";
import { Var } from "../ir/program.js";
import { type RematGraph, recomputeSlice } from "./remat.js";

export interface PlanSizes {
  scope: "all" | "bounded" | "at-dims" | "concrete";
  /** the plan's residual bytes as a formula in the dims */
  bytes: string;
  /** bounded: the largest value of each dim for which the save set is known to fit */
  upTo?: Record<string, number>;
  /** one line for the printed plan */
  text: string;
}

/** Residual bytes of save set `saved` as a formula: the values saved and the inputs the recomputation (or the backward) reads. */
export function residualBytesDim(g: RematGraph, saved: readonly Var[]): Dim {
  const { inputsRead } = recomputeSlice(g, new Set(saved));
  const direct = g.needed.filter((a): a is Var => a instanceof Var && g.program.inputs.includes(a));
  const vars = [...saved, ...new Set([...inputsRead, ...direct])];
  return vars.reduce<Dim>((s, v) => dimAdd(s, dimMul(shapeSize(v.aval.shape), byteSize(v.aval.dtype))), 0);
}

/** Largest n >= 1 with f(n) <= budget for nondecreasing f (null: none; Infinity: every n up to 2^52). */
function largestFitting(f: (n: number) => number, budget: number): number | null {
  if (f(1) > budget) return null;
  let lo = 1, hi = 2;
  while (f(hi) <= budget) {
    lo = hi;
    hi *= 2;
    if (hi > 2 ** 52) return Infinity;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (f(mid) <= budget) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Where the plan with save set `saved`, made at `env` for `budget`, is known to fit. */
export function planSizes(g: RematGraph, saved: readonly Var[], budget: number, env: Readonly<Record<string, number>>, budgetIsFunction: boolean): PlanSizes {
  const d = residualBytesDim(g, saved);
  const bytes = dimToString(d);
  const symbols = typeof d === "number" ? [] : d.symbols();
  const anySymbolic = Object.keys(env).length > 0 || [...g.program.inputs, ...g.candidates].some((v) => v.aval.shape.some((x) => typeof x !== "number"));
  if (!anySymbolic) return { scope: "concrete", bytes, text: "" };
  if (!symbols.length) return { scope: "all", bytes, text: `  sizes: every value of the dims (the residual bytes ${bytes} do not depend on them)` };
  const at = symbols.map((s) => `${s}=${env[s]}`).join(", ");
  if ([...(d as Exclude<Dim, number>).terms.values()].some((c) => c < 0)) return { scope: "at-dims", bytes, text: `  sizes: checked at ${at} only (the residual bytes ${bytes} are not monotone in the dims)` };
  if (budgetIsFunction) return { scope: "at-dims", bytes, text: `  sizes: checked at ${at} only (the budget is a function of the dims; residual bytes ${bytes})` };
  const upTo: Record<string, number> = {};
  if (symbols.length === 1) {
    const s = symbols[0]!;
    upTo[s] = largestFitting((n) => evalDim(d, { ...env, [s]: n }), budget) ?? env[s]!;
  } else for (const s of symbols) upTo[s] = env[s]!;
  const range = Object.entries(upTo).map(([s, n]) => `${s} <= ${n === Infinity ? "2^52" : n}`).join(", ");
  return { scope: "bounded", bytes, upTo, text: `  sizes: fits for every ${range} (residual bytes ${bytes} are nondecreasing in each dim; planned at ${at})` };
}
