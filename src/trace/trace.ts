// The interpreter context. Every primitive application goes through `bind`, which hands it to the
// *current* trace. A transformation installs its trace (whose parent is the trace that was current)
// while it runs the user's function; its rules run with the parent current again. Values that
// belong to an outer trace are constants to an inner one, which is what keeps nested
// transformations (grad of grad, vmap of jvp, ...) from confusing their perturbations.

import { ShapedArray } from "../core/aval.js";
import { ConcretizationError, EscapedTracerError, InternalError } from "../core/errors.js";
import type { TypedArray } from "../core/dtype.js";
import { Tensor } from "../core/tensor.js";
import type { Primitive } from "../prims/primitive.js";

export abstract class Trace {
  readonly parent: Trace | null;
  /** 0 for the root (eager) trace, parent.depth + 1 otherwise. */
  readonly depth: number;
  /** Set when the transformation that owns this trace has returned. */
  finished = false;

  constructor(parent: Trace | null) {
    this.parent = parent;
    this.depth = parent ? parent.depth + 1 : 0;
  }

  /** Short name for messages, e.g. "jvp", "vmap", "jit". */
  abstract readonly kind: string;

  /** Applies `prim` to `inputs`; runs with this trace current. */
  abstract processPrimitive(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[];

  /** True when `t` is this trace or one of its ancestors. */
  isAncestorOrSelf(t: Trace): boolean {
    for (let c: Trace | null = this; c; c = c.parent) if (c === t) return true;
    return false;
  }
}

/** A value inside a transformation. It has an abstract value (shape, dtype) but no data. */
export abstract class Tracer extends Tensor {
  abstract readonly trace: Trace;

  constructor(aval: ShapedArray) {
    super(aval, null);
  }

  protected override concretize(what: string): TypedArray {
    throw concretizationFailure(this.trace, new ConcretizationError(
      `cannot ${what} a traced value (${this.aval}) inside ${this.trace.kind}: its value is not known ` +
        `while the function is being transformed. Use lax.cond / lax.whileLoop / np.where for ` +
        `data-dependent control flow, or pass the value as a static argument (jit staticArgnums).`,
    ));
  }

  override toString(): string {
    return `Tracer<${this.aval}> (${this.trace.kind})`;
  }
}

/**
 * The trace whose value a ConcretizationError failed to observe: jit uses it to tell a graph
 * break of its own trace (src/hybrid/) from an error of an enclosing transformation.
 */
const failedTraces = new WeakMap<Error, Trace>();
function concretizationFailure(t: Trace, e: ConcretizationError): ConcretizationError {
  failedTraces.set(e, t);
  return e;
}
export function concretizationTrace(e: unknown): Trace | undefined {
  return e instanceof Error ? failedTraces.get(e) : undefined;
}

let current: Trace | null = null;

export function currentTrace(): Trace {
  if (!current) throw new InternalError("no root trace installed");
  return current;
}

export function setRootTrace(t: Trace): void {
  if (current && current.parent) throw new InternalError("setRootTrace while a transformation runs");
  current = t;
}

/** Runs `fn` with `t` as the current trace. */
export function withTrace<T>(t: Trace, fn: () => T): T {
  const prev = current;
  current = t;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/**
 * Checks that a value may be used with trace `t` current: a tracer must belong to `t` or to one of
 * its ancestors. A tracer of a finished or unrelated transformation has escaped its scope.
 */
export function checkNotEscaped(x: Tensor, t: Trace, primName: string): void {
  if (x instanceof Tracer && !t.isAncestorOrSelf(x.trace)) {
    throw new EscapedTracerError(
      `${primName}: got a value traced by a ${x.trace.kind} transformation that ` +
        `${x.trace.finished ? "has already returned" : "is not active here"} (${x.aval}). ` +
        `Values computed inside a transformed function must be returned from it, not stored ` +
        `in outer variables and used later.`,
    );
  }
}

/** Applies a primitive through the current trace. */
export function bind(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
  return currentTrace().processPrimitive(prim, inputs, params);
}
