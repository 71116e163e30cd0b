// ONNX rules of reductions, cumulative sums / products, contraction and data movement (reshape,
// transpose, broadcast, pad, slice, rev, gather, scatter_add). Shapes may be symbolic: target
// shapes are built at run time from the symbols' values (GraphBuilder.shape). Semantics follow adgen where ONNX is looser:
// reduce_max/min and argmax/argmin propagate NaN (the first NaN wins), gather/scatter_add clamp
// their indices, pad supports interior padding (interleave by concat + reshape, then crop).

import type { ShapedArray } from "../core/aval.js";
import { isFloat } from "../core/dtype.js";
import { type Dim, type Shape, dimAdd, dimMul, shapeSize } from "../core/shape.js";
import type { EmitCtx, OnnxRule } from "./emit.js";
import { attr, elemOf } from "./graph.js";
import type { GraphBuilder } from "./graph.js";
import { cast } from "./rules-elementwise.js";
import { ArgumentError } from "../core/errors.js";
import { windowOffsets } from "../prims/windows.js";

const isFloatAval = (a: ShapedArray) => isFloat(a.dtype);

function reduce(op: string): OnnxRule {
  return ({ g, ins: [x], inAvals: [a], params }) => {
    const axes: number[] = params.axes;
    if (axes.length === 0) return [g.op("Identity", [x!])];
    const run = (v: string) => g.op(op, [v, g.ints(axes)], { keepdims: attr.int(0) });
    if (a!.dtype === "bool") return [cast(g, run(cast(g, x!, "bool", "int32")), "int32", "bool")];
    const r = run(x!);
    if (!isFloatAval(a!) || op === "ReduceSum" || op === "ReduceProd") return [r];
    // ONNX leaves NaN handling of max/min open: any NaN in the block gives NaN
    const anyNaN = g.op("ReduceMax", [cast(g, g.op("IsNaN", [x!]), "bool", "int32"), g.ints(axes)], { keepdims: attr.int(0) });
    return [g.op("Where", [cast(g, anyNaN, "int32", "bool"), g.scalar(elemOf(a!.dtype), NaN), r])];
  };
}

/** argmax/argmin: the first extreme element, or the first NaN if there is one (as adgen). */
function argReduce(op: "ArgMax" | "ArgMin"): OnnxRule {
  return ({ g, ins: [x], inAvals: [a], params }) => {
    const opts = { axis: attr.int(params.axis), keepdims: attr.int(0), select_last_index: attr.int(0) };
    const src = a!.dtype === "bool" ? cast(g, x!, "bool", "int32") : x!;
    let r = g.op(op, [src], opts);
    if (isFloatAval(a!)) {
      const nan = cast(g, g.op("IsNaN", [x!]), "bool", "int32");
      const firstNaN = g.op("ArgMax", [nan], opts);
      const anyNaN = g.op("ReduceMax", [nan, g.ints([params.axis])], { keepdims: attr.int(0) });
      r = g.op("Where", [cast(g, anyNaN, "int32", "bool"), firstNaN, r]);
    }
    return [cast(g, r, "int64", "int32")];
  };
}

const LETTERS = "abcdefghijklmnopqrstuvwxyz";

