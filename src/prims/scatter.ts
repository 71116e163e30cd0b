// scatter: combine updates into a copy of a flat operand at given positions with min, max or
// multiply (the non-additive index updates; additive ones are scatter_add in gather.ts, and
// "set" is built in api/np/at.ts from scatter max over update numbers, so the last update wins):
//
//   scatter(x [N], idx int32 [K], upd [K], {mode}) -> out [N]
//     out = copy of x; for k in 0..K-1 in order: out[c] = op(out[c], upd[k]), c = clamp(idx[k])
//
// Out-of-range positions are clamped into [0, N) (the np layer computes positions that are in
// range). min and max propagate NaN (as np.minimum / np.maximum) and are the elementwise max(upd,
// old) / min(upd, old) (a tie keeps the old element); int32 mul wraps (Math.imul) as elementwise
// mul. The runtime below is the reference (interpreter); jit backends and exports lower it
// natively (lower/indexing.ts: a copy of the operand, then a combining scatter kernel).
//
// Derivatives (JAX's rules): min/max send a tangent through every operand element equal to the
// result, divided by the number of ties; multiply's tangent in the updates assumes unique
// positions (as JAX requires for scatter_mul gradients), which api/np/at.ts documents.

import { ShapedArray } from "../core/aval.js";
import { type TypedArray, allocArray } from "../core/dtype.js";
import { ArgumentError, DTypeError, ShapeError } from "../core/errors.js";
import { dimEq, dimMul } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { defineRuntime } from "../core/runtime-text.js";
import { full, moveBatchAxis } from "./rule-helpers.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import { add, div, max, min, mul, sub } from "./binary.js";
import { cumsum } from "./cumulative.js";
import { compare } from "./compare.js";
import { gather, scatterAdd } from "./gather.js";
import { definePrimitive, type Primitive } from "./primitive.js";
import { broadcastInDim, reshape } from "./shape.js";
import { convert } from "./unary.js";

export type ScatterMode = "min" | "max" | "mul";

export interface ScatterParams {
  mode: ScatterMode;
}

/** The kernel, written once as a self-contained runtime (core/runtime-text.ts). */
function scatterRuntime() {
  function scatterCombine(ins: TypedArray[], outs: TypedArray[], p: { mode: string }): void {
    const x = ins[0]!, idx = ins[1]!, u = ins[2]!, out = outs[0]!;
    const n = x.length, k = idx.length;
    out.set(x);
    // int32 products wrap as the elementwise mul does (Math.imul), not through a rounded double
    const int = out instanceof Int32Array;
    for (let i = 0; i < k; i++) {
      let c = idx[i]!;
      c = c < 0 ? 0 : c >= n ? n - 1 : c;
      const a = out[c]!, b = u[i]!;
      if (p.mode === "mul") out[c] = int ? Math.imul(a, b) : a * b;
      else if (a !== a || b !== b) out[c] = NaN;
      else if (p.mode === "max") out[c] = b > a ? b : a;
      else out[c] = b < a ? b : a;
    }
  }
  return { scatterCombine };
}
const SCATTER = defineRuntime(scatterRuntime, []);
const { scatterCombine } = SCATTER.value;

