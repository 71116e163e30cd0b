// dim_value: the run-time value of a (symbolic) dimension as an int32 scalar, e.g. the batch size
// B of a shape-polymorphic program, so that `np.mean` or `x / x.shape[0]` work for every B. It
// has no operands: its value comes from the binding of the program's symbols at run time.

import { ShapedArray } from "../core/aval.js";
import { ShapeError } from "../core/errors.js";
import type { Dim } from "../core/shape.js";
import { currentBinding } from "../core/symbols.js";
import { Tensor } from "../core/tensor.js";
import { Zero } from "../rules/zero.js";
import { definePrimitive, type Primitive } from "./primitive.js";

export interface DimParams {
  dim: Dim;
}

export const dimValueP: Primitive<DimParams> = definePrimitive<DimParams>({
  name: "dim_value",
  traits: { nonDifferentiable: true },
  abstractEval: () => [new ShapedArray([], "int32", true)],
  impl: (_ins, { dim }) => {
    if (typeof dim === "number") return [Int32Array.of(dim)];
    try {
      return [Int32Array.of(dim.evaluate(currentBinding()))];
    } catch {
      throw new ShapeError(`dim_value: symbolic dimension ${dim} has no value here (is the program running with bound shapes?)`);
    }
  },
  jvp: (_p, _t, params) => {
    const y = dimValueP.bind1([], params);
    return [[y], [new Zero(y.aval)]];
  },
  batch: (_a, _d, params) => [[dimValueP.bind1([], params)], [null]],
});

/** A dimension as a weakly typed int32 tensor (a concrete scalar when it is a plain number). */
export function dimValue(d: Dim): Tensor {
  if (typeof d === "number") return new Tensor(new ShapedArray([], "int32", true), Int32Array.of(d));
  return dimValueP.bind1([], { dim: d });
}
