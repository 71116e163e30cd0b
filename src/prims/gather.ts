// Indexed data movement: gather (pick slices of x along one axis by an int32 index tensor) and
// its transpose scatter_add (add updates into a zero tensor at those positions). Both follow
// TensorFlow's `batch_dims` convention, which is what lets vmap batch data and indices together:
//
//   gather(x, idx, {axis, batchDims}):
//     out.shape = x.shape[:axis] + idx.shape[batchDims:] + x.shape[axis+1:]
//     with x.shape[:batchDims] == idx.shape[:batchDims] (batchDims <= axis), and
//     out[p, m, i, q] = x[p, m, clamp(idx[p, i]), q]   (p: batch dims, m: the rest before axis)
//
// Out-of-range indices: with mode "clip" (the default) they are clamped into [0, x.shape[axis] - 1]
// (JAX's default), so no program ever reads out of bounds. With mode "raise" (NumPy's default,
// which np.take / np.index ask for) an index outside [0, x.shape[axis]) throws an ArgumentError
// naming `op`, on every path: the reference implementation checks, and compiled code runs the
// index_check primitive on the indices before the (fused, clamped) gather reads them, so eager,
// interpreted, JS, WebAssembly and exported code agree. The np layer wraps negative indices before
// they get here. gather is linear in x (not in idx); scatter_add, with the same clamping, is
// exactly its transpose, and vice versa (its indices were checked by the forward gather).

import { ShapedArray } from "../core/aval.js";
import { allocArray } from "../core/dtype.js";
import { defineRuntime } from "../core/runtime-text.js";
import { ArgumentError, DTypeError, ShapeError } from "../core/errors.js";
import { type Dim, concreteSize, dimEq, shapeToString } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { moveBatchAxis } from "./rule-helpers.js";
import { Zero, isLinearIn, isZero } from "../rules/zero.js";
import { definePrimitive, type Primitive } from "./primitive.js";

export type GatherMode = "clip" | "raise";

export interface GatherParams {
  axis: number;
  batchDims: number;
  /** out-of-range indices: "clip" (default) clamps, "raise" throws an ArgumentError naming `op` */
  mode?: GatherMode;
  /** the API operation named in the error of mode "raise" (e.g. "take") */
  op?: string;
}

/**
 * The bounds check of mode "raise", written once as a self-contained runtime (core/runtime-text.ts):
 * the reference implementation calls it and exported modules embed its text (index_check's
 * standalone form, failing through the module's $fail, its parameter).
 */
function indexCheckRuntime(fail: (message: string) => never) {
  function firstOutOfRange(a: ArrayLike<number>, n: number): number {
    for (let i = 0; i < a.length; i++) if (!(a[i]! >= 0 && a[i]! < n)) return i;
    return -1;
  }
  function indexRangeMessage(op: string, v: number, n: number): string {
    return op + ": index " + v + " is out of bounds for an axis of size " + n;
  }
  function indexCheck(ins: Int32Array[], outs: Int32Array[], p: { size: number; op: string }): void {
    const a = ins[0]!;
    const i = firstOutOfRange(a, p.size);
    if (i >= 0) fail(indexRangeMessage(p.op, a[i]!, p.size));
    outs[0]!.set(a);
  }
  return { firstOutOfRange, indexRangeMessage, indexCheck };
}
const INDEX_CHECK = defineRuntime(
  indexCheckRuntime,
  [
    (m: string) => {
      throw new ArgumentError(m);
    },
  ],
  ["$fail"],
);
export const INDEX_CHECK_JS = INDEX_CHECK.text;
const { firstOutOfRange, indexRangeMessage } = INDEX_CHECK.value;

/** Throws the ArgumentError of mode "raise" when an index is outside [0, n). */
function checkInRange(idx: ArrayLike<number>, n: number, op: string | undefined, source?: string): void {
  const i = firstOutOfRange(idx, n);
  if (i >= 0) throw new ArgumentError(indexRangeMessage(op ?? "gather", idx[i]!, n), source);
}

