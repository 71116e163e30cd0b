// Counter-based random numbers (JAX's functional PRNG): Threefry-2x32 with 20 rounds, keys as
// int32 tensors of shape [..., 2] (bit patterns of two uint32 words). Element i of a draw is
// threefry(key, (hi(i), lo(i))) of its row-major index i, as in JAX's "partitionable" mode, so
// every element depends only on its key and its index. Primitives (all non-differentiable):
//   random_bits   key [...K, 2] -> [...K, ...shape]: int32 bits, or uniform floats in [0, 1)
//   random_split  key [...K, 2] -> [...K, num, 2]
//   random_fold_in (key [...K, 2], data int32 [...K]) -> [...K, 2]
// Leading key dimensions [...K] are what the vmap rules use: a batch of keys gives a batch of draws.

import { ShapedArray } from "../core/aval.js";
import { type DType, allocArray, isDType } from "../core/dtype.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import { type Shape, concreteSize, shapeEq, shapeToString } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { moveBatchAxis } from "../rules/helpers.js";
import { Zero } from "../rules/zero.js";
import { definePrimitive, type Primitive } from "./primitive.js";

const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;

/**
 * Threefry-2x32, 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11;
 * the same function as jax.random's threefry2x32). Inputs and outputs are uint32 values.
 */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks0 = k0 >>> 0;
  const ks1 = k1 >>> 0;
  const ks2 = (ks0 ^ ks1 ^ 0x1bd11bda) >>> 0;
  const ks = [ks0, ks1, ks2];
  const rot = [
    [13, 15, 26, 6],
    [17, 29, 16, 24],
  ];
  let x0 = (c0 + ks0) >>> 0;
  let x1 = (c1 + ks1) >>> 0;
  for (let g = 0; g < 5; g++) {
    for (const r of rot[g % 2]!) {
      x0 = (x0 + x1) >>> 0;
      x1 = (rotl(x1, r) ^ x0) >>> 0;
    }
    // key injection after every 4 rounds
    x0 = (x0 + ks[(g + 1) % 3]!) >>> 0;
    x1 = (x1 + ks[(g + 2) % 3]! + g + 1) >>> 0;
  }
  return [x0, x1];
}

const TWO32 = 4294967296;

/** Checks a key aval [...K, 2] int32 and returns its leading dims. */
function keyBatchShape(name: string, key: ShapedArray): Shape {
  if (key.dtype !== "int32") throw new DTypeError(`${name}: a key must be int32 (from random.key), got ${key}`);
  if (key.ndim === 0 || key.shape[key.ndim - 1] !== 2) {
    throw new ShapeError(`${name}: a key must have shape [..., 2] (from random.key / random.split), got ${key}`);
  }
  return key.shape.slice(0, -1);
}

const zeroJvp = (prim: () => Primitive<any>) => (primals: Tensor[], _t: unknown, params: any) => {
  const outs = prim().bind(primals, params);
  return [outs, outs.map((o) => new Zero(o.aval))] as [Tensor[], Zero[]];
};

// ---------------------------------------------------------------- random_bits
export interface RandomBitsParams {
  shape: number[];
  /** int32: raw 32-bit words; float32/float64: uniform in [0, 1) */
  dtype: DType;
}

export const randomBitsP: Primitive<RandomBitsParams> = definePrimitive<RandomBitsParams>({
  name: "random_bits",
  traits: { nonDifferentiable: true },
  abstractEval: ([key], { shape, dtype }) => {
    const k = keyBatchShape("random_bits", key!);
    if (!isDType(dtype) || dtype === "bool") throw new DTypeError(`random_bits: dtype must be int32, float32 or float64, got ${dtype}`);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new ShapeError(`random_bits: invalid shape ${shapeToString(shape)}`);
    return [new ShapedArray([...k, ...shape], dtype)];
  },
  impl: ([key], { shape, dtype }) => {
    const kd = key!.data;
    const nKeys = kd.length / 2;
    const n = concreteSize(shape);
    const out = allocArray(dtype, nKeys * n);
    for (let k = 0; k < nKeys; k++) {
      const k0 = kd[2 * k]!;
      const k1 = kd[2 * k + 1]!;
      for (let i = 0; i < n; i++) {
        const [b1, b2] = threefry2x32(k0, k1, Math.floor(i / TWO32), i >>> 0);
        const j = k * n + i;
        if (dtype === "int32") out[j] = (b1 ^ b2) | 0;
        // float32: the 23 high bits of a word as the mantissa of a float in [1, 2), minus 1 (as JAX)
        else if (dtype === "float32") out[j] = ((b1 ^ b2) >>> 9) * 2 ** -23;
        // float64: the top 53 bits of the 64-bit word (b1 << 32 | b2), exact in a double
        else out[j] = (b1 * 2 ** 21 + (b2 >>> 11)) * 2 ** -53;
      }
    }
    return [out];
  },
  jvp: zeroJvp(() => randomBitsP),
  batch: ([key], [d], params, size) => [[randomBitsP.bind1([moveBatchAxis(key!, d, 0, size)], params)], [0]],
});

