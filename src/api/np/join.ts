// np functions that join, split or replicate arrays: concatenate, stack, split, arraySplit, pad,
// tile, repeat. All lower to concatenate / slice / pad / broadcast primitives (repeat with
// per-element counts uses take), so they differentiate and batch through those rules.

import { ArgumentError, ShapeError } from "../../core/errors.js";
import { type Dim, dimEq, dimMul, dimToString, shapeToString } from "../../core/shape.js";
import type { Tensor } from "../../core/tensor.js";
import { broadcastInDim, concatenate as laxConcatenate, pad as laxPad, reshape as laxReshape, slice as laxSlice } from "../../prims/shape.js";
import { type ArrayInput, asTensor, promote } from "./coerce.js";
import { axisArg, intArg, range } from "./args.js";
import { take } from "./indexing.js";
import { expandDims, ravel } from "./shape.js";
import { type PadMode, padWithMode } from "./structure.js";

type X = Tensor | ArrayInput;
type AxisOpt = number | null | { axis?: number | null };

const shapes = (xs: Tensor[]) => xs.map((x) => shapeToString(x.aval.shape)).join(", ");
const desc = (x: Tensor) => `an array of shape ${shapeToString(x.aval.shape)}`;

function axisOf(opt: AxisOpt | undefined, dflt: number | null): number | null {
  if (opt === undefined) return dflt;
  if (opt === null || typeof opt === "number") return opt;
  return opt.axis === undefined ? dflt : opt.axis;
}

/**
 * The operands as tensors of one promoted dtype. Plain JS numbers go to promote as they are, so
 * they are weakly typed exactly as in binary ops: stack([1e-30, x64]) keeps 1e-30 in float64
 * instead of rounding it through a weak float32 tensor first.
 */
function tensorsArg(name: string, xs: readonly X[]): Tensor[] {
  if (!Array.isArray(xs) || xs.length === 0) throw new ArgumentError(`${name}: need a non-empty list of arrays`);
  return promote(name, [...xs]);
}

/**
 * concatenate(xs, axis) or concatenate(xs, {axis}): joins arrays along an existing axis (default
 * 0; null flattens them first). Shapes must match except along that axis.
 */
export function concatenate(xs: readonly X[], opts?: AxisOpt): Tensor {
  let ts = tensorsArg("concatenate", xs);
  const axis = axisOf(opts, 0);
  if (axis === null) ts = ts.map((t) => ravel(t));
  const nd = ts[0]!.aval.ndim;
  if (nd === 0) throw new ShapeError(`concatenate: zero-dimensional arrays cannot be concatenated (shapes ${shapes(ts)})`);
  const a = axisArg("concatenate", axis ?? 0, nd, `arrays of shapes ${shapes(ts)}`);
  const s0 = ts[0]!.aval.shape;
  for (const t of ts) {
    const s = t.aval.shape;
    if (s.length !== nd || !s.every((d, i) => i === a || dimEq(d, s0[i]!))) {
      throw new ShapeError(
        `concatenate: all input shapes must match except on axis ${a}; got shapes ${shapes(ts)}`,
      );
    }
  }
  return laxConcatenate(ts, a);
}

/** stack(xs, axis) or stack(xs, {axis}): joins equal-shaped arrays along a new axis. */
export function stack(xs: readonly X[], opts?: AxisOpt): Tensor {
  const ts = tensorsArg("stack", xs);
  const s0 = ts[0]!.aval.shape;
  for (const t of ts) {
    if (t.aval.shape.length !== s0.length || !t.aval.shape.every((d, i) => dimEq(d, s0[i]!))) {
      throw new ShapeError(`stack: all input arrays must have the same shape; got shapes ${shapes(ts)}`);
    }
  }
  const axis = axisArg("stack", axisOf(opts, 0) ?? 0, s0.length + 1, `a stacked result of rank ${s0.length + 1} (inputs ${shapes(ts)})`);
  return laxConcatenate(ts.map((t) => expandDims(t, axis)), axis);
}

/** Stacks along axis 0 after making inputs at least 2-D (rows), as np.vstack. */
export function vstack(xs: readonly X[]): Tensor {
  const ts = tensorsArg("vstack", xs).map((t) => (t.aval.ndim === 0 ? laxReshape(t, [1, 1]) : t.aval.ndim === 1 ? expandDims(t, 0) : t));
  return concatenate(ts, 0);
}

