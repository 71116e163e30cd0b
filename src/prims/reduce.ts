// Reductions over a set of axes (sum, max, min, prod) and argmax/argmin over one axis.
// reduce_sum is linear (its transpose is a broadcast); max/min split the tangent evenly among
// tied maxima; prod's tangent weights each input tangent by the product of the other elements,
// from sequential prefix/suffix products with the zeros kept apart (exact where the primal is,
// never Inf * 0 = NaN when a block holds zeros).

import { ShapedArray } from "../core/aval.js";
import { type TypedArray, allocArray, isFloat } from "../core/dtype.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import { concreteSize, dimAdd, shapeSize } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { scalar } from "../rules/scalar.js";
import { linearJvp } from "./rule-linear.js";
import { Zero, isZero } from "../rules/zero.js";
import { div, mul } from "./binary.js";
import { compare, logical, select } from "./compare.js";
import { cumprod } from "./cumulative.js";
import { type BatchRule, definePrimitive, type Primitive } from "./primitive.js";
import { permuteData } from "./ref/strided.js";
import { broadcastInDim, moveAxis, pad, reshape, slice, transpose } from "./shape.js";
import { abs, convert, sign } from "./unary.js";

export interface ReduceParams {
  axes: number[];
}

function reduceAval(name: string, x: ShapedArray, axes: number[], allowBool: boolean): ShapedArray {
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.some((a, i) => a < 0 || a >= x.ndim || (i > 0 && a === sorted[i - 1]))) {
    throw new ShapeError(`${name}: axes [${axes}] are out of range or repeated for ${x}`);
  }
  if (x.dtype === "bool" && !allowBool) throw new DTypeError(`${name}: bool operands are not supported; cast first`);
  return new ShapedArray(x.shape.filter((_, i) => !axes.includes(i)), x.dtype, x.weak);
}

/** Moves reduced axes last; returns the data, number of outputs and the block length. */
function blocks(x: Tensor, axes: number[]): { data: TypedArray; outer: number; inner: number } {
  const s = x.aval.shape as number[];
  const kept = s.map((_, i) => i).filter((i) => !axes.includes(i));
  const red = [...axes].sort((a, b) => a - b);
  const perm = [...kept, ...red];
  const inner = concreteSize(red.map((a) => s[a]!));
  const outer = concreteSize(kept.map((a) => s[a]!));
  if (perm.every((p, i) => p === i)) return { data: x.data, outer, inner };
  const data = allocArray(x.dtype, x.data.length);
  permuteData(x.data, s, perm, data);
  return { data, outer, inner };
}

function reduceImpl(init: number, op: (acc: number, v: number) => number) {
  return ([x]: Tensor[], { axes }: ReduceParams, [o]: ShapedArray[]) => {
    const { data, outer, inner } = blocks(x!, axes);
    const out = allocArray(o!.dtype, outer);
    for (let i = 0; i < outer; i++) {
      let acc = init;
      for (let k = i * inner, e = k + inner; k < e; k++) acc = op(acc, data[k]!);
      out[i] = acc;
    }
    return [out];
  };
}

function reduceBatch(prim: () => Primitive<ReduceParams>): BatchRule<ReduceParams> {
  return ([x], [d], { axes }) => [
    [prim().bind1([moveAxis(x!, d!, 0)], { axes: axes.map((a) => a + 1) })],
    [0],
  ];
}

/** Broadcasts a reduced value back over the reduced axes of `like`. */
function unreduce(y: Tensor, like: ShapedArray, axes: number[]): Tensor {
  const kept = like.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  return broadcastInDim(y, like.shape, kept);
}

export const reduceSumP: Primitive<ReduceParams> = definePrimitive<ReduceParams>({
  name: "reduce_sum",
  linear: true,
  abstractEval: ([x], { axes }) => [reduceAval("reduce_sum", x!, axes, false)],
  impl: reduceImpl(0, (a, v) => a + v),
  jvp: linearJvp(() => reduceSumP),
  transpose: ([ct], [x], { axes }) => [isZero(ct) ? new Zero(x!.aval) : unreduce(ct!, x!.aval, axes)],
  batch: reduceBatch(() => reduceSumP),
});

