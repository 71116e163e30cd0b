// The Program IR: typed SSA in A-normal form. A Program has input variables, constant variables
// (bound to concrete tensors it closes over), a list of equations (a primitive applied to atoms,
// defining fresh variables) and output atoms. Sub-programs of control flow and checkpoint live in
// equation params. Every equation may carry the user's source line.

import { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import type { Primitive } from "../prims/primitive.js";
import type { SourceRef } from "../core/source.js";
import { printProgram } from "./printer.js";

let nextVarId = 0;

/**
 * Set in tests (ADGEN_VERIFY=1, vitest.config.ts; wired in index.ts): every Program built, by
 * tracing, any transformation or pass, is checked by the IR verifier (ir/verify.ts) as it is made.
 */
let verifyEach: ((p: Program) => void) | null = null;
export function verifyEveryProgram(check: ((p: Program) => void) | null): void {
  verifyEach = check;
}

/** A variable: defined exactly once (as a program input, a constant, or an equation output). */
export class Var {
  readonly id: number;
  constructor(readonly aval: ShapedArray) {
    this.id = nextVarId++;
  }
}

/** An inline rank-0 constant operand. */
export class Literal {
  constructor(
    readonly value: number,
    readonly aval: ShapedArray,
  ) {}
}

export type Atom = Var | Literal;

export interface Equation {
  prim: Primitive<any>;
  inputs: Atom[];
  params: any;
  outs: Var[];
  /** "path:line:col" of the user's code that produced this equation */
  source?: SourceRef | undefined;
}

export class Program {
  constructor(
    readonly inputs: Var[],
    /** Variables bound to `constValues` (captured tensors). */
    readonly consts: Var[],
    readonly constValues: Tensor[],
    readonly equations: Equation[],
    readonly outputs: Atom[],
  ) {
    if (verifyEach) verifyEach(this);
  }

  get inAvals(): ShapedArray[] {
    return this.inputs.map((v) => v.aval);
  }

  get outAvals(): ShapedArray[] {
    return this.outputs.map((a) => a.aval);
  }

  toString(): string {
    return printProgram(this);
  }

  /** The same program with its constants turned into leading inputs. */
  constsAsInputs(): Program {
    return new Program([...this.consts, ...this.inputs], [], [], this.equations, this.outputs);
  }
}

export function isVar(a: Atom): a is Var {
  return a instanceof Var;
}

/** Programs found directly in an equation's params (for control flow and friends). */
export function subPrograms(eqn: Equation): Program[] {
  const out: Program[] = [];
  const visit = (v: unknown): void => {
    if (v instanceof Program) out.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
  };
  for (const v of Object.values(eqn.params ?? {})) visit(v);
  return out;
}

/** The same program with inputs and outputs rearranged: new input i is old input inOrder[i]. */
export function reorderProgram(p: Program, inOrder: number[], outOrder?: number[]): Program {
  return new Program(
    inOrder.map((i) => p.inputs[i]!),
    p.consts,
    p.constValues,
    p.equations,
    outOrder ? outOrder.map((i) => p.outputs[i]!) : p.outputs,
  );
}
