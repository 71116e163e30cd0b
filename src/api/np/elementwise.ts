// np elementwise functions: arithmetic, transcendental functions, comparisons and logic, with
// NumPy broadcasting and JAX-style dtype promotion (see coerce.ts).

import { Tensor } from "../../core/tensor.js";
import { add as laxAdd, div, max, min, mul, pow, sub } from "../../prims/binary.js";
import * as b from "../../prims/binary.js";
import { type CompareOp, compare, logical, not, select } from "../../prims/compare.js";
import * as u from "../../prims/unary.js";
import { convert } from "../../prims/unary.js";
import { DTypeError, ShapeError } from "../../core/errors.js";
import { broadcastShapes, shapeToString } from "../../core/shape.js";
import { asTensor, broadcastTo, elementwiseArgs, isInt32Value, promote } from "./coerce.js";

type T = Tensor | number | boolean;

const bin =
  (name: string, f: (a: Tensor, b: Tensor) => Tensor, minimum?: "float" | "int") =>
  (x: T, y: T): Tensor => {
    const [a, b] = elementwiseArgs(name, [x, y], minimum);
    return f(a!, b!);
  };

const unary =
  (name: string, f: (a: Tensor) => Tensor, minimum?: "float" | "int") =>
  (x: T): Tensor => {
    const [a] = promote(name, [asTensor(x, name)], minimum);
    return f(a!);
  };

/**
 * add and multiply on two bools are logical or / and (NumPy and JAX: bool + bool is bool);
 * subtract on bools is a DTypeError, as in both (NumPy suggests logical_xor).
 */
const boolArith =
  (name: string, f: (a: Tensor, b: Tensor) => Tensor, onBool: "or" | "and" | null) =>
  (x: T, y: T): Tensor => {
    const [a, b] = elementwiseArgs(name, [x, y]);
    if (a!.aval.dtype !== "bool") return f(a!, b!);
    if (onBool) return logical(a!, b!, onBool);
    throw new DTypeError(`${name}: boolean operands are not supported (NumPy and JAX raise too); use np.notEqual (exclusive or), or convert with .astype("int32")`);
  };

export const add = boolArith("add", laxAdd, "or");
export const subtract = boolArith("subtract", sub, null);
export const multiply = boolArith("multiply", mul, "and");
/** True division: integer operands give a float result. */
export const divide = bin("divide", div, "float");
/**
 * power: float operands use pow; two int32 operands give int32 (as JAX), by repeated squaring with
 * wrapping multiplication. A negative exponent gives the truncated value of 1 / x^-e: 1 for x = 1,
 * +-1 for x = -1, else 0 (0 for x = 0, as int32 division by zero; NumPy raises on a negative
 * integer exponent).
 */
export function power(x: T, y: T): Tensor {
  const [a, c] = elementwiseArgs("power", [x, y]);
  if (a!.aval.dtype !== "int32" && a!.aval.dtype !== "bool") return bin("power", pow, "float")(a!, c!);
  const shape = broadcastShapes(a!.aval.shape, c!.aval.shape)!;
  const full = (t: Tensor) => broadcastTo("power", convert(t, "int32"), shape, false);
  return intPower(full(a!), full(c!));
}

/** x ** e for int32 x and e of one shape. */
function intPower(x: Tensor, e: Tensor): Tensor {
  const mag = u.abs(e);
  // as many squarings as the exponent has bits: all 31 when it is traced
  let bits = 31;
  if (e.isConcrete) {
    let m = 0;
    for (const v of e.data) m = Math.max(m, Math.abs(v));
    bits = m === 0 ? 0 : Math.min(31, Math.floor(Math.log2(m)) + 1);
  }
  const zero = promote("power", [0, x])[0]!;
  const one = promote("power", [1, x])[0]!;
  const two = promote("power", [2, x])[0]!;
  let acc = broadcastTo("power", one, x.aval.shape, false);
  let base = x;
  let rest = mag;
  for (let i = 0; i < bits; i++) {
    acc = select(compare(b.mod(rest, two), one, "eq"), mul(acc, base), acc);
    if (i + 1 < bits) {
      base = mul(base, base);
      rest = b.floorDivide(rest, two);
    }
  }
  const unit = compare(u.abs(x), one, "eq");
  return select(compare(e, zero, "lt"), select(unit, acc, zero), acc);
}
export const maximum = bin("maximum", max);
/** NumPy's remainder: the result has the sign of the divisor (x % 0 is NaN for floats, 0 for int32). */
export const mod = bin("mod", b.mod, "int");
export const remainder = mod;
/** NumPy's floor division (float x // 0 is +-inf or NaN; int32 x // 0 is 0, as NumPy). */
export const floorDivide = bin("floorDivide", b.floorDivide, "int");
/** atan2(y, x): the angle of the point (x, y), in (-pi, pi]. */
export const arctan2 = bin("arctan2", b.atan2, "float");
export const hypot = bin("hypot", b.hypot, "float");
export const minimum = bin("minimum", min);

