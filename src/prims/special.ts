// Special functions as elementwise primitives: erf (the error function, needed by exact GELU and
// the normal CDF). The reference implementation is W. J. Cody's rational Chebyshev
// approximations ("Rational Chebyshev approximations for the error function", Math. Comp. 1969,
// as in his CALERF routine), accurate to about 1e-16 relative in float64 over the whole line.

import { elementwiseAval, mapUnary } from "../rules/elementwise.js";
import { scalarLike } from "../rules/scalar.js";
import { Zero, isZero } from "../rules/zero.js";
import type { Tensor } from "../core/tensor.js";
import { mul } from "./binary.js";
import { definePrimitive, type Primitive } from "./primitive.js";
import { exp, neg } from "./unary.js";
import { defineRuntime } from "../core/runtime-text.js";

/**
 * erf and erfc, written once as a self-contained runtime (core/runtime-text.ts): the reference
 * implementation calls it in-process, and generated code (jit JS kernels, exported modules)
 * embeds its text (ERF_JS, declaring $erf, $erfc and the $ERF_* coefficient tables), so all of
 * them compute bit-identical values, and loading adgen evaluates no string.
 */
function erfRuntime() {
  const ERF_A = [3.1611237438705656, 113.86415415105016, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
  const ERF_B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
  const ERF_C = [0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909, 1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8];
  const ERF_D = [15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963, 4362.61909014324716, 3439.36767414372164, 1230.33935480374942];
  const ERF_P = [0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766, 6.58749161529837803e-4, 0.0163153871373020978];
  const ERF_Q = [2.56852019228982242, 1.87295284992346725, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];
  // exp(-y^2) as exp(-ysq^2) * exp(-(y - ysq)(y + ysq)), ysq = y rounded to 1/16: no cancellation
  function expNegSquare(y: number): number {
    const ysq = Math.trunc(y * 16) / 16;
    return Math.exp(-ysq * ysq) * Math.exp(-(y - ysq) * (y + ysq));
  }
  // erfc(y) for y > 0.46875 (Cody's second and third intervals)
  function erfcPositive(y: number): number {
    if (y <= 4) {
      let xnum = ERF_C[8]! * y, xden = y;
      for (let i = 0; i < 7; i++) { xnum = (xnum + ERF_C[i]!) * y; xden = (xden + ERF_D[i]!) * y; }
      return (expNegSquare(y) * (xnum + ERF_C[7]!)) / (xden + ERF_D[7]!);
    }
    if (y >= 26.7) return 0; // underflows in float64
    const z = 1 / (y * y);
    let xnum = ERF_P[5]! * z, xden = z;
    for (let i = 0; i < 4; i++) { xnum = (xnum + ERF_P[i]!) * z; xden = (xden + ERF_Q[i]!) * z; }
    const r = (0.56418958354775628695 - (z * (xnum + ERF_P[4]!)) / (xden + ERF_Q[4]!)) / y;
    return expNegSquare(y) * r;
  }
  function erf(x: number): number {
    if (x !== x) return NaN;
    const y = Math.abs(x);
    if (y <= 0.46875) {
      const ysq = y > 1.11e-16 ? y * y : 0;
      let xnum = ERF_A[4]! * ysq, xden = ysq;
      for (let i = 0; i < 3; i++) { xnum = (xnum + ERF_A[i]!) * ysq; xden = (xden + ERF_B[i]!) * ysq; }
      return (x * (xnum + ERF_A[3]!)) / (xden + ERF_B[3]!);
    }
    const r = 0.5 - erfcPositive(y) + 0.5; // 1 - erfc, keeping the rounding of Cody's code
    return x < 0 ? -r : r;
  }
  function erfc(x: number): number {
    if (x !== x) return NaN;
    const y = Math.abs(x);
    if (y <= 0.46875) return 1 - erf(x);
    const r = erfcPositive(y);
    return x < 0 ? 2 - r : r;
  }
  return { ERF_A, ERF_B, ERF_C, ERF_D, ERF_P, ERF_Q, erf, erfc };
}

const ERF = defineRuntime(erfRuntime, []);
/** The text generated code embeds: declares $erf, $erfc and the coefficient tables $ERF_A ... $ERF_Q. */
export const ERF_JS = ERF.text;
/** Cody's coefficient tables, shared with the erf runtime (do not modify; the ONNX export builds the same rationals as a graph). */
export const ERF_COEFFICIENTS: Readonly<Record<"A" | "B" | "C" | "D" | "P" | "Q", number[]>> = {
  A: ERF.value.ERF_A, B: ERF.value.ERF_B, C: ERF.value.ERF_C, D: ERF.value.ERF_D, P: ERF.value.ERF_P, Q: ERF.value.ERF_Q,
};

/** The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, in float64. */
export const erfScalar = ERF.value.erf;
/** The complementary error function erfc(x) = 1 - erf(x), accurate in the tails. */
export const erfcScalar = ERF.value.erfc;

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/** Elementwise erf on float tensors; d erf(x) = 2/sqrt(pi) * exp(-x^2) dx. */
export const erfP: Primitive = definePrimitive({
  name: "erf",
  traits: { elementwise: true },
  abstractEval: (ins) => elementwiseAval("erf", ins, "float"),
  impl: ([x], _p, [o]) => [mapUnary(x!, o!, erfScalar)],
  jvp: ([x], [t]) => {
    const y = erf(x!);
    if (isZero(t)) return [[y], [new Zero(y.aval.strong())]];
    const slope = mul(scalarLike(x!, TWO_OVER_SQRT_PI), exp(neg(mul(x!, x!))));
    return [[y], [mul(t!, slope)]];
  },
  batch: ([x], [d]) => [[erf(x!)], [d!]],
});

export function erf(x: Tensor): Tensor {
  return erfP.bind1([x], {});
}
