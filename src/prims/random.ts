// Counter-based random numbers (JAX's functional PRNG): Threefry-2x32 with 20 rounds, keys as
// int32 tensors of shape [..., 2] (bit patterns of two uint32 words). Element i of a draw is
// threefry(key, (hi(i), lo(i))) of its row-major index i, as in JAX's "partitionable" mode, so
// every element depends only on its key and its index. Primitives (all non-differentiable):
//   random_bits   key [...K, 2] -> [...K, ...shape]: int32 bits, or uniform floats in [0, 1)
//   random_split  key [...K, 2] -> [...K, num, 2]
//   random_fold_in (key [...K, 2], data int32 [...K]) -> [...K, 2]
// Leading key dimensions [...K] are what the vmap rules use: a batch of keys gives a batch of draws.

import { ShapedArray } from "../core/aval.js";
import { type DType, type TypedArray, allocArray, isDType } from "../core/dtype.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import { type Dim, type Shape, SymDim, shapeEq, shapeToString } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { moveBatchAxis } from "./rule-helpers.js";
import { Zero } from "../rules/zero.js";
import { definePrimitive, type Primitive } from "./primitive.js";
import { defineRuntime } from "../core/runtime-text.js";

/**
 * Threefry-2x32, 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11;
 * the same function as jax.random's threefry2x32), and the three kernels built on it, written once
 * as a self-contained runtime (core/runtime-text.ts): the reference implementations below call it
 * in-process, and exported modules embed its text (RANDOM_JS, via Primitive.standalone), so both
 * run the same code and loading adgen evaluates no string. Inputs and outputs of threefry are
 * uint32 values; it leaves its result in TF. Kernels take (ins, outs, params) on typed arrays of
 * exactly the operands' sizes.
 */
function randomRuntime() {
  const TF = [0, 0];
  const ROT = [[13, 15, 26, 6], [17, 29, 16, 24]];
  const TWO_POW_32 = 4294967296;
  const TWO_POW_M23 = 1.1920928955078125e-7; // 2^-23
  const TWO_POW_21 = 2097152;
  const TWO_POW_M53 = 1.1102230246251565e-16; // 2^-53
  function threefry(k0: number, k1: number, c0: number, c1: number): void {
    const ks0 = k0 >>> 0, ks1 = k1 >>> 0, ks2 = (ks0 ^ ks1 ^ 0x1bd11bda) >>> 0;
    const ks = [ks0, ks1, ks2];
    let x0 = (c0 + ks0) >>> 0, x1 = (c1 + ks1) >>> 0;
    for (let g = 0; g < 5; g++) {
      const rot = ROT[g % 2]!;
      for (let q = 0; q < 4; q++) {
        const r = rot[q]!;
        x0 = (x0 + x1) >>> 0;
        x1 = (((x1 << r) | (x1 >>> (32 - r))) ^ x0) >>> 0;
      }
      x0 = (x0 + ks[(g + 1) % 3]!) >>> 0; // key injection after every 4 rounds
      x1 = (x1 + ks[(g + 2) % 3]! + g + 1) >>> 0;
    }
    TF[0] = x0;
    TF[1] = x1;
  }
  function randomBits(ins: TypedArray[], outs: TypedArray[], p: { shape: number[]; dtype: string }): void {
    const kd = ins[0]!, out = outs[0]!, nKeys = kd.length / 2;
    let n = 1;
    for (let d = 0; d < p.shape.length; d++) n *= p.shape[d]!;
    for (let k = 0; k < nKeys; k++) {
      for (let i = 0; i < n; i++) {
        threefry(kd[2 * k]!, kd[2 * k + 1]!, Math.floor(i / TWO_POW_32), i >>> 0);
        const b1 = TF[0]!, b2 = TF[1]!, j = k * n + i;
        if (p.dtype === "int32") out[j] = (b1 ^ b2) | 0;
        // float32: the 23 high bits of a word as the mantissa of a float in [1, 2), minus 1 (as JAX)
        else if (p.dtype === "float32") out[j] = ((b1 ^ b2) >>> 9) * TWO_POW_M23;
        // float64: the top 53 bits of the 64-bit word (b1 << 32 | b2), exact in a double
        else out[j] = (b1 * TWO_POW_21 + (b2 >>> 11)) * TWO_POW_M53;
      }
    }
  }
  function randomSplit(ins: TypedArray[], outs: TypedArray[], p: { num: number }): void {
    const kd = ins[0]!, out = outs[0]!, nKeys = kd.length / 2, num = p.num;
    for (let k = 0; k < nKeys; k++) {
      for (let i = 0; i < num; i++) {
        threefry(kd[2 * k]!, kd[2 * k + 1]!, Math.floor(i / TWO_POW_32), i >>> 0);
        out[(k * num + i) * 2] = TF[0]! | 0;
        out[(k * num + i) * 2 + 1] = TF[1]! | 0;
      }
    }
  }
  function randomFoldIn(ins: TypedArray[], outs: TypedArray[]): void {
    const kd = ins[0]!, dd = ins[1]!, out = outs[0]!;
    for (let k = 0; k < dd.length; k++) {
      // the same as element data[k] of a split: threefry(key, (0, data))
      threefry(kd[2 * k]!, kd[2 * k + 1]!, 0, dd[k]! >>> 0);
      out[2 * k] = TF[0]! | 0;
      out[2 * k + 1] = TF[1]! | 0;
    }
  }
  return { TF, ROT, threefry, randomBits, randomSplit, randomFoldIn };
}

