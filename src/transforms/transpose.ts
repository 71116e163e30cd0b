// Transposition of a linear Program: walks the equations backwards, handing each primitive's
// transpose rule the cotangents of its outputs and accumulating cotangents of its linear inputs.
// The computation goes through `bind`, so it runs eagerly or is staged by an enclosing jit.

import type { ShapedArray } from "../core/aval.js";
import { ArgumentError, InternalError, ShapeError } from "../core/errors.js";
import { leafToTensor } from "../core/convert.js";
import { checkStructure, flatten, unflatten } from "../core/tree.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { type SourceRef, withSource } from "../core/source.js";
import type { Tensor } from "../core/tensor.js";
import { type Atom, Literal, Program, Var } from "../ir/program.js";
import { addTangents, full, instantiate, zerosLike } from "../prims/rule-helpers.js";
import { scalar } from "../rules/scalar.js";
import { LinearIn, type Tangent, Zero, isZero } from "../rules/zero.js";
import { checkFunction } from "./args.js";

/**
 * Evaluates the transpose of a linear program (through `bind`: eagerly, or staged by the current
 * trace; `stageTranspose` in program.ts builds it as a Program instead).
 * Given cotangents for `program.outputs`, returns cotangents for `program.inputs` (the linear
 * inputs). `program.consts` (the residuals) are bound to `residuals` — non-linear values.
 */
export function evalTranspose(program: Program, residuals: Tensor[], cts: Tangent[], user?: string): Tangent[] {
  const linear = new Set<Var>(program.inputs);
  const values = new Map<Var, Tensor>();
  program.consts.forEach((v, i) => values.set(v, residuals[i]!));

  const valueOf = (a: Atom): Tensor => {
    if (a instanceof Literal) return scalar(a.value, a.aval.dtype, a.aval.weak);
    const v = values.get(a);
    if (!v) throw new InternalError("transpose: a non-linear value is undefined");
    return v;
  };

  // Split: equations with no linear input are evaluated forward first (they only use residuals).
  const linearEqns = [];
  for (const eqn of program.equations) {
    const isLin = eqn.inputs.some((a) => a instanceof Var && linear.has(a));
    if (isLin) {
      for (const o of eqn.outs) linear.add(o);
      linearEqns.push(eqn);
    } else {
      const outs = eqn.prim.bind(eqn.inputs.map(valueOf), eqn.params);
      eqn.outs.forEach((o, i) => values.set(o, outs[i]!));
    }
  }

  const ctEnv = new Map<Var, Tangent>();
  const addCt = (a: Atom, ct: Tangent | null) => {
    if (ct === null || !(a instanceof Var) || !linear.has(a)) return;
    const prev = ctEnv.get(a);
    ctEnv.set(a, prev ? addTangents(prev, ct) : ct);
  };
  program.outputs.forEach((a, i) => addCt(a, cts[i]!));

  for (let k = linearEqns.length - 1; k >= 0; k--) {
    const eqn = linearEqns[k]!;
    const outCts = eqn.outs.map((o) => ctEnv.get(o) ?? new Zero(o.aval));
    for (const o of eqn.outs) ctEnv.delete(o); // free as we go
    if (outCts.every(isZero)) continue;
    if (!eqn.prim.transpose) {
      if (user) throw notLinear(user, eqn.prim.name, eqn.source, "has no transpose (it is not a linear operation)");
      throw new InternalError(`transpose: primitive ${eqn.prim.name} is not linear but appears in a linear program`);
    }
    const ins = eqn.inputs.map((a) => (a instanceof Var && linear.has(a) ? new LinearIn(a.aval) : valueOf(a)));
    const rule = () => eqn.prim.transpose!(outCts, ins, eqn.params);
    const inCts = withSource(eqn.source, () => {
      if (!user) return rule();
      try {
        return rule();
      } catch (e) {
        // a linear primitive used non-linearly (x * x, 1 / x): its rule refuses; say so in user terms
        if (e instanceof InternalError) throw notLinear(user, eqn.prim.name, eqn.source, "is applied non-linearly to values that depend on the inputs (e.g. x * x or 1 / x)");
        throw e;
      }
    });
    withSource(eqn.source, () => eqn.inputs.forEach((a, i) => addCt(a, inCts[i] ?? null)));
  }
  return program.inputs.map((v) => ctEnv.get(v) ?? new Zero(v.aval));
}

