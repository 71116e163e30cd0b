// Our float32 transcendental functions, defined once in the math language (math/dsl.ts) and
// compiled from here to JS (math/runtime-f32.ts, generated) and WebAssembly scalar and SIMD code
// (backends/wasm/math.ts). The polynomials and range reductions are Cephes' single-precision ones
// (S. Moshier, public domain: expf, logf, sinf/cosf, tanhf), evaluated in strict float32; expm1,
// log1p and the logistic function are built on them. Measured accuracy over the float32 range is
// in test/math.test.ts and the README (max ulp error against a float64 reference).

import { type MathBuilder, type MathFn, type Val, defineMath } from "./dsl.js";

const LOG2E = 1.44269504088896341;
const LN2_HI = 0.693359375; // few significant bits: n * LN2_HI is exact for |n| <= 150
const LN2_LO = -2.12194440e-4;
const EXP_P = [1.987569150e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
const LOG_P = [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1];
const FOPI = 1.2732395447351628; // 4 / pi (float64)
// pi/4 in three float64 parts; the first two have 33 significant bits, so y * PIO4_1 and
// y * PIO4_2 are exact for y < 2^20 (the reduction runs in float64: a float32 one loses up to
// hundreds of ulps near multiples of pi)
const PIO4_1 = 0.7853981633670628;
const PIO4_2 = 3.038550253151983e-11;
const PIO4_3 = 1.0111331243979753e-21;
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1];
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2];
const TANH_P = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];
/** Beyond this |x| the reduction is no longer exact: those (rare) lanes use the library. */
const TRIG_LIMIT = 524288;

function expBody(b: MathBuilder, x: Val): Val {
  const n = b.nearest(b.mul(x, LOG2E));
  const r = b.sub(b.sub(x, b.mul(n, LN2_HI)), b.mul(n, LN2_LO));
  const z = b.mul(r, r);
  const p = b.add(b.add(b.mul(b.horner(r, EXP_P), z), r), 1);
  let y = b.scaleb(p, n);
  y = b.select(b.cmp("gt", x, 88.72283935546875), Infinity, y);
  return b.select(b.cmp("lt", x, -103.97208), 0, y);
}

function logBody(b: MathBuilder, x: Val): Val {
  const sub = b.cmp("lt", x, 1.1754943508222875e-38);
  const xs = b.select(sub, b.mul(x, 8388608), x);
  const e = b.sub(b.exponent(xs), b.select(sub, 23, 0));
  const s = b.significand(xs); // xs = s * 2^e, s in [1, 2)
  const big = b.cmp("ge", s, 1.4142135623730951);
  const f = b.select(big, b.sub(b.mul(s, 0.5), 1), b.sub(s, 1));
  const E = b.select(big, b.add(e, 1), e);
  const z = b.mul(f, f);
  let y = b.mul(b.mul(b.horner(f, LOG_P), f), z);
  y = b.add(y, b.mul(E, LN2_LO));
  y = b.sub(y, b.mul(z, 0.5));
  let r = b.add(b.add(f, y), b.mul(E, LN2_HI));
  r = b.select(b.cmp("eq", x, Infinity), Infinity, r);
  r = b.select(b.cmp("eq", x, 0), -Infinity, r);
  r = b.select(b.cmp("lt", x, 0), NaN, r);
  return b.select(b.cmp("ne", x, x), x, r);
}

/** Cephes' octant reduction: the reduced argument, the folded octant j (0-3) and "octant > 3". */
function trigReduce(b: MathBuilder, ax: Val): { xr: Val; j: Val; hi: Val; useCos: Val } {
  const xd = b.promote(ax);
  const j0 = b.demote(b.dfloor(b.dmul(xd, FOPI))); // an integer < 2^20: exact in float32
  const odd = b.cmp("eq", b.sub(j0, b.mul(b.floor(b.mul(j0, 0.5)), 2)), 1);
  const y = b.select(odd, b.add(j0, 1), j0); // map zeros to the origin
  const j8 = b.sub(y, b.mul(b.floor(b.mul(y, 0.125)), 8));
  const hi = b.cmp("gt", j8, 3);
  const j = b.select(hi, b.sub(j8, 4), j8);
  const yd = b.promote(y);
  const xr = b.demote(b.dsub(b.dsub(b.dsub(xd, b.dmul(yd, PIO4_1)), b.dmul(yd, PIO4_2)), b.dmul(yd, PIO4_3)));
  return { xr, j, hi, useCos: b.or(b.cmp("eq", j, 1), b.cmp("eq", j, 2)) };
}

