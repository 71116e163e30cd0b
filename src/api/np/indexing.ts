// np indexing: NumPy basic indexing as a function, `slice`, and the gather-based `take` and
// `takeAlongAxis`.
//
// index(x, spec) is NumPy's x[spec]. `spec` is one item or an array of items (the array is the
// index tuple; to index with an int array, wrap it: index(x, [[0, 2]]) is x[[0, 2]]). Items:
//   3, -1            an integer (negative counts from the end): selects, and drops the axis
//   s(1, 5), s(null, null, -1), "1:5", "::-1", ":"
//                    a slice start:stop:step (Python semantics, negative step reverses)
//   null (newaxis)   inserts a size-1 axis
//   "..."            ellipsis: as many ":" as needed (at most one)
//   [0, 2], Tensor   one integer array (JS array or int32 tensor): take along that axis; its
//                    dims replace the axis in place (NumPy's rule for a single array index)
// Example: index(x, [0, s(1, null, 2), null, "..."]) is NumPy's x[0, 1::2, None, ...].
//
// Out-of-range indices: integer items and concrete index arrays raise an ArgumentError naming the
// index, axis and shape (NumPy's IndexError). Traced index arrays cannot be checked while tracing:
// negative values are wrapped once and anything still out of range is clamped to the nearest
// valid index (JAX's behaviour), so compiled code never reads out of bounds. take's `mode` option
// ("raise" default, "clip", "wrap") follows np.take.
//
// Symbolic axes (inside a shape-polymorphic trace): ":" keeps the axis whole; any other item on a
// symbolic axis must have bounds that hold for every size (the slice primitive's shape rule
// decides), else a ShapeError names the axis and the symbol the bound depends on. Python's
// clamping of out-of-range bounds cannot be decided for a symbolic size, so it is not applied.

import { ArgumentError, DTypeError, ShapeError } from "../../core/errors.js";
import { type Dim, broadcastShapes, dimAdd, shapeToString } from "../../core/shape.js";
import { Tensor } from "../../core/tensor.js";
import { add, div, mul, sub } from "../../prims/binary.js";
import { compare, select } from "../../prims/compare.js";
import { gather } from "../../prims/gather.js";
import { reshape as laxReshape, rev, slice as laxSlice } from "../../prims/shape.js";
import { scalar } from "../../rules/helpers.js";
import { type ArrayInput, arrayFromData, asTensor, broadcastTo } from "./coerce.js";
import { axisArg } from "./args.js";
import { moveaxis, ravel } from "./shape.js";

type X = Tensor | ArrayInput;

/** A slice start:stop:step; null entries take their defaults. */
export interface Slice {
  readonly kind: "slice";
  readonly start: number | null;
  readonly stop: number | null;
  readonly step: number | null;
}

/** s(start, stop, step): a slice item for `index` (NumPy's start:stop:step). */
export function s(start: number | null = null, stop: number | null = null, step: number | null = null): Slice {
  for (const [what, v] of [["start", start], ["stop", stop], ["step", step]] as const) {
    if (v !== null && !Number.isInteger(v)) throw new ArgumentError(`s: ${what} must be an integer or null, got ${JSON.stringify(v)}`);
  }
  if (step === 0) throw new ArgumentError("s: slice step cannot be zero");
  return { kind: "slice", start, stop, step };
}

/** The newaxis marker (null), as in NumPy. */
export const newaxis = null;

export type IndexItem = number | Slice | string | null | readonly unknown[] | Tensor;

const desc = (x: Tensor) => `an array of shape ${shapeToString(x.aval.shape)}`;

function parseSliceString(item: string): Slice {
  const m = /^\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?$/.exec(item);
  if (!m) throw new ArgumentError(`index: cannot parse ${JSON.stringify(item)} (use "start:stop:step", ":" or "...")`);
  const num = (v: string | undefined) => (v === undefined ? null : Number(v));
  return s(num(m[1]), num(m[2]), num(m[3]));
}

/** Python's slice.indices: the first index, step and number of selected elements. */
function sliceIndices(sl: Slice, n: number): { start: number; step: number; len: number } {
  const step = sl.step ?? 1;
  const norm = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  if (step > 0) {
    const start = sl.start === null ? 0 : norm(sl.start, 0, n);
    const stop = sl.stop === null ? n : norm(sl.stop, 0, n);
    return { start, step, len: Math.max(0, Math.ceil((stop - start) / step)) };
  }
  const start = sl.start === null ? n - 1 : norm(sl.start, -1, n - 1);
  const stop = sl.stop === null ? -1 : norm(sl.stop, -1, n - 1);
  return { start, step, len: Math.max(0, Math.ceil((stop - start) / step)) };
}

