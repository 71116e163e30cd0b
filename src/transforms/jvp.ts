// Forward mode. A JVP tracer carries a primal value and its tangent (possibly a symbolic zero);
// each primitive's JVP rule runs with the parent trace current, so primal and tangent work is
// done (or staged) by whatever transformation sits below.

import { leafToTensor } from "../core/convert.js";
import { shareCapture } from "../core/source.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import { type TypedArray, isFloat } from "../core/dtype.js";
import { Tensor } from "../core/tensor.js";
import { checkStructure, flatten, unflatten } from "../core/tree.js";
import type { Primitive } from "../prims/primitive.js";
import { instantiate } from "../prims/rule-helpers.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import { Trace, Tracer, checkNotEscaped, currentTrace, withTrace } from "../trace/trace.js";
import { convert } from "../prims/unary.js";
import { checkFunction, listArg } from "./args.js";

export class JVPTracer extends Tracer {
  constructor(
    readonly trace: JVPTrace,
    readonly primal: Tensor,
    readonly tangent: Tangent,
  ) {
    super(primal.aval);
  }

  /**
   * The primal is known whenever every trace below is concrete (no jit staging or vmap under
   * this jvp / linearize): observing the value then reads it, as JAX does outside jit, so JS
   * control flow on it picks the path that was actually taken; only the tangent stays traced.
   * Otherwise the primal's own tracer raises the ConcretizationError.
   */
  protected override concretize(what: string): TypedArray {
    return this.primal._observe(what);
  }
}

export class JVPTrace extends Trace {
  readonly kind = "jvp";

  lift(x: Tensor, primName: string): [Tensor, Tangent] {
    if (x instanceof JVPTracer && x.trace === this) return [x.primal, x.tangent];
    checkNotEscaped(x, this, primName);
    return [x, new Zero(x.aval.strong())];
  }

  processPrimitive(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
    const primals: Tensor[] = [];
    const tangents: Tangent[] = [];
    let anyTangent = false;
    for (const x of inputs) {
      const [p, t] = this.lift(x, prim.name);
      primals.push(p);
      tangents.push(t);
      if (!isZero(t)) anyTangent = true;
    }
    const parent = this.parent!;
    // no tangent flows in: the result is a constant of this trace
    if (!anyTangent) return withTrace(parent, () => prim.bind(primals, params));
    // every primitive the rule binds has the user's line of this operation: captured once
    const rule = () => withTrace(parent, () => prim.jvp(primals, tangents, params));
    const [outs, outTangents] = runsUserCode(params) ? rule() : shareCapture(rule);
    return outs.map((o, i) => {
      const t = outTangents[i]!;
      return isZero(t) ? o : new JVPTracer(this, o, t);
    });
  }
}

/** Whether a rule with these params may call the user's functions (custom_jvp's rule, ...). */
function runsUserCode(params: unknown): boolean {
  return typeof params === "object" && params !== null && Object.values(params).some((v) => typeof v === "function");
}

/**
 * JVP of a function on flat lists of tensors. Returns primal outputs and output tangents (which
 * may be symbolic zeros).
 */
export function jvpFlat(fn: (xs: Tensor[]) => Tensor[], primals: Tensor[], tangents: Tangent[]): [Tensor[], Tangent[]] {
  const trace = new JVPTrace(currentTrace());
  const ins = primals.map((p, i) => (isZero(tangents[i]) ? p : new JVPTracer(trace, p, tangents[i]!)));
  let outs: Tensor[];
  try {
    outs = withTrace(trace, () => fn(ins));
  } finally {
    trace.finished = true;
  }
  const ps: Tensor[] = [];
  const ts: Tangent[] = [];
  for (const o of outs) {
    if (o instanceof JVPTracer && o.trace === trace) {
      ps.push(o.primal);
      ts.push(o.tangent);
    } else {
      checkNotEscaped(o, currentTrace(), "jvp output");
      ps.push(o);
      ts.push(new Zero(o.aval.strong()));
    }
  }
  return [ps, ts];
}

function checkTangent(p: Tensor, t: Tensor, i: number): void {
  if (!p.aval.equals(t.aval) && !(t.aval.weak && p.aval.shape.length === t.aval.shape.length)) {
    const Err = p.aval.dtype !== t.aval.dtype ? DTypeError : ShapeError;
    throw new Err(`jvp: tangent ${i} is ${t.aval} but its primal is ${p.aval}; they must match`);
  }
}

/** `jvp(f, primals, tangents) -> [out, outDot]` (public API). */
export function jvp(f: (...args: any[]) => any, primals: any[], tangents: any[]): [any, any] {
  checkFunction("jvp", f);
  listArg("jvp", "primals", primals);
  listArg("jvp", "tangents", tangents);
  const [pLeaves, pDef] = flatten(primals);
  const tLeaves = checkStructure("jvp: tangents vs primals", pDef, tangents);
  const ps = pLeaves.map((x, i) => leafToTensor(x, `jvp: primal ${i}`));
  const ts: Tangent[] = tLeaves.map((x, i) => {
    const p = ps[i]!;
    if (!isFloat(p.aval.dtype)) return new Zero(p.aval);
    let t = leafToTensor(x, `jvp: tangent ${i}`);
    if (t.aval.weak && t.aval.dtype !== p.aval.dtype) t = castLike(t, p);
    checkTangent(p, t, i);
    return t;
  });
  let outDef: ReturnType<typeof flatten>[1] | undefined;
  const [outs, outTs] = jvpFlat(
    (xs) => {
      const out = f(...unflatten(pDef, xs));
      const [leaves, def] = flatten(out);
      outDef = def;
      return leaves.map((l, i) => leafToTensor(l, `jvp: output ${i}`));
    },
    ps,
    ts,
  );
  return [unflatten(outDef!, outs), unflatten(outDef!, outTs.map(instantiate))];
}

function castLike(t: Tensor, p: Tensor): Tensor {
  return convert(t, p.aval.dtype);
}
