// np shape functions that rearrange or relabel axes without choosing elements: reshape (with one
// inferred -1), transpose, expandDims, squeeze, broadcastTo, ravel/flatten, moveaxis, swapaxes,
// flip, astype, and the ndim/shape/size accessors. Each lowers to one data-movement primitive.

import type { DType } from "../../core/dtype.js";
import { ArgumentError, ShapeError } from "../../core/errors.js";
import { quotientOf } from "../../core/symbols.js";
import { type Dim, SymDim, dimDiv, dimEq, dimMul, dimToString, shapeSize, shapeToString } from "../../core/shape.js";
import type { Axis, Tensor } from "../../core/tensor.js";
import { reshape as laxReshape, rev, transpose as laxTranspose } from "../../prims/shape.js";
import { convert } from "../../prims/unary.js";
import { type ArrayInput, asTensor, broadcastTo as coerceBroadcast, scalarTensor } from "./coerce.js";
import { axesArg, axisArg, dtypeArg, range, shapeArg } from "./args.js";

type X = Tensor | ArrayInput;

const desc = (x: Tensor) => `an array of shape ${shapeToString(x.aval.shape)}`;

/** A user's shape argument in a message (symbolic dims by their text, never through JS conversion). */
const showArg = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(showArg).join(",")}]` : v instanceof SymDim ? v.toString() : String(JSON.stringify(v));

/**
 * reshape(x, shape): the same elements in a new shape; one entry may be -1 (inferred from the
 * others) and entries may be symbolic dims (e.g. [x.shape[0], -1] inside a shape-polymorphic
 * trace). Throws a ShapeError naming both shapes when the sizes differ.
 */
export function reshape(x: X, shape: Dim | readonly Dim[]): Tensor {
  const t = asTensor(x, "reshape");
  const list: Dim[] = typeof shape === "number" || shape instanceof SymDim ? [shape] : [...shape];
  if (!list.every((d) => d instanceof SymDim || (Number.isInteger(d) && d >= -1))) {
    throw new ArgumentError(`reshape: shape must be a list of non-negative integers (and at most one -1), got ${showArg(shape)}`);
  }
  const holes = list.filter((d) => d === -1).length;
  if (holes > 1) throw new ArgumentError(`reshape: can only specify one unknown dimension (-1), got ${showArg(shape)}`);
  const total = shapeSize(t.aval.shape);
  const bad = () =>
    new ShapeError(`reshape: cannot reshape ${desc(t)} (${dimToString(total)} elements) into shape ${shapeToString(list)}`);
  const known = list.filter((d) => d !== -1).reduce<Dim>((a, b) => dimMul(a, b), 1);
  let out: Dim[] = list;
  if (holes === 1) {
    const fill = dimDiv(total, known);
    if (fill === null) {
      if (typeof total === "number" && typeof known === "number") throw bad();
      const need = neededDivisibility(total, known);
      throw new ShapeError(
        `reshape: cannot infer -1 in ${shapeToString(list)} for ${desc(t)}: ${dimToString(total)} elements are not a multiple of ` +
          `${dimToString(known)} for every size; ${need ? `declare the constraint "${need}" (export option constraints) or ` : ""}give the dimensions explicitly`,
      );
    }
    out = list.map((d) => (d === -1 ? fill : d));
  } else if (!dimEq(known, total)) throw bad();
  return laxReshape(t, out);
}

/**
 * The declared constraint that would make `total` a multiple of `k` for every allowed size, when
 * one symbol decides it (c*S needs S % (k / gcd(c, k)) == 0), in the user's symbol (S = B/m,
 * from a declared B % m == 0, asks for B % (m * that) == 0); else null.
 */
function neededDivisibility(total: Dim, k: Dim): string | null {
  if (typeof total === "number" || typeof k !== "number" || total.terms.size !== 1) return null;
  const [[mono, c]] = [...total.terms] as [[string, number]];
  const f = mono.split("*");
  if (f.length !== 1 || !f[0]) return null;
  const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));
  const q = k / gcd(c, k);
  const quo = quotientOf(f[0]);
  return quo ? `${quo.symbol} % ${quo.modulus * q} == 0` : `${f[0]} % ${q} == 0`;
}

/** A flat 1-D view of all elements (row-major). */
export function ravel(x: X): Tensor {
  const t = asTensor(x, "ravel");
  return laxReshape(t, [shapeSize(t.aval.shape)]);
}
export const flatten = ravel;

/** transpose(x, axes?): permutes axes (default: reversed). Negative axes count from the end. */
export function transpose(x: X, axes?: readonly number[] | null): Tensor {
  const t = asTensor(x, "transpose");
  const n = t.aval.ndim;
  if (axes === undefined || axes === null) return laxTranspose(t, range(n).reverse());
  if (!Array.isArray(axes) || axes.length !== n) {
    throw new ShapeError(`transpose: axes ${JSON.stringify(axes)} must list each of the ${n} axes of ${desc(t)} once`);
  }
  const perm = axesArg("transpose", axes, n, desc(t));
  return laxTranspose(t, perm);
}

/** Permuted dims as NumPy's `x.T` on a matrix; alias of transpose with default axes. */
export function permuteDims(x: X, axes?: readonly number[]): Tensor {
  return transpose(x, axes);
}

/** moveaxis(x, source, destination): moves axes to new positions, keeping the others' order. */
export function moveaxis(x: X, source: Axis, destination: Axis): Tensor {
  const t = asTensor(x, "moveaxis");
  const n = t.aval.ndim;
  const src = axesArg("moveaxis", source, n, desc(t));
  const dst = axesArg("moveaxis", destination, n, desc(t));
  if (src.length !== dst.length) {
    throw new ArgumentError(`moveaxis: source ${JSON.stringify(source)} and destination ${JSON.stringify(destination)} differ in length`);
  }
  const order = range(n).filter((i) => !src.includes(i));
  const pairs = dst.map((d, i) => [d, src[i]!] as const).sort((a, b) => a[0] - b[0]);
  for (const [d, s] of pairs) order.splice(d, 0, s);
  return laxTranspose(t, order);
}

export function swapaxes(x: X, axis1: number, axis2: number): Tensor {
  const t = asTensor(x, "swapaxes");
  const a = axisArg("swapaxes", axis1, t.aval.ndim, desc(t));
  const b = axisArg("swapaxes", axis2, t.aval.ndim, desc(t));
  const perm = range(t.aval.ndim);
  perm[a] = b;
  perm[b] = a;
  return laxTranspose(t, perm);
}

/** expandDims(x, axis | axes): inserts size-1 axes at the given positions of the result. */
export function expandDims(x: X, axis: Axis): Tensor {
  const t = asTensor(x, "expandDims");
  const list = Array.isArray(axis) ? axis : [axis];
  const outRank = t.aval.ndim + list.length;
  const axes = axesArg("expandDims", list, outRank, `a result of rank ${outRank} (input ${desc(t)})`);
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < outRank; i++) out.push(axes.includes(i) ? 1 : t.aval.shape[k++]!);
  return laxReshape(t, out);
}

/** squeeze(x, axis?): removes size-1 axes (all of them, or the given ones, which must be size 1). */
export function squeeze(x: X, axis?: Axis | null): Tensor {
  const t = asTensor(x, "squeeze");
  const s = t.aval.shape;
  let axes: number[];
  if (axis === undefined || axis === null) axes = range(s.length).filter((i) => s[i] === 1);
  else {
    axes = axesArg("squeeze", axis, s.length, desc(t));
    for (const a of axes) {
      if (s[a] !== 1) {
        throw new ShapeError(`squeeze: cannot squeeze axis ${a} of ${desc(t)}: its size is ${dimToString(s[a]!)}, not 1`);
      }
    }
  }
  return laxReshape(t, s.filter((_, i) => !axes.includes(i)));
}

/** broadcastTo(x, shape): NumPy broadcasting of x to exactly `shape`. */
export function broadcastTo(x: X, shape: number | readonly number[]): Tensor {
  const t = asTensor(x, "broadcastTo");
  return coerceBroadcast("broadcastTo", t, shapeArg("broadcastTo", shape), false);
}

/** flip(x, axis?): reverses the order of elements along the given axes (default: all). */
export function flip(x: X, axis?: Axis | null): Tensor {
  const t = asTensor(x, "flip");
  const axes = axis === undefined || axis === null ? range(t.aval.ndim) : axesArg("flip", axis, t.aval.ndim, desc(t));
  return rev(t, axes);
}

/** Reverses rows (axis 0) / columns (axis 1). */
export const flipud = (x: X): Tensor => flip(x, 0);
export const fliplr = (x: X): Tensor => flip(x, 1);

/** astype(x, dtype): elementwise conversion (float -> int truncates toward zero). */
export function astype(x: X, dtype: DType): Tensor {
  const d = dtypeArg("astype", dtype);
  if (!d) throw new ArgumentError("astype: a dtype is required");
  // a JS number converts from its exact value (not through the weak float32 scalar it would
  // otherwise become: astype(1.5e300, "float64") is 1.5e300, not Infinity; fuzz finding F10)
  if (typeof x === "number") return scalarTensor(x, d);
  return convert(asTensor(x, "astype"), d);
}

export function ndim(x: X): number {
  return asTensor(x, "ndim").aval.ndim;
}

/** The shape as a list (symbolic dimensions inside jit appear as their SymDim). */
export function shape(x: X): (number | SymDim)[] {
  return [...asTensor(x, "shape").aval.shape];
}

export function size(x: X): number | SymDim {
  return shapeSize(asTensor(x, "size").aval.shape);
}