/** Concatenates along axis 1 (axis 0 for 1-D inputs), as np.hstack. */
export function hstack(xs: readonly X[]): Tensor {
  const ts = tensorsArg("hstack", xs).map((t) => (t.aval.ndim === 0 ? laxReshape(t, [1]) : t));
  return concatenate(ts, ts[0]!.aval.ndim === 1 ? 0 : 1);
}

/** Slices of `t` between consecutive bounds along `axis` (a concrete axis; others may be symbolic). */
function splitAt(t: Tensor, axis: number, bounds: number[]): Tensor[] {
  const s = t.aval.shape;
  const n = s[axis] as number;
  const out: Tensor[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = Math.min(Math.max(bounds[i]!, 0), n);
    const hi = Math.max(lo, Math.min(bounds[i + 1]!, n));
    out.push(laxSlice(t, s.map((_, k) => (k === axis ? lo : 0)), s.map((d, k) => (k === axis ? hi : d))));
  }
  return out;
}

function splitImpl(name: string, x: X, sections: number | readonly number[], opts: AxisOpt | undefined, even: boolean): Tensor[] {
  const t = asTensor(x, name);
  const axis = axisArg(name, axisOf(opts, 0) ?? 0, t.aval.ndim, desc(t));
  const n = t.aval.shape[axis];
  if (typeof n !== "number") {
    throw new ShapeError(`${name}: axis ${axis} of ${desc(t)} has symbolic size ${dimToString(n!)}, so where it splits depends on ${n!.symbols().join(", ")}: split a concrete axis`);
  }
  if (Array.isArray(sections)) {
    const idx = sections.map((v) => intArg(name, "split index", v)).map((v) => (v < 0 ? v + n : v));
    return splitAt(t, axis, [0, ...idx, n]);
  }
  const k = intArg(name, "number of sections", sections, 1);
  if (even && n % k !== 0) {
    throw new ShapeError(`${name}: axis ${axis} of ${desc(t)} (size ${n}) does not divide into ${k} equal sections; use arraySplit`);
  }
  const base = Math.floor(n / k);
  const extra = n % k; // the first `extra` sections get one more element (np.array_split)
  const bounds = [0];
  for (let i = 0; i < k; i++) bounds.push(bounds[i]! + base + (i < extra ? 1 : 0));
  return splitAt(t, axis, bounds);
}

/** split(x, sections | indices, axis?): equal sections (must divide evenly) or at the given indices. */
export function split(x: X, sections: number | readonly number[], opts?: AxisOpt): Tensor[] {
  return splitImpl("split", x, sections, opts, true);
}

/** arraySplit(x, sections | indices, axis?): like split, but sections may differ in size by one. */
export function arraySplit(x: X, sections: number | readonly number[], opts?: AxisOpt): Tensor[] {
  return splitImpl("arraySplit", x, sections, opts, false);
}

export type PadWidth = number | readonly (number | readonly number[])[];

export interface PadOpts {
  constantValues?: number | boolean;
  /** "constant" (default), or "edge", "wrap", "reflect", "symmetric" as NumPy (gathers, see structure.ts) */
  mode?: PadMode;
}

/** NumPy's pad_width forms: n, [before, after], [[before, after]], or one [before, after] per axis. */
function padWidths(t: Tensor, width: PadWidth): [number[], number[]] {
  const nd = t.aval.ndim;
  const bad = () =>
    new ArgumentError(
      `pad: padWidth ${JSON.stringify(width)} does not fit ${desc(t)}: use n, [before, after], or one [before, after] per axis (${nd} axes)`,
    );
  const pair = (p: unknown): [number, number] => {
    if (typeof p === "number") return [p, p];
    if (Array.isArray(p) && p.length === 1) return [p[0], p[0]];
    if (Array.isArray(p) && p.length === 2) return [p[0], p[1]];
    throw bad();
  };
  let pairs: [number, number][];
  if (typeof width === "number") pairs = Array(nd).fill([width, width]);
  else if (!Array.isArray(width)) throw bad();
  else if (width.every((v) => typeof v === "number")) {
    // [n] or [before, after]: the same for every axis
    if (width.length !== 1 && width.length !== 2) throw bad();
    pairs = Array(nd).fill(pair(width));
  } else if (width.length === 1) pairs = Array(nd).fill(pair(width[0]));
  else if (width.length === nd) pairs = width.map(pair);
  else throw bad();
  const flat = pairs.flat();
  if (!flat.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new ArgumentError(`pad: padding widths must be non-negative integers, got ${JSON.stringify(width)} for ${desc(t)}`);
  }
  return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
}

