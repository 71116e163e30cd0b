// Step 5 of a jitted call (key -> lookup -> build -> tier -> run): runs the entry's compiled form
// on the argument leaves (and its captured constants). Under config.debugNans, as JAX's
// debug_nans: when an output holds a NaN, the traced program is re-run un-optimized and un-fused
// in the interpreter, which checks every equation and raises the NanError naming the first
// primitive that produced a NaN from NaN-free inputs, at the user's source line (inside
// control-flow bodies too). A NaN already in an argument is named as such, not blamed on an op.

import { config } from "../core/config.js";
import { NanError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { interpret } from "../backends/interp/interpret.js";
import { hasNan } from "../backends/interp/nans.js";
import type { Entry } from "./build.js";

/** The entry's outputs for these argument leaves (`paths` name them in errors). */
export function runEntry(name: string, e: Entry, tensors: Tensor[], paths: readonly string[], donate?: readonly number[] | null): Tensor[] {
  const ins = e.consts.length ? [...tensors, ...e.consts] : tensors;
  // donated leaves may be overwritten in place (jit/donate.ts), except when debugNans may rerun the inputs
  const outs = e.compiled.run(ins, donate?.length && !config.debugNans ? donate : undefined);
  if (config.debugNans && outs.some(hasNan)) locateNan(name, e, ins, paths, outs);
  return outs;
}

/** Throws the NanError of the first equation producing a NaN (see the file comment). */
function locateNan(name: string, e: Entry, ins: Tensor[], paths: readonly string[], outs: Tensor[]): never {
  const bad = ins.findIndex(hasNan);
  if (bad >= 0) {
    const what = bad < paths.length ? `argument ${paths[bad]}` : "a captured value";
    throw new NanError(`debugNans: an input already contains NaN: jit(${name}) ${what} (${ins[bad]!.aval}) holds a NaN before any operation ran`);
  }
  const prev = config.debugNans;
  try {
    config.debugNans = true;
    // the traced program, equation by equation (a disk entry trusted without a trace has only its optimized form)
    interpret(e.program, ins); // throws the first equation's NanError
  } finally {
    config.debugNans = prev;
  }
  const out = outs.findIndex(hasNan);
  throw new NanError(
    `debugNans: the compiled program of jit(${name}) produced a NaN in output ${out} but the interpreter, running its traced program ` +
      `equation by equation, produced none: a difference between the compiled code and the interpreter (please report it)`,
  );
}
