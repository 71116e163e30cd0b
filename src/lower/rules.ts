// The per-primitive lowering table: how each registered primitive becomes kernel IR. It is a
// mapped type over the registry's names (prims/names.ts), as the ONNX table is, so a primitive
// without a row is a compile error (test/lower-rules.test.ts checks the names against the
// registry). A row is one of:
//   elementwise  a scalar op inside a fused loop (its backend-neutral op name, "exp", "cmp:lt",
//                "convert:float32", ...; "id" is an identity), with its cost in the fusion
//                heuristic (exprCost below);
//   fused        a rule over the LowerContext (data movement, reductions, indexing, products);
//   nested       a rule with sub-programs, over the NestedContext (control flow, inlined calls);
//   call         a fallback call kernel running the primitive's implementation on whole buffers.
// fuse.ts dispatches on the row's kind only; it has no case for any primitive name.

import type { Equation } from "../ir/program.js";
import type { PrimName } from "../prims/names.js";
import { type LowerContext, type NestedContext, fusedEqns } from "./context.js";
import { lowerCond, lowerInlineCall, lowerScan, lowerWhile } from "./control-flow.js";
import { dotGeneral } from "./dot.js";
import { gather, scatterAdd, scatterCombine } from "./indexing.js";
import { sortByRank } from "./sort.js";
import { windowPatches } from "./windows.js";
import type { Expr } from "./kernel-ir.js";
import { broadcastInDim, concatenate, dimValue, pad, reshape, rev, slice, transpose } from "./movement.js";
import { argReduction, cumulative, reduction } from "./reduce.js";
import { identityMap } from "./views.js";

export type LowerRule =
  | { kind: "elementwise"; op: (e: Equation) => string; cost: number }
  | { kind: "fused"; lower: (L: LowerContext, e: Equation, id: number) => void }
  | { kind: "nested"; lower: (L: NestedContext, e: Equation, id: number) => void }
  | { kind: "call" };

/** The cost of an operation that is a handful of instructions. */
const CHEAP = 1;
/** The cost of a transcendental function or a square root (a library call or a long sequence). */
const EXPENSIVE = 8;

/** An elementwise primitive whose scalar op is its own name. */
const scalar = (cost = CHEAP): LowerRule => ({ kind: "elementwise", op: (e) => e.prim.name, cost });
/** An elementwise primitive whose scalar op carries a parameter ("cmp:lt", "convert:int32"). */
const param = (prefix: string, key: string): LowerRule => ({ kind: "elementwise", op: (e) => `${prefix}:${e.params[key]}`, cost: CHEAP });
const fused = (lower: (L: LowerContext, e: Equation, id: number) => void): LowerRule => ({ kind: "fused", lower });
const nested = (lower: (L: NestedContext, e: Equation, id: number) => void): LowerRule => ({ kind: "nested", lower });
const call: LowerRule = { kind: "call" };

const ELEMENTWISE = {
  exp: scalar(EXPENSIVE),
  log: scalar(EXPENSIVE),
  log1p: scalar(EXPENSIVE),
  expm1: scalar(EXPENSIVE),
  sin: scalar(EXPENSIVE),
  cos: scalar(EXPENSIVE),
  tan: scalar(EXPENSIVE),
  tanh: scalar(EXPENSIVE),
  logistic: scalar(EXPENSIVE),
  sqrt: scalar(EXPENSIVE),
  asin: scalar(EXPENSIVE),
  acos: scalar(EXPENSIVE),
  atan: scalar(EXPENSIVE),
  sinh: scalar(EXPENSIVE),
  cosh: scalar(EXPENSIVE),
  asinh: scalar(EXPENSIVE),
  acosh: scalar(EXPENSIVE),
  atanh: scalar(EXPENSIVE),
  log2: scalar(EXPENSIVE),
  log10: scalar(EXPENSIVE),
  exp2: scalar(EXPENSIVE),
  abs: scalar(),
  sign: scalar(),
  floor: scalar(),
  ceil: scalar(),
  round: scalar(),
  neg: scalar(),
  erf: scalar(),
  stop_gradient: { kind: "elementwise", op: () => "id", cost: 0 },
  checkpoint_name: { kind: "elementwise", op: () => "id", cost: 0 },
  convert_element_type: param("convert", "dtype"),
  add: scalar(),
  sub: scalar(),
  mul: scalar(),
  div: scalar(),
  pow: scalar(EXPENSIVE),
  max: scalar(),
  min: scalar(),
  mod: scalar(EXPENSIVE),
  floor_divide: scalar(EXPENSIVE),
  atan2: scalar(EXPENSIVE),
  hypot: scalar(EXPENSIVE),
  compare: param("cmp", "op"),
  logical: param("logical", "op"),
  not: scalar(),
  select: scalar(),
} satisfies Record<string, LowerRule>;

