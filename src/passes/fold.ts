// Constant folding: an equation whose inputs are all literals or constants is evaluated at
// compile time with its primitive's reference implementation and replaced by its value: an
// inline literal when rank-0, otherwise a new constant (the output variable itself becomes a
// constant, so no renaming is needed). Two equations are never folded:
//   - higher-order ones (their sub-programs are left to run as written);
//   - ones whose result is larger than their inputs (size rule: fold only when the output size
//     is at most max(1, total input size)), e.g. broadcast_in_dim of a literal to a big shape,
//     which must stay an equation so code generation can fuse it instead of materializing it.
// A primitive whose implementation throws on these constants is left in place (it will raise
// the same error when the program runs).

import { isConcreteShape, concreteSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { type Atom, type Equation, Literal, type Program, type Var } from "../ir/program.js";
import { scalar } from "../rules/scalar.js";
import { applyConcrete } from "../backends/interp/interpret.js";
import { Subst, constTable, isHigherOrder, rebuild } from "./rewrite.js";

/** The size rule: a fold may not produce more elements than it consumes (or 1). */
export function foldSizeAllowed(inputSize: number, outputSize: number): boolean {
  return outputSize <= Math.max(1, inputSize);
}

/** Evaluates `e` on constant inputs; null when it is not foldable (see the file comment). */
export function evaluateConstantEquation(e: Equation, values: ReadonlyMap<Var, Tensor>): Tensor[] | null {
  if (isHigherOrder(e)) return null;
  const ins: Tensor[] = [];
  for (const a of e.inputs) {
    if (a instanceof Literal) ins.push(scalar(a.value, a.aval.dtype, a.aval.weak));
    else {
      const t = values.get(a);
      if (!t) return null;
      ins.push(t);
    }
  }
  let outSize = 0;
  for (const o of e.outs) {
    if (!isConcreteShape(o.aval.shape)) return null;
    outSize += concreteSize(o.aval.shape);
  }
  const inSize = ins.reduce((s, t) => s + t.size, 0);
  if (!foldSizeAllowed(inSize, outSize)) return null;
  try {
    const outs = applyConcrete(e.prim, ins, e.params);
    // keep the declared avals (including the weak flag) of the variables being replaced
    return outs.map((t, i) => new Tensor(e.outs[i]!.aval, t.data));
  } catch {
    return null;
  }
}

/**
 * Folds the equations with constant inputs for which `canFold` holds (all, by default), in one
 * forward sweep, so chains of constant equations fold completely.
 */
export function foldWhere(p: Program, canFold: (e: Equation) => boolean = () => true): Program {
  const values = constTable(p);
  const subst = new Subst();
  const consts = p.consts.slice();
  const constValues = p.constValues.slice();
  const equations: Equation[] = [];
  for (const e0 of p.equations) {
    const e = subst.eqn(e0);
    const outs = canFold(e) ? evaluateConstantEquation(e, values) : null;
    if (!outs) {
      equations.push(e);
      continue;
    }
    e.outs.forEach((o, i) => {
      const t = outs[i]!;
      if (o.aval.shape.length === 0) {
        subst.set(o, new Literal(t.data[0]!, o.aval));
      } else {
        values.set(o, t);
        consts.push(o);
        constValues.push(t);
      }
    });
  }
  const outputs: Atom[] = subst.atoms(p.outputs);
  return rebuild(p, { consts, constValues, equations, outputs });
}

export function fold(p: Program): Program {
  return foldWhere(p);
}