function isFullSlice(it: unknown): boolean {
  return typeof it === "object" && it !== null && (it as Slice).kind === "slice" && (it as Slice).start === null && (it as Slice).stop === null && ((it as Slice).step ?? 1) === 1;
}

/** index(x, spec): NumPy basic indexing plus one integer-array index; see the file comment. */
export function index(x: X, spec: IndexItem | readonly IndexItem[]): Tensor {
  const t = asTensor(x, "index");
  const raw: unknown[] = Array.isArray(spec) ? [...spec] : [spec];
  const items = raw.map((it) => (typeof it === "string" && it !== "..." ? parseSliceString(it) : it));
  const ellipses = items.filter((it) => it === "...").length;
  if (ellipses > 1) throw new ArgumentError(`index: at most one "..." is allowed, got ${ellipses}`);
  const consumes = items.filter((it) => it !== null && it !== "...").length;
  const nd = t.aval.ndim;
  if (consumes > nd) throw new ShapeError(`index: too many indices for ${desc(t)}: ${consumes} were given`);
  const full = s();
  const fill = Array(nd - consumes).fill(full);
  const ei = items.indexOf("...");
  const expanded = ei >= 0 ? [...items.slice(0, ei), ...fill, ...items.slice(ei + 1)] : [...items, ...fill];

  const shape = t.aval.shape;
  const start: Dim[] = [];
  const limit: Dim[] = [];
  const strides: number[] = [];
  const revAxes: number[] = [];
  /** a number k (not a Dim) at position i: the sliced size of input axis k, known after slicing */
  const outShape: (Dim | { axis: number })[] = [];
  let advanced: { idx: unknown; inAxis: number; outAxis: number } | null = null;
  let ax = 0;
  let needSlice = false;
  for (const it of expanded) {
    if (it === null) {
      outShape.push(1);
      continue;
    }
    const d = shape[ax]!;
    const isArrayIndex = Array.isArray(it) || it instanceof Tensor;
    if (isFullSlice(it) || isArrayIndex) {
      if (isArrayIndex) {
        if (advanced) throw new ArgumentError("index: only one integer-array index per call is supported; use take / takeAlongAxis to combine several");
        advanced = { idx: it, inAxis: ax, outAxis: outShape.length };
      }
      start.push(0);
      limit.push(d);
      strides.push(1);
      outShape.push(d);
      ax++;
      continue;
    }
    needSlice = true;
    if (typeof d !== "number") {
      // a symbolic axis: the bounds as dims (negative ones from the end), checked by the slice rule
      const { st, sp, step } = symbolicBounds(it, d, ax, t);
      start.push(st);
      limit.push(sp);
      strides.push(step);
      if (typeof it !== "number") outShape.push({ axis: ax });
      ax++;
      continue;
    }
    if (typeof it === "number") {
      if (!Number.isInteger(it)) throw new ArgumentError(`index: index ${it} is not an integer`);
      const i = it < 0 ? it + d : it;
      if (i < 0 || i >= d) throw new ArgumentError(`index: index ${it} is out of bounds for axis ${ax} with size ${d} (${desc(t)})`);
      start.push(i);
      limit.push(i + 1);
      strides.push(1);
    } else if (typeof it === "object" && (it as Slice).kind === "slice") {
      const { start: st, step, len } = sliceIndices(it as Slice, d);
      if (len === 0) {
        start.push(0);
        limit.push(0);
        strides.push(1);
      } else if (step > 0) {
        start.push(st);
        limit.push(st + (len - 1) * step + 1);
        strides.push(step);
      } else {
        // a negative step is a positive one on the reversed axis
        revAxes.push(ax);
        const rs = d - 1 - st;
        start.push(rs);
        limit.push(rs + (len - 1) * -step + 1);
        strides.push(-step);
      }
      outShape.push(len);
    } else {
      throw new ArgumentError(`index: unsupported index item ${JSON.stringify(it)} (use integers, s(...), "a:b:c", null, "..." or one int array)`);
    }
    ax++;
  }
  let y = rev(t, revAxes);
  if (needSlice) {
    try {
      y = laxSlice(y, start, limit, strides);
    } catch (err) {
      if (!(err instanceof ShapeError)) throw err;
      throw new ShapeError(`index: cannot index ${desc(t)} as given: ${err.message.split("\n")[0]}`);
    }
  }
  const sliced = y.aval.shape;
  y = laxReshape(y, outShape.map((d) => (typeof d === "object" && "axis" in d ? sliced[d.axis]! : d)));
  if (!advanced) return y;
  const n = shape[advanced.inAxis]!;
  const idx = indexTensor("index", advanced.idx);
  const norm = normalizeIndices("index", idx, n, "raise", advanced.inAxis, t);
  return gather(y, norm, { axis: advanced.outAxis, batchDims: 0, mode: "raise", op: "index" });
}

