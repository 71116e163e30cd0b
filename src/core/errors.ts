// Typed errors. Each says what went wrong (naming the primitive, shapes and dtypes), where (the
// user's source line), and how to fix it when there is a known fix.

import { userSourceLine } from "./source.js";

export class AdgenError extends Error {
  /** "path:line:col" of the user's code that led to the error, when it could be found. */
  readonly sourceLine: string | undefined;

  constructor(message: string, sourceLine?: string) {
    const where = sourceLine ?? userSourceLine();
    super(where ? `${message}\n  at ${where} (your code)` : message);
    this.name = new.target.name;
    this.sourceLine = where;
  }
}

/** Operand shapes are incompatible with an operation. */
export class ShapeError extends AdgenError {}

/** Operand dtypes are incompatible with an operation. */
export class DTypeError extends AdgenError {}

/** A traced value was converted to a concrete JS value (boolean, number) inside a transformation. */
export class ConcretizationError extends AdgenError {}

/** A tracer was used outside the transformation that created it. */
export class EscapedTracerError extends AdgenError {}

/** A pytree (nested arrays/objects of tensors) does not have the expected structure. */
export class TreeStructureError extends AdgenError {}

/** An argument to an API function is invalid (wrong kind, out of range, ...). */
export class ArgumentError extends AdgenError {}

/** A differentiation request cannot be satisfied (non-scalar output, integer input, ...). */
export class GradError extends AdgenError {}

/**
 * Under config.debugNans: a primitive produced a NaN from NaN-free inputs (named with the user's
 * line of that primitive, also inside grad, vmap and control-flow bodies).
 */
export class NanError extends AdgenError {}

/** A jitted function recompiled more than config.recompileLimit allows (onRecompileLimit "error"). */
export class RecompileError extends AdgenError {}

/** A broken invariant inside adgen: a bug, never the user's fault. */
export class InternalError extends AdgenError {
  constructor(message: string) {
    super(`internal error (please report): ${message}`);
  }
}

/** The invariants of a lowered program that lower/verify.ts checks. */
export type KernelRule = "unknown-buffer" | "use-before-def" | "write-readonly" | "out-of-bounds" | "dtype" | "arena-overlap" | "output-unwritten";

/** A lowered program breaks a kernel-IR invariant (lower/verify.ts): a bug in lowering or planning. */
export class KernelVerifyError extends InternalError {
  constructor(
    /** the violated invariant */
    readonly rule: KernelRule,
    /** which kernel, e.g. "kernel 3 (map)" or "kernel 2 (loop) > body 1 (dot)" ("program" for program-level rules) */
    readonly kernel: string,
    detail: string,
  ) {
    super(`kernel IR verifier: ${kernel} breaks ${rule}: ${detail}`);
  }
}
