// Convolutions and pooling as composites (DESIGN principle 2): lax.conv (general dilated: window
// strides, SAME / VALID / explicit padding, lhs and rhs dilation, feature groups; NCHW inputs and
// OIHW kernels, any number of spatial dims), nn.conv1d / conv2d, nn.maxPool / avgPool.
//
// conv is im2col onto dot_general, so it runs at GEMM speed: the input is padded once (lhs
// dilation as interior padding, then explicit padding; negative padding crops), its windows are
// the patches [N, C, ...window, ...out] (window_patches, prims/windows.ts: one kernel reading
// the padded input through an overlapping strided view), and one dot_general batched over (N,
// feature groups) contracts (C/G, K) against the kernel, writing [N, O, ...out] in place (no
// transpose copies). Gradients come from autodiff of the composite: the input's is the
// transposed convolution (window_patches^T sums the patches back, then pad^T crops), the
// kernel's a GEMM of patches and output cotangents.
// Pooling with non-overlapping windows is one reduction over a reshaped view (tiledPool); other
// strides reduce the strided window slices pairwise with max / add.

import type { Tensor } from "../core/tensor.js";
import { ArgumentError, ShapeError } from "../core/errors.js";
import { add, div, max } from "../prims/binary.js";
import { dotGeneral } from "../prims/dot.js";
import { reduceMax, reduceSum } from "../prims/reduce.js";
import { pairwise, windowOffsets, windowPatches } from "../prims/windows.js";
import { broadcastInDim, pad, reshape, slice } from "../prims/shape.js";
import { full } from "../prims/rule-helpers.js";
import { type ArrayInput, asTensor, promote } from "./np/coerce.js";

type X = Tensor | ArrayInput;
export type Padding = "SAME" | "VALID" | readonly (readonly [number, number])[];

export interface ConvOpts {
  /** window strides per spatial dim (a number: the same for all); default 1 */
  strides?: number | readonly number[];
  /** "VALID" (default), "SAME" (output = ceil(input / stride), as JAX) or [lo, hi] per spatial dim */
  padding?: Padding;
  /** input dilation (a transposed convolution's stride); default 1 */
  lhsDilation?: number | readonly number[];
  /** kernel dilation (atrous); default 1 */
  rhsDilation?: number | readonly number[];
  /** feature groups: C and O divisible by it, the kernel's I = C / groups; default 1 */
  featureGroupCount?: number;
}

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

function perDim(name: string, what: string, v: number | readonly number[] | undefined, nd: number): number[] {
  const out = v === undefined ? Array(nd).fill(1) : typeof v === "number" ? Array(nd).fill(v) : [...v];
  if (out.length !== nd || !out.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ArgumentError(`${name}: ${what} must be a positive integer or ${nd} of them, got ${JSON.stringify(v)}`);
  }
  return out;
}

function concreteShape(name: string, t: Tensor): number[] {
  if (!t.aval.shape.every((d) => typeof d === "number")) throw new ShapeError(`${name}: ${t.aval} must have a concrete shape`);
  return t.aval.shape as number[];
}

