// np reductions (sum, mean, max, min, prod, argmax, argmin) with NumPy's axis/keepdims options.

import { ArgumentError, ShapeError } from "../../core/errors.js";
import { normalizeAxis, shapeSize } from "../../core/shape.js";
import type { Axis, ReduceOpts, Tensor } from "../../core/tensor.js";
import { div } from "../../prims/binary.js";
import * as r from "../../prims/reduce.js";
import { reshape } from "../../prims/shape.js";
import { convert } from "../../prims/unary.js";
import { dimValue } from "../../prims/dim.js";
import { asTensor, promote, scalarTensor } from "./coerce.js";
import { checkOptions, is } from "../../core/options.js";
import { reduceOptions } from "./args.js";

type T = Tensor | number | boolean;

/** Normalized, sorted, de-duplicated axes; all axes when `axis` is null/undefined. */
export function normalizeAxes(name: string, axis: Axis | null | undefined, ndim: number): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  const out = list.map((a) => {
    const n = normalizeAxis(a, ndim);
    if (n < 0) throw new ShapeError(`${name}: axis ${a} is out of range for an array of rank ${ndim}`);
    return n;
  });
  if (new Set(out).size !== out.length) throw new ArgumentError(`${name}: repeated axis in [${list}]`);
  return out.sort((a, b) => a - b);
}

function keep(x: Tensor, y: Tensor, axes: number[], keepdims: boolean | undefined): Tensor {
  if (!keepdims) return y;
  return reshape(y, x.aval.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
}

function reducer(name: string, f: (x: Tensor, axes: number[]) => Tensor, prepare: (x: Tensor) => Tensor) {
  return (x: T, opts: ReduceOpts = {}): Tensor => {
  checkOptions(name, opts, reduceOptions);
    const t = prepare(asTensor(x, name));
    const axes = normalizeAxes(name, opts.axis, t.aval.ndim);
    return keep(t, f(t, axes), axes, opts.keepdims);
  };
}

const intIfBool = (x: Tensor) => (x.aval.dtype === "bool" ? convert(x, "int32") : x);
const same = (x: Tensor) => x;

export const sum = reducer("sum", r.reduceSum, intIfBool);
export const prod = reducer("prod", r.reduceProd, intIfBool);
export const max = reducer("max", checkNonEmpty("max", r.reduceMax), same);
export const min = reducer("min", checkNonEmpty("min", r.reduceMin), same);

function checkNonEmpty(name: string, f: (x: Tensor, axes: number[]) => Tensor) {
  return (x: Tensor, axes: number[]) => {
    if (axes.some((a) => x.aval.shape[a] === 0)) {
      throw new ShapeError(`${name}: zero-size reduction over axes [${axes}] of ${x.aval} has no identity`);
    }
    return f(x, axes);
  };
}

export function mean(x: T, opts: ReduceOpts = {}): Tensor {
  checkOptions("mean", opts, reduceOptions);
  const [t] = promote("mean", [asTensor(x, "mean")], "float");
  const axes = normalizeAxes("mean", opts.axis, t!.aval.ndim);
  const count = shapeSize(axes.map((a) => t!.aval.shape[a]!));
  // a symbolic count (shape-polymorphic batch) is read at run time
  const n = typeof count === "number" ? scalarTensor(count, t!.aval.dtype) : convert(dimValue(count), t!.aval.dtype);
  const s = div(r.reduceSum(t!, axes), n);
  return keep(t!, s, axes, opts.keepdims);
}

function argReducer(name: string, f: (x: Tensor, axis: number) => Tensor) {
  return (x: T, opts: { axis?: number; keepdims?: boolean } = {}): Tensor => {
  checkOptions(name, opts, { axis: is.nullable(is.int()), keepdims: is.boolean });
    const t = asTensor(x, name);
    if (opts.axis === undefined || opts.axis === null) {
      const flat = reshape(t, [shapeSize(t.aval.shape)]);
      return f(flat, 0);
    }
    const [axis] = normalizeAxes(name, opts.axis, t.aval.ndim);
    return keep(t, f(t, axis!), [axis!], opts.keepdims);
  };
}
export const argmax = argReducer("argmax", r.argmax);
export const argmin = argReducer("argmin", r.argmin);
