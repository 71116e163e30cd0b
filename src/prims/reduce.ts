// Reductions over a set of axes (sum, max, min, prod) and argmax/argmin over one axis.
// reduce_sum is linear (its transpose is a broadcast); max/min split the tangent evenly among
// tied maxima; prod differentiates through a balanced tree of multiplications, which stays exact
// when some elements are zero.

import { ShapedArray } from "../core/aval.js";
import { type TypedArray, allocArray } from "../core/dtype.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import { concreteSize } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { scalarLike } from "../rules/scalar.js";
import { jvpOfComposition } from "./rule-compose.js";
import { linearJvp } from "./rule-linear.js";
import { Zero, isZero } from "../rules/zero.js";
import { div, mul } from "./binary.js";
import { compare } from "./compare.js";
import { type BatchRule, definePrimitive, type Primitive } from "./primitive.js";
import { permuteData } from "./ref/strided.js";
import { broadcastInDim, moveAxis, pad, reshape, slice, transpose } from "./shape.js";
import { convert } from "./unary.js";

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

/** Product over `axes` as a balanced tree of elementwise multiplications (used for its JVP). */
function prodTree(x: Tensor, axes: number[]): Tensor {
  const s = x.aval.shape as number[];
  const kept = s.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptShape = kept.map((i) => s[i]!);
  let n = concreteSize(axes.map((a) => s[a]!));
  let y = reshape(transpose(x, [...kept, ...axes]), [...keptShape, n]);
  const ones = keptShape.map(() => 0);
  while (n > 1) {
    if (n % 2 === 1) {
      y = pad(y, [...ones, 0], [...ones, 1], undefined, 1);
      n += 1;
    }
    const start = [...ones, 0];
    const lim = [...keptShape, n];
    const st = [...keptShape.map(() => 1), 2];
    y = mul(slice(y, start, lim, st), slice(y, [...ones, 1], lim, st));
    n /= 2;
  }
  if (n === 0) return reshape(broadcastInDim(scalarOne(x), [...keptShape, 1], []), keptShape);
  return reshape(y, keptShape);
}
const scalarOne = (x: Tensor) => scalarLike(x, 1);

export const reduceProdP: Primitive<ReduceParams> = definePrimitive<ReduceParams>({
  name: "reduce_prod",
  abstractEval: ([x], { axes }) => [reduceAval("reduce_prod", x!, axes, false)],
  impl: reduceImpl(1, (a, v) => a * v),
  jvp: ([x], [t], { axes }) => {
    if (isZero(t)) {
      const y = reduceProdP.bind1([x!], { axes });
      return [[y], [new Zero(y.aval.strong())]];
    }
    // The primal is the primitive itself (the same value, bit for bit, as without jvp: a tree
    // of float32 products can overflow to Inf * 0 = NaN where the sequential float64
    // accumulation gives 0); only the tangent comes from the tree (dead under jit otherwise).
    const [, ty] = jvpOfComposition((v: Tensor) => prodTree(v, axes), x!, t!);
    return [[reduceProdP.bind1([x!], { axes })], [ty]];
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