/** dot_general: MatMul when it is a (batched) matrix product in standard layout, else Einsum. */
const dotGeneral: OnnxRule = ({ g, ins: [x, y], inAvals: [a, b], params }) => {
  const { lhsContract: lc, rhsContract: rc, lhsBatch: lb, rhsBatch: rb } = params as Record<string, number[]>;
  const nb = lb!.length;
  const std = (ax: number[]) => ax.every((v, i) => v === i);
  if (std(lb!) && std(rb!) && a!.ndim === nb + 2 && b!.ndim === nb + 2 && lc!.length === 1 && lc![0] === nb + 1 && rc![0] === nb) {
    return [g.op("MatMul", [x!, y!])];
  }
  let next = 0;
  const la = Array.from({ length: a!.ndim }, () => "");
  const ra = Array.from({ length: b!.ndim }, () => "");
  lb!.forEach((ax, i) => (la[ax] = ra[rb![i]!] = LETTERS[next++]!));
  lc!.forEach((ax, i) => (la[ax] = ra[rc![i]!] = LETTERS[next++]!));
  const lFree = la.map((l, i) => (l ? "" : (la[i] = LETTERS[next++]!))).join("");
  const rFree = ra.map((l, i) => (l ? "" : (ra[i] = LETTERS[next++]!))).join("");
  const eq = `${la.join("")},${ra.join("")}->${lb!.map((ax) => la[ax]).join("")}${lFree}${rFree}`;
  return [g.op("Einsum", [x!, y!], { equation: attr.string(eq) })];
};

const reshape = (g: GraphBuilder, x: string, shape: Shape) => g.op("Reshape", [x, g.shape(shape)], { allowzero: attr.int(1) });

const broadcastInDim: OnnxRule = ({ g, ins: [x], inAvals: [a], params }) => {
  const shape: Shape = params.shape;
  const dims: number[] = params.dims;
  const mid = shape.map((_, i) => (dims.includes(i) ? a!.shape[dims.indexOf(i)]! : 1));
  const r = a!.ndim === shape.length ? x! : reshape(g, x!, mid);
  return [g.op("Expand", [r, g.shape(shape)])];
};

/** Interior padding of one axis: n elements become n + (n-1)*p, `value` between neighbours. */
function interleave(g: GraphBuilder, x: string, cur: Dim[], axis: number, p: number, value: string): [string, Dim[]] {
  const n = cur[axis]!;
  const x1 = g.op("Unsqueeze", [x, g.ints([axis + 1])]);
  const fillShape = [...cur.slice(0, axis + 1), p, ...cur.slice(axis + 1)];
  const fill = g.op("Expand", [value, g.shape(fillShape)]);
  const both = g.op("Concat", [x1, fill], { axis: attr.int(axis + 1) });
  const long = dimMul(n, p + 1);
  const flat = reshape(g, both, [...cur.slice(0, axis), long, ...cur.slice(axis + 1)]);
  const size = dimAdd(long, -p);
  const out = g.op("Slice", [flat, g.ints([0]), g.dim(size), g.ints([axis])]);
  return [out, [...cur.slice(0, axis), size, ...cur.slice(axis + 1)]];
}

const pad: OnnxRule = ({ g, ins: [x], inAvals: [a], params }) => {
  const { lo, hi, interior } = params as { lo: number[]; hi: number[]; interior: number[] };
  const value = g.scalar(elemOf(a!.dtype), params.value);
  let v = x!;
  let cur = [...a!.shape];
  interior.forEach((p, axis) => {
    if (p > 0) [v, cur] = interleave(g, v, cur, axis, p, value);
  });
  if ([...lo, ...hi].every((p) => p === 0)) return [interior.some((p) => p > 0) ? v : g.op("Identity", [v])];
  return [g.op("Pad", [v, g.ints([...lo, ...hi]), value], { mode: attr.string("constant") })];
};

const slice: OnnxRule = ({ g, ins: [x], inAvals: [a], params }) => {
  const axes = a!.shape.map((_, i) => i);
  return [g.op("Slice", [x!, g.ints(params.start), g.ints(params.limit), g.ints(axes), g.ints(params.strides)])];
};

const rev: OnnxRule = ({ g, ins: [x], params }) => {
  const axes: number[] = params.axes;
  if (axes.length === 0) return [g.op("Identity", [x!])];
  const INT64_MIN = -(2 ** 63);
  const starts = g.constant("int64", [axes.length], axes.map(() => -1));
  const ends = g.constant("int64", [axes.length], axes.map(() => BigInt(INT64_MIN)));
  return [g.op("Slice", [x!, starts, ends, g.ints(axes), g.ints(axes.map(() => -1))])];
};

