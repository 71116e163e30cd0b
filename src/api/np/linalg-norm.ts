// np.linalg.norm: NumPy's vector norms (ord 2 default, 1, inf, -inf, 0, any p) and matrix norms
// ("fro", "nuc", 1, -1, 2, -2, inf, -inf) over `axis` (an int: vectors; a pair: matrices; null:
// the whole array as a vector, or a 1-D/2-D array by its rank when ord is given), with keepdims.
// A composite of elementwise ops, reductions and svd, so derivatives come from their rules.

import { ArgumentError, ShapeError } from "../../core/errors.js";
import { normalizeAxis } from "../../core/shape.js";
import type { Tensor } from "../../core/tensor.js";
import { abs, notEqual, power, sqrt, multiply } from "./elementwise.js";
import { max, min, sum } from "./reductions.js";
import { moveaxis, reshape } from "./shape.js";
import { type X, fname, floatArg } from "./linalg-util.js";
import { svd } from "./linalg-decomp.js";

export type NormOrd = number | "fro" | "nuc" | null;

export interface NormOptions {
  ord?: NormOrd;
  axis?: number | [number, number] | null;
  keepdims?: boolean;
}

function vectorNorm(x: Tensor, ord: number, axis: number, keepdims: boolean): Tensor {
  const o = { axis, keepdims };
  if (ord === Infinity) return max(abs(x), o);
  if (ord === -Infinity) return min(abs(x), o);
  if (ord === 0) return sum(notEqual(x, 0).astype(x.dtype), o);
  if (ord === 1) return sum(abs(x), o);
  if (ord === 2) return sqrt(sum(multiply(x, x), o));
  return power(sum(power(abs(x), ord), o), 1 / ord);
}

function matrixNorm(x: Tensor, ord: number | "fro" | "nuc", r: number, c: number, keepdims: boolean): Tensor {
  const o = { axis: [r, c], keepdims };
  if (ord === "fro") return sqrt(sum(multiply(x, x), o));
  const colSums = (k: boolean) => sum(abs(x), { axis: r, keepdims: k });
  const rowSums = (k: boolean) => sum(abs(x), { axis: c, keepdims: k });
  if (ord === 1 || ord === -1) {
    const s = colSums(keepdims);
    const at = keepdims ? c : c > r ? c - 1 : c;
    return ord === 1 ? max(s, { axis: at, keepdims }) : min(s, { axis: at, keepdims });
  }
  if (ord === Infinity || ord === -Infinity) {
    const s = rowSums(keepdims);
    const at = keepdims ? r : r > c ? r - 1 : r;
    return ord === Infinity ? max(s, { axis: at, keepdims }) : min(s, { axis: at, keepdims });
  }
  if (ord === 2 || ord === -2 || ord === "nuc") {
    const nd = x.ndim;
    const m = moveaxis(x, [r, c], [nd - 2, nd - 1]);
    const s = svd(m, { computeUv: false });
    const v = ord === "nuc" ? sum(s, { axis: -1 }) : ord === 2 ? max(s, { axis: -1 }) : min(s, { axis: -1 });
    if (!keepdims) return v;
    return reshape(v, x.shape.map((d, i) => (i === r || i === c ? 1 : d)));
  }
  throw new ArgumentError(`${fname("norm")}: invalid ord ${String(ord)} for a matrix norm (use "fro", "nuc", 1, -1, 2, -2, Infinity, -Infinity)`);
}

/** NumPy's norm. A vector 2-norm (or "fro") at exactly 0 has a NaN derivative, as JAX. */
export function norm(x: X, opts: NormOptions = {}): Tensor {
  const known = new Set(["ord", "axis", "keepdims"]);
  for (const k of Object.keys(opts)) if (!known.has(k)) throw new ArgumentError(`${fname("norm")}: unknown option "${k}" (valid: ord, axis, keepdims)`);
  const t = floatArg("norm", x, 0, "x");
  const ord = opts.ord ?? null;
  const keepdims = !!opts.keepdims;
  const axis = opts.axis ?? null;
  const nd = t.ndim;
  if (typeof ord === "number" && Number.isNaN(ord)) throw new ArgumentError(`${fname("norm")}: ord must not be NaN`);
  if (axis === null) {
    if (ord === null) {
      const v = sqrt(sum(multiply(t, t), {}));
      return keepdims ? reshape(v, t.shape.map(() => 1)) : v;
    }
    if (nd === 1) return vectorNorm(t, ordVec(ord), 0, keepdims);
    if (nd === 2) return matrixNorm(t, ord, 0, 1, keepdims);
    throw new ShapeError(`${fname("norm")}: with ord given and no axis, x must be 1-D or 2-D, got ${t.aval}`);
  }
  const ax = (a: number) => {
    const k = Number.isInteger(a) ? normalizeAxis(a, nd) : -1;
    if (k < 0) throw new ShapeError(`${fname("norm")}: axis ${a} is out of range for ${t.aval}`);
    return k;
  };
  if (typeof axis === "number") return vectorNorm(t, ord === null ? 2 : ordVec(ord), ax(axis), keepdims);
  if (!Array.isArray(axis) || axis.length !== 2) throw new ArgumentError(`${fname("norm")}: axis must be an integer, a pair of integers or null, got ${JSON.stringify(axis)}`);
  const [r, c] = [ax(axis[0]), ax(axis[1])];
  if (r === c) throw new ArgumentError(`${fname("norm")}: the two axes must differ, got [${axis}]`);
  return matrixNorm(t, ord ?? "fro", r, c, keepdims);
}

function ordVec(ord: number | "fro" | "nuc"): number {
  if (typeof ord !== "number") throw new ArgumentError(`${fname("norm")}: ord "${ord}" is a matrix norm; for vectors use a number`);
  return ord;
}
