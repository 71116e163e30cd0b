// Structural array functions built from existing primitives (so they lower, fuse, export, batch
// and differentiate with no rules of their own): roll (two slices and a concatenate), diagonal
// (a gather of flat positions), trace, tril / triu (a select against a constant mask), and the
// index maps of np.pad's non-constant modes (a gather of constant positions per axis, whose
// transpose scatter_add sums the cotangents of the copies back into their source).

import { ArgumentError, ShapeError } from "../../core/errors.js";
import { shapeToString } from "../../core/shape.js";
import { Tensor } from "../../core/tensor.js";
import { ShapedArray } from "../../core/aval.js";
import { select } from "../../prims/compare.js";
import { gather } from "../../prims/gather.js";
import { broadcastInDim, concatenate, reshape, slice, transpose } from "../../prims/shape.js";
import { full } from "../../prims/rule-helpers.js";
import { axisArg, intArg } from "./args.js";
import { type ArrayInput, asTensor } from "./coerce.js";
import { ravel } from "./shape.js";
import { sum } from "./reductions.js";

type X = Tensor | ArrayInput;
const desc = (x: Tensor) => `an array of shape ${shapeToString(x.aval.shape)}`;

function concreteAxis(name: string, t: Tensor, axis: number): number {
  const n = t.aval.shape[axis];
  if (typeof n !== "number") throw new ShapeError(`${name}: axis ${axis} of ${desc(t)} must be concrete, got ${n}`);
  return n;
}

function int32Const(values: number[], shape = [values.length]): Tensor {
  return new Tensor(new ShapedArray(shape, "int32"), Int32Array.from(values));
}

/** roll(x, shift, {axis}): elements shifted along axis (cyclically); without axis, of the flattened array. */
export function roll(x: X, shift: number | readonly number[], opts: { axis?: number | readonly number[] | null } = {}): Tensor {
  const t = asTensor(x, "roll");
  if (opts.axis === undefined || opts.axis === null) {
    if (typeof shift !== "number") throw new ArgumentError("roll: without an axis, shift must be one integer");
    return reshape(roll(ravel(t), shift, { axis: 0 }), t.aval.shape);
  }
  const axes = typeof opts.axis === "number" ? [opts.axis] : [...opts.axis];
  const shifts = typeof shift === "number" ? axes.map(() => shift) : [...shift];
  if (shifts.length !== axes.length) throw new ArgumentError(`roll: ${shifts.length} shifts for ${axes.length} axes`);
  let y = t;
  axes.forEach((a, i) => {
    const ax = axisArg("roll", a, t.aval.ndim, desc(t));
    const n = concreteAxis("roll", t, ax);
    const s = n === 0 ? 0 : ((intArg("roll", "shift", shifts[i]) % n) + n) % n;
    if (s === 0) return;
    const at = (lo: number, hi: number) => slice(y, y.aval.shape.map((_, k) => (k === ax ? lo : 0)), y.aval.shape.map((d, k) => (k === ax ? hi : d)));
    y = concatenate([at(n - s, n), at(0, n - s)], ax);
  });
  return y;
}

export interface DiagonalOpts {
  offset?: number;
  axis1?: number;
  axis2?: number;
}