/**
 * window_patches (prims/windows.ts): one strided Slice of the spatial dims per window offset,
 * each with a unit axis before the output dims, concatenated on it, then split into the window
 * dims by a Reshape.
 */
const windowPatches: OnnxRule = ({ g, ins: [x], inAvals: [a], outAvals: [o], params }) => {
  const { window, strides, dilation } = params as { window: number[]; strides: number[]; dilation: number[] };
  const nd = window.length;
  const nl = a!.shape.length - nd;
  const out = (o!.shape as number[]).slice(nl + nd);
  const axes = window.map((_, j) => nl + j);
  const parts = windowOffsets(window).map((off) => {
    const start = off.map((v, j) => v * dilation[j]!);
    const end = start.map((v, j) => v + (out[j]! - 1) * strides[j]! + 1);
    return g.op("Unsqueeze", [g.op("Slice", [x!, g.ints(start), g.ints(end), g.ints(axes), g.ints(strides)]), g.ints([nl])]);
  });
  const stacked = parts.length === 1 ? parts[0]! : g.op("Concat", parts, { axis: attr.int(nl) });
  return [reshape(g, stacked, o!.shape)];
};

/**
 * int64 indices: clamped into [0, n - 1] (mode "clip", adgen's default), or for mode "raise"
 * (np.take's bounds check) every index outside [0, n) replaced by 2^62, which ONNX Runtime's
 * Gather rejects with an error instead of wrapping negative indices (ONNX semantics) or reading
 * another batch row. The error is ONNX Runtime's message, not adgen's.
 */