function maxMinJvp(prim: () => Primitive<ReduceParams>) {
  return ([x]: Tensor[], [t]: any[], params: ReduceParams): [Tensor[], any[]] => {
    const y = prim().bind1([x!], params);
    if (isZero(t)) return [[y], [new Zero(y.aval.strong())]];
    // tangent = mean of the input tangents at the positions attaining the extremum
    const mask = convert(compare(x!, unreduce(y, x!.aval, params.axes), "eq"), x!.aval.dtype);
    const count = reduceSum(mask, params.axes);
    return [[y], [div(reduceSum(mul(t, mask), params.axes), count)]];
  };
}

export const reduceMaxP: Primitive<ReduceParams> = definePrimitive<ReduceParams>({
  name: "reduce_max",
  abstractEval: ([x], { axes }) => [reduceAval("reduce_max", x!, axes, true)],
  impl: reduceImpl(-Infinity, (a, v) => (v > a || v !== v ? v : a)),
  jvp: maxMinJvp(() => reduceMaxP),
  batch: reduceBatch(() => reduceMaxP),
});

export const reduceMinP: Primitive<ReduceParams> = definePrimitive<ReduceParams>({
  name: "reduce_min",
  abstractEval: ([x], { axes }) => [reduceAval("reduce_min", x!, axes, true)],
  impl: reduceImpl(Infinity, (a, v) => (v < a || v !== v ? v : a)),
  jvp: maxMinJvp(() => reduceMinP),
  batch: reduceBatch(() => reduceMinP),
});

/**
 * d prod(x) / d x: for each element, the product of the other elements of its reduced block, in
 * the primal's arithmetic (a float64 accumulator, element order: kept dims, then the reduced axes
 * in increasing order), so it is exact where the primal is. It is the product of two exclusive
 * (prefix times suffix) products, each from sequential cumprods, never a tree whose partial
 * products can overflow before they meet a zero (fuzz F12): one over the non-zero elements (zeros
 * enter as 1), one over the zeros (the rest enter as 1), which is 1 or a signed 0 and keeps the
 * derivative with respect to the zeros (second order). Where the non-zero part overflows and
 * another element is zero the value is a signed 0 (not Inf * 0 = NaN) and its own derivative is
 * taken as 0. NaN only where an input is NaN or the non-zero part overflows on one side and underflows on
 * the other (beyond float64's range). Float64, laid out as x.
 */
function prodOthers(x: Tensor, axes: number[]): Tensor {
  const s = x.aval.shape;
  const red = [...axes].sort((a, b) => a - b);
  const kept = s.map((_, i) => i).filter((i) => !red.includes(i));
  const perm = [...kept, ...red];
  const identity = perm.every((p, i) => p === i);
  const keptShape = kept.map((i) => s[i]!);
  const n = shapeSize(red.map((i) => s[i]!));
  const last = kept.length;
  const f64 = (v: number) => scalar(v, "float64");
  let y = x.aval.dtype === "float64" ? x : convert(x, "float64");
  y = reshape(identity ? y : transpose(y, perm), [...keptShape, n]);
  const o = keptShape.map(() => 0);
  const exclusive = (v: Tensor) =>
    mul(
      slice(cumprod(pad(v, [...o, 1], [...o, 0], undefined, 1), last), [...o, 0], [...keptShape, n]),
      slice(cumprod(pad(v, [...o, 0], [...o, 1], undefined, 1), last, true), [...o, 1], [...keptShape, dimAdd(n, 1)]),
    );
  const isZero0 = compare(y, f64(0), "eq");
  const nonZeros = exclusive(select(isZero0, f64(1), y));
  const zeros = exclusive(select(isZero0, y, f64(1)));
  const overflowMeetsZero = logical(compare(abs(nonZeros), f64(Infinity), "eq"), compare(zeros, f64(0), "eq"), "and");
  const others = reshape(select(overflowMeetsZero, mul(sign(nonZeros), zeros), mul(nonZeros, zeros)), perm.map((i) => s[i]!));
  return identity ? others : transpose(others, perm.map((_, i) => perm.indexOf(i)));
}

