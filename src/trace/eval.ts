// The root trace: applies primitives immediately with their reference implementations on
// concrete tensors (eager mode). The eager tape hooks in here to record operations on variables.

import type { ShapedArray } from "../core/aval.js";
import type { TypedArray } from "../core/dtype.js";
import { Tensor } from "../core/tensor.js";
import type { Primitive } from "../prims/primitive.js";
import { Trace, checkNotEscaped, setRootTrace } from "./trace.js";

/** Set by eager/tape.ts: records an applied primitive when any input is tracked. */
export type TapeHook = (prim: Primitive<any>, inputs: Tensor[], params: any, outs: Tensor[]) => void;
let tapeHook: TapeHook | null = null;
export function installTapeHook(h: TapeHook): void {
  tapeHook = h;
}

export class EvalTrace extends Trace {
  readonly kind = "eager evaluation";

  constructor() {
    super(null);
  }

  processPrimitive(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
    let tracked = false;
    for (const x of inputs) {
      checkNotEscaped(x, this, prim.name);
      if (x._tape) tracked = true;
    }
    const outs = applyConcrete(prim, inputs, params);
    if (tracked && tapeHook) tapeHook(prim, inputs, params, outs);
    return outs;
  }
}

/** Shape-checks and runs a primitive's reference implementation. */
export function applyConcrete(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
  const outAvals: ShapedArray[] = prim.abstractEval(
    inputs.map((x) => x.aval),
    params,
  );
  const datas: TypedArray[] = prim.impl(inputs, params, outAvals);
  return outAvals.map((a, i) => new Tensor(a, datas[i]!));
}

export const evalTrace = new EvalTrace();
setRootTrace(evalTrace);
