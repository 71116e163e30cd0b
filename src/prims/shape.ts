// Data-movement primitives: reshape, transpose, broadcast_in_dim, concatenate, pad, slice, rev.
// All are linear; each transpose is another movement (or a sum, for broadcast), so reverse mode
// never needs to materialize anything these primitives did not. Slice and pad bounds may be
// symbolic (a slice of a symbolic-batched array keeps the batch axis whole: limit B); their shape
// rules reason with symbols and raise a ShapeError naming the dimension when a bound cannot be
// shown to hold for every size.

import { ShapedArray } from "../core/aval.js";
import { allocArray } from "../core/dtype.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import {
  type Dim,
  type Shape,
  boundNeeded,
  concreteSize,
  dimAdd,
  dimDiv,
  dimEq,
  dimLeq,
  dimMul,
  dimSub,
  dimToString,
  shapeEq,
  shapeSize,
  shapeToString,
  stridesOf,
} from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { moveBatchAxis } from "./rule-helpers.js";
import { Zero, isLinearIn, isZero } from "../rules/zero.js";
import { linearJvp } from "./rule-linear.js";
import { definePrimitive, type Primitive } from "./primitive.js";
import { permuteData, stridedCopy } from "./ref/strided.js";
import { reduceSum } from "./reduce.js";

const shp = (s: Shape) => s as readonly number[];
const dims = (ds: readonly Dim[]) => `[${ds.map(dimToString).join(",")}]`;

/**
 * Checks a <= b for every size, else a ShapeError saying which bound fails or which symbols
 * would decide it (`what` names the operation and operand).
 */
function requireLeq(what: string, a: Dim, b: Dim, axis: number): void {
  const ok = dimLeq(a, b);
  if (ok === true) return;
  const syms = [a, b].flatMap((d) => (typeof d === "number" ? [] : d.symbols()));
  const need = ok === null ? boundNeeded(a, b) : null;
  throw new ShapeError(
    ok === false
      ? `${what}: on axis ${axis}, ${dimToString(a)} <= ${dimToString(b)} does not hold`
      : `${what}: on axis ${axis}, whether ${dimToString(a)} <= ${dimToString(b)} depends on the value of ${[...new Set(syms)].join(", ")} ` +
          `(a symbolic dimension): ${need ? `declare the constraint "${need}" (the constraints option of export or jit), ` : ""}use bounds that hold for every size, or a concrete size for this axis`,
  );
}

/** (n - 1) * k + 1 elements of a strided run of n >= 1 elements, or 0 for n = 0; symbolic n must be >= 1. */
function stridedSpan(what: string, n: Dim, k: number, axis: number): Dim {
  if (typeof n === "number") return n === 0 ? 0 : (n - 1) * k + 1;
  if (k === 1) return n;
  requireLeq(`${what} (a stride of ${k} over ${dimToString(n)} elements)`, 1, n, axis);
  return dimAdd(dimMul(dimSub(n, 1), k), 1);
}

// ---------------------------------------------------------------- reshape
export interface ReshapeParams {
  shape: Shape;
}
export const reshapeP: Primitive<ReshapeParams> = definePrimitive<ReshapeParams>({
  name: "reshape",
  linear: true,
  abstractEval: ([x], { shape }) => {
    if (!dimEq(shapeSize(x!.shape), shapeSize(shape))) {
      throw new ShapeError(
        `reshape: cannot reshape ${x} (${dimToString(shapeSize(x!.shape))} elements) to ${shapeToString(shape)} ` +
          `(${dimToString(shapeSize(shape))} elements)`,
      );
    }
    return [new ShapedArray(shape, x!.dtype, x!.weak)];
  },
  impl: ([x]) => [x!.data], // tensors are immutable, so a reshape can share storage
  jvp: linearJvp(() => reshapeP),
  transpose: ([ct], [x]) => [isZero(ct) ? new Zero(x!.aval) : reshape(ct!, x!.aval.shape)],
  batch: ([x], [d], { shape }, size) => [[reshape(moveBatchAxis(x!, d!, 0, size), [size, ...shape])], [0]],
});