const ARRAY = {
  reduce_sum: fused(reduction("sum")),
  reduce_max: fused(reduction("max")),
  reduce_min: fused(reduction("min")),
  reduce_prod: fused(reduction("prod")),
  argmax: fused(argReduction("argmax")),
  argmin: fused(argReduction("argmin")),
  cumsum: fused(cumulative("cumsum")),
  cumprod: fused(cumulative("cumprod")),
  dot_general: fused(dotGeneral),
  reshape: fused(reshape),
  transpose: fused(transpose),
  broadcast_in_dim: fused(broadcastInDim),
  concatenate: fused(concatenate),
  pad: fused(pad),
  slice: fused(slice),
  rev: fused(rev),
  window_patches: fused(windowPatches),
  gather: fused(gather),
  scatter_add: fused(scatterAdd),
  dim_value: fused(dimValue),
  index_check: call,
  scatter: fused(scatterCombine),
  sort: fused(sortByRank),
  random_bits: call,
  random_split: call,
  random_fold_in: call,
} satisfies Record<string, LowerRule>;

const CONTROL = {
  jit_call: nested(lowerInlineCall),
  checkpoint: nested(lowerInlineCall),
  custom_jvp_call: nested(lowerInlineCall),
  custom_vjp_call: nested(lowerInlineCall),
  custom_lin: call,
  scan: nested(lowerScan),
  while: nested(lowerWhile),
  while_lin: nested(lowerInlineCall),
  cond: nested(lowerCond),
} satisfies Record<string, LowerRule>;

export const LOWER_RULES: { readonly [K in PrimName]: LowerRule } = { ...ELEMENTWISE, ...ARRAY, ...CONTROL };

/** An elementwise equation as a fused scalar expression (operands are the output's shape or rank-0). */
export function lowerElementwise(L: LowerContext, e: Equation, id: number, op: string): void {
  const out = e.outs[0]!;
  const rank = out.aval.shape.length;
  const args = e.inputs.map((a) => L.readOrMaterialize(a, a.aval.shape.length === 0 ? [] : identityMap(rank), rank));
  const expr: Expr = op === "id" ? args[0]! : { k: "op", op, args, dtype: out.aval.dtype };
  L.defineExpr(out, expr, fusedEqns(L, e.inputs, id));
}

/** Values used more than once are materialized when recomputing them costs more than this. */
export const REUSE_COST = 1;
/** Expressions larger than this are materialized to bound generated code size. */
export const MAX_EXPR_COST = 120;

/**
 * The cost of a scalar op: its primitive's row (an op named after no primitive, such as
 * "cmp:lt" or the index arithmetic of views.ts, costs CHEAP).
 */
function opCost(op: string): number {
  const rule = (LOWER_RULES as Record<string, LowerRule | undefined>)[op];
  return rule?.kind === "elementwise" ? rule.cost : CHEAP;
}

/** Weighted operation count of an expression (loads and consts are free). */
export function exprCost(e: Expr): number {
  switch (e.k) {
    case "load":
    case "const":
    case "dim":
    case "index":
      return 0;
    case "guard":
      return 1 + exprCost(e.body) + exprCost(e.other);
    case "gather":
      return 2 + exprCost(e.index);
    case "op":
      return opCost(e.op) + e.args.reduce((n, a) => n + exprCost(a), 0);
  }
}
