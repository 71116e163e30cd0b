// The interpreter backend: runs a Program equation by equation with each primitive's reference
// implementation on typed arrays. It is the oracle every other backend is tested against, and
// with `debugNans` it names the first equation (and user line) that produced a NaN (nans.ts).

import { config } from "../../core/config.js";
import { checkNans } from "./nans.js";
import type { Tensor } from "../../core/tensor.js";
import { type Atom, Literal, type Program, type Var } from "../../ir/program.js";
import { scalar } from "../../rules/helpers.js";

export { NanError } from "../../core/errors.js";
import { applyConcrete } from "../../trace/eval.js";
import { type Binding, bindSymbols, currentBinding, instantiateParams, withBinding } from "../../core/symbols.js";
import { isConcreteShape } from "../../core/shape.js";

/** Binds a program's symbolic dimensions from its arguments (empty when all shapes are static). */
export function bindingFor(p: Program, args: Tensor[]): Binding {
  const outer = currentBinding();
  if (p.inputs.every((v) => isConcreteShape(v.aval.shape))) return outer;
  return bindSymbols(
    p.inputs.map((v) => v.aval.shape),
    args.map((a) => a.aval.shape as number[]),
    (i) => `argument ${i}`,
    outer,
  );
}

export function interpret(p: Program, args: Tensor[]): Tensor[] {
  const binding = bindingFor(p, args);
  if (Object.keys(binding).length === 0) return run(p, args, null);
  return withBinding(binding, () => run(p, args, binding));
}

function run(p: Program, args: Tensor[], binding: Binding | null): Tensor[] {
  const env = new Map<Var, Tensor>();
  p.consts.forEach((v, i) => env.set(v, p.constValues[i]!));
  p.inputs.forEach((v, i) => env.set(v, args[i]!));
  const read = (a: Atom): Tensor => (a instanceof Literal ? scalar(a.value, a.aval.dtype, a.aval.weak) : env.get(a)!);
  const debug = config.debugNans;
  for (const e of p.equations) {
    const ins = e.inputs.map(read);
    const outs = applyConcrete(e.prim, ins, binding ? instantiateParams(e.params, binding) : e.params);
    if (debug) checkNans(e, outs, ins);
    e.outs.forEach((o, i) => env.set(o, outs[i]!));
  }
  return p.outputs.map(read);
}
