// Shared machinery for Program -> Program passes: substituting atoms for variables, recognizing
// constants, comparing abstract values exactly, and rebuilding programs and equations without
// ever mutating the input (equations that do not change are shared, never edited).

import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { type Atom, type Equation, Literal, Program, Var, subPrograms } from "../ir/program.js";
import { scalar } from "../rules/scalar.js";

/** A Program -> Program transformation; the input is never mutated. */
export type Pass = (p: Program) => Program;

/** A variable -> atom substitution, applied to equation inputs and program outputs. */
export class Subst {
  private readonly map = new Map<Var, Atom>();

  /** Replaces `v` by `a` from now on (`a` is resolved first, so chains never form). */
  set(v: Var, a: Atom): void {
    this.map.set(v, this.atom(a));
  }

  atom(a: Atom): Atom {
    return a instanceof Var ? (this.map.get(a) ?? a) : a;
  }

  atoms(as: readonly Atom[]): Atom[] {
    return as.map((a) => this.atom(a));
  }

  /** The equation with substituted inputs: the same object when nothing changed. */
  eqn(e: Equation): Equation {
    const ins = this.atoms(e.inputs);
    return ins.every((a, i) => a === e.inputs[i]) ? e : { ...e, inputs: ins };
  }
}

/** Shape, dtype and weak-type flag all equal (stricter than ShapedArray.equals). */
export function sameAval(a: ShapedArray, b: ShapedArray): boolean {
  return a.equals(b) && a.weak === b.weak;
}

/** Equations of higher-order primitives are only ever kept, dropped or merged as a whole. */
export function isHigherOrder(e: Equation): boolean {
  return e.prim.traits.higherOrder === true || subPrograms(e).length > 0;
}

/** Each constant variable of a program and its tensor. */
export function constTable(p: Program): Map<Var, Tensor> {
  return new Map(p.consts.map((v, i) => [v, p.constValues[i]!]));
}

const sameItems = <T>(a: readonly T[], b: readonly T[] | undefined) => b === undefined || (a.length === b.length && a.every((x, i) => x === b[i]));

/**
 * A copy of `p` with some parts replaced; the inputs are always kept. Returns `p` itself when
 * every part holds the same objects (so an unchanged program stays the same object, which is
 * how the pipeline detects its fixed point).
 */
export function rebuild(
  p: Program,
  parts: { consts?: Var[]; constValues?: Tensor[]; equations?: Equation[]; outputs?: Atom[] },
): Program {
  if (sameItems(p.consts, parts.consts) && sameItems(p.constValues, parts.constValues) && sameItems(p.equations, parts.equations) && sameItems(p.outputs, parts.outputs)) {
    return p;
  }
  return new Program(
    p.inputs.slice(),
    (parts.consts ?? p.consts).slice(),
    (parts.constValues ?? p.constValues).slice(),
    (parts.equations ?? p.equations).slice(),
    (parts.outputs ?? p.outputs).slice(),
  );
}

/**
 * The equation with `f` applied to every sub-program found in its params (the same places
 * `subPrograms` looks: param values and arrays of them). `f` must keep each sub-program's
 * signature; returns the same equation object when no sub-program changed.
 */
export function mapSubPrograms(e: Equation, f: (p: Program) => Program): Equation {
  let changed = false;
  const visit = (v: unknown): unknown => {
    if (v instanceof Program) {
      const r = f(v);
      if (r !== v) changed = true;
      return r;
    }
    return Array.isArray(v) ? v.map(visit) : v;
  };
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.params ?? {})) params[k] = visit(v);
  return changed ? { ...e, params } : e;
}

/**
 * A rank-0 literal's value as its dtype stores it (what the reference implementations and the
 * interpreter compute with: a float32 literal 1e-50 is +0, an int32 literal -0 is 0), or
 * undefined for anything else.
 */
export function literalValue(a: Atom | undefined): number | undefined {
  return a instanceof Literal ? scalar(a.value, a.aval.dtype).data[0] : undefined;
}