function checkMode(name: string, mode: unknown): void {
  if (mode !== undefined && mode !== "clip" && mode !== "raise") {
    throw new ArgumentError(`${name}: mode must be "clip" or "raise", got ${JSON.stringify(mode)}`);
  }
}

export interface ScatterAddParams extends GatherParams {
  /** x.shape[axis] of the gather this scatter transposes: the size of the output's axis */
  size: Dim;
}

/** Checks the common constraints; `what` describes the operands for messages. */
function checkIndexing(name: string, data: ShapedArray, idx: ShapedArray, axis: number, batchDims: number, dataRank: number): void {
  const desc = `${name}: data ${data}, indices ${idx}, axis ${axis}, batchDims ${batchDims}`;
  if (idx.dtype !== "int32") throw new DTypeError(`${desc}: indices must be int32, got ${idx.dtype}`);
  if (!Number.isInteger(axis) || axis < 0 || axis >= dataRank) {
    throw new ShapeError(`${desc}: axis must be in [0, ${dataRank}) for rank ${dataRank}`);
  }
  if (!Number.isInteger(batchDims) || batchDims < 0 || batchDims > axis || batchDims > idx.ndim) {
    throw new ShapeError(`${desc}: batchDims must be in [0, min(axis, indices rank)]`);
  }
  for (let i = 0; i < batchDims; i++) {
    if (!dimEq(data.shape[i]!, idx.shape[i]!)) {
      throw new ShapeError(
        `${desc}: the first ${batchDims} dims of data ${shapeToString(data.shape.slice(0, batchDims))} ` +
          `and indices ${shapeToString(idx.shape.slice(0, batchDims))} must be equal`,
      );
    }
  }
}

/** Loop extents shared by both reference kernels. */
function extents(xShape: readonly number[], idxShape: readonly number[], axis: number, batchDims: number) {
  return {
    P: concreteSize(xShape.slice(0, batchDims)),
    M: concreteSize(xShape.slice(batchDims, axis)),
    N: xShape[axis]!,
    I: concreteSize(idxShape.slice(batchDims)),
    Q: concreteSize(xShape.slice(axis + 1)),
  };
}

const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

export const gatherP: Primitive<GatherParams> = definePrimitive<GatherParams>({
  name: "gather",
  linear: true,
  abstractEval: ([x, idx], { axis, batchDims, mode }) => {
    checkMode("gather", mode);
    checkIndexing("gather", x!, idx!, axis, batchDims, x!.ndim);
    const out = [...x!.shape.slice(0, axis), ...idx!.shape.slice(batchDims), ...x!.shape.slice(axis + 1)];
    if (x!.shape[axis] === 0 && concreteSize(out.filter((d): d is number => typeof d === "number")) > 0) {
      throw new ShapeError(`gather: cannot take elements from the empty axis ${axis} of ${x} (indices ${idx})`);
    }
    return [new ShapedArray(out, x!.dtype, x!.weak)];
  },
  impl: ([x, idx], { axis, batchDims, mode, op }, [o]) => {
    const { P, M, N, I, Q } = extents(x!.aval.shape as number[], idx!.aval.shape as number[], axis, batchDims);
    const xd = x!.data;
    const id = idx!.data;
    if (mode === "raise") checkInRange(id, N, op);
    const out = allocArray(o!.dtype, concreteSize(o!.shape as number[]));
    let k = 0;
    for (let p = 0; p < P; p++) {
      for (let m = 0; m < M; m++) {
        const base = (p * M + m) * N;
        for (let i = 0; i < I; i++) {
          const src = (base + clampIndex(id[p * I + i]!, N)) * Q;
          for (let q = 0; q < Q; q++) out[k++] = xd[src + q]!;
        }
      }
    }
    return [out];
  },
  jvp: ([x, idx], [tx], params) => {
    const out = gather(x!, idx!, params);
    return [[out], [isZero(tx) ? new Zero(out.aval.strong()) : gather(tx!, idx!, params)]];
  },
  // gather is linear in x: its transpose adds each output cotangent back where it came from
  // (mode "raise" carries over: the forward gather may be dead code in a gradient program)
  transpose: ([ct], [x, idx], { axis, batchDims, mode, op }) => {
    if (isLinearIn(idx)) throw new DTypeError("gather: cannot transpose with respect to the indices");
    if (!isLinearIn(x)) return [null, null];
    if (isZero(ct)) return [new Zero(x.aval), null];
    return [scatterAdd(ct!, idx as Tensor, { axis, batchDims, size: x.aval.shape[axis]!, mode, op }), null];
  },
  batch: ([x, idx], [dx, di], { axis, batchDims, mode, op }, size) => {
    if (dx !== null && di !== null) {
      // both batched: the vmapped axis becomes one more shared batch dimension
      const xb = moveBatchAxis(x!, dx, 0, size);
      const ib = moveBatchAxis(idx!, di, 0, size);
      return [[gather(xb, ib, { axis: axis + 1, batchDims: batchDims + 1, mode, op })], [0]];
    }
    if (dx !== null) {
      // only x: put its batch axis right after the shared batch dims (before `axis`)
      const xb = moveBatchAxis(x!, dx, batchDims, size);
      return [[gather(xb, idx!, { axis: axis + 1, batchDims, mode, op })], [batchDims]];
    }
    // only the indices: their batch axis becomes an index axis, landing at `axis` in the output
    const ib = moveBatchAxis(idx!, di!, batchDims, size);
    return [[gather(x!, ib, { axis, batchDims, mode, op })], [axis]];
  },
});