function trigPolys(b: MathBuilder, xr: Val): { sinp: Val; cosp: Val } {
  const z = b.mul(xr, xr);
  const cosp = b.add(b.sub(b.mul(b.mul(b.horner(z, COS_P), z), z), b.mul(z, 0.5)), 1);
  const sinp = b.add(b.mul(b.mul(b.horner(z, SIN_P), z), xr), xr);
  return { sinp, cosp };
}

export const expF32: MathFn = defineMath("exp_f32", 1, expBody);
export const logF32: MathFn = defineMath("log_f32", 1, logBody);

export const sinF32: MathFn = defineMath("sin_f32", 1, (b, x) => {
  const sgn = b.cmp("lt", x, 0);
  const ax = b.select(sgn, b.neg(x), x);
  const { xr, hi, useCos } = trigReduce(b, ax);
  const { sinp, cosp } = trigPolys(b, xr);
  const r = b.select(useCos, cosp, sinp);
  const flip = b.xor(sgn, hi);
  const fast = b.select(b.cmp("eq", x, 0), x, b.select(flip, b.neg(r), r));
  return b.patch(b.not(b.cmp("le", ax, TRIG_LIMIT)), fast, x, "sin");
});

export const cosF32: MathFn = defineMath("cos_f32", 1, (b, x) => {
  const ax = b.abs(x);
  const { xr, j, hi, useCos } = trigReduce(b, ax);
  const { sinp, cosp } = trigPolys(b, xr);
  const r = b.select(useCos, sinp, cosp);
  const fast = b.select(b.xor(hi, b.cmp("gt", j, 1)), b.neg(r), r);
  return b.patch(b.not(b.cmp("le", ax, TRIG_LIMIT)), fast, x, "cos");
});

export const tanhF32: MathFn = defineMath("tanh_f32", 1, (b, x) => {
  const z = b.abs(x);
  const s = expBody(b, b.add(z, z));
  let big = b.sub(1, b.div(2, b.add(s, 1)));
  big = b.select(b.cmp("lt", x, 0), b.neg(big), big);
  const x2 = b.mul(x, x);
  const small = b.add(b.mul(b.mul(b.horner(x2, TANH_P), x2), x), x);
  const r = b.select(b.cmp("ge", z, 0.625), big, small);
  return b.select(b.cmp("eq", x, 0), x, r);
});

export const logisticF32: MathFn = defineMath("logistic_f32", 1, (b, x) => {
  const e = expBody(b, b.neg(b.abs(x)));
  const d = b.add(e, 1);
  return b.select(b.cmp("ge", x, 0), b.div(1, d), b.div(e, d));
});

export const expm1F32: MathFn = defineMath("expm1_f32", 1, (b, x) => {
  const q = b.horner(x, [1 / 362880, 1 / 40320, 1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5]);
  const small = b.add(b.mul(b.mul(x, x), q), x);
  const r = b.select(b.cmp("lt", b.abs(x), 0.5), small, b.sub(expBody(b, x), 1));
  return b.select(b.cmp("eq", x, 0), x, r);
});

export const log1pF32: MathFn = defineMath("log1p_f32", 1, (b, x) => {
  const u = b.add(x, 1);
  const r = b.mul(logBody(b, u), b.div(x, b.sub(u, 1)));
  const r2 = b.select(b.cmp("eq", u, 1), x, r);
  return b.select(b.cmp("eq", x, Infinity), Infinity, r2);
});

/** Every float32 math function, by the unary primitive it implements. */
export const MATH_F32: Record<string, MathFn> = {
  exp: expF32,
  log: logF32,
  sin: sinF32,
  cos: cosF32,
  tanh: tanhF32,
  logistic: logisticF32,
  expm1: expm1F32,
  log1p: log1pF32,
};

/** Every float32 math function by its own name (the UNARY rows' `f32` field: "exp_f32", ...). */
export const MATH_F32_BY_NAME: ReadonlyMap<string, MathFn> = new Map(Object.values(MATH_F32).map((f) => [f.name, f]));
