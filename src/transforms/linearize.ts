// Linearization = JVP + partial evaluation. A JVP trace runs on top of a partial-evaluation
// trace in which primal values are *known* (computed right away by the parent trace) and tangent
// values are *unknown* (staged into a linear Program). The known values that the linear program
// uses are its residuals: this is the primal/residual/pullback split of reverse mode.

import type { ShapedArray } from "../core/aval.js";
import { config } from "../core/config.js";
import { InternalError } from "../core/errors.js";
import { captureSource } from "../core/source.js";
import type { Tensor } from "../core/tensor.js";
import { type Atom, type Equation, Literal, Program, Var } from "../ir/program.js";
import type { PartialEvalContext, Primitive } from "../prims/primitive.js";
import { type Tangent, isZero } from "../rules/zero.js";
import { Trace, Tracer, checkNotEscaped, currentTrace, withTrace } from "../trace/trace.js";
import { JVPTrace, JVPTracer } from "./jvp.js";
import { leafToTensor } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { ShapeError } from "../core/errors.js";
import { type TreeDef, checkStructure, flatten, unflatten } from "../core/tree.js";
import { zerosLike } from "../prims/rule-helpers.js";
import { evalProgram } from "../trace/make-program.js";
import { checkFunction } from "./args.js";

/** An unknown (staged) value of a partial evaluation. */
export class PETracer extends Tracer {
  constructor(
    readonly trace: PartialEvalTrace,
    readonly v: Var,
  ) {
    super(v.aval);
  }
}

export class PartialEvalTrace extends Trace implements PartialEvalContext {
  readonly kind = "linearize";
  readonly equations: Equation[] = [];
  /** known values used by staged equations, and their variables in the linear program */
  readonly residuals = new Map<Tensor, Var>();
  /** which primitive produced a known value (for the residual report) */
  readonly producers = new WeakMap<Tensor, string>();

  /** True when x is an unknown value of this trace. */
  owns(x: Tensor): x is PETracer {
    return x instanceof PETracer && x.trace === this;
  }

  newUnknown(aval: ShapedArray): PETracer {
    return new PETracer(this, new Var(aval));
  }

  atomOf(x: Tensor, primName: string): Atom {
    if (x instanceof PETracer && x.trace === this) return x.v;
    checkNotEscaped(x, this, primName);
    if (x.isConcrete && x._ready && x.aval.shape.length === 0) return new Literal(x.data[0]!, x.aval);
    let v = this.residuals.get(x);
    if (!v) {
      v = new Var(x.aval);
      this.residuals.set(x, v);
    }
    return v;
  }

  isUnknown(x: Tensor): boolean {
    return this.owns(x);
  }

  known<T>(fn: () => T): T {
    return withTrace(this.parent!, fn);
  }

  processPrimitive(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
    if (!inputs.some((x) => x instanceof PETracer && x.trace === this)) {
      for (const x of inputs) checkNotEscaped(x, this, prim.name);
      const outs = withTrace(this.parent!, () => prim.bind(inputs, params));
      for (const o of outs) this.producers.set(o, prim.name);
      return outs;
    }
    if (prim.partialEval) return prim.partialEval(this, inputs, params);
    return this.stage(prim, inputs, params);
  }

  stage(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
    const atoms = inputs.map((x) => this.atomOf(x, prim.name));
    const outAvals = prim.abstractEval(atoms.map((a) => a.aval), params);
    const outs = outAvals.map((a) => new Var(a));
    const source = config.captureSourceLines ? captureSource() : undefined;
    this.equations.push({ prim, inputs: atoms, params, outs, source });
    return outs.map((v) => new PETracer(this, v));
  }
}

export interface Residual {
  value: Tensor;
  aval: ShapedArray;
  producedBy: string;
}

/** Observers of every linearization (jit uses this to report the residuals of a traced step). */
export const residualObservers = new Set<(r: Residual[]) => void>();

export interface Linearized {
  /** primal outputs (values of the trace that was current) */
  outs: Tensor[];
  /**
   * The tangent map: inputs are the tangents of the differentiated inputs, constants are the
   * residuals (values of the trace that was current), outputs are the non-zero output tangents.
   */
  linear: Program;
  /** per primal output: true when its tangent is a symbolic zero (not among linear.outputs) */
  outZero: boolean[];
  residuals: Residual[];
}

