// What a primitive is: one object holding every rule about it (DESIGN principle 1). The types
// make a missing rule a compile error: every primitive needs shape/dtype inference, a reference
// implementation, a JVP and a batching rule; a primitive that may appear in a linear (tangent)
// program must also have a transpose rule.

import type { ShapedArray } from "../core/aval.js";
import type { TypedArray } from "../core/dtype.js";
import type { Tensor } from "../core/tensor.js";
import type { LinearIn, Tangent } from "../rules/zero.js";
import { bind } from "../trace/trace.js";

export type BatchDim = number | null;

export interface Traits {
  /** Applies independently per element; operands are the output's shape or rank-0 scalars. */
  elementwise?: boolean;
  /** Output does not depend on input values being differentiable (comparisons, argmax, ...). */
  nonDifferentiable?: boolean;
  /** Has sub-programs in its params (control flow, checkpoint, jit calls). */
  higherOrder?: boolean;
}

/** Shape and dtype inference; throws a typed error (naming the primitive) on invalid operands. */
export type AbstractEvalRule<P> = (inputs: ShapedArray[], params: P) => ShapedArray[];

/** Reference implementation on concrete tensors; the interpreter runs this. */
export type ImplRule<P> = (inputs: Tensor[], params: P, outs: ShapedArray[]) => TypedArray[];

/**
 * Forward-mode rule, run with the parent trace current: given primal inputs and their tangents
 * (possibly symbolic zeros), returns the primal outputs and their tangents. Tangent outputs must
 * be linear in the input tangents.
 */
export type JvpRule<P> = (primals: Tensor[], tangents: Tangent[], params: P) => [Tensor[], Tangent[]];

/**
 * Batching rule: `dims[i]` is the axis of `args[i]` that is the batch axis (null: not batched).
 * Returns the outputs and where their batch axes are. `size` is the batch size.
 */
export type BatchRule<P> = (args: Tensor[], dims: BatchDim[], params: P, size: number) => [Tensor[], BatchDim[]];

/**
 * Transpose of a primitive that is linear in its `LinearIn` inputs: given output cotangents,
 * returns a cotangent for each LinearIn input (null for the others).
 */
export type TransposeRule<P> = (cts: Tangent[], inputs: (Tensor | LinearIn)[], params: P) => (Tangent | null)[];

/** What a partial-evaluation rule may do with the linearize trace it runs in. */
export interface PartialEvalContext {
  /** true for values that depend on the unknown (tangent) inputs */
  isUnknown(x: Tensor): boolean;
  /** stages an equation whose inputs may be unknown; returns its (unknown) outputs */
  stage(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[];
  /** computes with known values (the trace below linearize) */
  known<T>(fn: () => T): T;
}

/**
 * Partial evaluation of a higher-order primitive under linearize, when some inputs are unknown:
 * compute what is known now and stage only the rest (default: stage the whole equation).
 */
export type PartialEvalRule<P> = (ctx: PartialEvalContext, inputs: Tensor[], params: P) => Tensor[];

/**
 * A self-contained JS implementation for a primitive that has no kernel code generator, so that
 * exported modules can embed it: `source` is constant text declaring functions (no imports, no
 * user input); `fn` is the one called as fn(ins, outs, params) on typed arrays of exactly the
 * operands' sizes, with JSON params.
 */
export interface StandaloneImpl {
  source: string;
  fn: string;
}

interface BaseDef<P> {
  name: string;
  traits?: Traits;
  abstractEval: AbstractEvalRule<P>;
  impl: ImplRule<P>;
  jvp: JvpRule<P>;
  batch: BatchRule<P>;
  partialEval?: PartialEvalRule<P>;
  standalone?: StandaloneImpl;
}
interface LinearDef<P> extends BaseDef<P> {
  /** May appear in tangent programs: linear in some inputs given the others. */
  linear: true;
  transpose: TransposeRule<P>;
}
interface NonLinearDef<P> extends BaseDef<P> {
  linear?: false;
  transpose?: undefined;
}
export type PrimitiveDef<P> = LinearDef<P> | NonLinearDef<P>;

export class Primitive<P = Record<string, never>> {
  readonly name: string;
  readonly traits: Traits;
  readonly linear: boolean;
  readonly abstractEval: AbstractEvalRule<P>;
  readonly impl: ImplRule<P>;
  readonly jvp: JvpRule<P>;
  readonly batch: BatchRule<P>;
  readonly transpose: TransposeRule<P> | undefined;
  readonly partialEval: PartialEvalRule<P> | undefined;
  readonly standalone: StandaloneImpl | undefined;

  constructor(def: PrimitiveDef<P>) {
    this.name = def.name;
    this.traits = def.traits ?? {};
    this.linear = def.linear === true;
    this.abstractEval = def.abstractEval;
    this.impl = def.impl;
    this.standalone = def.standalone;
    this.jvp = def.jvp;
    this.batch = def.batch;
    this.transpose = def.transpose;
    this.partialEval = def.partialEval;
  }

  /** Applies the primitive through the current trace. */
  bind(inputs: Tensor[], params: P): Tensor[] {
    return bind(this, inputs, params);
  }

  /** Applies a single-output primitive. */
  bind1(inputs: Tensor[], params: P): Tensor {
    return bind(this, inputs, params)[0]!;
  }

  toString(): string {
    return this.name;
  }
}

export function definePrimitive<P = Record<string, never>>(def: PrimitiveDef<P>): Primitive<P> {
  return new Primitive<P>(def);
}