/** start, stop and step of an integer or slice item on a symbolic axis of size d (no clamping). */
function symbolicBounds(it: unknown, d: Dim, ax: number, t: Tensor): { st: Dim; sp: Dim; step: number } {
  const fromEnd = (v: number) => (v < 0 ? dimAdd(d, v) : v);
  if (typeof it === "number") {
    if (!Number.isInteger(it)) throw new ArgumentError(`index: index ${it} is not an integer`);
    return { st: fromEnd(it), sp: dimAdd(fromEnd(it), 1), step: 1 };
  }
  if (typeof it === "object" && it !== null && (it as Slice).kind === "slice") {
    const sl = it as Slice;
    const step = sl.step ?? 1;
    if (step < 0) throw new ShapeError(`index: a negative step on axis ${ax} of ${desc(t)}, which is symbolic, is not supported; use np.flip`);
    return { st: sl.start === null ? 0 : fromEnd(sl.start), sp: sl.stop === null ? d : fromEnd(sl.stop), step };
  }
  throw new ArgumentError(`index: unsupported index item ${JSON.stringify(it)} (use integers, s(...), "a:b:c", null, "..." or one int array)`);
}

/**
 * slice(x, starts, stops, steps?): x[starts[0]:stops[0]:steps[0], ...] for the leading axes
 * (null entries take the defaults; negative values count from the end; negative steps reverse).
 */
export function slice(x: X, starts: readonly (number | null)[], stops: readonly (number | null)[], steps?: readonly (number | null)[]): Tensor {
  const t = asTensor(x, "slice");
  if (starts.length !== stops.length || (steps && steps.length !== starts.length) || starts.length > t.aval.ndim) {
    throw new ArgumentError(
      `slice: starts (${starts.length}), stops (${stops.length})${steps ? ` and steps (${steps.length})` : ""} must have equal ` +
        `lengths, at most the rank of ${desc(t)}`,
    );
  }
  return index(t, starts.map((st, i) => s(st, stops[i], steps?.[i] ?? null)));
}

/** Index arguments as an int32 tensor (JS numbers, nested arrays, or int tensors). */
function indexTensor(name: string, indices: unknown): Tensor {
  if (indices instanceof Tensor) {
    if (indices.aval.dtype !== "int32") {
      throw new DTypeError(`${name}: indices must be integers (int32), got ${indices.aval}; cast with .astype("int32")`);
    }
    return indices;
  }
  if (typeof indices === "number" || Array.isArray(indices)) {
    const flat = (Array.isArray(indices) ? (indices as unknown[]).flat(Infinity) : [indices]) as unknown[];
    if (flat.some((v) => typeof v === "boolean")) {
      throw new ArgumentError(`${name}: boolean mask indexing has a data-dependent shape and is not supported; use np.where`);
    }
    if (!flat.every((v) => typeof v === "number" && Number.isInteger(v))) {
      throw new ArgumentError(`${name}: indices must be integers, got ${JSON.stringify(indices)}`);
    }
    return arrayFromData(indices, "int32", name);
  }
  throw new ArgumentError(`${name}: indices must be an int32 tensor, an integer or a (nested) array of integers`);
}

export type TakeMode = "raise" | "clip" | "wrap";

/**
 * Maps indices into [0, n): "raise" checks concrete indices (negative ones count from the end)
 * and wraps negative traced ones once (the gather then clamps); "wrap" takes them modulo n;
 * "clip" leaves them to the gather's clamping (NumPy's clip: negative indices become 0).
 */
