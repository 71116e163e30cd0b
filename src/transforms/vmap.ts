// Vectorizing map. A batch tracer carries a value and which of its axes is the batch axis (or
// none); each primitive's batching rule rewrites the operation to act on the whole batch at once.
// The batch size may be symbolic (vmap inside a shape-polymorphic trace): sizes are compared with
// dimEq, never as JS values.

import { ShapedArray } from "../core/aval.js";
import { leafToTensor } from "../core/convert.js";
import { ArgumentError, ConcretizationError, ShapeError } from "../core/errors.js";
import type { TypedArray } from "../core/dtype.js";
import { is } from "../core/options.js";
import { checkTransform } from "./args.js";
import { type Dim, dimEq, dimToString, normalizeAxis } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, treedefToString, unflatten } from "../core/tree.js";
import type { BatchDim, Primitive } from "../prims/primitive.js";
import { moveBatchAxis } from "../prims/rule-helpers.js";
import { Trace, Tracer, checkNotEscaped, currentTrace, withTrace } from "../trace/trace.js";

export class BatchTracer extends Tracer {
  constructor(
    readonly trace: BatchTrace,
    readonly val: Tensor,
    readonly bdim: number,
  ) {
    const s = [...val.aval.shape];
    s.splice(bdim, 1);
    super(new ShapedArray(s, val.aval.dtype, val.aval.weak));
  }

  /**
   * A batch tracer holds a value that differs per example (an unbatched value is never wrapped):
   * JS control flow on it would take one path for the whole batch, so the error says how to
   * write a per-example branch (as JAX does).
   */
  protected override concretize(what: string): TypedArray {
    try {
      return super.concretize(what);
    } catch (e) {
      if (e instanceof ConcretizationError) {
        const where = e.sourceLine ? `\n  at ${e.sourceLine} (your code)` : "";
        const old = e.message;
        e.message =
          `cannot ${what} a traced value (${this.aval}) inside vmap: it differs per example (mapped along axis ${this.bdim} of ${this.val.aval}), and ` +
          `a JS branch or loop would take one path for the whole batch. Write a per-example branch as np.where(pred, a, b) or ` +
          `lax.cond(pred, trueFn, falseFn, ...operands) (vmap evaluates both branches and selects per example), and a ` +
          `per-example loop as lax.whileLoop(condFn, bodyFn, init) (vmap runs it until every example is done). Values that ` +
          `do not depend on the mapped inputs can be read in JS as usual.${where}`;
        if (e.stack) e.stack = e.stack.replace(old, e.message);
      }
      throw e;
    }
  }
}

export class BatchTrace extends Trace {
  readonly kind = "vmap";
  constructor(
    parent: Trace,
    readonly size: Dim,
  ) {
    super(parent);
  }

  processPrimitive(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
    const vals: Tensor[] = [];
    const dims: BatchDim[] = [];
    let any = false;
    for (const x of inputs) {
      if (x instanceof BatchTracer && x.trace === this) {
        vals.push(x.val);
        dims.push(x.bdim);
        any = true;
      } else {
        checkNotEscaped(x, this, prim.name);
        vals.push(x);
        dims.push(null);
      }
    }
    const parent = this.parent!;
    if (!any) return withTrace(parent, () => prim.bind(vals, params));
    // (batch rules are typed with a numeric size but build shapes with it, so a SymDim works)
    const [outs, outDims] = withTrace(parent, () => prim.batch(vals, dims, params, this.size as number));
    return outs.map((o, i) => (outDims[i] === null ? o : new BatchTracer(this, o, outDims[i]!)));
  }
}

/**
 * Batches a flat function. `inDims[i]` is the mapped axis of input i (null: broadcast), the
 * result has its batch axis at `outDims[j]` (null: the output must not depend on the batch).
 */
