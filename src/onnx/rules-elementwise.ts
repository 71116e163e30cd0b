// ONNX rules of the elementwise primitives. Each keeps adgen's exact semantics where ONNX leaves
// them open: max/min propagate NaN, int32 division by zero is 0, float -> int32 truncates and
// saturates with NaN -> 0, log1p/expm1 stay accurate near 0 (Goldberg's and Kahan's identities,
// since ONNX has neither op), round is half-to-even (ONNX Round is too). Elementwise operands
// have one dtype and equal shapes or rank 0, which ONNX broadcasting covers as is.

import { isFloat } from "../core/dtype.js";
import type { EmitCtx, OnnxRule } from "./emit.js";
import type { GraphBuilder } from "./graph.js";
import { attr, elemOf } from "./graph.js";
import type { OnnxElem } from "./proto.js";
import { ERF_COEFFICIENTS } from "../prims/special.js";

const dt = (c: EmitCtx, i = 0) => c.inAvals[i]!.dtype;

/** A rule that applies one ONNX op to the operands as they are. */
export const direct = (op: string): OnnxRule => (c) => [c.g.op(op, c.ins)];

/** log1p(x) = x * log(u) / (u - 1) with u = 1 + x (exact where u == 1): Goldberg, 1991. */
export const log1p: OnnxRule = ({ g, ins: [x], inAvals: [a] }) => {
  const e = elemOf(a!.dtype);
  const u = g.op("Add", [g.scalar(e, 1), x!]);
  const ratio = g.op("Mul", [g.op("Log", [u]), g.op("Div", [x!, g.op("Sub", [u, g.scalar(e, 1)])])]);
  const small = g.op("Where", [g.op("Equal", [u, g.scalar(e, 1)]), x!, ratio]);
  // log1p(+inf) = +inf (the ratio is inf/inf); -inf and x < -1 give NaN through Log
  return [g.op("Where", [g.op("IsInf", [u], { detect_negative: attr.int(0) }), u, small])];
};

/** expm1(x) = (u - 1) * x / log(u) with u = exp(x) (exact where u == 1): Kahan. */
export const expm1: OnnxRule = ({ g, ins: [x], inAvals: [a] }) => {
  const e = elemOf(a!.dtype);
  const u = g.op("Exp", [x!]);
  const um1 = g.op("Sub", [u, g.scalar(e, 1)]);
  const ratio = g.op("Mul", [um1, g.op("Div", [x!, g.op("Log", [u])])]);
  let r = g.op("Where", [g.op("Equal", [um1, g.scalar(e, -1)]), g.scalar(e, -1), ratio]);
  r = g.op("Where", [g.op("Equal", [u, g.scalar(e, 1)]), x!, r]);
  return [g.op("Where", [g.op("IsInf", [u]), u, r])];
};

/** tan as sin/cos: ONNX Runtime's Tan kernel is float32 only. */
const tan: OnnxRule = ({ g, ins: [x], inAvals: [a] }) =>
  a!.dtype === "float32" ? [g.op("Tan", [x!])] : [g.op("Div", [g.op("Sin", [x!]), g.op("Cos", [x!])])];

/**
 * logistic: Sigmoid in float32; in float64 adgen's stable form e / (1 + e) or 1 / (1 + e) with
 * e = exp(-|x|), because ONNX Runtime 1.30's optimizer fuses x * Sigmoid(x) into its float-only
 * QuickGelu contrib op, which then fails to load for a float64 model.
 */
const logistic: OnnxRule = ({ g, ins: [x], inAvals: [a] }) => {
  if (a!.dtype !== "float64") return [g.op("Sigmoid", [x!])];
  const e = g.op("Exp", [g.op("Neg", [g.op("Abs", [x!])])]);
  const den = g.op("Add", [g.scalar("float64", 1), e]);
  return [g.op("Where", [g.op("GreaterOrEqual", [x!, g.scalar("float64", 0)]), g.op("Div", [g.scalar("float64", 1), den]), g.op("Div", [e, den])])];
};

