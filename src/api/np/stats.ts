// np statistics and tests: var/std, cumulative sums/products (the cumsum / cumprod primitives of
// prims/cumulative.ts), all/any, the float classification tests (isnan, isinf, isfinite),
// isclose/allclose, and erf (the `erf` primitive of prims/special.ts). The others are composites
// of other np functions.

import { dimAdd, shapeSize } from "../../core/shape.js";
import { ArgumentError } from "../../core/errors.js";
import { isFloat } from "../../core/dtype.js";
import type { Axis, Tensor } from "../../core/tensor.js";
import { cumprod as laxCumprod, cumsum as laxCumsum } from "../../prims/cumulative.js";
import { compare } from "../../prims/compare.js";
import { erf as laxErf } from "../../prims/special.js";
import { convert } from "../../prims/unary.js";
import { type ArrayInput, asTensor, promote } from "./coerce.js";
import * as ew from "./elementwise.js";
import { abs, equal, lessEqual, logicalAnd, logicalNot, logicalOr, subtract, multiply, divide, sqrt, where } from "./elementwise.js";
import { mean, normalizeAxes, sum } from "./reductions.js";
import { axisArg } from "./args.js";
import { ravel } from "./shape.js";
import { checkOptions, is } from "../../core/options.js";
import { reduceOptions } from "./args.js";

type X = Tensor | ArrayInput;

export interface VarOpts {
  axis?: Axis | null;
  keepdims?: boolean;
  /** delta degrees of freedom: the divisor is N - ddof (0: population variance, 1: sample) */
  ddof?: number;
}

/** var(x, {axis?, keepdims?, ddof = 0}): mean squared deviation from the mean. */
export function variance(x: X, opts: VarOpts = {}): Tensor {
  checkOptions("var", opts, { ...reduceOptions, ddof: is.int(0) });
  const [t] = promote("var", [asTensor(x, "var")], "float");
  const axes = normalizeAxes("var", opts.axis, t!.aval.ndim);
  const ddof = opts.ddof ?? 0;
  if (typeof ddof !== "number" || !Number.isFinite(ddof)) throw new ArgumentError(`var: ddof must be a number, got ${JSON.stringify(ddof)}`);
  // N - ddof, read at run time when N is a symbolic (shape-polymorphic) dimension
  const n = dimAdd(shapeSize(axes.map((a) => t!.aval.shape[a]!)), -ddof);
  const d = subtract(t!, mean(t!, { axis: axes, keepdims: true }));
  return divide(sum(multiply(d, d), { axis: axes, keepdims: opts.keepdims }), n as number);
}
export { variance as var };

/** std(x, {axis?, keepdims?, ddof = 0}): square root of var. */
export function std(x: X, opts: VarOpts = {}): Tensor {
  return sqrt(variance(x, opts));
}

/** The cumulative primitive along `axis` (of the flattened array when omitted); bools count as int32. */
function cumulative(name: string, x: X, axis: number | null | undefined, prim: (t: Tensor, axis: number) => Tensor): Tensor {
  let t = asTensor(x, name);
  if (t.aval.dtype === "bool") t = convert(t, "int32");
  if (axis === undefined || axis === null) t = ravel(t);
  return prim(t, axisArg(name, axis ?? 0, t.aval.ndim));
}

/** cumsum(x, {axis?}): running sums along axis (of the flattened array when omitted), sequential as NumPy's. */
export function cumsum(x: X, opts: { axis?: number | null } = {}): Tensor {
  checkOptions("cumsum", opts, { axis: is.nullable(is.int()) });
  return cumulative("cumsum", x, opts.axis, laxCumsum);
}

/** cumprod(x, {axis?}): running products along axis (of the flattened array when omitted), sequential as NumPy's. */
export function cumprod(x: X, opts: { axis?: number | null } = {}): Tensor {
  checkOptions("cumprod", opts, { axis: is.nullable(is.int()) });
  return cumulative("cumprod", x, opts.axis, laxCumprod);
}

const truthy = (name: string, x: X) => {
  const t = asTensor(x, name);
  return t.aval.dtype === "bool" ? t : ew.notEqual(t, 0);
};

/** all(x, {axis?, keepdims?}): whether every element is true (non-zero). */
export function all(x: X, opts: { axis?: Axis | null; keepdims?: boolean } = {}): Tensor {
  checkOptions("all", opts, reduceOptions);
  return equal(sum(logicalNot(truthy("all", x)), opts), 0);
}

/** any(x, {axis?, keepdims?}): whether some element is true (non-zero). */
export function any(x: X, opts: { axis?: Axis | null; keepdims?: boolean } = {}): Tensor {
  checkOptions("any", opts, reduceOptions);
  return ew.greater(sum(truthy("any", x), opts), 0);
}

/** isnan(x): elementwise x != x (always false for integers and booleans). */
export function isnan(x: X): Tensor {
  const t = asTensor(x, "isnan");
  return compare(t, t, "ne");
}

/** isinf(x): elementwise |x| == infinity. */
export function isinf(x: X): Tensor {
  const t = asTensor(x, "isinf");
  if (!isFloat(t.aval.dtype)) return compare(t, t, "ne");
  return equal(abs(t), Infinity);
}

/** isfinite(x): neither infinite nor NaN (|x| < infinity is false for NaN). */
export function isfinite(x: X): Tensor {
  const t = asTensor(x, "isfinite");
  if (!isFloat(t.aval.dtype)) return compare(t, t, "eq");
  return ew.less(abs(t), Infinity);
}

export interface CloseOpts {
  rtol?: number;
  atol?: number;
  equalNan?: boolean;
}

/** isclose(a, b, {rtol = 1e-5, atol = 1e-8, equalNan = false}): |a - b| <= atol + rtol * |b| elementwise. */
export function isclose(a: X, b: X, opts: CloseOpts = {}): Tensor {
  checkOptions("isclose", opts, { rtol: is.number(0), atol: is.number(0), equalNan: is.boolean });
  const { rtol = 1e-5, atol = 1e-8, equalNan = false } = opts;
  // plain numbers go to promote as numbers: made directly in the other operand's dtype, so
  // isclose(float64 x, 0.1) compares with 0.1, not with fround(0.1)
  const arg = (v: X) => (typeof v === "number" ? v : asTensor(v, "isclose"));
  const [x, y] = promote("isclose", [arg(a), arg(b)], "float");
  const finite = logicalAnd(isfinite(x!), isfinite(y!));
  const within = lessEqual(abs(subtract(x!, y!)), ew.add(atol, multiply(rtol, abs(y!))));
  // infinities are close only to themselves
  let close = where(finite, within, equal(x!, y!));
  if (equalNan) close = logicalOr(close, logicalAnd(isnan(x!), isnan(y!)));
  return close;
}

/**
 * allclose(a, b, opts): whether all elements are close, as a JS boolean (NumPy's contract; it
 * reads the values, so it raises a ConcretizationError inside a transformation: use
 * all(isclose(a, b)) there).
 */
export function allclose(a: X, b: X, opts: CloseOpts = {}): boolean {
  return all(isclose(a, b, opts)).item() !== 0;
}

/** erf(x): the error function, elementwise (float). */
export function erf(x: X): Tensor {
  const [t] = promote("erf", [asTensor(x, "erf")], "float");
  return laxErf(t!);
}
