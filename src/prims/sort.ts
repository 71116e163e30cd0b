// sort: sort along the last axis, returning the sorted values and the permutation (int32
// positions of the sorted elements in the input row), so that argsort and top-k are its outputs:
//
//   sort(x [..., n], {descending}) -> (values [..., n], indices int32 [..., n])
//
// The order is total and stable (ties keep their input order): ascending puts NaN last (NumPy's
// np.sort), descending puts NaN first (the largest, as lax.top_k) and is otherwise the reverse
// order with ties still in input order. -0 and +0 are equal. The runtime below is the reference
// (interpreter); jit backends and exports lower rows up to lower/sort.ts's SORT_RANK_MAX_ROW
// natively (ranks, permutation, gather) and run this text as a call kernel for longer rows.
//
// JVP: the values' tangent is the input tangent permuted the same way (a gather along the last
// axis with the leading axes as batch dims), so reverse mode is its transpose (scatter_add).

import { ShapedArray } from "../core/aval.js";
import { type TypedArray, allocArray } from "../core/dtype.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { defineRuntime } from "../core/runtime-text.js";
import { moveBatchAxis } from "./rule-helpers.js";
import { Zero, isZero } from "../rules/zero.js";
import { gather } from "./gather.js";
import { definePrimitive, type Primitive } from "./primitive.js";

export interface SortParams {
  descending: boolean;
  /** the length of the last axis (the kernel's row length; concrete) */
  n: number;
}

/** The kernel, written once as a self-contained runtime (core/runtime-text.ts). */
function sortRuntime() {
  function sortRows(ins: TypedArray[], outs: TypedArray[], p: { descending: boolean; n: number }): void {
    const x = ins[0]!, vals = outs[0]!, perm = outs[1]!;
    const n = p.n;
    const rows = n === 0 ? 0 : x.length / n;
    const order: number[] = [];
    const dir = p.descending ? -1 : 1;
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      order.length = 0;
      for (let i = 0; i < n; i++) order.push(i);
      order.sort((i, j) => {
        const a = x[base + i]!, b = x[base + j]!;
        const an = a !== a, bn = b !== b;
        if (an || bn) return an && bn ? i - j : an ? dir : -dir;
        return a < b ? -dir : a > b ? dir : i - j;
      });
      for (let i = 0; i < n; i++) {
        perm[base + i] = order[i]!;
        vals[base + i] = x[base + order[i]!]!;
      }
    }
  }
  return { sortRows };
}
const SORT = defineRuntime(sortRuntime, []);
const { sortRows } = SORT.value;

export const sortP: Primitive<SortParams> = definePrimitive<SortParams>({
  name: "sort",
  abstractEval: ([x], { descending, n }) => {
    if (typeof descending !== "boolean") throw new ShapeError(`sort: descending must be a boolean, got ${descending}`);
    if (x!.ndim === 0) throw new ShapeError(`sort: operand ${x} must have rank >= 1 (it sorts along the last axis)`);
    if (x!.shape[x!.ndim - 1] !== n) throw new ShapeError(`sort: operand ${x} must have a concrete last axis of length n = ${n}`);
    if (x!.dtype === "bool") throw new DTypeError(`sort: operand ${x} must be numeric, not bool`);
    return [new ShapedArray(x!.shape, x!.dtype, x!.weak), new ShapedArray(x!.shape, "int32")];
  },
  impl: ([x], params, [o]) => {
    const vals = allocArray(o!.dtype, x!.data.length);
    const perm = allocArray("int32", x!.data.length);
    sortRows([x!.data], [vals, perm], params);
    return [vals, perm];
  },
  standalone: { source: SORT.text, fn: "$sortRows" },
  jvp: ([x], [tx], params) => {
    const [vals, perm] = sortP.bind([x!], params) as [Tensor, Tensor];
    const nd = x!.aval.ndim;
    const tv = isZero(tx) ? new Zero(vals.aval.strong()) : gather(tx!, perm, { axis: nd - 1, batchDims: nd - 1 });
    return [[vals, perm], [tv, new Zero(perm.aval)]];
  },
  batch: ([x], [d], params, size) => {
    const xb = moveBatchAxis(x!, d, 0, size);
    // a rank-1 operand batched becomes rank 2: still sorted along its (unbatched) last axis
    return [sortP.bind([xb], params), [0, 0]];
  },
});

/** (sorted values, permutation) along the last axis. */
export function sort(x: Tensor, descending = false): [Tensor, Tensor] {
  const n = x.aval.shape[x.aval.ndim - 1];
  if (typeof n !== "number") throw new ShapeError(`sort: the last axis of ${x.aval} must be concrete, got ${n}`);
  return sortP.bind([x], { descending, n }) as [Tensor, Tensor];
}
