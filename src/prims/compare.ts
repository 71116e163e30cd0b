// Comparisons (bool results, zero derivative), logical and/or/not, and select (where), which is
// linear in its two value operands given the predicate.

import { ShapedArray } from "../core/aval.js";
import { DTypeError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { elementwiseAval, elementwiseShape, mapBinary, mapNary, mapUnary } from "../rules/elementwise.js";
import { elementwiseBatch } from "./rule-elementwise.js";
import { broadcastTo, unbroadcast } from "./rule-helpers.js";
import { scalarLike } from "../rules/scalar.js";
import { Zero, isLinearIn, isZero } from "../rules/zero.js";
import { definePrimitive, type Primitive } from "./primitive.js";

export type CompareOp = "eq" | "ne" | "lt" | "le" | "gt" | "ge";

export const COMPARE: Record<CompareOp, { f: (a: number, b: number) => number; js: string }> = {
  eq: { f: (a, b) => (a === b ? 1 : 0), js: "===" },
  ne: { f: (a, b) => (a !== b ? 1 : 0), js: "!==" },
  lt: { f: (a, b) => (a < b ? 1 : 0), js: "<" },
  le: { f: (a, b) => (a <= b ? 1 : 0), js: "<=" },
  gt: { f: (a, b) => (a > b ? 1 : 0), js: ">" },
  ge: { f: (a, b) => (a >= b ? 1 : 0), js: ">=" },
};

export interface CompareParams {
  op: CompareOp;
}

export const compareP: Primitive<CompareParams> = definePrimitive<CompareParams>({
  name: "compare",
  traits: { elementwise: true, nonDifferentiable: true },
  abstractEval: (ins, { op }) => elementwiseAval(`compare(${op})`, ins, "any", "bool"),
  impl: ([x, y], { op }, [o]) => [mapBinary(x!, y!, o!, COMPARE[op].f)],
  jvp: ([x, y], _t, p) => {
    const out = compareP.bind1([x!, y!], p);
    return [[out], [new Zero(out.aval)]];
  },
  batch: elementwiseBatch<CompareParams>(([x, y], p) => [compareP.bind1([x!, y!], p)]),
});

export type LogicalOp = "and" | "or" | "xor";
export const LOGICAL: Record<LogicalOp, { f: (a: number, b: number) => number; js: string }> = {
  and: { f: (a, b) => a & b, js: "&" },
  or: { f: (a, b) => a | b, js: "|" },
  xor: { f: (a, b) => a ^ b, js: "^" },
};

export interface LogicalParams {
  op: LogicalOp;
}

/** Bitwise and/or/xor on int32, logical on bool. */
export const logicalP: Primitive<LogicalParams> = definePrimitive<LogicalParams>({
  name: "logical",
  traits: { elementwise: true, nonDifferentiable: true },
  abstractEval: (ins, { op }) => elementwiseAval(op, ins, "intOrBool"),
  impl: ([x, y], { op }, [o]) => [mapBinary(x!, y!, o!, LOGICAL[op].f)],
  jvp: ([x, y], _t, p) => {
    const out = logicalP.bind1([x!, y!], p);
    return [[out], [new Zero(out.aval)]];
  },
  batch: elementwiseBatch<LogicalParams>(([x, y], p) => [logicalP.bind1([x!, y!], p)]),
});

const notBool = (a: number) => (a ? 0 : 1);
const notInt = (a: number) => ~a;

export const notP = definePrimitive({
  name: "not",
  traits: { elementwise: true, nonDifferentiable: true },
  abstractEval: (ins) => elementwiseAval("not", ins, "intOrBool"),
  impl: ([x], _p, [o]) => [mapUnary(x!, o!, o!.dtype === "bool" ? notBool : notInt)],
  jvp: ([x]) => {
    const out = not(x!);
    return [[out], [new Zero(out.aval)]];
  },
  batch: ([x], [d]) => [[not(x!)], [d!]],
});

/** select(pred, onTrue, onFalse): elementwise choice. Linear in onTrue and onFalse. */
export const selectP = definePrimitive({
  name: "select",
  traits: { elementwise: true },
  linear: true,
  abstractEval: ([p, a, b]) => {
    if (p!.dtype !== "bool") throw new DTypeError(`select: predicate must be bool, got ${p!.dtype}`);
    const [v] = elementwiseAval("select", [a!, b!], "any");
    const shape = elementwiseShape("select", [p!, a!, b!]);
    return [new ShapedArray(shape, v!.dtype, v!.weak)];
  },
  impl: ([p, a, b], _p, [o]) => [mapNary([p!, a!, b!], o!, (v) => (v[0] ? v[1]! : v[2]!))],
  jvp: ([p, a, b], [, ta, tb]) => {
    const out = select(p!, a!, b!);
    if (isZero(ta) && isZero(tb)) return [[out], [new Zero(out.aval.strong())]];
    // a symbolic zero becomes an inline scalar 0 (never a materialized tensor)
    const za = isZero(ta) ? zeroScalar(out) : ta!;
    const zb = isZero(tb) ? zeroScalar(out) : tb!;
    return [[out], [broadcastTo(select(p!, za, zb), out.aval.shape)]];
  },
  transpose: ([ct], [p, a, b]) => {
    if (isLinearIn(p)) throw new DTypeError("select: the predicate cannot be linear");
    const pred = p as Tensor;
    const res = (x: typeof a, pick: (z: Tensor) => Tensor) =>
      !isLinearIn(x) ? null : isZero(ct) ? new Zero(x.aval) : unbroadcast(pick(zeroScalar(ct!)), x.aval);
    return [
      null,
      res(a, (z) => select(pred, ct as Tensor, z)),
      res(b, (z) => select(pred, z, ct as Tensor)),
    ];
  },
  batch: elementwiseBatch<{}>(([p, a, b]) => [select(p!, a!, b!)]),
});

function zeroScalar(like: Tensor): Tensor {
  return scalarLike(like, 0);
}

export function compare(x: Tensor, y: Tensor, op: CompareOp): Tensor {
  return compareP.bind1([x, y], { op });
}
export function logical(x: Tensor, y: Tensor, op: LogicalOp): Tensor {
  return logicalP.bind1([x, y], { op });
}
export function not(x: Tensor): Tensor {
  return notP.bind1([x], {});
}
export function select(p: Tensor, a: Tensor, b: Tensor): Tensor {
  return selectP.bind1([p, a, b], {});
}
