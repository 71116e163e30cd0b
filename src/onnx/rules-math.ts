// ONNX rules of the inverse trigonometric / hyperbolic functions, log2, log10, exp2, NumPy's
// mod and floor_divide, atan2 and hypot (issue 18). ONNX Runtime's Asin, Acos, Atan, Sinh, Cosh,
// Asinh, Acosh and Atanh kernels are float32 only (as its Tan), so in float64 the rules build
// these functions from ops: atan by Cephes' rational approximation (the others through it or
// through exp/log/log1p/expm1 with the usual cancellation-free identities), accurate to a few ulp.

import { isFloat } from "../core/dtype.js";
import type { EmitCtx, OnnxRule } from "./emit.js";
import { type GraphBuilder, attr, elemOf } from "./graph.js";
import type { OnnxElem } from "./proto.js";
import { expm1, log1p } from "./rules-elementwise.js";

type Fn = (g: GraphBuilder, x: string, e: OnnxElem, c: EmitCtx) => string;

/** A unary rule: the ONNX op in float32, `f64` (built from ops) in float64. */
const unary = (op: string, f64: Fn): OnnxRule => (c) => {
  const e = elemOf(c.inAvals[0]!.dtype);
  return [e === "float64" ? f64(c.g, c.ins[0]!, e, c) : c.g.op(op, [c.ins[0]!])];
};
const apply = (rule: OnnxRule, c: EmitCtx, x: string): string => rule({ ...c, ins: [x] })[0]!;

// Cephes atan (S. L. Moshier): x + x^3 P(x^2) / Q(x^2) on [0, 0.66] after range reduction
const ATAN_P = [-8.750608600031904122785e-1, -1.615753718733365076637e1, -7.500855792314704667340e1, -1.228866684490136173410e2, -6.485021904942025371773e1];
const ATAN_Q = [2.485846490142306297962e1, 1.650270098316988542046e2, 4.328810604912902668951e2, 4.853903996359136964868e2, 1.945506571482613964425e2];
const MOREBITS = 6.123233995736765886130e-17;
const T3P8 = 2.41421356237309504880;

function atan64(g: GraphBuilder, x: string): string {
  const k = (v: number) => g.scalar("float64", v);
  const op = (o: string, ...a: string[]) => g.op(o, a);
  const a = op("Abs", x);
  const big = op("Greater", a, k(T3P8));
  const mid = op("Greater", a, k(0.66));
  // big: pi/2 + atan(-1/a); mid: pi/4 + atan((a-1)/(a+1)); else atan(a)
  const r = op("Where", big, op("Div", k(-1), a), op("Where", mid, op("Div", op("Sub", a, k(1)), op("Add", a, k(1))), a));
  const base = op("Where", big, k(Math.PI / 2), op("Where", mid, k(Math.PI / 4), k(0)));
  const more = op("Where", big, k(MOREBITS), op("Where", mid, k(0.5 * MOREBITS), k(0)));
  const z = op("Mul", r, r);
  let p = k(ATAN_P[0]!);
  for (const c of ATAN_P.slice(1)) p = op("Add", op("Mul", p, z), k(c));
  let q = op("Add", z, k(ATAN_Q[0]!));
  for (const c of ATAN_Q.slice(1)) q = op("Add", op("Mul", q, z), k(c));
  const t = op("Add", op("Mul", r, op("Div", op("Mul", z, p), q)), r);
  const y = op("Add", base, op("Add", t, more));
  // sign of x; atan(+-0) = +-0 (the reduction keeps a = 0 exact, so y is +0 there)
  return op("Where", op("Less", x, k(0)), op("Neg", y), op("Where", op("Equal", x, k(0)), x, y));
}

const sqrt1mx2 = (g: GraphBuilder, x: string, e: OnnxElem) =>
  g.op("Sqrt", [g.op("Mul", [g.op("Sub", [g.scalar(e, 1), x]), g.op("Add", [g.scalar(e, 1), x])])]);

/** sign(x) * f(|x|) (f odd, f(0) = 0: -0 maps to the value of +0, which compares equal). */
const odd = (g: GraphBuilder, x: string, v: string) => g.op("Where", [g.op("Less", [x, g.scalar("float64", 0)]), g.op("Neg", [v]), v]);

/** e^a / 2 for large a as h * (h / 2), h = e^(a/2): no overflow before the result's, a few ulps. */
const halfExp = (g: GraphBuilder, a: string) => {
  const h = g.op("Exp", [g.op("Mul", [a, g.scalar("float64", 0.5)])]);
  return g.op("Mul", [h, g.op("Mul", [h, g.scalar("float64", 0.5)])]);
};

/** log(2a) for large a (where a^2 would overflow). */
const logTwice = (g: GraphBuilder, a: string) => g.op("Add", [g.op("Log", [a]), g.scalar("float64", Math.LN2)]);

