// Sorting: np.sort, np.argsort (both stable, NaN last as NumPy) and lax.topK (the k largest along
// the last axis, NaN counted largest, ties in index order, as jax.lax.top_k), all views of the
// sort primitive (prims/sort.ts), which sorts along the last axis: another axis is moved last and
// back. Derivatives flow through the permutation (a gather), so they are those of NumPy's
// piecewise-linear sort; argsort's integer output has none.

import type { Tensor } from "../../core/tensor.js";
import { ArgumentError, ShapeError } from "../../core/errors.js";
import { sort as sortPrim } from "../../prims/sort.js";
import { moveAxis, slice } from "../../prims/shape.js";
import { axisArg, intArg } from "./args.js";
import { type ArrayInput, asTensor } from "./coerce.js";
import { ravel } from "./shape.js";

type X = Tensor | ArrayInput;

export interface SortOpts {
  /** the axis to sort along (default -1, the last); null sorts the flattened array */
  axis?: number | null;
  /** accepted for NumPy compatibility: every sort here is stable */
  kind?: "stable" | "quicksort" | "mergesort" | "heapsort";
  /** sort largest first (NaN first); ties keep their input order (not the reverse of ascending) */
  descending?: boolean;
}

function sorted(name: string, x: X, opts: SortOpts): [Tensor, Tensor] {
  let t = asTensor(x, name);
  if (opts.axis === null) t = ravel(t);
  if (t.aval.ndim === 0) throw new ShapeError(`${name}: cannot sort a rank-0 array ${t.aval} (use axis: null to sort a flattened copy)`);
  if (opts.kind !== undefined && !["stable", "quicksort", "mergesort", "heapsort"].includes(opts.kind)) {
    throw new ArgumentError(`${name}: unknown kind ${JSON.stringify(opts.kind)}`);
  }
  const nd = t.aval.ndim;
  const axis = opts.axis === null || opts.axis === undefined ? nd - 1 : axisArg(name, opts.axis, nd);
  const moved = axis === nd - 1 ? t : moveAxis(t, axis, nd - 1);
  const [v, p] = sortPrim(moved, opts.descending === true);
  return axis === nd - 1 ? [v, p] : [moveAxis(v, nd - 1, axis), moveAxis(p, nd - 1, axis)];
}

/** np.sort(x, {axis = -1, descending}): a sorted copy; NaN sorts last (first when descending). */
export function sort(x: X, opts: SortOpts = {}): Tensor {
  return sorted("sort", x, opts)[0];
}

/** np.argsort(x, {axis = -1, descending}): the stable sorting permutation (int32). */
export function argsort(x: X, opts: SortOpts = {}): Tensor {
  return sorted("argsort", x, opts)[1];
}

/** lax.topK(x, k): [values, indices] of the k largest entries along the last axis, largest first. */
export function topK(x: X, k: number): [Tensor, Tensor] {
  const t = asTensor(x, "topK");
  if (t.aval.ndim === 0) throw new ShapeError(`topK: operand ${t.aval} must have rank >= 1`);
  const n = t.aval.shape[t.aval.ndim - 1]!;
  const kk = intArg("topK", "k", k, 0);
  if (typeof n !== "number" || kk > n) throw new ShapeError(`topK: k = ${kk} must be at most the last axis length of ${t.aval}`);
  const [v, p] = sortPrim(t, true);
  const start = t.aval.shape.map(() => 0);
  const limit = [...t.aval.shape.slice(0, -1), kk];
  return [slice(v, start, limit), slice(p, start, limit)];
}
