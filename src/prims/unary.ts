// Elementwise unary primitives (exp, log, sin, tanh, asin, sinh, log2, ...), the dtype cast and stop_gradient.
// Each is one table row: dtype class, scalar function, JS expression (for code generation) and
// its derivative as a function of input x, output y and tangent t.

import { ShapedArray } from "../core/aval.js";
import { type DType, isFloat, toInt32Saturating } from "../core/dtype.js";
import { DTypeError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { type DTypeClass, elementwiseAval, mapUnary } from "../rules/elementwise.js";
import { scalarLike } from "../rules/scalar.js";
import { Zero, isZero } from "../rules/zero.js";
import { add, div, hypot, mul, sub } from "./binary.js";
import { type Primitive, definePrimitive } from "./primitive.js";
import { scalarHelpers } from "../runtime/scalar.js";
import { MATH_F32_RUNTIME } from "../math/runtime.js";

/** Scalar semantics of each unary op: the reference function and a JS expression template. */
export interface UnarySpec {
  cls: DTypeClass;
  f: (a: number) => number;
  js: (a: string) => string;
  /** d out = tangentOut(x, y, t); null: the derivative is zero everywhere it exists. */
  jvp: ((x: Tensor, y: Tensor, t: Tensor) => Tensor) | null;
  /**
   * Our float32 function (a MATH_F32_RUNTIME member, math/defs-f32.ts) that every backend runs on
   * float32 operands instead of `f` in double rounded once; float64 keeps `f` (docs/math.md).
   */
  f32?: string;
}

/** The scalar function a unary op applies to values of `dtype` (the interpreter's reference). */
export function unaryScalar(spec: UnarySpec, dtype: DType): (a: number) => number {
  return dtype === "float32" && spec.f32 ? MATH_F32_RUNTIME.value[spec.f32]! : spec.f;
}

function logisticScalar(a: number): number {
  if (a >= 0) return 1 / (1 + Math.exp(-a));
  const e = Math.exp(a);
  return e / (1 + e);
}

const one = (x: Tensor) => scalarLike(x, 1);
const exp2Scalar = (a: number) => Math.pow(2, a);

export const UNARY: Record<string, UnarySpec> = {
  exp: { cls: "float", f: Math.exp, js: (a) => `Math.exp(${a})`, f32: "exp_f32", jvp: (_x, y, t) => mul(t, y) },
  log: { cls: "float", f: Math.log, js: (a) => `Math.log(${a})`, f32: "log_f32", jvp: (x, _y, t) => div(t, x) },
  log1p: { cls: "float", f: Math.log1p, js: (a) => `Math.log1p(${a})`, f32: "log1p_f32", jvp: (x, _y, t) => div(t, add(x, one(x))) },
  expm1: { cls: "float", f: Math.expm1, js: (a) => `Math.expm1(${a})`, f32: "expm1_f32", jvp: (_x, y, t) => mul(t, add(y, one(y))) },
  sin: { cls: "float", f: Math.sin, js: (a) => `Math.sin(${a})`, f32: "sin_f32", jvp: (x, _y, t) => mul(t, cos(x)) },
  cos: { cls: "float", f: Math.cos, js: (a) => `Math.cos(${a})`, f32: "cos_f32", jvp: (x, _y, t) => mul(t, neg(sin(x))) },
  tan: { cls: "float", f: Math.tan, js: (a) => `Math.tan(${a})`, jvp: (_x, y, t) => mul(t, add(one(y), mul(y, y))) },
  tanh: { cls: "float", f: Math.tanh, js: (a) => `Math.tanh(${a})`, f32: "tanh_f32", jvp: (_x, y, t) => mul(t, sub(one(y), mul(y, y))) },
  logistic: {
    cls: "float",
    f: logisticScalar,
    f32: "logistic_f32",
    js: (a) => `(${a} >= 0 ? 1 / (1 + Math.exp(-${a})) : Math.exp(${a}) / (1 + Math.exp(${a})))`,
    jvp: (_x, y, t) => mul(t, mul(y, sub(one(y), y))),
  },
  sqrt: { cls: "float", f: Math.sqrt, js: (a) => `Math.sqrt(${a})`, jvp: (_x, y, t) => div(t, mul(scalarLike(y, 2), y)) },
  abs: { cls: "numeric", f: Math.abs, js: (a) => `Math.abs(${a})`, jvp: (x, _y, t) => mul(t, sign(x)) },
  sign: { cls: "numeric", f: Math.sign, js: (a) => `Math.sign(${a})`, jvp: null },
  floor: { cls: "float", f: Math.floor, js: (a) => `Math.floor(${a})`, jvp: null },
  ceil: { cls: "float", f: Math.ceil, js: (a) => `Math.ceil(${a})`, jvp: null },
  round: { cls: "float", f: scalarHelpers.roundHalfEven, js: (a) => `$roundHalfEven(${a})`, jvp: null },
  // inverse trigonometric and hyperbolic functions, base-2/10 logarithms and exp2 (issue 18)
  asin: { cls: "float", f: Math.asin, js: (a) => `Math.asin(${a})`, jvp: (x, _y, t) => div(t, sqrt(sub(one(x), mul(x, x)))) },
  acos: { cls: "float", f: Math.acos, js: (a) => `Math.acos(${a})`, jvp: (x, _y, t) => neg(div(t, sqrt(sub(one(x), mul(x, x))))) },
  atan: { cls: "float", f: Math.atan, js: (a) => `Math.atan(${a})`, jvp: (x, _y, t) => div(t, add(one(x), mul(x, x))) },
  sinh: { cls: "float", f: Math.sinh, js: (a) => `Math.sinh(${a})`, jvp: (x, _y, t) => mul(t, cosh(x)) },
  cosh: { cls: "float", f: Math.cosh, js: (a) => `Math.cosh(${a})`, jvp: (x, _y, t) => mul(t, sinh(x)) },
  asinh: { cls: "float", f: Math.asinh, js: (a) => `Math.asinh(${a})`, jvp: (x, _y, t) => div(t, hypot(x, one(x))) }, // hypot: x*x overflows above 1.3e154 where 1/|x| does not (F17)
  // 1 / sqrt(x^2 - 1) as 1 / (sqrt(x - 1) sqrt(x + 1)): no cancellation in x^2 - 1 near x = 1
  acosh: { cls: "float", f: Math.acosh, js: (a) => `Math.acosh(${a})`, jvp: (x, _y, t) => div(t, mul(sqrt(sub(x, one(x))), sqrt(add(x, one(x))))) },
  atanh: { cls: "float", f: Math.atanh, js: (a) => `Math.atanh(${a})`, jvp: (x, _y, t) => div(t, sub(one(x), mul(x, x))) },
  log2: { cls: "float", f: Math.log2, js: (a) => `Math.log2(${a})`, jvp: (x, _y, t) => div(t, mul(x, scalarLike(x, Math.LN2))) },
  log10: { cls: "float", f: Math.log10, js: (a) => `Math.log10(${a})`, jvp: (x, _y, t) => div(t, mul(x, scalarLike(x, Math.LN10))) },
  // 2^x through pow (exact at integers, as NumPy's exp2)
  exp2: { cls: "float", f: exp2Scalar, js: (a) => `Math.pow(2, ${a})`, jvp: (_x, y, t) => mul(t, mul(y, scalarLike(y, Math.LN2))) },
};

function unaryPrim(name: string, spec: UnarySpec): Primitive {
  const p: Primitive = definePrimitive({
    name,
    traits: { elementwise: true },
    abstractEval: (ins) => elementwiseAval(name, ins, spec.cls),
    impl: ([x], _p, [o]) => [mapUnary(x!, o!, unaryScalar(spec, o!.dtype))],
    jvp: ([x], [t]) => {
      const y = p.bind1([x!], {});
      if (!spec.jvp || isZero(t)) return [[y], [new Zero(y.aval.strong())]];
      return [[y], [spec.jvp(x!, y, t!)]];
    },
    batch: ([x], [d]) => [[p.bind1([x!], {})], [d!]],
  });
  return p;
}

export const unaryPrims: Record<string, Primitive> = Object.fromEntries(
  Object.entries(UNARY).map(([name, spec]) => [name, unaryPrim(name, spec)]),
);

const negScalar = (a: number) => -a;
const toBoolScalar = (a: number) => (a !== 0 ? 1 : 0);
const identityScalar = (a: number) => a;

export const negP = definePrimitive({
  name: "neg",
  traits: { elementwise: true },
  linear: true,
  abstractEval: (ins) => elementwiseAval("neg", ins, "numeric"),
  impl: ([x], _p, [o]) => [mapUnary(x!, o!, negScalar)],
  jvp: ([x], [t]) => [[neg(x!)], [isZero(t) ? t : neg(t!)]],
  transpose: ([ct]) => [isZero(ct) ? ct : neg(ct!)],
  batch: ([x], [d]) => [[neg(x!)], [d!]],
});

/** Identity whose derivative is zero. */
export const stopGradientP = definePrimitive({
  name: "stop_gradient",
  traits: { elementwise: true },
  abstractEval: ([x]) => [x!],
  impl: ([x]) => [x!.data.slice()],
  jvp: ([x]) => [[stopGradient(x!)], [new Zero(x!.aval.strong())]],
  batch: ([x], [d]) => [[stopGradient(x!)], [d!]],
});

export interface ConvertParams {
  dtype: DType;
}

/**
 * Dtype conversion. Linear between float dtypes; other conversions have zero derivative. To int32:
 * truncation toward zero, saturating, NaN -> 0 (core/dtype toInt32Saturating); to bool: x !== 0.
 */
export const convertP: Primitive<ConvertParams> = definePrimitive<ConvertParams>({
  name: "convert_element_type",
  traits: { elementwise: true },
  linear: true,
  abstractEval: ([x], { dtype }) => [new ShapedArray(x!.shape, dtype, false)],
  impl: ([x], { dtype }, [o]) => [
    mapUnary(x!, o!, dtype === "bool" ? toBoolScalar : dtype === "int32" ? toInt32Saturating : identityScalar),
  ],
  jvp: ([x], [t], { dtype }) => {
    const y = convert(x!, dtype);
    if (isZero(t) || !isFloat(dtype) || !isFloat(x!.dtype)) return [[y], [new Zero(y.aval)]];
    return [[y], [convert(t!, dtype)]];
  },
  transpose: ([ct], [x]) => {
    if (!isFloat(x!.aval.dtype)) throw new DTypeError(`convert_element_type: cannot transpose from ${x!.aval.dtype}`);
    return [isZero(ct) ? new Zero(x!.aval) : convert(ct!, x!.aval.dtype)];
  },
  batch: ([x], [d], p) => [[convertP.bind1([x!], p)], [d!]],
});

// ----- typed wrappers (the lax-level API used by rules and by np) -----
export const exp = (x: Tensor) => unaryPrims["exp"]!.bind1([x], {});
export const log = (x: Tensor) => unaryPrims["log"]!.bind1([x], {});
export const log1p = (x: Tensor) => unaryPrims["log1p"]!.bind1([x], {});
export const expm1 = (x: Tensor) => unaryPrims["expm1"]!.bind1([x], {});
export const sin = (x: Tensor) => unaryPrims["sin"]!.bind1([x], {});
export const cos = (x: Tensor) => unaryPrims["cos"]!.bind1([x], {});
export const tan = (x: Tensor) => unaryPrims["tan"]!.bind1([x], {});
export const tanh = (x: Tensor) => unaryPrims["tanh"]!.bind1([x], {});
export const logistic = (x: Tensor) => unaryPrims["logistic"]!.bind1([x], {});
export const sqrt = (x: Tensor) => unaryPrims["sqrt"]!.bind1([x], {});
export const abs = (x: Tensor) => unaryPrims["abs"]!.bind1([x], {});
export const sign = (x: Tensor) => unaryPrims["sign"]!.bind1([x], {});
export const floor = (x: Tensor) => unaryPrims["floor"]!.bind1([x], {});
export const ceil = (x: Tensor) => unaryPrims["ceil"]!.bind1([x], {});
export const round = (x: Tensor) => unaryPrims["round"]!.bind1([x], {});
export const asin = (x: Tensor) => unaryPrims["asin"]!.bind1([x], {});
export const acos = (x: Tensor) => unaryPrims["acos"]!.bind1([x], {});
export const atan = (x: Tensor) => unaryPrims["atan"]!.bind1([x], {});
export const sinh = (x: Tensor) => unaryPrims["sinh"]!.bind1([x], {});
export const cosh = (x: Tensor) => unaryPrims["cosh"]!.bind1([x], {});
export const asinh = (x: Tensor) => unaryPrims["asinh"]!.bind1([x], {});
export const acosh = (x: Tensor) => unaryPrims["acosh"]!.bind1([x], {});
export const atanh = (x: Tensor) => unaryPrims["atanh"]!.bind1([x], {});
export const log2 = (x: Tensor) => unaryPrims["log2"]!.bind1([x], {});
export const log10 = (x: Tensor) => unaryPrims["log10"]!.bind1([x], {});
export const exp2 = (x: Tensor) => unaryPrims["exp2"]!.bind1([x], {});
export function neg(x: Tensor): Tensor {
  return negP.bind1([x], {});
}
export function stopGradient(x: Tensor): Tensor {
  return stopGradientP.bind1([x], {});
}
export function convert(x: Tensor, dtype: DType): Tensor {
  return x.aval.dtype === dtype && !x.aval.weak ? x : convertP.bind1([x], { dtype });
}