const asin = unary("Asin", (g, x, e) => atan64(g, g.op("Div", [x, sqrt1mx2(g, x, e)])));
// acos(x) = 2 atan(sqrt((1 - x) / (1 + x)))
const acos = unary("Acos", (g, x, e) =>
  g.op("Mul", [g.scalar(e, 2), atan64(g, g.op("Sqrt", [g.op("Div", [g.op("Sub", [g.scalar(e, 1), x]), g.op("Add", [g.scalar(e, 1), x])])]))]),
);
const atan = unary("Atan", (g, x) => atan64(g, x));
// sinh(a) = (u + u / (u + 1)) / 2 with u = expm1(a): accurate near 0
const sinh = unary("Sinh", (g, x, e, c) => {
  const a = g.op("Abs", [x]);
  const u = apply(expm1, c, a);
  const small = g.op("Mul", [g.scalar(e, 0.5), g.op("Add", [u, g.op("Div", [u, g.op("Add", [u, g.scalar(e, 1)])])])]);
  return odd(g, x, g.op("Where", [g.op("Greater", [a, g.scalar(e, 20)]), halfExp(g, a), small]));
});
const cosh = unary("Cosh", (g, x, e) => {
  const a = g.op("Abs", [x]);
  const u = g.op("Exp", [a]);
  const small = g.op("Mul", [g.scalar(e, 0.5), g.op("Add", [u, g.op("Div", [g.scalar(e, 1), u])])]);
  return g.op("Where", [g.op("Greater", [a, g.scalar(e, 20)]), halfExp(g, a), small]);
});
// asinh(a) = log1p(a + a^2 / (1 + sqrt(1 + a^2)))
const asinh = unary("Asinh", (g, x, e, c) => {
  const a = g.op("Abs", [x]);
  const a2 = g.op("Mul", [a, a]);
  const small = apply(log1p, c, g.op("Add", [a, g.op("Div", [a2, g.op("Add", [g.scalar(e, 1), g.op("Sqrt", [g.op("Add", [g.scalar(e, 1), a2])])])])]));
  return odd(g, x, g.op("Where", [g.op("Greater", [a, g.scalar(e, 1e8)]), logTwice(g, a), small]));
});
// acosh(x) = log1p((x - 1) + sqrt((x - 1)(x + 1)))
const acosh = unary("Acosh", (g, x, e, c) => {
  const xm1 = g.op("Sub", [x, g.scalar(e, 1)]);
  const small = apply(log1p, c, g.op("Add", [xm1, g.op("Sqrt", [g.op("Mul", [xm1, g.op("Add", [x, g.scalar(e, 1)])])])]));
  return g.op("Where", [g.op("Greater", [x, g.scalar(e, 1e8)]), logTwice(g, x), small]);
});
// atanh(x) = log1p(2x / (1 - x)) / 2
const atanh = unary("Atanh", (g, x, e, c) =>
  g.op("Mul", [g.scalar(e, 0.5), apply(log1p, c, g.op("Div", [g.op("Mul", [g.scalar(e, 2), x]), g.op("Sub", [g.scalar(e, 1), x])]))]),
);

/** x * c for a constant c in x's dtype (log2 and log10 through Log). */
const logScaled = (c: number): OnnxRule => ({ g, ins: [x], inAvals: [a] }) => [g.op("Mul", [g.op("Log", [x!]), g.scalar(elemOf(a!.dtype), c)])];

const exp2: OnnxRule = ({ g, ins: [x], inAvals: [a] }) => [g.op("Pow", [g.scalar(elemOf(a!.dtype), 2), x!])];

/** x < 0 including -0 and -inf (the sign bit, for numbers that are not NaN). */
const signBit = (g: GraphBuilder, x: string, e: OnnxElem) =>
  g.op("Or", [g.op("Less", [x, g.scalar(e, 0)]), g.op("Less", [g.op("Div", [g.scalar(e, 1), x]), g.scalar(e, 0)])]);

/** int32 operands: the divisor with 0 and -1 replaced by 1 (ONNX Runtime traps on both). */
const safeIntDivisor = (g: GraphBuilder, y: string) =>
  g.op("Where", [g.op("Or", [g.op("Equal", [y, g.scalar("int32", 0)]), g.op("Equal", [y, g.scalar("int32", -1)])]), g.scalar("int32", 1), y]);

/** NumPy's remainder (prims/divmod.ts): fmod, moved to the divisor's sign; x % 0 is NaN (float) or 0 (int32). */
const mod: OnnxRule = ({ g, ins: [x, y], inAvals: [a] }) => {
  // int32: ONNX Mod without fmod already takes the divisor's sign; x % -1 and x % 1 are 0
  if (!isFloat(a!.dtype)) return [g.op("Mod", [x!, safeIntDivisor(g, y!)])];
  const e = elemOf(a!.dtype);
  const m = g.op("Mod", [x!, y!], { fmod: attr.int(1) });
  const fix = g.op("And", [g.op("Not", [g.op("Equal", [m, g.scalar(e, 0)])]), g.op("Xor", [g.op("Less", [y!, g.scalar(e, 0)]), g.op("Less", [m, g.scalar(e, 0)])])]);
  const zero = g.op("Where", [g.op("Less", [y!, g.scalar(e, 0)]), g.scalar(e, -0), g.scalar(e, 0)]);
  return [g.op("Where", [g.op("Equal", [m, g.scalar(e, 0)]), zero, g.op("Where", [fix, g.op("Add", [m, y!]), m])])];
};