// ---------------------------------------------------------------- random_split
export interface RandomSplitParams {
  num: number;
}

export const randomSplitP: Primitive<RandomSplitParams> = definePrimitive<RandomSplitParams>({
  name: "random_split",
  traits: { nonDifferentiable: true },
  abstractEval: ([key], { num }) => {
    const k = keyBatchShape("random_split", key!);
    if (!Number.isInteger(num) || num < 0) throw new ShapeError(`random_split: num must be a non-negative integer, got ${num}`);
    return [new ShapedArray([...k, num, 2], "int32")];
  },
  impl: ([key], { num }) => {
    const kd = key!.data;
    const nKeys = kd.length / 2;
    const out = allocArray("int32", nKeys * num * 2);
    for (let k = 0; k < nKeys; k++) {
      for (let i = 0; i < num; i++) {
        const [y0, y1] = threefry2x32(kd[2 * k]!, kd[2 * k + 1]!, Math.floor(i / TWO32), i >>> 0);
        out[(k * num + i) * 2] = y0 | 0;
        out[(k * num + i) * 2 + 1] = y1 | 0;
      }
    }
    return [out];
  },
  jvp: zeroJvp(() => randomSplitP),
  batch: ([key], [d], params, size) => [[randomSplitP.bind1([moveBatchAxis(key!, d, 0, size)], params)], [0]],
});

// ---------------------------------------------------------------- random_fold_in
export const randomFoldInP: Primitive = definePrimitive({
  name: "random_fold_in",
  traits: { nonDifferentiable: true },
  abstractEval: ([key, data]) => {
    const k = keyBatchShape("random_fold_in", key!);
    if (data!.dtype !== "int32") throw new DTypeError(`random_fold_in: data must be int32, got ${data}`);
    if (!shapeEq(k, data!.shape)) {
      throw new ShapeError(`random_fold_in: data ${data} must have the key's leading shape ${shapeToString(k)} (key ${key})`);
    }
    return [new ShapedArray(key!.shape, "int32")];
  },
  impl: ([key, data]) => {
    const kd = key!.data;
    const dd = data!.data;
    const out = allocArray("int32", kd.length);
    for (let k = 0; k < dd.length; k++) {
      // the same as element `data` of a split: threefry(key, (0, data))
      const [y0, y1] = threefry2x32(kd[2 * k]!, kd[2 * k + 1]!, 0, dd[k]! >>> 0);
      out[2 * k] = y0 | 0;
      out[2 * k + 1] = y1 | 0;
    }
    return [out];
  },
  jvp: zeroJvp(() => randomFoldInP),
  batch: ([key, data], [dk, dd], _p, size) => [
    [randomFoldInP.bind1([moveBatchAxis(key!, dk, 0, size), moveBatchAxis(data!, dd, 0, size)], {})],
    [0],
  ],
});

// ----- typed wrappers -----
export function randomBits(key: Tensor, shape: number[], dtype: DType): Tensor {
  return randomBitsP.bind1([key], { shape: [...shape], dtype });
}
export function randomSplit(key: Tensor, num: number): Tensor {
  return randomSplitP.bind1([key], { num });
}
export function randomFoldIn(key: Tensor, data: Tensor): Tensor {
  return randomFoldInP.bind1([key, data], {});
}
