// The staging trace: instead of computing, it records each primitive application as an equation
// of a Program under construction. Used by makeProgram, jit, linearize (for the tangent part)
// and every transformation that needs a program rather than a value.

import { ShapedArray } from "../core/aval.js";
import { captureSource } from "../core/source.js";
import { Tensor } from "../core/tensor.js";
import { type Atom, Literal, Program, Var, type Equation } from "../ir/program.js";
import type { Primitive } from "../prims/primitive.js";
import { config } from "../core/config.js";
import { Trace, Tracer, checkNotEscaped } from "./trace.js";

export class StagingTracer extends Tracer {
  constructor(
    readonly trace: StagingTrace,
    readonly v: Var,
  ) {
    super(v.aval);
  }
}

/** Accumulates equations; values from outside become constants (or inline literals). */
export class StagingTrace extends Trace {
  readonly kind: string;
  readonly equations: Equation[] = [];
  /** Captured outer values (concrete tensors or tracers of an outer trace) and their variables. */
  readonly constVars = new Map<Tensor, Var>();

  constructor(parent: Trace, kind = "tracing") {
    super(parent);
    this.kind = kind;
  }

  newInput(aval: ShapedArray): StagingTracer {
    return new StagingTracer(this, new Var(aval));
  }

  /** The IR atom for a value used while this trace is current. */
  atomOf(x: Tensor, primName: string): Atom {
    if (x instanceof StagingTracer && x.trace === this) return x.v;
    checkNotEscaped(x, this, primName);
    if (x.isConcrete && x._ready && x.aval.shape.length === 0 && !x._tape) return new Literal(x.data[0]!, x.aval);
    let v = this.constVars.get(x);
    if (!v) {
      v = new Var(x.aval);
      this.constVars.set(x, v);
    }
    return v;
  }

  processPrimitive(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
    const atoms = inputs.map((x) => this.atomOf(x, prim.name));
    const source = config.captureSourceLines ? captureSource() : undefined;
    const outAvals = prim.abstractEval(atoms.map((a) => a.aval), params);
    const outs = outAvals.map((a) => new Var(a));
    this.equations.push({ prim, inputs: atoms, params, outs, source });
    return outs.map((v) => new StagingTracer(this, v));
  }

  /**
   * Finishes the program. Captured concrete tensors become constants; captured tracers of outer
   * traces (and tensors tracked by the eager tape) are returned in `tracerConsts` and appended,
   * in order, as extra trailing inputs.
   */
  build(inputs: Tracer[], outputs: Tensor[]): { program: Program; tracerConsts: Tensor[] } {
    const outAtoms = outputs.map((x) => this.atomOf(x, "output"));
    const consts: Var[] = [];
    const constValues: Tensor[] = [];
    const tracerVars: Var[] = [];
    const tracerConsts: Tensor[] = [];
    for (const [value, v] of this.constVars) {
      // tensors tracked by the eager tape stay explicit operands, so the tape sees the dependence
      if (value.isConcrete && !value._tape) {
        consts.push(v);
        constValues.push(value);
      } else {
        tracerVars.push(v);
        tracerConsts.push(value);
      }
    }
    const inVars = inputs.map((t) => (t as StagingTracer).v);
    this.finished = true;
    const program = new Program([...inVars, ...tracerVars], consts, constValues, this.equations, outAtoms);
    return { program, tracerConsts };
  }
}