function normalizeIndices(name: string, idx: Tensor, n: Dim, mode: TakeMode, axis: number, x: Tensor): Tensor {
  if (mode !== "raise" && mode !== "clip" && mode !== "wrap") {
    throw new ArgumentError(`${name}: mode must be "raise", "clip" or "wrap", got ${JSON.stringify(mode)}`);
  }
  if (typeof n !== "number") return idx; // symbolic axis: clamping by the primitive only
  if (n === 0 && idx.aval.size !== 0) {
    throw new ShapeError(`${name}: cannot take elements from axis ${axis} of size 0 (${desc(x)}, indices ${idx.aval})`);
  }
  if (mode === "clip") return idx;
  if (idx.isConcrete) {
    const src = idx.data;
    const out = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (mode === "wrap") out[i] = ((v % n) + n) % n;
      else if (v < -n || v >= n) {
        throw new ArgumentError(`${name}: index ${v} is out of bounds for axis ${axis} with size ${n} (${desc(x)})`);
      } else out[i] = v < 0 ? v + n : v;
    }
    return Tensor.fromData(out, idx.aval.shape as number[]);
  }
  const nT = scalar(n, "int32");
  const zero = scalar(0, "int32");
  let r = idx;
  if (mode === "wrap") r = sub(idx, mul(div(idx, nT), nT)); // truncated remainder, in (-n, n)
  return select(compare(r, zero, "lt"), add(r, nT), r);
}

export interface TakeOpts {
  axis?: number | null;
  mode?: TakeMode;
}

/**
 * take(x, indices, {axis?, mode?}): elements of x at `indices` along `axis` (of the flattened x
 * when axis is omitted). out.shape = x.shape[:axis] + indices.shape + x.shape[axis+1:].
 */
export function take(x: X, indices: Tensor | number | readonly unknown[], opts: TakeOpts = {}): Tensor {
  let t = asTensor(x, "take");
  let axis = 0;
  if (opts.axis === undefined || opts.axis === null) t = ravel(t);
  else axis = axisArg("take", opts.axis, t.aval.ndim, desc(t));
  const idx = indexTensor("take", indices);
  const mode = opts.mode ?? "raise";
  const norm = normalizeIndices("take", idx, t.aval.shape[axis], mode, axis, t);
  // mode "raise" stays checked at run time on every path (compiled code included), never clamped
  return gather(t, norm, { axis, batchDims: 0, ...(mode === "raise" ? { mode: "raise" as const, op: "take" } : {}) });
}

/**
 * takeAlongAxis(x, indices, axis): NumPy's take_along_axis. `indices` has x's rank; along `axis`
 * it picks elements, on the other axes it broadcasts against x. axis null uses the flattened x.
 */
export function takeAlongAxis(x: X, indices: Tensor | readonly unknown[], axis: number | null, opts: { mode?: TakeMode } = {}): Tensor {
  let t = asTensor(x, "takeAlongAxis");
  let idx = indexTensor("takeAlongAxis", indices);
  if (axis === null) {
    t = ravel(t);
    if (idx.aval.ndim !== 1) throw new ShapeError(`takeAlongAxis: with axis null the indices must be 1-D, got ${idx.aval}`);
    axis = 0;
  }
  const nd = t.aval.ndim;
  if (idx.aval.ndim !== nd) {
    throw new ShapeError(`takeAlongAxis: indices ${idx.aval} must have the same rank as x (${desc(t)})`);
  }
  const a = axisArg("takeAlongAxis", axis, nd, desc(t));
  const n = t.aval.shape[a]!;
  const xs = t.aval.shape.filter((_, i) => i !== a);
  const is = idx.aval.shape.filter((_, i) => i !== a);
  const batch = broadcastShapes(xs, is);
  if (!batch) {
    throw new ShapeError(
      `takeAlongAxis: indices of shape ${shapeToString(idx.aval.shape)} do not broadcast against ${desc(t)} outside axis ${a}`,
    );
  }
  const mode = opts.mode ?? "raise";
  idx = normalizeIndices("takeAlongAxis", idx, n, mode, a, t);
  const xl = broadcastTo("takeAlongAxis", moveaxis(t, a, -1), [...batch, n], false);
  const il = broadcastTo("takeAlongAxis", moveaxis(idx, a, -1), [...batch, idx.aval.shape[a]!], false);
  const nb = batch.length;
  const raise = mode === "raise" ? { mode: "raise" as const, op: "takeAlongAxis" } : {};
  return moveaxis(gather(xl, il, { axis: nb, batchDims: nb, ...raise }), -1, a);
}

