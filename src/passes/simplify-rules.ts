// The algebraic simplification rules, one table row each (the engine is simplify.ts). Every rule
// is exact on every value (DESIGN principle 13), -0, NaN and +-Infinity included, and on int32
// wrapping: a rewritten program returns the same bits as the reference implementations. So, in
// float dtypes, only an added -0 is dropped (x + -0 = x for every x, but -0 + 0 = +0), only a
// subtracted +0 (x - 0 = x + -0), and only -0 - x becomes neg x (0 - 0 = +0 but neg 0 = -0);
// in int32 every zero is the same zero. A reduce_sum over no axes is 0 + x in the reference, so
// it is dropped only for integers. Never applied, because they are wrong for some value: x*0 -> 0
// (NaN, Inf, -0), x-x -> 0 and x/x -> 1 (NaN, Inf), x+0 -> x and 0-x -> neg x in floats (-0).
// Literals are matched by the value their dtype stores (a float32 literal 1e-50 is +0, an int32
// literal -0 is 0), since that is what every backend computes with. Scalar-broadcast rules rely on
// elementwise primitives accepting rank-0 operands and broadcasting them.

import { ShapedArray } from "../core/aval.js";
import { isFloat } from "../core/dtype.js";
import { shapeEq } from "../core/shape.js";
import { type Atom, type Equation, Literal, type Var } from "../ir/program.js";
import { negP } from "../prims/unary.js";
import { broadcastInDimP, reshapeP, transposeP } from "../prims/shape.js";
import { scalar } from "../rules/scalar.js";
import { applyConcrete } from "../backends/interp/interpret.js";
import { literalValue } from "./rewrite.js";
import type { RuleContext, SimplifyRule } from "./simplify.js";

/** `a` is a literal storing exactly `v` (Object.is: -0 and +0 differ, NaN matches NaN). */
const isLit = (a: Atom | undefined, v: number) => {
  const x = literalValue(a);
  return x !== undefined && Object.is(x, v);
};
/**
 * The zero that is an identity of the equation's output dtype: in floats `-0` for addition
 * (x + -0 = x; x + +0 turns -0 into +0) and `+0` for subtraction (x - +0 = x + -0); in integers
 * the only zero.
 */
function isIdentityZero(e: Equation, a: Atom | undefined, kind: "add" | "sub"): boolean {
  if (!isFloat(e.outs[0]!.aval.dtype)) return literalValue(a) === 0;
  return isLit(a, kind === "add" ? -0 : 0);
}
const isIdentityPerm = (perm: readonly number[]) => perm.every((p, i) => p === i);

/** An equation like `e` (same source line) with other primitive, inputs, params or outputs. */
function like(e: Equation, prim: Equation["prim"], inputs: Atom[], params: any, outs: Var[] = e.outs): Equation {
  return { prim, inputs, params, outs, source: e.source };
}

/** The rank-0 atom `a` is a broadcast of (`broadcast_in_dim[dims=[]] s`), if it is one. */
function broadcastScalarOf(a: Atom | undefined, ctx: RuleContext): Atom | undefined {
  const d = ctx.def(a);
  if (!d || d.prim !== broadcastInDimP) return undefined;
  const s = d.inputs[0]!;
  return s.aval.shape.length === 0 ? s : undefined;
}

/** Shorthand for rules that replace the equation by one of its input atoms (or another atom). */
function toAtom(name: string, prims: string[], pick: (e: Equation, ctx: RuleContext) => Atom | undefined | false): SimplifyRule<Atom> {
  return { name, prims, match: pick, rewrite: (_e, a) => [a] };
}

