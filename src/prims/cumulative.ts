// Cumulative sums and products along one axis (np.cumsum, np.cumprod; reverse: from the end).
// Sequential, as NumPy: out[j] = out[j - 1] + x[j] rounded to the dtype at every step (float32
// results are float32 sums of float32 values, int32 wraps), with -0 as the sum's identity so a
// leading -0 stays -0. The lowering (lower/reduce.ts) makes them a reduce kernel that stores its
// running value at every step: their operand's elementwise producers fuse into it.
// cumsum is linear: its transpose is the reversed cumsum. cumprod's tangent is a log-step
// (Hillis-Steele) scan of (product, tangent) pairs in float64, over the non-zero elements and the
// zeros apart; its primal is the primitive itself.

import { ShapedArray } from "../core/aval.js";
import { type TypedArray, allocArray, isFloat } from "../core/dtype.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import { type Dim, concreteSize } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { linearJvp } from "./rule-linear.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import { scalar } from "../rules/scalar.js";
import { BINARY, add, mul } from "./binary.js";
import { compare, select } from "./compare.js";
import { type BatchRule, definePrimitive, type Primitive } from "./primitive.js";
import { moveAxis, pad, slice } from "./shape.js";
import { convert } from "./unary.js";

export interface CumulativeParams {
  axis: number;
  /** accumulate from the last element towards the first */
  reverse: boolean;
}

function cumulativeAval(name: string, x: ShapedArray, { axis, reverse }: CumulativeParams): ShapedArray {
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.ndim) throw new ShapeError(`${name}: axis ${axis} is out of range for ${x}`);
  if (typeof reverse !== "boolean") throw new ShapeError(`${name}: reverse must be a boolean, got ${String(reverse)}`);
  if (x.dtype === "bool") throw new DTypeError(`${name}: bool operands are not supported; cast first`);
  return x;
}

/** The scalar step of each op per dtype: the binary op's semantics, rounded to the dtype as stored. */
function stepOf(op: "add" | "mul", dtype: string): (acc: number, v: number) => number {
  const spec = BINARY[op]!;
  if (dtype === "int32") return spec.fInt ?? ((a, b) => (spec.f(a, b) | 0));
  if (dtype === "float32") return (a, b) => Math.fround(spec.f(a, b));
  return spec.f;
}

function cumulativeImpl(op: "add" | "mul", init: number) {
  return ([x]: Tensor[], { axis, reverse }: CumulativeParams, [o]: ShapedArray[]): TypedArray[] => {
    const s = x!.aval.shape as number[];
    const n = s[axis]!;
    const inner = concreteSize(s.slice(axis + 1));
    const outer = concreteSize(s.slice(0, axis));
    const step = stepOf(op, o!.dtype);
    const start = o!.dtype === "int32" ? Math.abs(init) : init; // -0 is a float identity
    const data = x!.data;
    const out = allocArray(o!.dtype, data.length);
    for (let a = 0; a < outer; a++) {
      for (let i = 0; i < inner; i++) {
        let acc = start;
        for (let k = 0; k < n; k++) {
          const at = (a * n + (reverse ? n - 1 - k : k)) * inner + i;
          acc = step(acc, data[at]!);
          out[at] = acc;
        }
      }
    }
    return [out];
  };
}

function cumulativeBatch(prim: () => Primitive<CumulativeParams>): BatchRule<CumulativeParams> {
  return ([x], [d], { axis, reverse }) => [[prim().bind1([moveAxis(x!, d!, 0)], { axis: axis + 1, reverse })], [0]];
}

export const cumsumP: Primitive<CumulativeParams> = definePrimitive<CumulativeParams>({
  name: "cumsum",
  linear: true,
  abstractEval: ([x], p) => [cumulativeAval("cumsum", x!, p)],
  impl: cumulativeImpl("add", -0),
  jvp: linearJvp(() => cumsumP),
  transpose: ([ct], [x], { axis, reverse }) => [isZero(ct) ? new Zero(x!.aval) : cumsumP.bind1([ct!], { axis, reverse: !reverse })],
  batch: cumulativeBatch(() => cumsumP),
});

