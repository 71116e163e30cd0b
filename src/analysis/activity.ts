// Activity analysis (as in Enzyme): a variable is *varied* when its value depends on an active
// program input, *useful* when it can influence an active program output, and *active* when
// both. Only active variables need derivatives; equations with no active output need no
// derivative code, and equations with no varied output at all compute compile-time constants.
//
// In differentiable mode (the default) activity flows only along paths that carry derivatives:
// it stops at primitives with the nonDifferentiable trait (comparisons, argmax, ...), at
// stop_gradient, and at values of non-float dtypes (integer indices, booleans). In plain
// dependence mode (`differentiable: false`) every data dependence counts. Higher-order
// equations are treated as opaque: every output depends on every input.

import { isFloat } from "../core/dtype.js";
import { type Atom, type Equation, type Program, Var } from "../ir/program.js";
import { stopGradientP } from "../prims/unary.js";

export interface ActivityOptions {
  /** Which program inputs are active (default: all). */
  activeInputs?: readonly boolean[];
  /** Which program outputs are needed (default: all). */
  activeOutputs?: readonly boolean[];
  /** Follow only derivative-carrying paths (default true); false: plain data dependence. */
  differentiable?: boolean;
}

export interface Activity {
  /** Variables that depend on an active input. */
  varied: Set<Var>;
  /** Variables that can influence an active output. */
  useful: Set<Var>;
  /** varied ∩ useful: the variables that need derivatives. */
  active: Set<Var>;
  isActive(a: Atom): boolean;
  /** Equations with at least one active output, in program order. */
  activeEquations: Equation[];
}

/** Whether derivative information can pass through `e` in differentiable mode. */
function carriesDerivatives(e: Equation): boolean {
  return !e.prim.traits.nonDifferentiable && e.prim !== stopGradientP;
}

export function analyzeActivity(p: Program, opts: ActivityOptions = {}): Activity {
  const diff = opts.differentiable !== false;
  const admits = (v: Var) => !diff || isFloat(v.aval.dtype);
  const passes = (e: Equation) => !diff || carriesDerivatives(e);

  const varied = new Set<Var>();
  p.inputs.forEach((v, i) => {
    if ((opts.activeInputs?.[i] ?? true) && admits(v)) varied.add(v);
  });
  for (const e of p.equations) {
    if (!passes(e) || !e.inputs.some((a) => a instanceof Var && varied.has(a))) continue;
    for (const o of e.outs) if (admits(o)) varied.add(o);
  }

  const useful = new Set<Var>();
  p.outputs.forEach((a, i) => {
    if (a instanceof Var && (opts.activeOutputs?.[i] ?? true) && admits(a)) useful.add(a);
  });
  for (let k = p.equations.length - 1; k >= 0; k--) {
    const e = p.equations[k]!;
    if (!passes(e) || !e.outs.some((o) => useful.has(o))) continue;
    for (const a of e.inputs) if (a instanceof Var && admits(a)) useful.add(a);
  }

  const active = new Set<Var>([...varied].filter((v) => useful.has(v)));
  return {
    varied,
    useful,
    active,
    isActive: (a) => a instanceof Var && active.has(a),
    activeEquations: p.equations.filter((e) => e.outs.some((o) => active.has(o))),
  };
}

/** Equations none of whose outputs depends on any program input: compile-time constants. */
export function constantEquations(p: Program): Set<Equation> {
  const { varied } = analyzeActivity(p, { differentiable: false });
  return new Set(p.equations.filter((e) => !e.outs.some((o) => varied.has(o))));
}
