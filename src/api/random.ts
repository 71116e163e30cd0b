// The `random` namespace: JAX-style functional random numbers. A key is an int32 tensor of shape
// [2] (two uint32 words); nothing is stateful: the same key always gives the same numbers, and
// `split` / `foldIn` derive independent keys. Draws use the Threefry-2x32 primitives of
// prims/random.ts; distributions are composites of np functions, so they work under jit and
// vmap (a batch of keys [B, 2] gives a batch of draws [B, ...shape]).
//
// Bit compatibility: key(seed), split, foldIn, bits and float32 uniform follow JAX's
// partitionable Threefry scheme (jax_threefry_partitionable, the default since JAX 0.5; the tests
// check them against jax-js, which implements the same scheme). float64 uniforms use 53 random
// bits (JAX: 52); normal uses Box-Muller on two split keys (JAX: inverse erf), so its values
// differ from JAX's while having the same distribution.

import { type DType, isFloat } from "../core/dtype.js";
import { ArgumentError, DTypeError, ShapeError } from "../core/errors.js";
import { Tensor } from "../core/tensor.js";
import { randomBits, randomFoldIn, randomSplit } from "../prims/random.js";
import * as np from "./np/index.js";
import { type ArrayInput, asTensor, scalarTensor } from "./np/coerce.js";
import { dtypeArg, intArg, shapeArg } from "./np/args.js";
import { type Rule, checkOptions, is } from "../core/options.js";

type Shape = number | number[];
type Scalar = number | Tensor;

/** A PRNG key from an integer seed (JAX's PRNGKey: [high word, low word] of the seed). */
export function key(seed: number | Tensor): Tensor {
  if (seed instanceof Tensor) {
    if (seed.aval.dtype !== "int32" || seed.aval.ndim !== 0) {
      throw new ArgumentError(`random.key: a tensor seed must be an int32 scalar, got ${seed.aval}`);
    }
    return np.stack([np.zerosLike(seed), seed]);
  }
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
    throw new ArgumentError(`random.key: seed must be a safe integer, got ${JSON.stringify(seed)}`);
  }
  // seeds in int32 range have high word 0 (as JAX without x64); others use 64-bit two's complement
  const hi = seed >= -(2 ** 31) && seed < 2 ** 31 ? 0 : Math.floor(seed / 2 ** 32);
  const lo = seed - hi * 2 ** 32;
  return Tensor.fromData(Int32Array.of(hi | 0, lo | 0), [2]);
}
/** Alias of key (JAX's older name). */
export const PRNGKey = key;

function keyArg(name: string, k: unknown): Tensor {
  const t = k instanceof Tensor ? k : asTensor(k, name);
  if (t.aval.dtype !== "int32" || t.aval.ndim !== 1 || t.aval.shape[0] !== 2) {
    throw new ArgumentError(
      `${name}: expected a key (int32 tensor of shape [2] from random.key or random.split), got ${t.aval}` +
        (t.aval.ndim === 2 ? "; to use a batch of keys, vmap over them" : ""),
    );
  }
  return t;
}

function floatDType(name: string, dtype: unknown): DType {
  const d = dtypeArg(name, dtype) ?? "float32";
  if (!isFloat(d)) throw new DTypeError(`${name}: dtype must be float32 or float64, got ${d}`);
  return d;
}

/** split(key, num = 2): `num` new independent keys, shape [num, 2]. */
export function split(k: Tensor, num = 2): Tensor {
  return randomSplit(keyArg("random.split", k), intArg("random.split", "num", num, 0));
}

/** foldIn(key, data): a new key derived from key and an integer (e.g. a step counter). */
export function foldIn(k: Tensor, data: number | Tensor): Tensor {
  const kk = keyArg("random.foldIn", k);
  let d: Tensor;
  if (data instanceof Tensor) {
    if (data.aval.dtype !== "int32" || data.aval.ndim !== 0) throw new ArgumentError(`random.foldIn: data must be an int32 scalar, got ${data.aval}`);
    d = data;
  } else {
    // JAX folds in a uint32: accept the int32 and uint32 ranges (the same 32 bits), nothing wider
    const v = intArg("random.foldIn", "data", data, -(2 ** 31));
    if (v >= 2 ** 32) throw new ArgumentError(`random.foldIn: data must fit in 32 bits (int32 or uint32), got ${v}`);
    d = scalarTensor(v | 0, "int32");
  }
  return randomFoldIn(kk, d);
}