export const scatterAddP: Primitive<ScatterAddParams> = definePrimitive<ScatterAddParams>({
  name: "scatter_add",
  linear: true,
  abstractEval: ([upd, idx], { axis, batchDims, size, mode }) => {
    checkMode("scatter_add", mode);
    if (upd!.dtype === "bool") throw new DTypeError(`scatter_add: updates ${upd} must be numeric, not bool`);
    const ni = idx!.ndim - batchDims;
    const rank = upd!.ndim - ni + 1;
    if (ni < 0 || rank < axis + 1) {
      throw new ShapeError(
        `scatter_add: updates ${upd} do not fit indices ${idx} with axis ${axis} and batchDims ${batchDims} ` +
          `(updates need shape data.shape[:axis] + indices.shape[batchDims:] + data.shape[axis+1:])`,
      );
    }
    const dataShape = [...upd!.shape.slice(0, axis), size, ...upd!.shape.slice(axis + ni)];
    const data = new ShapedArray(dataShape, upd!.dtype, upd!.weak);
    checkIndexing("scatter_add", data, idx!, axis, batchDims, rank);
    for (let i = 0; i < ni; i++) {
      if (!dimEq(upd!.shape[axis + i]!, idx!.shape[batchDims + i]!)) {
        throw new ShapeError(
          `scatter_add: updates ${upd} dims ${shapeToString(upd!.shape.slice(axis, axis + ni))} at axis ${axis} must ` +
            `equal the index dims ${shapeToString(idx!.shape.slice(batchDims))} of indices ${idx}`,
        );
      }
    }
    if (size === 0 && concreteSize(upd!.shape.filter((d): d is number => typeof d === "number")) > 0) {
      throw new ShapeError(`scatter_add: cannot add updates ${upd} into an empty axis ${axis}`);
    }
    return [data];
  },
  impl: ([upd, idx], { axis, batchDims, mode, op }, [o]) => {
    const { P, M, N, I, Q } = extents(o!.shape as number[], idx!.aval.shape as number[], axis, batchDims);
    const ud = upd!.data;
    const id = idx!.data;
    if (mode === "raise") checkInRange(id, N, op);
    const out = allocArray(o!.dtype, concreteSize(o!.shape as number[]));
    let k = 0;
    for (let p = 0; p < P; p++) {
      for (let m = 0; m < M; m++) {
        const base = (p * M + m) * N;
        for (let i = 0; i < I; i++) {
          const dst = (base + clampIndex(id[p * I + i]!, N)) * Q;
          for (let q = 0; q < Q; q++) out[dst + q] += ud[k++]!;
        }
      }
    }
    return [out];
  },
  jvp: ([upd, idx], [tu], params) => {
    const out = scatterAdd(upd!, idx!, params);
    return [[out], [isZero(tu) ? new Zero(out.aval.strong()) : scatterAdd(tu!, idx!, params)]];
  },
  // scatter_add is linear in the updates: each update's cotangent is read back by a gather
  transpose: ([ct], [upd, idx], { axis, batchDims, mode, op }) => {
    if (isLinearIn(idx)) throw new DTypeError("scatter_add: cannot transpose with respect to the indices");
    if (!isLinearIn(upd)) return [null, null];
    if (isZero(ct)) return [new Zero(upd.aval), null];
    return [gather(ct!, idx as Tensor, { axis, batchDims, mode, op }), null];
  },
  batch: ([upd, idx], [du, di], { axis, batchDims, size: n, mode, op }, size) => {
    if (di !== null) {
      // batched indices scatter different places per example: updates need the batch axis too
      const ub = moveBatchAxis(upd!, du, 0, size);
      const ib = moveBatchAxis(idx!, di, 0, size);
      return [[scatterAdd(ub, ib, { axis: axis + 1, batchDims: batchDims + 1, size: n, mode, op })], [0]];
    }
    const ub = moveBatchAxis(upd!, du, batchDims, size);
    return [[scatterAdd(ub, idx!, { axis: axis + 1, batchDims, size: n, mode, op })], [batchDims]];
  },
});

