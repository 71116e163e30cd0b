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
//   [0, 2], Tensor   an integer array (JS array or int32 tensor): advanced indexing, NumPy's
//                    rules exactly: integers next to an array index are advanced indices too,
//                    all of them broadcast together, and their dims replace the indexed axes in
//                    place when the advanced indices are adjacent, else go first
//                    (x[0, :, [1, 2]] on a (2, 3, 4) array has shape (2, 3))
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
import { type Dim, SymDim, broadcastShapes, dimAdd, isSymbolic, shapeToString } from "../../core/shape.js";
import { Tensor } from "../../core/tensor.js";
import { add, div, mul, sub } from "../../prims/binary.js";
import { compare, select } from "../../prims/compare.js";
import { gather } from "../../prims/gather.js";
import { reshape as laxReshape, rev, slice as laxSlice } from "../../prims/shape.js";
import { scalar } from "../../rules/scalar.js";
import { type ArrayInput, arrayFromData, asTensor, broadcastTo } from "./coerce.js";
import { axisArg } from "./args.js";
import { moveaxis, ravel } from "./shape.js";

type X = Tensor | ArrayInput;

/** A slice start:stop:step; null entries take their defaults. */
export interface Slice {
  readonly kind: "slice";
  readonly start: number | SymDim | null;
  readonly stop: number | SymDim | null;
  readonly step: number | null;
}

/** s(start, stop, step): a slice item for `index` (NumPy's start:stop:step). */
export function s(start: number | SymDim | null = null, stop: number | SymDim | null = null, step: number | null = null): Slice {
  for (const [what, v] of [["start", start], ["stop", stop], ["step", step]] as const) {
    // a symbolic size (y.shape[0]) bounds a slice of a symbolic axis; the slice rule checks it fits
    if (v !== null && !Number.isInteger(v) && !(what !== "step" && v instanceof SymDim)) throw new ArgumentError(`s: ${what} must be an integer, a symbolic size or null, got ${JSON.stringify(v)}`);
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
function sliceIndices(item: Slice, n: number): { start: number; step: number; len: number } {
  const sl = item as { start: number | null; stop: number | null; step: number | null }; // (numbers here: index() refuses symbolic bounds on a concrete axis)
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

/** index(x, spec): NumPy basic and integer-array (advanced) indexing; see the file comment. */
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
  // NumPy: with an array index present, integers are advanced indices too (0-d arrays)
  const isArrayItem = (it: unknown) => Array.isArray(it) || it instanceof Tensor;
  const anyArray = expanded.some(isArrayItem);
  const isAdvanced = (it: unknown) => isArrayItem(it) || (anyArray && typeof it === "number");
  const advanced: { idx: unknown; inAxis: number; outAxis: number }[] = [];
  const advPos = expanded.flatMap((it, i) => (isAdvanced(it) ? [i] : []));
  const consecutive = advPos.length > 0 && advPos[advPos.length - 1]! - advPos[0]! === advPos.length - 1;
  let ax = 0;
  let needSlice = false;
  for (const it of expanded) {
    if (it === null) {
      outShape.push(1);
      continue;
    }
    const d = shape[ax]!;
    if (isFullSlice(it) || isAdvanced(it)) {
      if (isAdvanced(it)) advanced.push({ idx: it, inAxis: ax, outAxis: outShape.length });
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
    } else if (typeof it === "object" && it !== null && (it as Slice).kind === "slice") {
      if (isSymbolic((it as Slice).start ?? 0) || isSymbolic((it as Slice).stop ?? 0)) throw new ShapeError(`index: a symbolic slice bound on axis ${ax} of ${desc(t)}, whose size ${d} is concrete; use integer bounds there`);
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
  if (advanced.length === 0) return y;
  return advancedIndex(y, t, advanced, consecutive);
}

/**
 * NumPy's advanced indexing of `y`, whose advanced axes (at `outAxis`, of input axis `inAxis` of
 * `t`) are still whole: the index arrays broadcast together to B; B's dims replace the advanced
 * axes where the first one was when they are consecutive in the index, else they go first.
 * Several advanced axes are gathered as one flattened axis with a linear index.
 */
function advancedIndex(y: Tensor, t: Tensor, advanced: { idx: unknown; inAxis: number; outAxis: number }[], consecutive: boolean): Tensor {
  const shape = t.aval.shape;
  const idxs = advanced.map((a) => normalizeIndices("index", indexTensor("index", a.idx), shape[a.inAxis]!, "raise", a.inAxis, t));
  if (idxs.length === 1) {
    const r = gather(y, idxs[0]!, { axis: advanced[0]!.outAxis, batchDims: 0, mode: "raise", op: "index" });
    const k = idxs[0]!.aval.ndim;
    const at = advanced[0]!.outAxis;
    if (consecutive || at === 0 || k === 0) return r;
    const dims = Array.from({ length: k }, (_, i) => at + i);
    return moveaxis(r, dims, dims.map((_, i) => i));
  }
  const b = broadcastShapes(...idxs.map((i) => i.aval.shape));
  if (!b) {
    throw new ShapeError(`index: index arrays of shapes ${idxs.map((i) => shapeToString(i.aval.shape)).join(", ")} cannot be broadcast together`);
  }
  const sizes = advanced.map((a) => shape[a.inAxis]!);
  if (sizes.some((n) => typeof n !== "number")) {
    throw new ShapeError(`index: several array indices on symbolic axes of ${desc(t)} are not supported; index one axis at a time`);
  }
  // advanced axes first, flattened into one with a linear (row-major) index
  const advAxes = advanced.map((a) => a.outAxis);
  const rest = y.aval.shape.map((_, i) => i).filter((i) => !advAxes.includes(i));
  const moved = moveaxis(y, advAxes, advAxes.map((_, i) => i));
  const total = (sizes as number[]).reduce((p, n) => p * n, 1);
  const flat = laxReshape(moved, [total, ...rest.map((i) => y.aval.shape[i]!)]);
  let linear: Tensor | null = null;
  let stride = 1;
  for (let i = idxs.length - 1; i >= 0; i--) {
    const term: Tensor = stride === 1 ? idxs[i]! : mul(idxs[i]!, scalar(stride, "int32"));
    linear = linear ? add(broadcastTo("index", term, b), broadcastTo("index", linear, b)) : broadcastTo("index", term, b);
    stride *= sizes[i] as number;
  }
  const r = gather(flat, linear!, { axis: 0, batchDims: 0, mode: "raise", op: "index" });
  if (!consecutive || advAxes[0] === 0 || b.length === 0) return r;
  // consecutive: B's dims go where the first advanced axis was (all axes before it are basic)
  const dims = b.map((_, i) => i);
  return moveaxis(r, dims, dims.map((i) => i + advAxes[0]!));
}

/** start, stop and step of an integer or slice item on a symbolic axis of size d (no clamping). */
function symbolicBounds(it: unknown, d: Dim, ax: number, t: Tensor): { st: Dim; sp: Dim; step: number } {
  const fromEnd = (v: number | SymDim): Dim => (typeof v === "number" && v < 0 ? dimAdd(d, v) : v);
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