function clampIndices(g: GraphBuilder, idx: string, n: Dim, mode: string | undefined): string {
  const i64 = cast(g, idx, "int32", "int64");
  if (mode === "raise") {
    const bad = g.op("Or", [g.op("Less", [i64, g.scalar("int64", 0)]), g.op("GreaterOrEqual", [i64, g.dimScalar(n)])]);
    return g.op("Where", [bad, g.constant("int64", [], [2n ** 62n]), i64]);
  }
  const hi = g.op("Sub", [g.dimScalar(n), g.scalar("int64", 1)]);
  return g.op("Max", [g.op("Min", [i64, hi]), g.scalar("int64", 0)]);
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const prod = (s: Shape) => shapeSize(s);

/**
 * Flattened batch indexing shared by gather and scatter_add: with P = x.shape[:b] (batch),
 * N = x.shape[axis], idx [P, I], returns int64 indices into a [prod(P) * N] axis: p * N + idx.
 */
function flatIndices(g: GraphBuilder, idx: string, idxShape: Shape, b: number, n: Dim, mode: string | undefined): string {
  const P = prod(idxShape.slice(0, b));
  const I = prod(idxShape.slice(b));
  const clamped = reshape(g, clampIndices(g, idx, n, mode), [P, I]);
  if (b === 0) return clamped;
  const batch = g.op("Range", [g.scalar("int64", 0), g.dimScalar(P), g.scalar("int64", 1)]);
  const offsets = g.op("Unsqueeze", [g.op("Mul", [batch, g.dimScalar(n)]), g.ints([1])]);
  return g.op("Add", [clamped, offsets]);
}

const gather: OnnxRule = ({ g, ins: [x, idx], inAvals: [a, ia], params }) => {
  const { axis, batchDims: b } = params as { axis: number; batchDims: number };
  const xs = a!.shape;
  const n = xs[axis]!;
  if (b === 0) return [g.op("Gather", [x!, clampIndices(g, idx!, n, params.mode)], { axis: attr.int(axis) })];
  // x [P, M, N, Q] -> [P*N, M*Q]; gather rows p*N + idx; back to [P, M, I, Q]
  const P = xs.slice(0, b);
  const M = xs.slice(b, axis);
  const Q = xs.slice(axis + 1);
  const I = ia!.shape.slice(b);
  const perm = [...range(b), axis, ...range(axis - b, b), ...range(Q.length, axis + 1)];
  const rows = reshape(g, g.op("Transpose", [x!], { perm: attr.ints(perm) }), [dimMul(prod(P), n), dimMul(prod(M), prod(Q))]);
  const picked = g.op("Gather", [rows, flatIndices(g, idx!, ia!.shape, b, n, params.mode)], { axis: attr.int(0) });
  const full = reshape(g, picked, [...P, ...I, ...M, ...Q]);
  const back = [...range(b), ...range(M.length, b + I.length), ...range(I.length, b), ...range(Q.length, b + I.length + M.length)];
  return [g.op("Transpose", [full], { perm: attr.ints(back) })];
};

const scatterAdd: OnnxRule = ({ g, ins: [up, idx], inAvals: [ua, ia], params }) => {
  const { axis, batchDims: b, size } = params as { axis: number; batchDims: number; size: Dim };
  const us = ua!.shape;
  const nI = ia!.ndim - b;
  const P = us.slice(0, b);
  const M = us.slice(b, axis);
  const I = us.slice(axis, axis + nI);
  const Q = us.slice(axis + nI);
  // updates [P, M, I, Q] -> [P*I, M*Q] rows, added at rows p*size + idx of a [P*size, M*Q] zero
  const perm = [...range(b), ...range(nI, axis), ...range(M.length, b), ...range(Q.length, axis + nI)];
  const R = dimMul(prod(M), prod(Q));
  const rows = reshape(g, g.op("Transpose", [up!], { perm: attr.ints(perm) }), [dimMul(prod(P), prod(I)), R]);
  const where = reshape(g, flatIndices(g, idx!, ia!.shape, b, size, undefined), [dimMul(prod(P), prod(I)), 1]);
  const zeros = g.op("Expand", [g.scalar(elemOf(ua!.dtype), 0), g.shape([dimMul(prod(P), size), R])]);
  const summed = g.op("ScatterND", [zeros, where, rows], { reduction: attr.string("add") });
  const full = reshape(g, summed, [...P, size, ...M, ...Q]);
  const back = [...range(b), ...range(M.length, b + 1), b, ...range(Q.length, b + 1 + M.length)];
  return [g.op("Transpose", [full], { perm: attr.ints(back) })];
};

/** cumsum: ONNX CumSum (axis as a rank-0 int64 tensor). */
const cumsum: OnnxRule = ({ g, ins: [x], params }) => [
  g.op("CumSum", [x!, g.constant("int64", [], [params.axis])], { exclusive: attr.int(0), reverse: attr.int(params.reverse ? 1 : 0) }),
];

/**
 * cumprod (ONNX has no CumProd): log-step products, after step k each element holds the product
 * of the 2^k elements ending at it (Pad with 1 and Slice shift by k along the axis), so the axis
 * length must be concrete.
 */
const cumprod: OnnxRule = ({ g, ins: [x], inAvals: [a], params }) => {
  const { axis, reverse } = params as { axis: number; reverse: boolean };
  const n = a!.shape[axis]!;
  if (typeof n !== "number") throw new ArgumentError(`exportOnnx: cumprod needs a concrete length along axis ${axis}, got ${n}`);
  const one = g.scalar(elemOf(a!.dtype), 1);
  const zeros = a!.shape.map(() => 0);
  let v = x!;
  for (let k = 1; k < n; k *= 2) {
    const by = zeros.map((_, i) => (i === axis ? k : 0));
    const padded = g.op("Pad", [v, g.ints(reverse ? [...zeros, ...by] : [...by, ...zeros]), one], { mode: attr.string("constant") });
    const from = reverse ? k : 0;
    const shifted = g.op("Slice", [padded, g.ints([from]), g.ints([from + n]), g.ints([axis])]);
    v = g.op("Mul", [shifted, v]);
  }
  return [g.op("Identity", [v])];
};

/**
 * scatter (min / max / mul): ScatterElements with that reduction (opset 18) on positions clamped
 * into [0, n); min/max then put NaN wherever the operand or an update at that position is NaN
 * (ONNX leaves NaN handling of max/min open; adgen propagates NaN).
 */
const scatter: OnnxRule = ({ g, ins: [x, idx, u], inAvals: [a], params }) => {
  const n = a!.shape[0]!;
  if (typeof n !== "number") throw new ArgumentError(`exportOnnx: scatter needs a concrete operand length, got ${n}`);
  const e = elemOf(a!.dtype);
  const pos = g.op("Min", [g.op("Max", [idx!, g.scalar("int32", 0)]), g.scalar("int32", Math.max(n - 1, 0))]);
  const r = g.op("ScatterElements", [x!, pos, u!], { axis: attr.int(0), reduction: attr.string(params.mode) });
  if (params.mode === "mul" || !isFloatAval(a!)) return [r];
  const nanU = cast(g, g.op("IsNaN", [u!]), "bool", e);
  const hit = g.op("ScatterElements", [g.op("Mul", [x!, g.scalar(e, 0)]), pos, nanU], { axis: attr.int(0), reduction: attr.string("add") });
  const anyNaN = g.op("Or", [g.op("IsNaN", [x!]), g.op("Greater", [hit, g.scalar(e, 0)])]);
  return [g.op("Where", [anyNaN, g.scalar(e, NaN), r])];
};

/**
 * sort: TopK over the whole last axis (ties: lower index first, per the ONNX spec). Floats sort
 * twice so that NaN lands where adgen puts it (last ascending, first descending): by value with
 * NaN as an infinity, then stably by "is NaN" through the first permutation.
 */
const sort: OnnxRule = ({ g, ins: [x], inAvals: [a], params }) => {
  const largest = attr.int(params.descending ? 1 : 0);
  const k = g.ints([params.n]);
  const topk = (v: string) => g.node("TopK", [v, k], { axis: attr.int(-1), largest, sorted: attr.int(1) }, 2);
  let perm: string;
  if (isFloatAval(a!)) {
    const e = elemOf(a!.dtype);
    const isNaN = g.op("IsNaN", [x!]);
    const key = g.op("Where", [isNaN, g.scalar(e, Infinity), x!]);
    const p1 = topk(key)[1]!;
    const nanKey = g.op("GatherElements", [cast(g, isNaN, "bool", e), p1], { axis: attr.int(-1) });
    const p2 = topk(nanKey)[1]!;
    perm = g.op("GatherElements", [p1, p2], { axis: attr.int(-1) });
  } else {
    perm = topk(x!)[1]!;
  }
  return [g.op("GatherElements", [x!, perm], { axis: attr.int(-1) }), g.op("Cast", [perm], { to: attr.int(6) })];
};

export const ARRAY_RULES = {
  reduce_sum: reduce("ReduceSum"),
  reduce_max: reduce("ReduceMax"),
  reduce_min: reduce("ReduceMin"),
  reduce_prod: reduce("ReduceProd"),
  argmax: argReduce("ArgMax"),
  argmin: argReduce("ArgMin"),
  cumsum,
  cumprod,
  dot_general: dotGeneral,
  reshape: (c: EmitCtx) => [reshape(c.g, c.ins[0]!, c.params.shape)],
  transpose: (c: EmitCtx) => [c.g.op("Transpose", c.ins, { perm: attr.ints(c.params.perm) })],
  broadcast_in_dim: broadcastInDim,
  concatenate: (c: EmitCtx) => [c.g.op("Concat", c.ins, { axis: attr.int(c.params.axis) })],
  pad,
  slice,
  rev,
  window_patches: windowPatches,
  gather,
  scatter_add: scatterAdd,
  scatter,
  sort,
} satisfies Record<string, OnnxRule>;