// ---------------------------------------------------------------- transpose
export interface TransposeParams {
  perm: number[];
}
function checkPerm(perm: number[], ndim: number): void {
  const ok = perm.length === ndim && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
  if (!ok) throw new ShapeError(`transpose: axes [${perm}] are not a permutation of ${ndim} axes`);
}
export const transposeP: Primitive<TransposeParams> = definePrimitive<TransposeParams>({
  name: "transpose",
  linear: true,
  abstractEval: ([x], { perm }) => {
    checkPerm(perm, x!.ndim);
    return [new ShapedArray(perm.map((p) => x!.shape[p]!), x!.dtype, x!.weak)];
  },
  impl: ([x], { perm }, [o]) => {
    const out = allocArray(o!.dtype, x!.data.length);
    permuteData(x!.data, shp(x!.aval.shape), perm, out);
    return [out];
  },
  jvp: linearJvp(() => transposeP),
  transpose: ([ct], [x], { perm }) => {
    if (isZero(ct)) return [new Zero(x!.aval)];
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [transpose(ct!, inv)];
  },
  batch: ([x], [d], { perm }) => [[transpose(moveAxis(x!, d!, 0), [0, ...perm.map((p) => p + 1)])], [0]],
});

// ---------------------------------------------------------------- broadcast_in_dim
export interface BroadcastParams {
  shape: Shape;
  /** output axis of each operand axis (increasing) */
  dims: number[];
}
export const broadcastInDimP: Primitive<BroadcastParams> = definePrimitive<BroadcastParams>({
  name: "broadcast_in_dim",
  linear: true,
  abstractEval: ([x], { shape, dims }) => {
    const bad = () =>
      new ShapeError(
        `broadcast_in_dim: cannot broadcast ${x} to ${shapeToString(shape)} with operand axes mapped to [${dims}]`,
      );
    if (dims.length !== x!.ndim) throw bad();
    for (let i = 0; i < dims.length; i++) {
      const od = dims[i]!;
      if (od < 0 || od >= shape.length || (i > 0 && od <= dims[i - 1]!)) throw bad();
      const d = x!.shape[i]!;
      if (d !== 1 && !dimEq(d, shape[od]!)) throw bad();
    }
    return [new ShapedArray(shape, x!.dtype, x!.weak)];
  },
  impl: ([x], { shape, dims }, [o]) => {
    const out = allocArray(o!.dtype, concreteSize(shp(shape)));
    const xs = shp(x!.aval.shape);
    const xst = stridesOf(xs);
    const srcStrides = new Array<number>(shape.length).fill(0);
    dims.forEach((od, i) => (srcStrides[od] = xs[i] === 1 ? 0 : xst[i]!));
    stridedCopy(x!.data, 0, srcStrides, out, 0, stridesOf(shp(shape)), shp(shape));
    return [out];
  },
  jvp: linearJvp(() => broadcastInDimP),
  transpose: ([ct], [x], { shape, dims }) => {
    if (isZero(ct)) return [new Zero(x!.aval)];
    // sum over the axes the broadcast created or expanded, then restore the operand's shape
    const summed = shape.map((_, i) => i).filter((i) => {
      const k = dims.indexOf(i);
      return k < 0 || (x!.aval.shape[k] === 1 && shape[i] !== 1);
    });
    const s = summed.length ? reduceSum(ct!, summed) : ct!;
    return [shapeEq(s.aval.shape, x!.aval.shape) ? s : reshape(s, x!.aval.shape)];
  },
  batch: ([x], [d], { shape, dims }, size) => {
    const y = moveBatchAxis(x!, d!, 0, size);
    return [[broadcastInDim(y, [size, ...shape], [0, ...dims.map((k) => k + 1)])], [0]];
  },
});

// ---------------------------------------------------------------- concatenate
export interface ConcatParams {
  axis: number;
}
export const concatenateP: Primitive<ConcatParams> = definePrimitive<ConcatParams>({
  name: "concatenate",
  linear: true,
  abstractEval: (xs, { axis }) => {
    const first = xs[0]!;
    let total: Dim = 0;
    for (const x of xs) {
      if (x.dtype !== first.dtype) throw new DTypeError(`concatenate: dtypes ${xs.map((a) => a.dtype).join(", ")} differ`);
      const ok = x.ndim === first.ndim && x.shape.every((d, i) => i === axis || dimEq(d, first.shape[i]!));
      if (!ok || axis < 0 || axis >= first.ndim) {
        throw new ShapeError(`concatenate: shapes ${xs.map(String).join(", ")} do not match except on axis ${axis}`);
      }
      total = dimAdd(total, x.shape[axis]!);
    }
    const shape = [...first.shape];
    shape[axis] = total;
    return [new ShapedArray(shape, first.dtype, xs.every((x) => x.weak))];
  },
  impl: (xs, { axis }, [o]) => {
    const os = shp(o!.shape);
    const out = allocArray(o!.dtype, concreteSize(os));
    const ost = stridesOf(os);
    let off = 0;
    for (const x of xs) {
      const s = shp(x.aval.shape);
      stridedCopy(x.data, 0, stridesOf(s), out, off * ost[axis]!, ost, s);
      off += s[axis]!;
    }
    return [out];
  },
  jvp: linearJvp(() => concatenateP),
  transpose: ([ct], xs, { axis }) => {
    let off: Dim = 0;
    return xs.map((x) => {
      const n = x.aval.shape[axis]!;
      const start = off;
      off = dimAdd(off, n);
      if (!isLinearIn(x)) return null;
      if (isZero(ct)) return new Zero(x.aval);
      const s = ct!.aval.shape;
      return slice(ct!, s.map((_, i) => (i === axis ? start : 0)), s.map((d, i) => (i === axis ? off : d)));
    });
  },
  batch: (xs, ds, { axis }, size) => [[concatenate(xs.map((x, i) => moveBatchAxis(x, ds[i]!, 0, size)), axis + 1)], [0]],
});