/** bits(key, shape): uniformly random int32 words (all 32 bits random). */
export function bits(k: Tensor, shape: Shape = []): Tensor {
  return randomBits(keyArg("random.bits", k), shapeArg("random.bits", shape), "int32");
}

export interface UniformOpts {
  minval?: Scalar;
  maxval?: Scalar;
  dtype?: DType;
}

const F64 = new Float64Array(1);
const I64 = new BigInt64Array(F64.buffer);
const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** The largest float of `dtype` below the finite number `x` (JAX's nextafter(x, -inf)). */
function nextBelowNumber(x: number, dtype: DType): number {
  if (dtype === "float32") {
    const f = Math.fround(x);
    if (f < x) return f;
    if (f === 0) return -(2 ** -149);
    F32[0] = f;
    I32[0] += f > 0 ? -1 : 1;
    return F32[0]!;
  }
  if (x === 0) return -(2 ** -1074);
  F64[0] = x;
  I64[0] += x > 0 ? -1n : 1n;
  return F64[0]!;
}

/**
 * The largest float of x's dtype below x, elementwise, as a composite of exact operations (for
 * bounds given as traced tensors): positive normals x * (1 - 2^-p); near zero x - (smallest
 * subnormal); negative normals -(nextUp(-x)) from the spacing below -x.
 */
function nextBelowTensor(x: Tensor): Tensor {
  const p = x.aval.dtype === "float64" ? 53 : 24;
  const minNormal = x.aval.dtype === "float64" ? 2 ** -1022 : 2 ** -126;
  const minSub = x.aval.dtype === "float64" ? 2 ** -1074 : 2 ** -149;
  const shrink = (y: Tensor) => np.multiply(y, 1 - 2 ** -p);
  const y = np.negative(x);
  const d = np.subtract(y, shrink(y)); // spacing below y (half the spacing above when y is a power of 2)
  const up = np.add(y, np.where(np.equal(np.multiply(d, 2 ** p), y), np.multiply(d, 2), d));
  const small = np.lessEqual(np.abs(x), minNormal);
  return np.where(small, np.subtract(x, minSub), np.where(np.greater(x, 0), shrink(x), np.negative(up)));
}

/** A uniform bound as a tensor of `dtype` (a JS number is rounded to dtype, never through float32). */
function boundArg(what: string, v: unknown, dtype: DType): Tensor {
  if (typeof v === "number" && !Number.isFinite(v)) throw new ArgumentError(`random.uniform: ${what} must be finite, got ${v}`);
  return typeof v === "number" ? scalarTensor(v, dtype) : np.astype(asTensor(v, "random.uniform"), dtype);
}

/**
 * uniform(key, shape = [], {minval = 0, maxval = 1, dtype = float32}): uniform in [minval, maxval).
 * The range is computed in `dtype` (the bounds are rounded to it first), and a sample that rounds
 * up to maxval is clamped to the largest float below it (as JAX), so every sample is in range.
 */
export function uniform(k: Tensor, shape: Shape = [], opts: UniformOpts = {}): Tensor {
  checkOptions("random.uniform", opts, { minval: numberOrTensor, maxval: numberOrTensor, dtype: is.any });
  const s = shapeArg("random.uniform", shape);
  const dtype = floatDType("random.uniform", opts.dtype);
  const u = randomBits(keyArg("random.uniform", k), s, dtype);
  const { minval = 0, maxval = 1 } = opts;
  if (minval === 0 && maxval === 1) return u;
  const lo = boundArg("minval", minval, dtype);
  const hi = boundArg("maxval", maxval, dtype);
  const scalar = (t: Tensor) => (t.isConcrete && t.size === 1 ? t.item() : undefined);
  const [loN, hiN] = [scalar(lo), scalar(hi)];
  if (loN !== undefined && hiN !== undefined && !(loN < hiN)) {
    throw new ArgumentError(`random.uniform: minval must be below maxval, got [${minval}, ${maxval}) (in ${dtype}: [${loN}, ${hiN}))`);
  }
  // lo + u * (hi - lo); when hi - lo overflows, lo * (1 - u) + hi * u (no intermediate beyond the bounds)
  const span = np.subtract(hi, lo);
  const direct = np.add(np.multiply(u, span), lo);
  const weighted = () => np.add(np.multiply(lo, np.subtract(1, u)), np.multiply(hi, u));
  const spanN = scalar(span);
  const out = spanN === undefined ? np.where(np.isfinite(span), direct, weighted()) : Number.isFinite(spanN) ? direct : weighted();
  const below = hiN !== undefined ? scalarTensor(nextBelowNumber(hiN, dtype), dtype) : nextBelowTensor(hi);
  return np.broadcastTo(np.maximum(lo, np.where(np.less(out, hi), out, below)), s);
}

const numberOrTensor: Rule = (v) => (typeof v === "number" || v instanceof Tensor ? undefined : "a number or a Tensor");
/** normal(key, shape = [], {dtype = float32}): standard normal samples (Box-Muller). */
export function normal(k: Tensor, shape: Shape = [], opts: { dtype?: DType } = {}): Tensor {
  checkOptions("random.normal", opts, { dtype: is.any });
  const s = shapeArg("random.normal", shape);
  const dtype = floatDType("random.normal", opts.dtype);
  const keys = split(keyArg("random.normal", k), 2);
  const u1 = randomBits(np.index(keys, 0), s, dtype);
  const u2 = randomBits(np.index(keys, 1), s, dtype);
  // 1 - u1 is in (0, 1], so the log is finite
  const radius = np.sqrt(np.multiply(-2, np.log(np.subtract(1, u1))));
  return np.multiply(radius, np.cos(np.multiply(2 * Math.PI, u2)));
}

/** bernoulli(key, p = 0.5, shape = p's shape): true with probability p. */
export function bernoulli(k: Tensor, p: Scalar | ArrayInput = 0.5, shape?: Shape): Tensor {
  const pt = asTensor(p, "random.bernoulli");
  const s = shape === undefined ? (pt.aval.shape as number[]) : shapeArg("random.bernoulli", shape);
  const dtype = isFloat(pt.aval.dtype) && !pt.aval.weak ? pt.aval.dtype : "float32";
  return np.less(uniform(k, s, { dtype }), pt);
}

/**
 * randint(key, shape, minval, maxval, {dtype = int32}): uniform integers in [minval, maxval),
 * from 53-bit uniforms (bias below 2^-22 for any int32 range).
 */
export function randint(k: Tensor, shape: Shape, minval: Scalar, maxval: Scalar, opts: { dtype?: DType } = {}): Tensor {
  checkOptions("random.randint", opts, { dtype: is.any });
  const s = shapeArg("random.randint", shape);
  const dtype = dtypeArg("random.randint", opts.dtype) ?? "int32";
  if (dtype !== "int32") throw new DTypeError(`random.randint: dtype must be int32, got ${dtype}`);
  // bounds go to float64 directly (a JS number through float32 would round 2^31 - 1 up to 2^31)
  const bound = (what: string, v: unknown, max: number): Tensor => {
    if (typeof v !== "number") return np.astype(asTensor(v, "random.randint"), "float64");
    if (!Number.isInteger(v) || v < -(2 ** 31) || v > max) throw new ArgumentError(`random.randint: ${what} must be an integer in [-2^31, ${max}], got ${v}`);
    return scalarTensor(v, "float64");
  };
  const lo = bound("minval", minval, 2 ** 31 - 1);
  const hi = bound("maxval", maxval, 2 ** 31);
  if (typeof minval === "number" && typeof maxval === "number" && !(minval < maxval)) {
    throw new ArgumentError(`random.randint: minval must be below maxval, got [${minval}, ${maxval})`);
  }
  const u = randomBits(keyArg("random.randint", k), s, "float64");
  // u <= 1 - 2^-53, so floor(u * span) <= span - 1 exactly for any span <= 2^32
  const span = np.maximum(np.subtract(hi, lo), 0);
  return np.broadcastTo(np.astype(np.add(np.floor(np.multiply(u, span)), lo), "int32"), s);
}

/** Ranks that sort `u` ascending (ties by position): perm[rank[i]] = i gives the sorting order. */
function sortingPermutation(u: Tensor, n: number): Tensor {
  if (u.isConcrete) {
    const d = u.data;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a]! - d[b]! || a - b);
    return Tensor.fromData(Int32Array.from(order), [n]);
  }
  // traced: rank_i = #{j : u_j < u_i or (u_j == u_i and j < i)}, then invert by a take of an argsort-free scatter
  const ui = np.expandDims(u, 1);
  const uj = np.expandDims(u, 0);
  const idx = np.arange(n, { dtype: "int32" });
  const before = np.logicalOr(np.less(uj, ui), np.logicalAnd(np.equal(uj, ui), np.less(np.expandDims(idx, 0), np.expandDims(idx, 1))));
  const rank = np.sum(before, { axis: 1 });
  // perm[r] = sum_i i * [rank_i == r]
  return np.sum(np.multiply(np.astype(np.equal(np.expandDims(rank, 0), np.expandDims(idx, 1)), "int32"), np.expandDims(idx, 0)), { axis: 1 });
}