/** NumPy's floor division (prims/divmod.ts, npy_divmod for floats). */
const floorDivide: OnnxRule = ({ g, ins: [x, y], inAvals: [a] }) => {
  if (!isFloat(a!.dtype)) {
    const k = (v: number) => g.scalar("int32", v);
    const safe = safeIntDivisor(g, y!);
    const q = g.op("Div", [x!, safe]); // truncating
    const r = g.op("Sub", [x!, g.op("Mul", [q, safe])]);
    const down = g.op("And", [g.op("Not", [g.op("Equal", [r, k(0)])]), g.op("Xor", [g.op("Less", [r, k(0)]), g.op("Less", [safe, k(0)])])]);
    const floored = g.op("Where", [down, g.op("Sub", [q, k(1)]), q]);
    // x // -1 = -x (wrapping at INT_MIN), x // 0 = 0
    return [g.op("Where", [g.op("Equal", [y!, k(-1)]), g.op("Sub", [k(0), x!]), g.op("Where", [g.op("Equal", [y!, k(0)]), k(0), floored])])];
  }
  const e = elemOf(a!.dtype);
  const k = (v: number) => g.scalar(e, v);
  const m = g.op("Mod", [x!, y!], { fmod: attr.int(1) });
  const fix = g.op("And", [g.op("Not", [g.op("Equal", [m, k(0)])]), g.op("Xor", [g.op("Less", [y!, k(0)]), g.op("Less", [m, k(0)])])]);
  const d0 = g.op("Div", [g.op("Sub", [x!, m]), y!]);
  const d = g.op("Where", [fix, g.op("Sub", [d0, k(1)]), d0]);
  const f = g.op("Floor", [d]);
  const rounded = g.op("Where", [g.op("Greater", [g.op("Sub", [d, f]), k(0.5)]), g.op("Add", [f, k(1)]), f]);
  const q = g.op("Div", [x!, y!]);
  const signedZero = g.op("Mul", [k(0), q]);
  return [g.op("Where", [g.op("Equal", [y!, k(0)]), q, g.op("Where", [g.op("Equal", [d, k(0)]), signedZero, rounded])])];
};

/**
 * atan2(y, x) = atan(y / x) moved to the quadrant of (x, y); 0/0 and inf/inf (where y / x is NaN
 * but atan2 is not) use y itself and sign(y) sign(x) as the ratio.
 */
const atan2: OnnxRule = (c) => {
  const { g, ins: [y, x], inAvals: [a] } = c;
  const e = elemOf(a!.dtype);
  const k = (v: number) => g.scalar(e, v);
  const q = g.op("Div", [y!, x!]);
  const bothZero = g.op("And", [g.op("Equal", [x!, k(0)]), g.op("Equal", [y!, k(0)])]);
  const bothInf = g.op("And", [g.op("IsInf", [x!]), g.op("IsInf", [y!])]);
  const ratio = g.op("Where", [bothZero, y!, g.op("Where", [bothInf, g.op("Mul", [g.op("Sign", [y!]), g.op("Sign", [x!])]), q])]);
  const base = e === "float64" ? atan64(g, ratio) : g.op("Atan", [ratio]);
  const turned = g.op("Where", [signBit(g, y!, e), g.op("Sub", [base, k(Math.PI)]), g.op("Add", [base, k(Math.PI)])]);
  return [g.op("Where", [signBit(g, x!, e), turned, base])];
};

/** hypot(x, y) = m sqrt((x/m)^2 + (y/m)^2) with m = max(|x|, |y|): no overflow or underflow. */
const hypot: OnnxRule = ({ g, ins: [x, y], inAvals: [a] }) => {
  const e = elemOf(a!.dtype);
  const k = (v: number) => g.scalar(e, v);
  const ax = g.op("Abs", [x!]);
  const ay = g.op("Abs", [y!]);
  const m = g.op("Max", [ax, ay]);
  const safe = g.op("Where", [g.op("Equal", [m, k(0)]), k(1), m]);
  const rx = g.op("Div", [ax, safe]);
  const ry = g.op("Div", [ay, safe]);
  const r = g.op("Mul", [m, g.op("Sqrt", [g.op("Add", [g.op("Mul", [rx, rx]), g.op("Mul", [ry, ry])])])]);
  // either infinite: +inf (even with a NaN, as Math.hypot); else NaN propagates through Max
  const inf = g.op("Or", [g.op("IsInf", [x!]), g.op("IsInf", [y!])]);
  return [g.op("Where", [inf, k(Infinity), r])];
};

export const MATH_RULES = {
  asin,
  acos,
  atan,
  sinh,
  cosh,
  asinh,
  acosh,
  atanh,
  log2: logScaled(1 / Math.LN2),
  log10: logScaled(1 / Math.LN10),
  exp2,
  mod,
  floor_divide: floorDivide,
  atan2,
  hypot,
} satisfies Record<string, OnnxRule>;