export const DEFAULT_RULES: SimplifyRule[] = [
  // ---- scalars instead of broadcasts (gradient seeds are broadcast(1.0))
  {
    // op(x, broadcast(s)) -> op(x, s): only while some other operand keeps the full output
    // shape, so the result shape cannot shrink to rank 0
    name: "elementwise-scalar-operand",
    match: (e, ctx) => {
      if (!e.prim.traits.elementwise || e.outs.length !== 1) return null;
      const out = e.outs[0]!.aval;
      if (out.shape.length === 0) return null;
      const scalars = e.inputs.map((a) => broadcastScalarOf(a, ctx));
      if (!scalars.some((s) => s !== undefined)) return null;
      const keepsShape = e.inputs.some((a, i) => scalars[i] === undefined && shapeEq(a.aval.shape, out.shape));
      return keepsShape ? scalars : null;
    },
    rewrite: (e, scalars: (Atom | undefined)[]) => like(e, e.prim, e.inputs.map((a, i) => scalars[i] ?? a), e.params),
  },
  {
    // op(broadcast(c1), c2, ...) on literals -> broadcast(op(c1, c2, ...)) computed now
    name: "elementwise-broadcast-literals",
    match: (e, ctx) => {
      if (!e.prim.traits.elementwise || e.outs.length !== 1) return null;
      const lits = e.inputs.map((a) => (a instanceof Literal ? a : broadcastScalarOf(a, ctx)));
      if (!lits.every((l) => l instanceof Literal) || lits.every((l, i) => l === e.inputs[i])) return null;
      try {
        const ins = (lits as Literal[]).map((l) => scalar(l.value, l.aval.dtype, l.aval.weak));
        const [t] = applyConcrete(e.prim, ins, e.params);
        return new Literal(t!.data[0]!, new ShapedArray([], t!.dtype, e.outs[0]!.aval.weak));
      } catch {
        return null;
      }
    },
    rewrite: (e, l: Literal) => like(e, broadcastInDimP, [l], { shape: [...e.outs[0]!.aval.shape], dims: [] }),
  },
  {
    // reshape/transpose/broadcast of broadcast(s) -> broadcast(s) to the final shape
    name: "movement-of-scalar-broadcast",
    prims: ["reshape", "transpose", "broadcast_in_dim"],
    match: (e, ctx) => broadcastScalarOf(e.inputs[0], ctx),
    rewrite: (e, s: Atom) => like(e, broadcastInDimP, [s], { shape: [...e.outs[0]!.aval.shape], dims: [] }),
  },

  // ---- arithmetic identities
  toAtom("mul-one", ["mul"], (e) => (isLit(e.inputs[1], 1) ? e.inputs[0] : isLit(e.inputs[0], 1) && e.inputs[1])),
  // x + -0 -> x (floats: only -0; x + 0 is +0 at x = -0)
  toAtom("add-zero", ["add"], (e) =>
    isIdentityZero(e, e.inputs[1], "add") ? e.inputs[0] : isIdentityZero(e, e.inputs[0], "add") && e.inputs[1],
  ),
  // x - 0 -> x (floats: only +0; x - -0 is x + 0)
  toAtom("sub-zero", ["sub"], (e) => isIdentityZero(e, e.inputs[1], "sub") && e.inputs[0]),
  toAtom("div-one", ["div"], (e) => isLit(e.inputs[1], 1) && e.inputs[0]),
  toAtom("neg-neg", ["neg"], (e, ctx) => ctx.def(e.inputs[0])?.prim === negP && ctx.def(e.inputs[0])!.inputs[0]),
  {
    // -0 - x -> neg x (floats: only -0; 0 - 0 is +0 but neg 0 is -0; int32 wraps alike)
    name: "zero-sub",
    prims: ["sub"],
    match: (e) => isIdentityZero(e, e.inputs[0], "add"),
    rewrite: (e) => like(e, negP, [e.inputs[1]!], {}),
  },
  toAtom("select-same", ["select"], (e) => {
    const [, a, b] = e.inputs;
    const same = a === b || (a instanceof Literal && b instanceof Literal && Object.is(a.value, b.value) && a.aval.equals(b.aval));
    return same && a;
  }),

  // ---- casts and data movement that do nothing
  toAtom("convert-same-dtype", ["convert_element_type"], (e) => {
    const x = e.inputs[0]!;
    return x.aval.dtype === e.params.dtype && !x.aval.weak && x;
  }),
  toAtom("reshape-same-shape", ["reshape"], (e) => shapeEq(e.inputs[0]!.aval.shape, e.params.shape) && e.inputs[0]),
  {
    name: "reshape-reshape",
    prims: ["reshape"],
    match: (e, ctx) => {
      const d = ctx.def(e.inputs[0]);
      return d?.prim === reshapeP ? d.inputs[0] : null;
    },
    rewrite: (e, x: Atom) => like(e, reshapeP, [x], e.params),
  },
  toAtom("transpose-identity", ["transpose"], (e) => isIdentityPerm(e.params.perm) && e.inputs[0]),
  {
    // transpose(transpose(x, p1), p2) = transpose(x, c) with c[i] = p1[p2[i]]
    name: "transpose-transpose",
    prims: ["transpose"],
    match: (e, ctx) => {
      const d = ctx.def(e.inputs[0]);
      if (d?.prim !== transposeP) return null;
      const p1: number[] = d.params.perm;
      return { x: d.inputs[0]!, perm: (e.params.perm as number[]).map((i) => p1[i]!) };
    },
    rewrite: (e, m: { x: Atom; perm: number[] }) => (isIdentityPerm(m.perm) ? [m.x] : like(e, transposeP, [m.x], { perm: m.perm })),
  },
  toAtom("broadcast-identity", ["broadcast_in_dim"], (e) => {
    const x = e.inputs[0]!;
    return shapeEq(x.aval.shape, e.params.shape) && isIdentityPerm(e.params.dims) && x;
  }),
  // a reduction over no axes is init `op` x: exact for max (-Inf), min (+Inf) and prod (1), but
  // reduce_sum computes 0 + x, which is +0 at x = -0: dropped only in integer dtypes
  toAtom(
    "reduce-no-axes",
    ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod"],
    (e) => e.params.axes.length === 0 && !(e.prim.name === "reduce_sum" && isFloat(e.outs[0]!.aval.dtype)) && e.inputs[0],
  ),
];