export interface IndexCheckParams {
  /** the size of the indexed axis: valid indices are [0, size) */
  size: Dim;
  op: string;
  /** the user's source line of the gather, for the error */
  source?: string;
}

/**
 * The bounds check of a mode "raise" gather in compiled code (lower/fuse.ts puts it before the
 * gather's fused, clamped read): int32 indices in, the same indices out, or the ArgumentError of
 * the reference gather. It appears only in kernel lists (and their disk-cache form), not in traced
 * programs; exported modules embed its standalone JS.
 */
export const indexCheckP: Primitive<IndexCheckParams> = definePrimitive<IndexCheckParams>({
  name: "index_check",
  abstractEval: ([idx], { size }) => {
    if (idx!.dtype !== "int32") throw new DTypeError(`index_check: indices must be int32, got ${idx}`);
    if (typeof size === "number" && !(Number.isInteger(size) && size >= 0)) throw new ShapeError(`index_check: bad axis size ${size}`);
    return [idx!];
  },
  impl: ([idx], { size, op, source }) => {
    checkInRange(idx!.data, size as number, op, source);
    return [idx!.data.slice()];
  },
  jvp: ([idx], _t, p) => {
    const y = indexCheckP.bind1([idx!], p);
    return [[y], [new Zero(y.aval.strong())]];
  },
  batch: ([idx], [d], p) => [[indexCheckP.bind1([idx!], p)], [d!]],
  standalone: { source: INDEX_CHECK_JS, fn: "$indexCheck" },
});

// ----- typed wrappers -----
export function gather(x: Tensor, idx: Tensor, params: GatherParams): Tensor {
  return gatherP.bind1([x, idx], modeParams("gather", params));
}
/** axis, batchDims and, for mode "raise", mode and op ("clip" stays implicit: programs keep their params and cache keys). */
function modeParams(name: string, params: GatherParams): GatherParams {
  checkMode(name, params.mode);
  const p: GatherParams = { axis: params.axis, batchDims: params.batchDims };
  return params.mode === "raise" ? { ...p, mode: "raise", op: params.op ?? name } : p;
}
export function scatterAdd(updates: Tensor, idx: Tensor, params: ScatterAddParams): Tensor {
  return scatterAddP.bind1([updates, idx], { ...modeParams("scatter_add", params), size: params.size });
}