/** diagonal(x, {offset = 0, axis1 = 0, axis2 = 1}): the diagonal as a new last axis (NumPy's order). */
export function diagonal(x: X, opts: DiagonalOpts = {}): Tensor {
  const t = asTensor(x, "diagonal");
  const nd = t.aval.ndim;
  if (nd < 2) throw new ShapeError(`diagonal: ${desc(t)} must have at least 2 axes`);
  const a1 = axisArg("diagonal", opts.axis1 ?? 0, nd, desc(t));
  const a2 = axisArg("diagonal", opts.axis2 ?? 1, nd, desc(t));
  if (a1 === a2) throw new ArgumentError(`diagonal: axis1 and axis2 must differ, both are ${a1}`);
  const k = intArg("diagonal", "offset", opts.offset ?? 0);
  const n1 = concreteAxis("diagonal", t, a1);
  const n2 = concreteAxis("diagonal", t, a2);
  // rows i, columns i + k, for the i where both are in range
  const i0 = Math.max(0, -k);
  const len = Math.max(0, Math.min(n1 - i0, n2 - (i0 + k)));
  const pos = Array.from({ length: len }, (_, j) => (i0 + j) * n2 + i0 + j + k);
  const rest = t.aval.shape.filter((_, i) => i !== a1 && i !== a2);
  const perm = [...Array(nd).keys()].filter((i) => i !== a1 && i !== a2);
  const moved = transpose(t, [...perm, a1, a2]);
  const flat = reshape(moved, [...rest, n1 * n2]);
  if (n1 * n2 === 0) return reshape(slice(flat, flat.aval.shape.map(() => 0), [...rest, 0]), [...rest, 0]);
  return gather(flat, int32Const(pos), { axis: nd - 2, batchDims: 0 });
}

/** trace(x, {offset, axis1, axis2}): the sum of the diagonal (np.sum's dtype: bool counts in int32). */
export function trace(x: X, opts: DiagonalOpts = {}): Tensor {
  return sum(diagonal(x, opts), { axis: -1 });
}

function triangle(name: string, x: X, k: number, lower: boolean): Tensor {
  const t = asTensor(x, name);
  const nd = t.aval.ndim;
  if (nd < 2) throw new ShapeError(`${name}: ${desc(t)} must have at least 2 axes`);
  const kk = intArg(name, "k", k);
  const n = concreteAxis(name, t, nd - 2);
  const m = concreteAxis(name, t, nd - 1);
  const keep = new Uint8Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) keep[i * m + j] = (lower ? j - i <= kk : j - i >= kk) ? 1 : 0;
  const mask = broadcastInDim(new Tensor(new ShapedArray([n, m], "bool"), keep), t.aval.shape, [nd - 2, nd - 1]);
  return select(mask, t, full(t.aval.shape, t.aval.dtype, 0));
}

/** tril(x, k = 0): zeros above the k-th diagonal of the last two axes. */
export function tril(x: X, k = 0): Tensor {
  return triangle("tril", x, k, true);
}

/** triu(x, k = 0): zeros below the k-th diagonal of the last two axes. */
export function triu(x: X, k = 0): Tensor {
  return triangle("triu", x, k, false);
}

export type PadMode = "constant" | "edge" | "wrap" | "reflect" | "symmetric";

/** The source position of output position i in [-lo, n + hi) of an axis of size n, per mode. */
function sourceIndex(mode: PadMode, i: number, n: number): number {
  const mod = (a: number, p: number) => ((a % p) + p) % p;
  switch (mode) {
    case "edge":
      return Math.min(Math.max(i, 0), n - 1);
    case "wrap":
      return mod(i, n);
    case "reflect": {
      if (n === 1) return 0;
      const j = mod(i, 2 * n - 2);
      return j < n ? j : 2 * n - 2 - j;
    }
    default: {
      const j = mod(i, 2 * n);
      return j < n ? j : 2 * n - 1 - j;
    }
  }
}

/** np.pad's edge / wrap / reflect / symmetric modes: per padded axis, a gather of source positions. */
export function padWithMode(t: Tensor, lo: number[], hi: number[], mode: PadMode): Tensor {
  let y = t;
  for (let ax = 0; ax < t.aval.ndim; ax++) {
    if (lo[ax] === 0 && hi[ax] === 0) continue;
    const n = concreteAxis("pad", t, ax);
    if (n === 0) throw new ShapeError(`pad: mode "${mode}" cannot extend the empty axis ${ax} of ${desc(t)}`);
    const pos = Array.from({ length: lo[ax]! + n + hi[ax]! }, (_, j) => sourceIndex(mode, j - lo[ax]!, n));
    y = gather(y, int32Const(pos), { axis: ax, batchDims: 0 });
  }
  return y;
}
