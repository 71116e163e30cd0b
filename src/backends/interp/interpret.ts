// The interpreter backend: runs a Program equation by equation with each primitive's reference
// implementation on typed arrays. It is the oracle every other backend is tested against, and
// with `debugNans` it names the first equation (and user line) that produced a NaN (nans.ts).
// `applyConcrete` (one primitive on concrete tensors) is also the eager trace's step
// (trace/eval.ts); it needs no trace, so the interpreter sits below trace/ in the layer order.

import { ShapedArray } from "../../core/aval.js";
import { config } from "../../core/config.js";
import type { TypedArray } from "../../core/dtype.js";
import { InternalError } from "../../core/errors.js";
import { checkNans } from "./nans.js";
import { Tensor } from "../../core/tensor.js";
import { type Atom, Literal, type Program, type Var } from "../../ir/program.js";
import type { Primitive } from "../../prims/primitive.js";
import { scalar } from "../../rules/scalar.js";

export { NanError } from "../../core/errors.js";
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

/** Shape-checks and runs a primitive's reference implementation. */
export function applyConcrete(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
  const outAvals: ShapedArray[] = prim.abstractEval(
    inputs.map((x) => x.aval),
    params,
  );
  const datas: TypedArray[] = prim.impl(inputs, params, outAvals);
  return outAvals.map((a, i) => new Tensor(isConcreteShape(a.shape) ? a : resolveShape(a, datas[i]!.length), datas[i]!));
}

/**
 * An output whose shape has one symbolic dimension (a run-time trip count, say) gets it from
 * the length of the data the implementation produced.
 */
function resolveShape(a: ShapedArray, length: number): ShapedArray {
  const known = a.shape.reduce<number>((n, d) => (typeof d === "number" ? n * d : n), 1);
  const symbolic = a.shape.filter((d) => typeof d !== "number").length;
  if (symbolic !== 1) throw new InternalError(`cannot resolve the run-time shape ${a} from ${length} elements`);
  return new ShapedArray(
    a.shape.map((d) => (typeof d === "number" ? d : known === 0 ? 0 : length / known)),
    a.dtype,
    a.weak,
  );
}
