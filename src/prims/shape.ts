// Data-movement primitives: reshape, transpose, broadcast_in_dim, concatenate, pad, slice, rev.
// All are linear; each transpose is another movement (or a sum, for broadcast), so reverse mode
// never needs to materialize anything these primitives did not.

import { ShapedArray } from "../core/aval.js";
import { allocArray } from "../core/dtype.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import { type Dim, type Shape, concreteSize, dimAdd, dimEq, shapeEq, shapeSize, shapeToString, stridesOf } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { moveBatchAxis } from "../rules/helpers.js";
import { Zero, isLinearIn, isZero } from "../rules/zero.js";
import { linearJvp } from "../rules/linear.js";
import { definePrimitive, type Primitive } from "./primitive.js";
import { permuteData, stridedCopy } from "./ref/strided.js";
import { reduceSum } from "./reduce.js";

const shp = (s: Shape) => s as readonly number[];

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
        `reshape: cannot reshape ${x} (${shapeSize(x!.shape)} elements) to ${shapeToString(shape)} ` +
          `(${shapeSize(shape)} elements)`,
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
    let off = 0;
    return xs.map((x) => {
      const n = x.aval.shape[axis] as number;
      const start = off;
      off += n;
      if (!isLinearIn(x)) return null;
      if (isZero(ct)) return new Zero(x.aval);
      const s = shp(ct!.aval.shape);
      return slice(ct!, s.map((_, i) => (i === axis ? start : 0)), s.map((d, i) => (i === axis ? start + n : d)));
    });
  },
  batch: (xs, ds, { axis }, size) => [[concatenate(xs.map((x, i) => moveBatchAxis(x, ds[i]!, 0, size)), axis + 1)], [0]],
});

// ---------------------------------------------------------------- pad
export interface PadParams {
  lo: number[];
  hi: number[];
  interior: number[];
  value: number;
}
export const padP: Primitive<PadParams> = definePrimitive<PadParams>({
  name: "pad",
  linear: true,
  abstractEval: ([x], { lo, hi, interior }) => {
    const n = x!.ndim;
    if (lo.length !== n || hi.length !== n || interior.length !== n || [...lo, ...hi, ...interior].some((v) => v < 0)) {
      throw new ShapeError(`pad: padding lo=[${lo}] hi=[${hi}] interior=[${interior}] does not fit ${x}`);
    }
    const shape = shp(x!.shape).map((d, i) => lo[i]! + hi[i]! + d + Math.max(0, d - 1) * interior[i]!);
    return [new ShapedArray(shape, x!.dtype, x!.weak)];
  },
  impl: ([x], { lo, interior, value }, [o]) => {
    const os = shp(o!.shape);
    const out = allocArray(o!.dtype, concreteSize(os));
    if (value !== 0) out.fill(value);
    const ost = stridesOf(os);
    const off = lo.reduce((acc, l, i) => acc + l * ost[i]!, 0);
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
    const s = shp(x!.aval.shape);
    const start = lo;
    const limit = s.map((d, i) => lo[i]! + (d === 0 ? 0 : (d - 1) * (interior[i]! + 1) + 1));
    return [slice(ct!, start, limit, interior.map((v) => v + 1))];
  },
  batch: ([x], [d], p) => [
    [padP.bind1([moveAxis(x!, d!, 0)], { lo: [0, ...p.lo], hi: [0, ...p.hi], interior: [0, ...p.interior], value: p.value })],
    [0],
  ],
});

// ---------------------------------------------------------------- slice
export interface SliceParams {
  start: number[];
  limit: number[];
  strides: number[];
}
export const sliceP: Primitive<SliceParams> = definePrimitive<SliceParams>({
  name: "slice",
  linear: true,
  abstractEval: ([x], { start, limit, strides }) => {
    const s = shp(x!.shape);
    const ok =
      start.length === s.length &&
      limit.length === s.length &&
      strides.length === s.length &&
      s.every((d, i) => start[i]! >= 0 && start[i]! <= limit[i]! && limit[i]! <= d && strides[i]! >= 1);
    if (!ok) throw new ShapeError(`slice: start=[${start}] limit=[${limit}] strides=[${strides}] out of range for ${x}`);
    const shape = s.map((_, i) => Math.ceil((limit[i]! - start[i]!) / strides[i]!));
    return [new ShapedArray(shape, x!.dtype, x!.weak)];
  },
  impl: ([x], { start, strides }, [o]) => {
    const os = shp(o!.shape);
    const out = allocArray(o!.dtype, concreteSize(os));
    const xst = stridesOf(shp(x!.aval.shape));
    const off = start.reduce((acc, st, i) => acc + st * xst[i]!, 0);
    stridedCopy(x!.data, off, xst.map((st, i) => st * strides[i]!), out, 0, stridesOf(os), os);
    return [out];
  },
  jvp: linearJvp(() => sliceP),
  transpose: ([ct], [x], { start, strides }) => {
    if (isZero(ct)) return [new Zero(x!.aval)];
    const s = shp(x!.aval.shape);
    const os = shp(ct!.aval.shape);
    const hi = s.map((d, i) => (os[i] === 0 ? d - start[i]! : d - (start[i]! + (os[i]! - 1) * strides[i]! + 1)));
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
export function pad(x: Tensor, lo: number[], hi: number[], interior?: number[], value = 0): Tensor {
  return padP.bind1([x], { lo, hi, interior: interior ?? lo.map(() => 0), value });
}
export function slice(x: Tensor, start: number[], limit: number[], strides?: number[]): Tensor {
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
