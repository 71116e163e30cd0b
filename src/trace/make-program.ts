// Tracing a function into a Program: inputs become staged variables, every primitive applied to
// them is recorded, and the outputs close the program. Also evaluates a Program back through the
// current trace (`evalProgram`), which is how transformations apply to staged programs.

import type { ShapedArray } from "../core/aval.js";
import { leafToTensor } from "../core/convert.js";
import { ArgSpec } from "../core/spec.js";
import { withSource } from "../core/source.js";
import type { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { type Atom, Literal, type Program, Var } from "../ir/program.js";
import { scalar } from "../rules/scalar.js";
import { StagingTrace } from "./staging.js";
import { currentTrace, withTrace } from "./trace.js";

export interface Traced {
  program: Program;
  /** outer-trace values the program captured; passed as trailing inputs */
  tracerConsts: Tensor[];
  outTree: TreeDef;
}

/** Traces a flat function at the given input avals. */
export function traceFlat(fn: (xs: Tensor[]) => unknown, inAvals: ShapedArray[], kind = "tracing"): Traced {
  const trace = new StagingTrace(currentTrace(), kind);
  const ins = inAvals.map((a) => trace.newInput(a));
  let outTree: TreeDef | undefined;
  let outs: Tensor[];
  try {
    outs = withTrace(trace, () => {
      const [leaves, def] = flatten(fn(ins));
      outTree = def;
      return leaves.map((l, i) => leafToTensor(l, `output leaf ${i}`));
    });
  } finally {
    trace.finished = true;
  }
  const { program, tracerConsts } = trace.build(ins, outs);
  return { program, tracerConsts, outTree: outTree! };
}

/** The abstract value of an argument leaf (a tensor, number, boolean or spec). */
export function avalOfLeaf(x: unknown, what: string): ShapedArray {
  if (x instanceof ArgSpec) return x.aval;
  return leafToTensor(x, what).aval;
}

/** `makeProgram(f)(...args)`: the Program of `f` traced at these arguments (or specs). */
export function makeProgram(f: (...args: any[]) => unknown): (...args: unknown[]) => Program {
  return (...args) => {
    const [leaves, def] = flatten(args);
    const avals = leaves.map((l, i) => avalOfLeaf(l, `makeProgram: argument leaf ${i}`));
    const { program } = traceFlat((xs) => f(...(unflatten(def, xs) as unknown[])), avals);
    return program;
  };
}

/** Evaluates a program through the current trace (so it can be transformed or re-staged). */
export function evalProgram(p: Program, args: Tensor[]): Tensor[] {
  const env = new Map<Var, Tensor>();
  p.consts.forEach((v, i) => env.set(v, p.constValues[i]!));
  p.inputs.forEach((v, i) => env.set(v, args[i]!));
  const read = (a: Atom): Tensor => (a instanceof Literal ? scalar(a.value, a.aval.dtype, a.aval.weak) : env.get(a)!);
  for (const e of p.equations) {
    const outs = withSource(e.source, () => e.prim.bind(e.inputs.map(read), e.params));
    e.outs.forEach((o, i) => env.set(o, outs[i]!));
  }
  return p.outputs.map(read);
}