export const reduceProdP: Primitive<ReduceParams> = definePrimitive<ReduceParams>({
  name: "reduce_prod",
  abstractEval: ([x], { axes }) => [reduceAval("reduce_prod", x!, axes, false)],
  impl: reduceImpl(1, (a, v) => a * v),
  jvp: ([x], [t], { axes }) => {
    // The primal is the primitive itself (the same value, bit for bit, as without jvp); the
    // tangent is sum(t * prodOthers(x)) in float64, rounded once to x's dtype.
    const y = reduceProdP.bind1([x!], { axes });
    if (isZero(t) || !isFloat(x!.aval.dtype)) return [[y], [new Zero(y.aval.strong())]];
    const t64 = x!.aval.dtype === "float64" ? (t as Tensor) : convert(t as Tensor, "float64");
    const ty = reduceSum(mul(t64, prodOthers(x!, axes)), axes);
    return [[y], [ty.aval.dtype === y.aval.dtype ? ty : convert(ty, y.aval.dtype)]];
  },
  batch: reduceBatch(() => reduceProdP),
});

export interface ArgParams {
  axis: number;
}
function argImpl(better: (v: number, best: number) => boolean) {
  return ([x]: Tensor[], { axis }: ArgParams, [o]: ShapedArray[]) => {
    const { data, outer, inner } = blocks(x!, [axis]);
    const out = allocArray(o!.dtype, outer);
    for (let i = 0; i < outer; i++) {
      let bi = 0;
      let best = data[i * inner]!;
      for (let k = 1; k < inner && best === best; k++) {
        const v = data[i * inner + k]!;
        if (better(v, best) || v !== v) {
          best = v;
          bi = k;
        }
      }
      out[i] = bi;
    }
    return [out];
  };
}
function argPrim(name: string, better: (v: number, best: number) => boolean): Primitive<ArgParams> {
  const p: Primitive<ArgParams> = definePrimitive<ArgParams>({
    name,
    traits: { nonDifferentiable: true },
    abstractEval: ([x], { axis }) => {
      const r = reduceAval(name, x!, [axis], true);
      if ((x!.shape[axis] as number) === 0) throw new ShapeError(`${name}: axis ${axis} of ${x} is empty`);
      return [new ShapedArray(r.shape, "int32")];
    },
    impl: argImpl(better),
    jvp: ([x], _t, params) => {
      const y = p.bind1([x!], params);
      return [[y], [new Zero(y.aval)]];
    },
    batch: ([x], [d], { axis }) => [[p.bind1([moveAxis(x!, d!, 0)], { axis: axis + 1 })], [0] as number[]],
  });
  return p;
}
export const argmaxP = argPrim("argmax", (v, b) => v > b);
export const argminP = argPrim("argmin", (v, b) => v < b);

// ----- typed wrappers -----
export function reduceSum(x: Tensor, axes: number[]): Tensor {
  return axes.length === 0 ? x : reduceSumP.bind1([x], { axes });
}
export function reduceMax(x: Tensor, axes: number[]): Tensor {
  return axes.length === 0 ? x : reduceMaxP.bind1([x], { axes });
}
export function reduceMin(x: Tensor, axes: number[]): Tensor {
  return axes.length === 0 ? x : reduceMinP.bind1([x], { axes });
}
export function reduceProd(x: Tensor, axes: number[]): Tensor {
  return axes.length === 0 ? x : reduceProdP.bind1([x], { axes });
}
export function argmax(x: Tensor, axis: number): Tensor {
  return argmaxP.bind1([x], { axis });
}
export function argmin(x: Tensor, axis: number): Tensor {
  return argminP.bind1([x], { axis });
}