/**
 * Linearizes `fn` at `primals`. `active[i]` says which inputs get a tangent (the others are
 * constants). The linear program has one input per active primal.
 */
export function linearizeFlat(fn: (xs: Tensor[]) => Tensor[], primals: Tensor[], active: boolean[]): Linearized {
  const pe = new PartialEvalTrace(currentTrace());
  const jvpTrace = new JVPTrace(pe);
  const tangentIns: PETracer[] = [];
  const ins = primals.map((p, i) => {
    if (!active[i]) return p;
    const t = pe.newUnknown(p.aval.strong());
    tangentIns.push(t);
    return new JVPTracer(jvpTrace, p, t);
  });
  let outs: Tensor[];
  try {
    outs = withTrace(jvpTrace, () => fn(ins));
  } finally {
    jvpTrace.finished = true;
  }
  const primalOuts: Tensor[] = [];
  const outAtoms: Atom[] = [];
  const outZero: boolean[] = [];
  for (const o of outs) {
    let p: Tensor = o;
    let t: Tangent | null = null;
    if (o instanceof JVPTracer && o.trace === jvpTrace) {
      p = o.primal;
      t = o.tangent;
    }
    if (p instanceof PETracer && p.trace === pe) throw new InternalError("linearize: a primal output depends on a tangent");
    primalOuts.push(p);
    const zero = t === null || isZero(t);
    outZero.push(zero);
    if (!zero) outAtoms.push(pe.atomOf(t as Tensor, "linearize output"));
  }
  pe.finished = true;
  const resVals = [...pe.residuals.keys()];
  const resVars = [...pe.residuals.values()];
  const linear = new Program(tangentIns.map((t) => t.v), resVars, resVals, pe.equations, outAtoms);
  const residuals = resVals.map((value) => ({
    value,
    aval: value.aval,
    producedBy: pe.producers.get(value) ?? (primals.includes(value) ? "input" : "constant"),
  }));
  for (const obs of residualObservers) obs(residuals);
  return { outs: primalOuts, linear, outZero, residuals };
}

/**
 * `linearize(f, ...primals) -> [out, fLinear]` (public API): evaluates f once and returns its
 * linear tangent map as a function that can be applied to many tangents.
 */
export function linearize(f: (...args: any[]) => any, ...primals: any[]): [any, (...tangents: any[]) => any] {
  checkFunction("linearize", f);
  const [pLeaves, pDef] = flatten(primals);
  const ps = pLeaves.map((x, i) => leafToTensor(x, `linearize: primal ${i}`));
  const active = ps.map((p) => isFloat(p.aval.dtype));
  let outDef: TreeDef | undefined;
  const lin = linearizeFlat(
    (xs) => {
      const [leaves, def] = flatten(f(...unflatten(pDef, xs)));
      outDef = def;
      return leaves.map((l, i) => leafToTensor(l, `linearize: output ${i}`));
    },
    ps,
    active,
  );
  const fLinear = (...tangents: any[]) => {
    const tLeaves = checkStructure("linearize: tangents vs primals", pDef, tangents);
    const ts = tLeaves.map((t, i) => leafToTensor(t, `linearize: tangent ${i}`)).filter((_, i) => active[i]);
    ts.forEach((t, i) => {
      const p = ps.filter((_, k) => active[k])[i]!;
      if (!t.aval.strong().equals(p.aval.strong())) {
        throw new ShapeError(`linearize: tangent ${i} is ${t.aval} but its primal is ${p.aval}`);
      }
    });
    const outTs = evalProgramWith(lin.linear, lin.residuals.map((r) => r.value), ts);
    let k = 0;
    const full = lin.outs.map((o, i) => (lin.outZero[i] ? zerosLike(o.aval.strong()) : outTs[k++]!));
    return unflatten(outDef!, full);
  };
  return [unflatten(outDef!, lin.outs), fLinear];
}

/** Evaluates a program whose constants are given explicitly (they may be tracers). */
function evalProgramWith(p: Program, consts: Tensor[], args: Tensor[]): Tensor[] {
  return evalProgram(new Program([...p.consts, ...p.inputs], [], [], p.equations, p.outputs), [...consts, ...args]);
}