/** Arithmetic negation; a bool operand is a DTypeError, as NumPy's `-` on bool (use np.logicalNot). */
export function negative(x: T): Tensor {
  const [a] = promote("negative", [asTensor(x, "negative")]);
  if (a!.aval.dtype === "bool") throw new DTypeError(`negative: boolean operands are not supported (NumPy raises too); use np.logicalNot, or convert with .astype("int32"), got ${a!.aval}`);
  return u.neg(a!);
}
export const exp = unary("exp", u.exp, "float");
export const log = unary("log", u.log, "float");
export const log1p = unary("log1p", u.log1p, "float");
export const expm1 = unary("expm1", u.expm1, "float");
export const sin = unary("sin", u.sin, "float");
export const cos = unary("cos", u.cos, "float");
export const tan = unary("tan", u.tan, "float");
export const tanh = unary("tanh", u.tanh, "float");
export const sqrt = unary("sqrt", u.sqrt, "float");
export const arcsin = unary("arcsin", u.asin, "float");
export const arccos = unary("arccos", u.acos, "float");
export const arctan = unary("arctan", u.atan, "float");
export const sinh = unary("sinh", u.sinh, "float");
export const cosh = unary("cosh", u.cosh, "float");
export const arcsinh = unary("arcsinh", u.asinh, "float");
export const arccosh = unary("arccosh", u.acosh, "float");
export const arctanh = unary("arctanh", u.atanh, "float");
export const log2 = unary("log2", u.log2, "float");
export const log10 = unary("log10", u.log10, "float");
export const exp2 = unary("exp2", u.exp2, "float");
export const abs = unary("abs", u.abs, "int");
export const sign = unary("sign", u.sign, "int");
export const floor = unary("floor", u.floor, "float");
export const ceil = unary("ceil", u.ceil, "float");
export const round = unary("round", u.round, "float");
export const sigmoid = unary("sigmoid", u.logistic, "float");
export const square = unary("square", (a) => mul(a, a), "int");
export const reciprocal = unary("reciprocal", (a) => div(promote("reciprocal", [1, a])[0]!, a), "float");

/**
 * Comparisons return bool, so a number that is not an int32 value (x < 1.5, x == 2**40) does not
 * make the dtype value-dependent: int32 operands are compared exactly in float64 instead.
 */
const cmp = (name: string, op: CompareOp) => {
  const f = bin(name, (a, b) => compare(a, b, op));
  return (x: T, y: T): Tensor => {
    const inexact = [x, y].some((v) => typeof v === "number" && !isInt32Value(v));
    const asF64 = (v: T) => (v instanceof Tensor && v.aval.dtype === "int32" && !v.aval.weak ? convert(v, "float64") : v);
    return inexact ? f(asF64(x), asF64(y)) : f(x, y);
  };
};
export const equal = cmp("equal", "eq");
export const notEqual = cmp("notEqual", "ne");
export const less = cmp("less", "lt");
export const lessEqual = cmp("lessEqual", "le");
export const greater = cmp("greater", "gt");
export const greaterEqual = cmp("greaterEqual", "ge");

const toBool = (name: string, x: T): Tensor => {
  const t = asTensor(x, name);
  return t.aval.dtype === "bool" ? t : notEqual(t, 0);
};
export function logicalAnd(x: T, y: T): Tensor {
  return bin("logicalAnd", (a, b) => logical(a, b, "and"))(toBool("logicalAnd", x), toBool("logicalAnd", y));
}
export function logicalOr(x: T, y: T): Tensor {
  return bin("logicalOr", (a, b) => logical(a, b, "or"))(toBool("logicalOr", x), toBool("logicalOr", y));
}
export function logicalNot(x: T): Tensor {
  return not(toBool("logicalNot", x));
}

/** where(cond, x, y): elementwise choice, broadcasting all three. */
export function where(cond: T, x: T, y: T): Tensor {
  const c = toBool("where", cond);
  const [a, b] = promote("where", [x, y]);
  const shape = broadcastShapes(c.aval.shape, a!.aval.shape, b!.aval.shape);
  if (!shape) {
    const s = [c, a!, b!].map((t) => shapeToString(t.aval.shape)).join(", ");
    throw new ShapeError(`where: shapes ${s} cannot be broadcast together`);
  }
  return select(broadcastTo("where", c, shape), broadcastTo("where", a!, shape), broadcastTo("where", b!, shape));
}

/**
 * clip(x, lo, hi) = minimum(maximum(x, lo), hi) (NumPy/JAX: when lo > hi every element is hi);
 * either bound may be null.
 */
export function clip(x: T, lo: T | null, hi: T | null): Tensor {
  let r = asTensor(x, "clip");
  if (lo !== null && lo !== undefined) r = maximum(r, lo);
  if (hi !== null && hi !== undefined) r = minimum(r, hi);
  return r;
}
