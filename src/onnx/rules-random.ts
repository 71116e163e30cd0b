// ONNX rules of the random-number primitives: Threefry-2x32 (20 rounds) as a graph of int64
// operations on uint32 values, bit-exact with prims/random.ts. ONNX's BitShift is unsigned-only
// and ONNX Runtime lacks uint32 Add, so every 32-bit word lives in an int64 in [0, 2^32):
// addition is Add + BitwiseAnd(2^32 - 1), rotation is (x * 2^r mod 2^32) | (x / 2^(32 - r))
// (x * 2^r < 2^63 for r < 32), xor is BitwiseXor. Counters are element indices (Range).

import type { Shape } from "../core/shape.js";
import { shapeSize } from "../core/shape.js";
import { THREEFRY_ROTATIONS } from "../prims/random.js";
import type { OnnxRule } from "./emit.js";
import type { GraphBuilder } from "./graph.js";
import { attr } from "./graph.js";
import { cast } from "./rules-elementwise.js";

/** The rotation table of prims/random.ts (the very array its Threefry runtime uses). */
const ROT = THREEFRY_ROTATIONS;
/** Threefry's key-schedule parity constant (Salmon et al., SC'11; the same as in $threefry). */
const PARITY = 0x1bd11bda;
const MASK = 2 ** 32 - 1;

/** uint32 arithmetic on int64 values in [0, 2^32). */
function u32(g: GraphBuilder) {
  const k = (v: number) => g.scalar("int64", v);
  const wrap = (x: string) => g.op("BitwiseAnd", [x, k(MASK)]);
  return {
    k,
    add: (a: string, b: string) => wrap(g.op("Add", [a, b])),
    xor: (a: string, b: string) => g.op("BitwiseXor", [a, b]),
    rotl: (x: string, r: number) => g.op("BitwiseOr", [wrap(g.op("Mul", [x, k(2 ** r)])), g.op("Div", [x, k(2 ** (32 - r))])]),
    /** int32 bit patterns -> their uint32 values */
    fromInt32: (x: string) => wrap(cast(g, x, "int32", "int64")),
    /** uint32 values -> int32 with the same bits */
    toInt32: (x: string) => cast(g, g.op("Where", [g.op("GreaterOrEqual", [x, k(2 ** 31)]), g.op("Sub", [x, k(2 ** 32)]), x]), "int64", "int32"),
  };
}

/** Threefry-2x32 of key words (k0, k1) and counter words (c0, c1), all broadcastable. */
function threefry(g: GraphBuilder, k0: string, k1: string, c0: string, c1: string): [string, string] {
  const u = u32(g);
  const ks = [k0, k1, u.xor(u.xor(k0, k1), u.k(PARITY))];
  let x0 = u.add(c0, ks[0]!);
  let x1 = u.add(c1, ks[1]!);
  for (let grp = 0; grp < 5; grp++) {
    for (const r of ROT[grp % 2]!) {
      x0 = u.add(x0, x1);
      x1 = u.xor(u.rotl(x1, r), x0);
    }
    x0 = u.add(x0, ks[(grp + 1) % 3]!);
    x1 = u.add(u.add(x1, ks[(grp + 2) % 3]!), u.k(grp + 1));
  }
  return [x0, x1];
}

/** The key words of key [...K, 2] as uint32 values of shape [...K, 1] (ready to broadcast). */
function keyWords(g: GraphBuilder, key: string): [string, string] {
  const u = u32(g);
  const word = (i: number) => u.fromInt32(g.op("Slice", [key, g.ints([i]), g.ints([i + 1]), g.ints([-1])]));
  return [word(0), word(1)];
}

/** Counters (0, i) for i in [0, n): two int64 vectors of length n. */
function counters(g: GraphBuilder, n: string): [string, string] {
  const i = g.op("Range", [g.scalar("int64", 0), n, g.scalar("int64", 1)]);
  // element indices stay below 2^32 (a draw that large would not fit in memory), so c0 = 0
  return [g.scalar("int64", 0), i];
}

const randomBits: OnnxRule = ({ g, ins: [key], inAvals: [ka], params }) => {
  const shape: Shape = params.shape;
  const K = ka!.shape.slice(0, -1);
  const [k0, k1] = keyWords(g, key!);
  const [c0, c1] = counters(g, g.dimScalar(shapeSize(shape)));
  const [b1, b2] = threefry(g, k0, k1, c0, c1);
  const u = u32(g);
  let v: string;
  if (params.dtype === "int32") v = u.toInt32(u.xor(b1, b2));
  else if (params.dtype === "float32") {
    // the 23 high bits as the mantissa of a float in [1, 2), minus 1: exactly (bits >>> 9) * 2^-23
    const m = g.op("Div", [u.xor(b1, b2), u.k(512)]);
    v = g.op("Mul", [cast(g, m, "int64", "float32"), g.scalar("float32", 2 ** -23)]);
  } else {
    // the top 53 bits of (b1 << 32 | b2), exact in a double
    const top = g.op("Add", [g.op("Mul", [b1, u.k(2 ** 21)]), g.op("Div", [b2, u.k(2048)])]);
    v = g.op("Mul", [cast(g, top, "int64", "float64"), g.scalar("float64", 2 ** -53)]);
  }
  return [g.op("Reshape", [v, g.shape([...K, ...shape])], { allowzero: attr.int(1) })];
};

const randomSplit: OnnxRule = ({ g, ins: [key], params }) => {
  const [k0, k1] = keyWords(g, key!);
  const [c0, c1] = counters(g, g.scalar("int64", params.num));
  const [x0, x1] = threefry(g, k0, k1, c0, c1);
  const u = u32(g);
  // [...K, num] words -> [...K, num, 2]
  const last = (x: string) => g.op("Unsqueeze", [u.toInt32(x), g.ints([-1])]);
  return [g.op("Concat", [last(x0), last(x1)], { axis: attr.int(-1) })];
};

const randomFoldIn: OnnxRule = ({ g, ins: [key, data] }) => {
  const u = u32(g);
  const [k0, k1] = keyWords(g, key!);
  // threefry(key, (0, data)) per key: data [...K] -> [...K, 1] to line up with the key words
  const d = g.op("Unsqueeze", [u.fromInt32(data!), g.ints([-1])]);
  const [x0, x1] = threefry(g, k0, k1, g.scalar("int64", 0), d);
  return [g.op("Concat", [u.toInt32(x0), u.toInt32(x1)], { axis: attr.int(-1) })];
};

export const RANDOM_RULES = {
  random_bits: randomBits,
  random_split: randomSplit,
  random_fold_in: randomFoldIn,
} satisfies Record<string, OnnxRule>;