/** The padded input (interior lhs dilation, then lo/hi padding with `value`) and its spatial sizes. */
function padInput(name: string, x: Tensor, window: number[], strides: number[], padding: Padding, lhsDil: number[], rhsDil: number[], value: number) {
  const shape = x.aval.shape as number[];
  const nd = window.length;
  const sp = shape.slice(2).map((n, i) => (n - 1) * lhsDil[i]! + 1);
  const eff = window.map((k, i) => (k - 1) * rhsDil[i]! + 1);
  let pairs: [number, number][];
  if (padding === "VALID") pairs = sp.map(() => [0, 0]);
  else if (padding === "SAME") {
    pairs = sp.map((n, i) => {
      const out = Math.ceil(n / strides[i]!);
      const total = Math.max((out - 1) * strides[i]! + eff[i]! - n, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  } else if (Array.isArray(padding) && padding.length === nd && padding.every((p: readonly number[]) => p.length === 2 && p.every((v) => Number.isInteger(v)))) {
    pairs = padding.map((p) => [p[0], p[1]]);
  } else throw new ArgumentError(`${name}: padding must be "SAME", "VALID" or ${nd} [lo, hi] integer pairs, got ${JSON.stringify(padding)}`);
  const zeros = [0, 0];
  let y = pad(x, [...zeros, ...pairs.map((p) => Math.max(p[0], 0))], [...zeros, ...pairs.map((p) => Math.max(p[1], 0))], [...zeros, ...lhsDil.map((d) => d - 1)], value);
  if (pairs.some((p) => p[0] < 0 || p[1] < 0)) {
    const ys = y.aval.shape as number[];
    y = slice(y, [...zeros, ...pairs.map((p) => Math.max(-p[0], 0))], ys.map((n, i) => (i < 2 ? n : n - Math.max(-pairs[i - 2]![1], 0))));
  }
  const padded = (y.aval.shape as number[]).slice(2);
  const out = padded.map((n, i) => (n >= eff[i]! ? Math.floor((n - eff[i]!) / strides[i]!) + 1 : 0));
  if (out.some((o) => o <= 0)) {
    throw new ShapeError(`${name}: the window ${JSON.stringify(eff)} (dilated) does not fit the padded input ${JSON.stringify(padded)} of ${x.aval}`);
  }
  return { y, out };
}

/** One strided slice of the padded input per window offset (row-major over the window); the spatial axes start at `sp`. */
function windowSlices(y: Tensor, window: number[], strides: number[], rhsDil: number[], out: number[], sp = 2): Tensor[] {
  const ys = y.aval.shape as number[];
  const lead = ys.slice(0, sp);
  const slices = windowOffsets(window).map((off) => {
    const start = [...lead.map(() => 0), ...off.map((o, i) => o * rhsDil[i]!)];
    const limit = [...lead, ...out.map((o, i) => start[i + sp]! + (o - 1) * strides[i]! + 1)];
    return slice(y, start, limit, [...lead.map(() => 1), ...strides]);
  });
  return slices;
}

/**
 * lax.conv(lhs [N, C, ...spatial], rhs [O, C / groups, ...window], opts): JAX's
 * conv_general_dilated with dimension numbers NCHW / OIHW / NCHW. Output [N, O, ...out].
 */
export function conv(lhs: X, rhs: X, opts: ConvOpts = {}): Tensor {
  const [x, w] = promote("conv", [asTensor(lhs, "conv"), asTensor(rhs, "conv")], "float") as [Tensor, Tensor];
  const xs = concreteShape("conv", x);
  const ws = concreteShape("conv", w);
  const nd = xs.length - 2;
  if (nd < 1 || ws.length !== xs.length) {
    throw new ShapeError(`conv: lhs ${x.aval} must be [N, C, ...spatial] and rhs ${w.aval} [O, I, ...window] of the same rank (>= 3)`);
  }
  const G = opts.featureGroupCount ?? 1;
  const [N, C] = [xs[0]!, xs[1]!];
  const [O, I] = [ws[0]!, ws[1]!];
  if (!Number.isInteger(G) || G < 1 || C % G !== 0 || O % G !== 0 || I !== C / G) {
    throw new ShapeError(`conv: featureGroupCount ${G} needs C = ${C} and O = ${O} divisible by it and the kernel's I = C / groups (got I = ${I}); lhs ${x.aval}, rhs ${w.aval}`);
  }
  const window = ws.slice(2);
  const strides = perDim("conv", "strides", opts.strides, nd);
  const lhsDil = perDim("conv", "lhsDilation", opts.lhsDilation, nd);
  const rhsDil = perDim("conv", "rhsDilation", opts.rhsDilation, nd);
  const { y, out } = padInput("conv", x, window, strides, opts.padding ?? "VALID", lhsDil, rhsDil, 0);
  const K = prod(window);
  const P = prod(out);
  // patches [N, C, K, P] -> [N, G, C/G * K, P]; kernel [O, C/G, ...window] -> [G, O/G, C/G * K]
  const patches = reshape(windowPatches(y, { window, strides, dilation: rhsDil }), [N, G, (C / G) * K, P]);
  // The kernel is broadcast over the batch (it is small: O * C/G * K per sample) so that the
  // GEMM is batched over (N, G) and reads the patches and writes the output in place: [N, G, O/G,
  // CgK] . [N, G, CgK, P] -> [N, G, O/G, P], which is [N, O, ...out] without a transpose copy of
  // the patches or the output (and, in reverse mode, of their cotangents).
  const kernel = broadcastInDim(reshape(w, [G, O / G, (C / G) * K]), [N, G, O / G, (C / G) * K], [1, 2, 3]);
  const r = dotGeneral(kernel, patches, { lhsContract: [3], rhsContract: [2], lhsBatch: [0, 1], rhsBatch: [0, 1] });
  return reshape(r, [N, O, ...out]);
}

export interface ConvNdOpts extends ConvOpts {
  /** added to every output channel: shape [O] */
  bias?: X;
}

function convNd(name: string, nd: number, x: X, w: X, opts: ConvNdOpts): Tensor {
  const t = asTensor(x, name);
  if (t.aval.ndim !== nd + 2) throw new ShapeError(`${name}: input ${t.aval} must be [N, C, ${nd === 1 ? "L" : "H, W"}]`);
  const { bias, ...rest } = opts;
  const y = conv(t, w, rest);
  if (bias === undefined) return y;
  const b = asTensor(bias, name);
  const [yy, bb] = promote(name, [y, b]) as [Tensor, Tensor];
  const O = yy.aval.shape[1];
  if (bb.aval.ndim !== 1 || bb.aval.shape[0] !== O) throw new ShapeError(`${name}: bias ${bb.aval} must have shape [${O}] (the output channels)`);
  return add(yy, broadcastInDim(bb, yy.aval.shape, [1]));
}

/** nn.conv1d(x [N, C, L], w [O, C / groups, k], opts): lax.conv plus an optional bias. */
export function conv1d(x: X, w: X, opts: ConvNdOpts = {}): Tensor {
  return convNd("conv1d", 1, x, w, opts);
}

/** nn.conv2d(x [N, C, H, W], w [O, C / groups, kH, kW], opts): lax.conv plus an optional bias. */
export function conv2d(x: X, w: X, opts: ConvNdOpts = {}): Tensor {
  return convNd("conv2d", 2, x, w, opts);
}

export interface PoolOpts {
  /** default: the window (non-overlapping windows) */
  strides?: number | readonly number[];
  /** "VALID" (default), "SAME" or [lo, hi] per spatial dim; max pads with -Infinity, avg with 0 (counted) */
  padding?: Padding;
}

function pool(name: string, x: X, window: number | readonly number[], opts: PoolOpts, kind: "max" | "avg"): Tensor {
  const t = kind === "avg" ? (promote(name, [asTensor(x, name)], "float")[0] as Tensor) : asTensor(x, name);
  const xs = concreteShape(name, t);
  const nd = xs.length - 2;
  if (nd < 1) throw new ShapeError(`${name}: input ${t.aval} must be [N, C, ...spatial]`);
  const win = perDim(name, "window", window, nd);
  const strides = opts.strides === undefined ? win : perDim(name, "strides", opts.strides, nd);
  const ones = win.map(() => 1);
  const { y, out } = padInput(name, t, win, strides, opts.padding ?? "VALID", ones, ones, kind === "avg" ? 0 : t.aval.dtype === "int32" ? -2147483648 : -Infinity);
  const r = strides.every((s, i) => s === win[i]) ? tiledPool(y, win, out, kind) : treePool(y, win, strides, out, kind);
  return kind === "max" ? r : div(r, full([], r.aval.dtype, prod(win)));
}

/**
 * Non-overlapping windows (strides = window, the usual pooling): the padded input cropped to whole
 * windows and viewed as [N, C, o1, k1, o2, k2, ...] (a reshape, no copy), reduced over the k
 * axes. One reduce kernel forward; reduce_max's derivative is one fused mask (ties share the
 * cotangent evenly, as the pairwise tree does for 2 and 4 tied elements).
 */
function tiledPool(y: Tensor, win: number[], out: number[], kind: "max" | "avg"): Tensor {
  const ys = y.aval.shape as number[];
  const crop = slice(y, ys.map(() => 0), [ys[0]!, ys[1]!, ...out.map((o, i) => o * win[i]!)]);
  const tiled = reshape(crop, [ys[0]!, ys[1]!, ...out.flatMap((o, i) => [o, win[i]!])]);
  const axes = win.map((_, i) => 3 + 2 * i);
  return (kind === "max" ? reduceMax : reduceSum)(tiled, axes);
}

/** Overlapping (or gapped) windows: one strided slice per window offset, reduced pairwise. */
function treePool(y: Tensor, win: number[], strides: number[], out: number[], kind: "max" | "avg"): Tensor {
  const ones = win.map(() => 1);
  return pairwise(windowSlices(y, win, strides, ones, out), kind === "max" ? max : add);
}

/** nn.maxPool(x [N, C, ...spatial], window, {strides = window, padding}): the max over each window (NaN propagates). */
export function maxPool(x: X, window: number | readonly number[], opts: PoolOpts = {}): Tensor {
  return pool("maxPool", x, window, opts, "max");
}

/** nn.avgPool(x [N, C, ...spatial], window, {strides = window, padding}): the mean over each window (padding counted). */
export function avgPool(x: X, window: number | readonly number[], opts: PoolOpts = {}): Tensor {
  return pool("avgPool", x, window, opts, "avg");
}