export const scatterP: Primitive<ScatterParams> = definePrimitive<ScatterParams>({
  name: "scatter",
  abstractEval: ([x, idx, upd], { mode }) => {
    const desc = `scatter (${mode}): operand ${x}, indices ${idx}, updates ${upd}`;
    if (mode !== "min" && mode !== "max" && mode !== "mul") throw new ArgumentError(`scatter: mode must be "min", "max" or "mul", got ${JSON.stringify(mode)}`);
    if (x!.ndim !== 1 || idx!.ndim !== 1 || upd!.ndim !== 1) throw new ShapeError(`${desc}: all three must be rank 1`);
    if (idx!.dtype !== "int32") throw new DTypeError(`${desc}: indices must be int32`);
    if (x!.dtype !== upd!.dtype) throw new DTypeError(`${desc}: operand and updates must have one dtype`);
    if (x!.dtype === "bool") throw new DTypeError(`${desc}: operand must be numeric, not bool`);
    if (!dimEq(idx!.shape[0]!, upd!.shape[0]!)) throw new ShapeError(`${desc}: one update per index`);
    if (x!.shape[0] === 0 && idx!.shape[0] !== 0) throw new ShapeError(`${desc}: cannot update an empty operand`);
    return [new ShapedArray(x!.shape, x!.dtype, x!.weak && upd!.weak)];
  },
  impl: (ins, params, [o]) => {
    const out = allocArray(o!.dtype, ins[0]!.data.length);
    scatterCombine(
      ins.map((t) => t.data),
      [out],
      params,
    );
    return [out];
  },
  standalone: { source: SCATTER.text, fn: "$scatterCombine" },
  jvp: ([x, idx, upd], [tx, , tu], { mode }) => {
    const out = scatter(x!, idx!, upd!, mode);
    if (isZero(tx) && isZero(tu)) return [[out], [new Zero(out.aval.strong())]];
    const n = x!.aval.shape[0]!;
    const sa = (t: Tensor) => scatterAdd(t, idx!, { axis: 0, batchDims: 0, size: n });
    const g = (t: Tensor) => gather(t, idx!, { axis: 0, batchDims: 0 });
    let t: Tangent;
    if (mode === "mul") {
      // x-part: tx times the product of the updates at each position; u-part (unique positions)
      const prod = scatter(full(x!.aval.shape, x!.aval.dtype, 1), idx!, upd!, "mul");
      const tX: Tangent = isZero(tx) ? tx : mul(tx!, prod);
      const tU: Tangent = isZero(tu) ? tu : sa(mul(g(x!), tu!));
      t = isZero(tX) ? tU : isZero(tU) ? tX : add(tX, tU);
    } else {
      // every element equal to the result shares the tangent (ties averaged, as JAX does)
      const dt = x!.aval.dtype;
      const gx = convert(compare(x!, out, "eq"), dt);
      const gu = convert(compare(upd!, g(out), "eq"), dt);
      const count = max(add(gx, sa(gu)), full([], dt, 1));
      const tX: Tangent = isZero(tx) ? tx : mul(tx!, gx);
      const tU: Tangent = isZero(tu) ? tu : sa(mul(tu!, gu));
      const num = isZero(tX) ? (tU as Tensor) : isZero(tU) ? tX : add(tX, tU);
      t = div(num, count);
    }
    return [[out], [t]];
  },
  // a batch of flat scatters is one flat scatter over the concatenated rows, positions offset by row
  batch: ([x, idx, upd], [dx, di, du], { mode }, size) => {
    const len = (t: Tensor, d: number | null) => t.aval.shape[d === null ? 0 : 1 - d]!;
    const n = len(x!, dx);
    const k = len(idx!, di);
    if (typeof n !== "number" || typeof k !== "number") throw new ShapeError("scatter: vmap needs concrete sizes");
    const rows = (t: Tensor, d: number | null, m: number) => (d === null ? broadcastInDim(t, [size, m], [1]) : moveBatchAxis(t, d, 0, size));
    const xb = rows(x!, dx, n);
    const ub = rows(upd!, du, k);
    // clamp within the row first (the kernel clamps the flat position), then offset by the row start
    const ib = min(max(rows(idx!, di, k), full([], "int32", 0)), full([], "int32", Math.max(n - 1, 0)));
    // row numbers 0..size-1: a constant for a concrete batch, a cumulative sum of ones for a symbolic one
    const iota = typeof size === "number" ? iotaInt(size) : sub(cumsum(broadcastInDim(full([], "int32", 1), [size], []), 0), full([], "int32", 1));
    const offs = broadcastInDim(mul(iota, full([], "int32", n)), [size, k], [0]);
    const flat = scatter(reshape(xb, [dimMul(size, n)]), reshape(add(ib, offs), [dimMul(size, k)]), reshape(ub, [dimMul(size, k)]), mode);
    return [[reshape(flat, [size, n])], [0]];
  },
});

/** [0, 1, ..., n-1] as an int32 constant. */
export function iotaInt(n: number): Tensor {
  const d = allocArray("int32", n);
  for (let i = 0; i < n; i++) d[i] = i;
  return new Tensor(new ShapedArray([n], "int32"), d);
}

export function scatter(x: Tensor, idx: Tensor, upd: Tensor, mode: ScatterMode): Tensor {
  return scatterP.bind1([x, idx, upd], { mode });
}
