// Rule combinator: the JVP of a composition of primitives, for a derivative rule that is best
// expressed by differentiating a helper computation (reduce_prod's tangent through a balanced
// tree of products). The helper is staged once at the primal's abstract value and its equations
// are then applied in order to (primal, tangent) pairs through each primitive's own JVP rule,
// exactly as the JVP trace would (no tangent in: plain bind; otherwise the rule, with the
// current, parent trace doing or staging the work). It lives with the primitives, below
// transforms/, so that a rule never runs a whole transformation (layer order: src/README.md).

import { withSource } from "../core/source.js";
import type { Tensor } from "../core/tensor.js";
import { type Atom, Literal, type Var } from "../ir/program.js";
import { traceFlat } from "../trace/make-program.js";
import { scalar } from "../rules/scalar.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import { instantiate } from "./rule-helpers.js";

/**
 * `[fn(x), d fn(x)[t]]` for a function of one tensor built from primitives; the tangent is
 * materialized (never a symbolic zero).
 */
export function jvpOfComposition(fn: (x: Tensor) => Tensor, x: Tensor, t: Tensor): [Tensor, Tensor] {
  const { program: p, tracerConsts } = traceFlat((xs) => [fn(xs[0]!)], [x.aval], "jvp of a composition");
  const env = new Map<Var, [Tensor, Tangent]>();
  p.consts.forEach((v, i) => env.set(v, [p.constValues[i]!, new Zero(v.aval.strong())]));
  const args = [x, ...tracerConsts];
  p.inputs.forEach((v, i) => env.set(v, [args[i]!, i === 0 ? t : new Zero(v.aval.strong())]));
  const read = (a: Atom): [Tensor, Tangent] => {
    if (!(a instanceof Literal)) return env.get(a)!;
    return [scalar(a.value, a.aval.dtype, a.aval.weak), new Zero(a.aval.strong())];
  };
  for (const e of p.equations) {
    const ins = e.inputs.map(read);
    const primals = ins.map(([v]) => v);
    const tangents = ins.map(([, d]) => d);
    const [outs, outTs] = withSource(e.source, (): [Tensor[], Tangent[]] => {
      if (tangents.every(isZero)) {
        const o = e.prim.bind(primals, e.params);
        return [o, o.map((y) => new Zero(y.aval.strong()))];
      }
      return e.prim.jvp(primals, tangents, e.params);
    });
    e.outs.forEach((o, i) => env.set(o, [outs[i]!, outTs[i]!]));
  }
  const [y, ty] = read(p.outputs[0]!);
  return [y, instantiate(ty)];
}
