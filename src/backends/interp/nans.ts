// config.debugNans: find the first primitive that produced a NaN from NaN-free inputs and name it
// with the user's source line, on every path. The interpreter checks each equation it runs
// (jitted programs are re-run in it when their result has a NaN, and control-flow bodies run in
// it while debugging, so the inner op is named, not the scan); eager evaluation (which is also
// where grad, vmap and the backward pass compute) checks each primitive it applies.

import { isFloat } from "../../core/dtype.js";
import { NanError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import { Program, type Equation } from "../../ir/program.js";
import type { Primitive } from "../../prims/primitive.js";
import { interpret } from "./interpret.js";

export { NanError };

export function hasNan(t: Tensor): boolean {
  if (!isFloat(t.dtype) || !t.isConcrete) return false;
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (d[i] !== d[i]) return true;
  return false;
}

function nanMessage(prim: string, inputs: Tensor[]): string {
  return `debugNans: ${prim} produced a NaN from NaN-free inputs (${inputs.map((x) => x.aval).join(", ") || "no inputs"})`;
}

/** One interpreted equation: throws when it made a NaN from NaN-free inputs (at its traced line). */
export function checkNans(e: Equation, outs: Tensor[], inputs: Tensor[]): void {
  if (!outs.some(hasNan) || inputs.some(hasNan)) return;
  throw new NanError(nanMessage(e.prim.name, inputs), e.source ? String(e.source) || undefined : undefined);
}

/**
 * One eagerly applied primitive (called by the eager trace when debugNans is on). A primitive
 * holding a sub-program that ran compiled (a jit call inside grad, say) is re-run in the
 * interpreter first, so the NaN is attributed to the inner equation; otherwise the primitive
 * itself is named, at the user's line (the first stack frame outside adgen).
 */
export function checkEagerNans(prim: Primitive<any>, inputs: Tensor[], params: any, outs: Tensor[]): void {
  if (!outs.some(hasNan) || inputs.some(hasNan)) return;
  const sub = params?.program;
  if (prim.traits.higherOrder && sub instanceof Program) {
    try {
      interpret(sub, inputs); // throws the inner equation's NanError
    } catch (e) {
      if (e instanceof NanError) throw e;
      // anything else (a sub-program whose inputs differ from the equation's): name the primitive
    }
  }
  throw new NanError(nanMessage(prim.name, inputs));
}