/**
 * permutation(key, n | x, {axis = 0}): a random permutation of arange(n), or x shuffled along
 * axis. With a concrete key this sorts in JS; with a traced key (inside jit/vmap) it ranks with
 * O(n^2) comparisons, giving the same result.
 */
export function permutation(k: Tensor, x: number | Tensor | ArrayInput, opts: { axis?: number } = {}): Tensor {
  checkOptions("random.permutation", opts, { axis: is.int() });
  const kk = keyArg("random.permutation", k);
  const t = typeof x === "number" ? np.arange(intArg("random.permutation", "n", x, 0), { dtype: "int32" }) : asTensor(x, "random.permutation");
  if (t.aval.ndim === 0) throw new ShapeError(`random.permutation: x must have at least one axis, got ${t.aval}`);
  const axis = opts.axis ?? 0;
  const n = t.aval.shape[np.normalizeAxes("random.permutation", axis, t.aval.ndim)[0]!] as number;
  const perm = sortingPermutation(randomBits(kk, [n], "float64"), n);
  return np.take(t, perm, { axis });
}

/** gumbel(key, shape, {dtype}): standard Gumbel samples -log(-log(u)). */
export function gumbel(k: Tensor, shape: Shape = [], opts: { dtype?: DType } = {}): Tensor {
  checkOptions("random.gumbel", opts, { dtype: is.any });
  const dtype = floatDType("random.gumbel", opts.dtype);
  const u = uniform(k, shape, { dtype, minval: dtype === "float32" ? 1.1754943508222875e-38 : 2.2250738585072014e-308, maxval: 1 });
  return np.negative(np.log(np.negative(np.log(u))));
}

/** exponential(key, shape, {dtype}): samples with density exp(-x), x >= 0. */
export function exponential(k: Tensor, shape: Shape = [], opts: { dtype?: DType } = {}): Tensor {
  checkOptions("random.exponential", opts, { dtype: is.any });
  const u = uniform(k, shape, { dtype: floatDType("random.exponential", opts.dtype) });
  return np.negative(np.log1p(np.negative(u)));
}

/** categorical(key, logits, {axis = -1}): class indices sampled with probabilities softmax(logits) (Gumbel-max). */
export function categorical(k: Tensor, logits: Tensor | ArrayInput, opts: { axis?: number } = {}): Tensor {
  checkOptions("random.categorical", opts, { axis: is.int() });
  const l = asTensor(logits, "random.categorical");
  const dtype = isFloat(l.aval.dtype) ? l.aval.dtype : "float32";
  const g = gumbel(k, l.aval.shape as number[], { dtype });
  return np.argmax(np.add(l, g), { axis: opts.axis ?? -1 });
}