function notLinear(user: string, prim: string, source: SourceRef | undefined, why: string): ArgumentError {
  const where = source !== undefined ? String(source) || undefined : undefined;
  return new ArgumentError(`${user}: the function is not linear in its arguments: primitive ${prim} ${why}. linearTranspose needs a linear function (use vjp for a non-linear one)`, where);
}

/**
 * `linearTranspose(f, ...primals)` (public API): the transpose of a linear function f, traced at
 * the given example arguments (only their shapes and dtypes matter). Returns `ct => inputCts`.
 */
export function linearTranspose(f: (...args: any[]) => any, ...primals: any[]): (ct: any) => any[] {
  checkFunction("linearTranspose", f);
  const [leaves, inDef] = flatten(primals);
  const avals = leaves.map((l, i) => leafToTensor(l, `linearTranspose: argument leaf ${i}`).aval.strong());
  const { program, tracerConsts, outTree } = traceFlat((xs) => f(...(unflatten(inDef, xs) as unknown[])), avals);
  const nIn = avals.length;
  // captured outer tracers are extra (non-linear) inputs: move them to constants
  const closed = new Program(program.inputs.slice(0, nIn), [...program.consts, ...program.inputs.slice(nIn)], [...program.constValues, ...tracerConsts], program.equations, program.outputs);
  checkLinearPrimitives(closed);
  // one transpose now with unit cotangents names a linear primitive used non-linearly (x * x,
  // 1 / x) at creation; then the zero test catches affine terms (x + 1)
  if (closed.constValues.every((c) => c.isConcrete)) evalTranspose(closed, closed.constValues, closed.outAvals.map((a) => full(a.strong().shape, a.dtype, 1)), "linearTranspose");
  checkNotAffine(closed, avals);
  return (ct: any) => {
    const outAvals = closed.outAvals;
    const cts = checkStructure("linearTranspose: cotangent vs output", outTree, ct).map((c, i) => {
      const t = leafToTensor(c, `linearTranspose: cotangent ${i}`);
      if (!t.aval.strong().equals(outAvals[i]!.strong())) {
        throw new ShapeError(`linearTranspose: cotangent ${i} is ${t.aval} but the output is ${outAvals[i]}`);
      }
      return t;
    });
    const res = evalTranspose(closed, closed.constValues, cts, "linearTranspose");
    return unflatten(inDef, res.map(instantiate));
  };
}

/** Names the first primitive without a transpose applied to a value that depends on the inputs. */
function checkLinearPrimitives(p: Program): void {
  const linear = new Set<Var>(p.inputs);
  for (const eqn of p.equations) {
    if (!eqn.inputs.some((a) => a instanceof Var && linear.has(a))) continue;
    if (!eqn.prim.transpose) throw notLinear("linearTranspose", eqn.prim.name, eqn.source, "has no transpose (it is not a linear operation)");
    for (const o of eqn.outs) linear.add(o);
  }
}

/**
 * A linear function maps zeros to zeros; an affine one (x + 1) has a transpose rule for every
 * primitive yet no transpose. Checked once by evaluating at zero (when the constants are concrete).
 */
function checkNotAffine(p: Program, avals: ShapedArray[]): void {
  if (!p.constValues.every((c) => c.isConcrete)) return;
  let outs: Tensor[];
  try {
    outs = evalProgram(new Program([...p.consts, ...p.inputs], [], [], p.equations, p.outputs), [...p.constValues, ...avals.map((a) => zerosLike(a))]);
  } catch {
    return; // a non-linear primitive failing at zero (e.g. an assertion): the transpose reports it
  }
  outs.forEach((o, i) => {
    if (o.isConcrete && o.data.some((v) => v !== 0)) {
      throw new ArgumentError(`linearTranspose: the function is not linear in its arguments: at zero inputs output ${i} is not zero (a linear function maps 0 to 0; an affine term such as x + 1?). linearTranspose needs a linear function (use vjp for a non-linear one)`);
    }
  });
}