export function vmapFlat(
  fn: (xs: Tensor[]) => Tensor[],
  xs: Tensor[],
  inDims: BatchDim[],
  size: Dim,
  outDims: (number | null)[] | ((nOut: number) => (number | null)[]),
): Tensor[] {
  const trace = new BatchTrace(currentTrace(), size);
  const ins = xs.map((x, i) => (inDims[i] === null ? x : new BatchTracer(trace, x, inDims[i]!)));
  let outs: Tensor[];
  try {
    outs = withTrace(trace, () => fn(ins));
  } finally {
    trace.finished = true;
  }
  const od = typeof outDims === "function" ? outDims(outs.length) : outDims;
  return outs.map((o, i) => {
    const target = od[i] ?? null;
    let val = o;
    let bd: number | null = null;
    if (o instanceof BatchTracer && o.trace === trace) {
      val = o.val;
      bd = o.bdim;
    } else checkNotEscaped(o, currentTrace(), "vmap output");
    if (target === null) {
      if (bd !== null) throw new ArgumentError(`vmap: output ${i} depends on the mapped axis but its outAxes entry is null`);
      return val;
    }
    const t = normalizeAxis(target, val.aval.ndim + (bd === null ? 1 : 0));
    if (t < 0) throw new ArgumentError(`vmap: outAxes ${target} is out of range for output ${i}`);
    return moveBatchAxis(val, bd, t, size as number);
  });
}

export interface VmapOptions {
  inAxes?: unknown;
  outAxes?: unknown;
}

/** Expands an axis spec (a number/null, or a tree prefix of the value) into per-leaf axes. */
function expandAxes(what: string, spec: unknown, value: unknown): (number | null)[] {
  const [leaves, def] = flatten(value);
  if (spec === null || spec === undefined || typeof spec === "number") return leaves.map(() => (spec ?? null) as number | null);
  const rec = (s: unknown, d: TreeDef): (number | null)[] => {
    if (s === null || typeof s === "number") return new Array(countLeaves(d)).fill(s);
    if (Array.isArray(s) && d.kind === "array" && s.length === d.children.length) return s.flatMap((x, i) => rec(x, d.children[i]!));
    if (typeof s === "object" && d.kind === "object") {
      return d.keys.flatMap((k, i) => rec((s as Record<string, unknown>)[k] ?? null, d.children[i]!));
    }
    throw new ArgumentError(`vmap: ${what} ${JSON.stringify(s)} does not match the structure ${treedefToString(d)}`);
  };
  return rec(spec, def);
}

function countLeaves(d: TreeDef): number {
  return d.kind === "leaf" ? 1 : d.kind === "none" ? 0 : d.children.reduce((n, c) => n + countLeaves(c), 0);
}

/** `vmap(f, {inAxes, outAxes})` (public API). */
export function vmap(f: (...args: any[]) => any, opts: VmapOptions = {}): (...args: any[]) => any {
  checkTransform("vmap", f, opts, { inAxes: is.any, outAxes: is.any });
  return (...args: any[]) => {
    const inAxes = opts.inAxes ?? 0;
    const axesPerArg = Array.isArray(inAxes) ? inAxes : args.map(() => inAxes);
    if (axesPerArg.length !== args.length) {
      throw new ArgumentError(`vmap: inAxes has ${axesPerArg.length} entries for ${args.length} arguments`);
    }
    const [leaves, def] = flatten(args);
    const xs = leaves.map((l, i) => leafToTensor(l, `vmap: argument leaf ${i}`));
    const dims = args.flatMap((a, i) => expandAxes("inAxes", axesPerArg[i], a));
    let size: Dim | null = null;
    const normDims = xs.map((x, i) => {
      const d = dims[i]!;
      if (d === null) return null;
      const nd = normalizeAxis(d, x.aval.ndim);
      if (nd < 0) throw new ShapeError(`vmap: inAxes ${d} is out of range for argument leaf ${i} of shape ${x.aval}`);
      const n = x.aval.shape[nd]!;
      if (size !== null && !dimEq(size, n)) {
        throw new ShapeError(`vmap: inconsistent sizes for the mapped axis: ${dimToString(size)} and ${dimToString(n)} (argument leaf ${i}, ${x.aval})`);
      }
      size = n;
      return nd;
    });
    if (size === null) throw new ArgumentError("vmap: no argument is mapped (all inAxes are null)");
    let outDef: TreeDef | undefined;
    let outTree: unknown;
    const outs = vmapFlat(
      (ins) => {
        const out = f(...unflatten(def, ins));
        const [ol, od] = flatten(out);
        outDef = od;
        outTree = out;
        return ol.map((l, i) => leafToTensor(l, `vmap: output leaf ${i}`));
      },
      xs,
      normDims,
      size,
      () => expandAxes("outAxes", opts.outAxes ?? 0, outTree),
    );
    return unflatten(outDef!, outs);
  };
}
