// The root trace: applies primitives immediately with their reference implementations on
// concrete tensors (eager mode). The eager tape hooks in here to record operations on variables.

import type { Tensor } from "../core/tensor.js";
import type { Primitive } from "../prims/primitive.js";
import { Trace, checkNotEscaped } from "./trace.js";
import { config } from "../core/config.js";
import { checkEagerNans } from "../backends/interp/nans.js";
import { applyConcrete } from "../backends/interp/interpret.js";

/**
 * eager/tape.ts's `record`, connected in index.ts: applies a primitive some of whose inputs are
 * tracked by the eager tape, recording how to pull cotangents back through it. Returns null when
 * recording is off.
 */
export type TapeHook = (prim: Primitive<any>, inputs: Tensor[], params: any) => Tensor[] | null;
let tapeHook: TapeHook | null = null;
export function installTapeHook(h: TapeHook): void {
  tapeHook = h;
}

/**
 * hybrid/capture.ts's `captureOp`, connected in index.ts: defers a primitive while automatic
 * capture is on (returns lazy outputs), or returns null to run it now.
 */
export type CaptureHook = (prim: Primitive<any>, inputs: Tensor[], params: any) => Tensor[] | null;
let captureHook: CaptureHook | null = null;
export function installCaptureHook(h: CaptureHook): void {
  captureHook = h;
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
    const outs =
      (tracked && tapeHook ? tapeHook(prim, inputs, params) : null) ??
      (config.capture && captureHook ? captureHook(prim, inputs, params) : null) ??
      applyConcrete(prim, inputs, params);
    // eager ops, and the computations grad / vmap / backward passes run eagerly
    if (config.debugNans) checkEagerNans(prim, inputs, params, outs);
    return outs;
  }
}

/** The root trace (index.ts installs it with setRootTrace). */
export const evalTrace = new EvalTrace();