/** pad(x, padWidth, {constantValues = 0}): pads with a constant (NumPy's mode "constant"). */
export function pad(x: X, padWidth: PadWidth, opts: PadOpts = {}): Tensor {
  const t = asTensor(x, "pad");
  const mode = opts.mode ?? "constant";
  if (!["constant", "edge", "wrap", "reflect", "symmetric"].includes(mode)) {
    throw new ArgumentError(`pad: mode ${JSON.stringify(opts.mode)} is not supported (use "constant", "edge", "wrap", "reflect" or "symmetric")`);
  }
  if (mode !== "constant") {
    if (opts.constantValues !== undefined) throw new ArgumentError(`pad: constantValues only applies to mode "constant", not "${mode}"`);
    const [lo, hi] = padWidths(t, padWidth);
    return padWithMode(t, lo, hi, mode);
  }
  const cv = opts.constantValues ?? 0;
  if (typeof cv !== "number" && typeof cv !== "boolean") throw new ArgumentError("pad: constantValues must be a number or boolean");
  const [lo, hi] = padWidths(t, padWidth);
  const d = t.aval.dtype;
  const value = d === "bool" ? Number(Boolean(cv)) : d === "int32" ? Math.trunc(Number(cv)) : Number(cv);
  return laxPad(t, lo, hi, undefined, value);
}

/** tile(x, reps): repeats the whole array reps[i] times along axis i (NumPy rank rules). */
export function tile(x: X, reps: number | readonly number[]): Tensor {
  const t = asTensor(x, "tile");
  const r = (typeof reps === "number" ? [reps] : [...reps]).map((v) => intArg("tile", "reps", v, 0));
  const nd = Math.max(t.aval.ndim, r.length);
  const s: Dim[] = [...Array(nd - t.aval.ndim).fill(1), ...t.aval.shape];
  const rr = [...Array(nd - r.length).fill(1), ...r] as number[];
  const y = laxReshape(t, s);
  // broadcast [s0, s1, ...] to [r0, s0, r1, s1, ...], then merge each pair of axes
  const big = broadcastInDim(y, s.flatMap((d, i) => [rr[i]!, d]), range(nd).map((i) => 2 * i + 1));
  return laxReshape(big, s.map((d, i) => dimMul(d, rr[i]!)));
}

/**
 * repeat(x, repeats, {axis?}): repeats each element `repeats` times along axis (of the flattened
 * array when axis is omitted); repeats may also give one count per element.
 */
export function repeat(x: X, repeats: number | readonly number[], opts: { axis?: number | null } = {}): Tensor {
  let t = asTensor(x, "repeat");
  if (opts.axis === undefined || opts.axis === null) t = ravel(t);
  const axis = axisArg("repeat", opts.axis ?? 0, t.aval.ndim, desc(t));
  const n = t.aval.shape[axis];
  if (typeof repeats === "number") {
    const r = intArg("repeat", "repeats", repeats, 0);
    const s = [...t.aval.shape];
    const wide = [...s.slice(0, axis + 1), r, ...s.slice(axis + 1)];
    const b = broadcastInDim(t, wide, range(s.length).map((i) => (i <= axis ? i : i + 1)));
    return laxReshape(b, s.map((d, i) => (i === axis ? dimMul(d, r) : d)));
  }
  if (!Array.isArray(repeats) || repeats.length !== n) {
    throw new ShapeError(`repeat: repeats must be an integer or a list of ${dimToString(n!)} counts for axis ${axis} of ${desc(t)}`);
  }
  const idx: number[] = [];
  repeats.forEach((c, i) => {
    for (let k = 0; k < intArg("repeat", "repeats", c, 0); k++) idx.push(i);
  });
  return take(t, idx, { axis });
}