/** NaN if either operand is NaN (a + b is then NaN), else the strict comparison's winner. */
function maxMin(op: "Greater" | "Less"): OnnxRule {
  return ({ g, ins: [x, y], inAvals: [a] }) => {
    const pick = g.op("Where", [g.op(op, [x!, y!]), x!, y!]);
    if (!isFloat(a!.dtype)) return [pick];
    const nan = g.op("Or", [g.op("IsNaN", [x!]), g.op("IsNaN", [y!])]);
    return [g.op("Where", [nan, g.op("Add", [x!, y!]), pick])];
  };
}

/** Division; for int32, truncating with x / 0 = 0 (ONNX leaves division by zero undefined). */
const div: OnnxRule = ({ g, ins: [x, y], inAvals: [a] }) => {
  if (isFloat(a!.dtype)) return [g.op("Div", [x!, y!])];
  const zero = g.scalar("int32", 0);
  const isZero = g.op("Equal", [y!, zero]);
  const safe = g.op("Where", [isZero, g.scalar("int32", 1), y!]);
  return [g.op("Where", [isZero, zero, g.op("Div", [x!, safe])])];
};

/** int32 multiplication wraps (Math.imul); ONNX Runtime's int32 Mul does the same. */
const mul: OnnxRule = direct("Mul");

/** Cast with adgen's conversion semantics (see core/dtype toInt32Saturating). */
export function cast(g: GraphBuilder, x: string, from: string, to: OnnxElem): string {
  if (from === to) return g.op("Identity", [x]);
  if (to === "int32" && (from === "float32" || from === "float64")) {
    const e = from as OnnxElem;
    const noNaN = g.op("Where", [g.op("IsNaN", [x]), g.scalar(e, 0), x]);
    // the largest value below 2^31 of the source type (float32 cannot hold 2^31 - 1)
    const hi = from === "float32" ? 2147483520 : 2147483647;
    const clipped = g.op("Clip", [noNaN, g.scalar(e, -2147483648), g.scalar(e, hi)]);
    const y = g.op("Cast", [clipped], { to: attr.int(6) });
    return g.op("Where", [g.op("GreaterOrEqual", [noNaN, g.scalar(e, 2147483648)]), g.scalar("int32", 2147483647), y]);
  }
  const code = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 }[to];
  return g.op("Cast", [x], { to: attr.int(code) });
}

const convert: OnnxRule = (c) => [cast(c.g, c.ins[0]!, dt(c), elemOf(c.params.dtype))];

const COMPARE_OPS = { eq: "Equal", lt: "Less", le: "LessOrEqual", gt: "Greater", ge: "GreaterOrEqual" } as const;

const compare: OnnxRule = ({ g, ins, inAvals, params }) => {
  // ONNX Runtime orders bools only through Equal: compare them as int32
  const xs = inAvals[0]!.dtype === "bool" && params.op !== "eq" && params.op !== "ne" ? ins.map((x) => cast(g, x, "bool", "int32")) : ins;
  if (params.op === "ne") return [g.op("Not", [g.op("Equal", xs)])];
  return [g.op(COMPARE_OPS[params.op as keyof typeof COMPARE_OPS], xs)];
};

const logical: OnnxRule = ({ g, ins, inAvals, params }) => {
  const isBool = inAvals[0]!.dtype === "bool";
  const name = { and: "And", or: "Or", xor: "Xor" }[params.op as "and" | "or" | "xor"];
  return [g.op(isBool ? name : `Bitwise${name}`, ins)];
};

const not: OnnxRule = ({ g, ins: [x], inAvals: [a] }) => [g.op(a!.dtype === "bool" ? "Not" : "BitwiseNot", [x!])];