/** x shifted by k along axis towards the end (from the start when reverse), `fill` entering. */
function shifted(x: Tensor, axis: number, k: number, reverse: boolean, fill: number): Tensor {
  const s = x.aval.shape as Dim[];
  const zeros = s.map(() => 0);
  const by = zeros.map((_, i) => (i === axis ? k : 0));
  if (!reverse) return slice(pad(x, by, zeros, undefined, fill), zeros, s);
  return slice(pad(x, zeros, by, undefined, fill), by, s.map((d, i) => (i === axis ? (d as number) + k : d)));
}

/**
 * The tangent of cumprod(x) along t by a log-step scan: after step k every position holds the
 * (product, tangent) pair of the 2^k elements ending at it, combined as (p, t) (q, u) =
 * (p q, t q + p u), so the tangent never divides by x.
 */
function logStepTangent(x: Tensor, t: Tensor, axis: number, reverse: boolean): Tensor {
  const n = x.aval.shape[axis]!;
  if (typeof n !== "number") throw new ShapeError(`cumprod: the derivative needs a concrete length along axis ${axis}, got ${n}`);
  let p = x;
  let dt = t;
  for (let k = 1; k < n; k *= 2) {
    const ps = shifted(p, axis, k, reverse, 1);
    dt = add(mul(shifted(dt, axis, k, reverse, 0), p), mul(ps, dt));
    p = mul(ps, p);
  }
  return dt;
}

/**
 * The tangent of cumprod(x) along t, in float64 (rounded once to x's dtype). x is split exactly
 * into u (its non-zero elements, zeros as 1) times w (its zeros, the rest as 1), so cumprod(x) =
 * cumprod(u) cumprod(w) and the tangent is the product rule over the two log-step scans: the scan
 * never multiplies a window product that overflowed by a zero (fuzz F12's sibling: Inf * 0 = NaN
 * where the derivative is 0), and the derivative with respect to a zero element is kept (second
 * order). NaN only where a product of non-zero elements leaves float64's range.
 */
function cumprodTangent(x: Tensor, t: Tensor, axis: number, reverse: boolean): Tensor {
  const f64 = (v: number) => scalar(v, "float64");
  const to64 = (v: Tensor) => (v.aval.dtype === "float64" ? v : convert(v, "float64"));
  const [x64, t64] = [to64(x), to64(t)];
  const isZero0 = compare(x64, f64(0), "eq");
  const [u, tu] = [select(isZero0, f64(1), x64), select(isZero0, f64(0), t64)];
  const [w, tw] = [select(isZero0, x64, f64(1)), select(isZero0, t64, f64(0))];
  const ty = add(
    mul(cumprod(w, axis, reverse), logStepTangent(u, tu, axis, reverse)),
    mul(cumprod(u, axis, reverse), logStepTangent(w, tw, axis, reverse)),
  );
  return ty.aval.dtype === x.aval.dtype ? ty : convert(ty, x.aval.dtype);
}

export const cumprodP: Primitive<CumulativeParams> = definePrimitive<CumulativeParams>({
  name: "cumprod",
  abstractEval: ([x], p) => [cumulativeAval("cumprod", x!, p)],
  impl: cumulativeImpl("mul", 1),
  jvp: ([x], [t], params) => {
    const y = cumprodP.bind1([x!], params);
    const ty: Tangent = isZero(t) || !isFloat(x!.aval.dtype) ? new Zero(y.aval.strong()) : cumprodTangent(x!, t as Tensor, params.axis, params.reverse);
    return [[y], [ty]];
  },
  batch: cumulativeBatch(() => cumprodP),
});

// ----- typed wrappers -----
export function cumsum(x: Tensor, axis: number, reverse = false): Tensor {
  return cumsumP.bind1([x], { axis, reverse });
}
export function cumprod(x: Tensor, axis: number, reverse = false): Tensor {
  return cumprodP.bind1([x], { axis, reverse });
}
