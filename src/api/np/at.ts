// Index updates, JAX's `x.at[i].set(v)` written `np.at(x, i).set(v)` or `x.at(i).set(v)` (JS has
// no `at[...]` syntax). They return a new array; x is never modified. The index is anything
// np.index accepts (integers, slices, null, "...", one integer array), and the updated positions
// are exactly the elements `np.index(x, i)` reads: an int32 iota shaped like x is indexed the same
// way to get flat positions, so every indexing rule (and its errors) carries over.
//
//   set(v)       out[p] = v        duplicates: the last update wins (NumPy's x[i] = v; JAX leaves
//                                  it unspecified); gradient: zero at updated positions for x, and
//                                  only the winning update of a position receives its cotangent
//   add(v)       out[p] += v       duplicates accumulate (NumPy's np.add.at, JAX's .add): scatter_add
//   multiply(v)  out[p] *= v       duplicates accumulate; the gradient in v assumes unique positions
//                                  (JAX raises for it; here it is documented, not checked)
//   min(v), max(v)                 duplicates combine; NaN propagates; ties share the gradient
//   get()        np.index(x, i)
// v broadcasts to the indexed shape and is cast to x's dtype (as JAX does).

import type { Tensor } from "../../core/tensor.js";
import { concreteSize } from "../../core/shape.js";
import { DTypeError, ShapeError } from "../../core/errors.js";
import { add, max } from "../../prims/binary.js";
import { compare, select } from "../../prims/compare.js";
import { gather, scatterAdd } from "../../prims/gather.js";
import { type ScatterMode, iotaInt, scatter } from "../../prims/scatter.js";
import { reshape } from "../../prims/shape.js";
import { convert } from "../../prims/unary.js";
import { full } from "../../prims/rule-helpers.js";
import { type ArrayInput, asTensor, broadcastTo, isInt32Value, scalarTensor } from "./coerce.js";
import { type IndexItem, index } from "./indexing.js";

export type IndexSpec = IndexItem | readonly IndexItem[];

export interface IndexUpdate {
  get(): Tensor;
  set(v: Tensor | ArrayInput): Tensor;
  add(v: Tensor | ArrayInput): Tensor;
  multiply(v: Tensor | ArrayInput): Tensor;
  min(v: Tensor | ArrayInput): Tensor;
  max(v: Tensor | ArrayInput): Tensor;
}

/** The updates in x's dtype; a JS number must be exactly representable in it (no silent rounding). */
function updates(v: Tensor | ArrayInput, x: Tensor, name: string): Tensor {
  const dt = x.aval.dtype;
  if (typeof v === "number") {
    if (dt === "int32" && !isInt32Value(v)) throw new DTypeError(`${name}: the number ${v} is not an int32 value, so it cannot update int32 ${x.aval}`);
    return scalarTensor(v, dt);
  }
  const vt = asTensor(v, name);
  return vt.aval.dtype === dt ? vt : convert(vt, dt);
}

/** np.at(x, i): the index-update helper for x at index i (see the file comment). */
export function at(x: Tensor | ArrayInput, spec: IndexSpec): IndexUpdate {
  const t = asTensor(x, "at");
  const shape = t.aval.shape;
  if (!shape.every((d): d is number => typeof d === "number")) throw new ShapeError(`at: ${t.aval} must have a concrete shape`);
  const n = concreteSize(shape);
  /** flat positions (int32, the indexed shape) and the update values flattened alongside */
  const prepare = (v: Tensor | ArrayInput, op: string) => {
    const pos = index(reshape(iotaInt(n), shape), spec);
    const vb = broadcastTo(`at(...).${op}`, updates(v, t, `at(...).${op}`), pos.aval.shape, false);
    const k = concreteSize(pos.aval.shape as number[]);
    return { pos: reshape(pos, [k]), upd: reshape(vb, [k]), flat: reshape(t, [n]), k };
  };
  const combine = (mode: ScatterMode, op: string) => (v: Tensor | ArrayInput) => {
    const { pos, upd, flat } = prepare(v, op);
    return reshape(scatter(flat, pos, upd, mode), shape);
  };
  return {
    get: () => index(t, spec),
    set: (v) => {
      const { pos, upd, flat, k } = prepare(v, "set");
      // the number of the last update at each position (-1: none), then a gather of that update
      const winner = scatter(full([n], "int32", -1), pos, iotaInt(k), "max");
      const picked = gather(upd, max(winner, full([], "int32", 0)), { axis: 0, batchDims: 0 });
      return reshape(select(compare(winner, full([], "int32", 0), "ge"), picked, flat), shape);
    },
    add: (v) => {
      const { pos, upd, flat } = prepare(v, "add");
      return reshape(add(flat, scatterAdd(upd, pos, { axis: 0, batchDims: 0, size: n })), shape);
    },
    multiply: combine("mul", "multiply"),
    min: combine("min", "min"),
    max: combine("max", "max"),
  };
}