// ---------------------------------------------------------------- pad
export interface PadParams {
  lo: Dim[];
  hi: Dim[];
  interior: number[];
  value: number;
}
export const padP: Primitive<PadParams> = definePrimitive<PadParams>({
  name: "pad",
  linear: true,
  abstractEval: ([x], { lo, hi, interior }) => {
    const n = x!.ndim;
    const what = `pad: padding lo=${dims(lo)} hi=${dims(hi)} interior=[${interior.join(",")}] of ${x}`;
    if (lo.length !== n || hi.length !== n || interior.length !== n || interior.some((v) => !(v >= 0))) throw new ShapeError(`${what} does not fit`);
    const shape = x!.shape.map((d, i) => {
      requireLeq(what, 0, lo[i]!, i);
      requireLeq(what, 0, hi[i]!, i);
      // d elements with interior[i] between each pair: a span of (d - 1) * (interior + 1) + 1
      return dimAdd(dimAdd(lo[i]!, hi[i]!), stridedSpan(what, d, interior[i]! + 1, i));
    });
    return [new ShapedArray(shape, x!.dtype, x!.weak)];
  },
  impl: ([x], { lo, interior, value }, [o]) => {
    const os = shp(o!.shape);
    const out = allocArray(o!.dtype, concreteSize(os));
    if (value !== 0) out.fill(value);
    const ost = stridesOf(os);
    const off = shp(lo).reduce((acc, l, i) => acc + l * ost[i]!, 0);
    const s = shp(x!.aval.shape);
    stridedCopy(x!.data, 0, stridesOf(s), out, off, ost.map((st, i) => st * (interior[i]! + 1)), s);
    return [out];
  },
  jvp: (primals, tangents, params) => {
    const out = padP.bind1(primals, params);
    if (isZero(tangents[0])) return [[out], [new Zero(out.aval.strong())]];
    return [[out], [padP.bind1([tangents[0] as Tensor], { ...params, value: 0 })]];
  },
  transpose: ([ct], [x], { lo, interior }) => {
    if (isZero(ct)) return [new Zero(x!.aval)];
    const limit = x!.aval.shape.map((d, i) => dimAdd(lo[i]!, stridedSpan("pad transpose", d, interior[i]! + 1, i)));
    return [slice(ct!, lo, limit, interior.map((v) => v + 1))];
  },
  batch: ([x], [d], p) => [
    [padP.bind1([moveAxis(x!, d!, 0)], { lo: [0, ...p.lo], hi: [0, ...p.hi], interior: [0, ...p.interior], value: p.value })],
    [0],
  ],
});

