// Why a function with graph breaks cannot be exported, break by break. An exported module is one
// program; a JS branch or loop on a traced value (a graph break, see graph-breaks.ts) has no
// place in it. When tracing for export fails on such an observation, the function is traced once
// more on a probe trace whose values answer every observation with zeros, so that the tracing
// continues past each break and every break site on that path is listed once with its source
// line (a loop observing a value forever is cut at MAX_OBSERVED); the program it builds is
// thrown away.

import type { ShapedArray } from "../core/aval.js";
import { ConcretizationError } from "../core/errors.js";
import { type TypedArray, allocArray } from "../core/dtype.js";
import { isConcreteShape } from "../core/shape.js";
import { userSourceLine } from "../core/source.js";
import type { Tensor } from "../core/tensor.js";
import type { Primitive } from "../prims/primitive.js";
import { StagingTrace, StagingTracer } from "../trace/staging.js";
import { type Trace, concretizationTrace, currentTrace, withTrace } from "../trace/trace.js";

const MAX_OBSERVED = 1000;

interface ProbeBreak {
  reason: string;
  aval: string;
  source: string | undefined;
  count: number;
}

class Stop extends Error {}

class ProbeTracer extends StagingTracer {
  protected override concretize(what: string): TypedArray {
    const probe = this.trace as ProbeTrace;
    if (++probe.observed > MAX_OBSERVED || !isConcreteShape(this.aval.shape)) throw new Stop();
    const source = userSourceLine();
    const site = `${what}@${source}`;
    const seen = probe.sites.get(site);
    if (seen) seen.count++;
    else probe.sites.set(site, { reason: what, aval: String(this.aval), source, count: 1 });
    let n = 1;
    for (const d of this.aval.shape as number[]) n *= d;
    return allocArray(this.aval.dtype, n);
  }
}

class ProbeTrace extends StagingTrace {
  readonly sites = new Map<string, ProbeBreak>();
  observed = 0;

  override processPrimitive(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
    return super.processPrimitive(prim, inputs, params).map((t) => new ProbeTracer(this, (t as StagingTracer).v));
  }
}

/** True when `err` is a graph break of the trace `kind` started on top of `at` (not an outer one). */
export function isExportBreak(err: unknown, at: Trace, kind: string): boolean {
  const t = concretizationTrace(err);
  return err instanceof ConcretizationError && t instanceof StagingTrace && t.parent === at && t.kind === kind;
}

/**
 * The refusal for a function whose export trace hit a graph break: a ConcretizationError listing
 * each break (what the JS did, the value's type, the user's line) and how to express it.
 */
export function exportBreaksError(fn: (xs: Tensor[]) => unknown, inAvals: ShapedArray[], what: string, first: unknown): ConcretizationError {
  const probe = new ProbeTrace(currentTrace(), what);
  let complete = true;
  try {
    withTrace(probe, () => fn(inAvals.map((a) => new ProbeTracer(probe, probe.newInput(a).v))));
  } catch (e) {
    // a break past the listing limit, or a failure caused by the zeros the probe answered with
    complete = false;
    if (!(e instanceof Stop) && probe.sites.size === 0) return first as ConcretizationError;
  } finally {
    probe.finished = true;
  }
  const breaks = [...probe.sites.values()];
  const lines = breaks.map(
    (b, i) => `  ${i + 1}. ${b.reason} a traced value (${b.aval})${b.source ? ` at ${b.source}` : ""}${b.count > 1 ? ` (observed ${b.count} times)` : ""}`,
  );
  return new ConcretizationError(
    `${what}: the function has ${complete ? "" : "at least "}${breaks.length} graph break${breaks.length === 1 ? "" : "s"} ` +
      `(JS control flow on a traced value), which an exported module cannot contain (it is one program; jit runs such ` +
      `a function as compiled regions with the JS in between, but the JS is not exported):\n${lines.join("\n")}\n` +
      `Express each in the program: an if/else on a value as lax.cond(pred, trueFn, falseFn, ...operands) or np.where(pred, a, b); ` +
      `a loop whose trip count depends on a value as lax.whileLoop(condFn, bodyFn, init) (or lax.foriLoop for a known count); ` +
      `a value that takes few values as a static argument. (Breaks are listed along the path taken when every observed value is 0.)`,
  );
}