export const ELEMENTWISE_RULES = {
  exp: direct("Exp"),
  log: direct("Log"),
  log1p,
  expm1,
  sin: direct("Sin"),
  cos: direct("Cos"),
  tan,
  tanh: direct("Tanh"),
  logistic,
  sqrt: direct("Sqrt"),
  abs: direct("Abs"),
  sign: direct("Sign"),
  floor: direct("Floor"),
  ceil: direct("Ceil"),
  round: direct("Round"),
  neg: direct("Neg"),
  stop_gradient: direct("Identity"),
  checkpoint_name: direct("Identity"),
  convert_element_type: convert,
  add: direct("Add"),
  sub: direct("Sub"),
  mul,
  div,
  pow: direct("Pow"),
  max: maxMin("Greater"),
  min: maxMin("Less"),
  compare,
  logical,
  not,
  select: direct("Where"),
} satisfies Record<string, OnnxRule>;

// erf: ONNX Runtime's Erf kernel is float32 only. In float64 the graph computes W. J. Cody's
// rational approximations with the coefficients of prims/special.ts (the very tables its erf
// runtime uses, so they cannot drift), in the same operation order as adgen's reference.
const CODY = ERF_COEFFICIENTS;

function erf64(g: GraphBuilder, x: string): string {
  const k = (v: number) => g.scalar("float64", v);
  const add = (a: string, b: string) => g.op("Add", [a, b]);
  const mul = (a: string, b: string) => g.op("Mul", [a, b]);
  const div = (a: string, b: string) => g.op("Div", [a, b]);
  /** xnum = c[last] * t, xden = t (or `den0`), then n rounds of (xnum + num[i]) * t, (xden + den[i]) * t */
  const rational = (t: string, num: number[], den: number[], lead: number, n: number, den0 = t): [string, string] => {
    let xnum = mul(k(lead), t);
    let xden = den0;
    for (let i = 0; i < n; i++) {
      xnum = mul(add(xnum, k(num[i]!)), t);
      xden = mul(add(xden, k(den[i]!)), t);
    }
    return [xnum, xden];
  };
  const y = g.op("Abs", [x]);
  // |x| <= 0.46875: x * P(y^2) / Q(y^2)
  const ysq = g.op("Where", [g.op("Greater", [y, k(1.11e-16)]), mul(y, y), k(0)]);
  const [an, ad] = rational(ysq, CODY.A, CODY.B, CODY.A[4]!, 3);
  const small = div(mul(x, add(an, k(CODY.A[3]!))), add(ad, k(CODY.B[3]!)));
  // exp(-y^2) without cancellation: y rounded down to 1/16 (y >= 0, so floor truncates)
  const yr = div(g.op("Floor", [mul(y, k(16))]), k(16));
  const ens = mul(g.op("Exp", [g.op("Neg", [mul(yr, yr)])]), g.op("Exp", [g.op("Neg", [mul(g.op("Sub", [y, yr]), add(y, yr))])]));
  const [cn, cd] = rational(y, CODY.C, CODY.D, CODY.C[8]!, 7);
  const mid = div(mul(ens, add(cn, k(CODY.C[7]!))), add(cd, k(CODY.D[7]!)));
  const z = div(k(1), mul(y, y));
  const [pn, pd] = rational(z, CODY.P, CODY.Q, CODY.P[5]!, 4);
  const r = div(g.op("Sub", [k(0.56418958354775628695), div(mul(z, add(pn, k(CODY.P[4]!))), add(pd, k(CODY.Q[4]!)))]), y);
  const tail = g.op("Where", [g.op("GreaterOrEqual", [y, k(26.7)]), k(0), mul(ens, r)]);
  const erfc = g.op("Where", [g.op("LessOrEqual", [y, k(4)]), mid, tail]);
  const big = add(g.op("Sub", [k(0.5), erfc]), k(0.5));
  const signed = g.op("Where", [g.op("Less", [x, k(0)]), g.op("Neg", [big]), big]);
  return g.op("Where", [g.op("LessOrEqual", [y, k(0.46875)]), small, signed]);
}

export const erf: OnnxRule = ({ g, ins: [x], inAvals: [a] }) => [a!.dtype === "float64" ? erf64(g, x!) : g.op("Erf", [x!])];