// ---------------------------------------------------------------- slice
export interface SliceParams {
  start: Dim[];
  limit: Dim[];
  strides: number[];
}
export const sliceP: Primitive<SliceParams> = definePrimitive<SliceParams>({
  name: "slice",
  linear: true,
  abstractEval: ([x], { start, limit, strides }) => {
    const s = x!.shape;
    const what = `slice: start=${dims(start)} limit=${dims(limit)} strides=[${strides.join(",")}] of ${x}`;
    const n = s.length;
    if (start.length !== n || limit.length !== n || strides.length !== n || !strides.every((k) => Number.isInteger(k) && k >= 1)) {
      throw new ShapeError(`${what}: out of range`);
    }
    const shape = s.map((d, i) => {
      requireLeq(what, 0, start[i]!, i);
      requireLeq(what, start[i]!, limit[i]!, i);
      requireLeq(what, limit[i]!, d, i);
      const len = dimSub(limit[i]!, start[i]!);
      const k = strides[i]!;
      if (typeof len === "number") return Math.ceil(len / k);
      // len = k*Q + c with Q a polynomial: ceil(len / k) = Q + ceil(c / k) (x[1::2] of 2*K rows is K)
      const c = len.terms.get("") ?? 0;
      const Q = k === 1 ? len : dimDiv(dimSub(len, c), k);
      const q = k === 1 || Q === null ? Q : dimAdd(Q, Math.ceil(c / k));
      if (q === null) throw new ShapeError(`${what}: a stride of ${k} over ${dimToString(len)} elements (axis ${i}) has no size for every value of its symbols`);
      return q;
    });
    return [new ShapedArray(shape, x!.dtype, x!.weak)];
  },
  impl: ([x], { start, strides }, [o]) => {
    const os = shp(o!.shape);
    const out = allocArray(o!.dtype, concreteSize(os));
    const xst = stridesOf(shp(x!.aval.shape));
    const off = shp(start).reduce((acc, st, i) => acc + st * xst[i]!, 0);
    stridedCopy(x!.data, off, xst.map((st, i) => st * strides[i]!), out, 0, stridesOf(os), os);
    return [out];
  },
  jvp: linearJvp(() => sliceP),
  transpose: ([ct], [x], { start, strides }) => {
    if (isZero(ct)) return [new Zero(x!.aval)];
    const os = ct!.aval.shape;
    // the slice read start + span(os) of d elements: the rest is padding above
    const hi = x!.aval.shape.map((d, i) => dimSub(d, dimAdd(start[i]!, stridedSpan("slice transpose", os[i]!, strides[i]!, i))));
    return [pad(ct!, start, hi, strides.map((v) => v - 1))];
  },
  batch: ([x], [d], p, size) => [
    [slice(moveAxis(x!, d!, 0), [0, ...p.start], [size, ...p.limit], [1, ...p.strides])],
    [0],
  ],
});

// ---------------------------------------------------------------- rev
export interface RevParams {
  axes: number[];
}
export const revP: Primitive<RevParams> = definePrimitive<RevParams>({
  name: "rev",
  linear: true,
  abstractEval: ([x], { axes }) => {
    if (axes.some((a) => a < 0 || a >= x!.ndim)) throw new ShapeError(`rev: axes [${axes}] out of range for ${x}`);
    return [x!];
  },
  impl: ([x], { axes }, [o]) => {
    const s = shp(x!.aval.shape);
    const st = stridesOf(s);
    const out = allocArray(o!.dtype, x!.data.length);
    let off = 0;
    const srcSt = st.map((v, i) => {
      if (!axes.includes(i)) return v;
      off += (s[i]! - 1) * v;
      return -v;
    });
    if (out.length) stridedCopy(x!.data, off, srcSt, out, 0, st, s);
    return [out];
  },
  jvp: linearJvp(() => revP),
  transpose: ([ct], [x], { axes }) => [isZero(ct) ? new Zero(x!.aval) : rev(ct!, axes)],
  batch: ([x], [d], { axes }) => [[rev(moveAxis(x!, d!, 0), axes.map((a) => a + 1))], [0]],
});

// ----- typed wrappers -----
export function reshape(x: Tensor, shape: Shape): Tensor {
  return shapeEq(x.aval.shape, shape) ? x : reshapeP.bind1([x], { shape: [...shape] });
}
export function transpose(x: Tensor, perm: number[]): Tensor {
  return perm.every((p, i) => p === i) ? x : transposeP.bind1([x], { perm });
}
export function broadcastInDim(x: Tensor, shape: Shape, dims: number[]): Tensor {
  if (shapeEq(x.aval.shape, shape) && dims.every((d, i) => d === i)) return x;
  return broadcastInDimP.bind1([x], { shape: [...shape], dims });
}
export function concatenate(xs: Tensor[], axis: number): Tensor {
  return xs.length === 1 ? xs[0]! : concatenateP.bind1(xs, { axis });
}
export function pad(x: Tensor, lo: Dim[], hi: Dim[], interior?: number[], value = 0): Tensor {
  return padP.bind1([x], { lo, hi, interior: interior ?? lo.map(() => 0), value });
}
export function slice(x: Tensor, start: Dim[], limit: Dim[], strides?: number[]): Tensor {
  return sliceP.bind1([x], { start, limit, strides: strides ?? start.map(() => 1) });
}
export function rev(x: Tensor, axes: number[]): Tensor {
  return axes.length === 0 ? x : revP.bind1([x], { axes });
}
/** Moves axis `from` to position `to`. */
export function moveAxis(x: Tensor, from: number, to: number): Tensor {
  if (from === to) return x;
  const perm = x.aval.shape.map((_, i) => i).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return transpose(x, perm);
}