type Kernel = (ins: TypedArray[], outs: TypedArray[], params: unknown) => void;
const RANDOM = defineRuntime(randomRuntime, []);
/** Declares $threefry, $TF, $ROT, $randomBits, $randomSplit and $randomFoldIn in generated code. */
export const RANDOM_JS = RANDOM.text;
/** Threefry's rotation table (the ONNX export builds the same rounds as a graph; do not modify). */
export const THREEFRY_ROTATIONS: number[][] = RANDOM.value.ROT;
const R = {
  threefry: RANDOM.value.threefry,
  TF: RANDOM.value.TF,
  bits: RANDOM.value.randomBits as Kernel,
  split: RANDOM.value.randomSplit as Kernel,
  foldIn: RANDOM.value.randomFoldIn as Kernel,
};

/** Threefry-2x32 of key (k0, k1) and counter (c0, c1), as two uint32 values. */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number): [number, number] {
  R.threefry(k0, k1, c0, c1);
  return [R.TF[0]!, R.TF[1]!];
}

/** Runs one of the kernels above on fresh output arrays. */
function run(kernel: Kernel, ins: Tensor[], params: unknown, outs: ShapedArray[]): TypedArray[] {
  const res = outs.map((o) => allocArray(o.dtype, o.size as number));
  kernel(ins.map((t) => t.data), res, params);
  return res;
}



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
  /** may hold symbolic dimensions (a draw shaped like a shape-polymorphic argument) */
  shape: Dim[];
  /** int32: raw 32-bit words; float32/float64: uniform in [0, 1) */
  dtype: DType;
}

export const randomBitsP: Primitive<RandomBitsParams> = definePrimitive<RandomBitsParams>({
  name: "random_bits",
  traits: { nonDifferentiable: true },
  abstractEval: ([key], { shape, dtype }) => {
    const k = keyBatchShape("random_bits", key!);
    if (!isDType(dtype) || dtype === "bool") throw new DTypeError(`random_bits: dtype must be int32, float32 or float64, got ${dtype}`);
    if (!shape.every((d) => d instanceof SymDim || (Number.isInteger(d) && d >= 0))) throw new ShapeError(`random_bits: invalid shape ${shapeToString(shape)}`);
    return [new ShapedArray([...k, ...shape], dtype)];
  },
  impl: (ins, params, outs) => run(R.bits, ins, params, outs),
  standalone: { source: RANDOM_JS, fn: "$randomBits" },
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
  impl: (ins, params, outs) => run(R.split, ins, params, outs),
  standalone: { source: RANDOM_JS, fn: "$randomSplit" },
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
  impl: (ins, params, outs) => run(R.foldIn, ins, params, outs),
  standalone: { source: RANDOM_JS, fn: "$randomFoldIn" },
  jvp: zeroJvp(() => randomFoldInP),
  batch: ([key, data], [dk, dd], _p, size) => [
    [randomFoldInP.bind1([moveBatchAxis(key!, dk, 0, size), moveBatchAxis(data!, dd, 0, size)], {})],
    [0],
  ],
});

// ----- typed wrappers -----
export function randomBits(key: Tensor, shape: Dim[], dtype: DType): Tensor {
  return randomBitsP.bind1([key], { shape: [...shape], dtype });
}
export function randomSplit(key: Tensor, num: number): Tensor {
  return randomSplitP.bind1([key], { num });
}
export function randomFoldIn(key: Tensor, data: Tensor): Tensor {
  return randomFoldInP.bind1([key, data], {});
}
