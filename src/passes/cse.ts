// Common-subexpression elimination: two equations with the same primitive, equal params and the
// same input atoms compute the same values (primitives are pure), so the later one is dropped
// and its outputs renamed to the earlier one's. Keys come from core/encode (DESIGN principle 13):
// literals by exact value, dtype and weak flag; params canonically and deeply, Programs in params
// by their canonical text; functions and tensors by identity. Constants bound to the same tensor
// object are merged too.

import { ShapedArray } from "../core/aval.js";
import { encodeNumber, encodeValue, identityOf } from "../core/encode.js";
import { SymDim } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { type Atom, type Equation, Literal, Program, type Var } from "../ir/program.js";
import { programText } from "../ir/serialize.js";
import { Subst, rebuild, sameAval } from "./rewrite.js";

/** Primitives whose two operands may be swapped without changing any result bit. */
const COMMUTATIVE = new Set(["add", "mul"]);

/** The IR's own param classes; everything else is core/encode's (tensors, functions by identity). */
function irParam(o: object): string | undefined {
  // the full canonical text, not its hash: a hash collision would merge different programs
  if (o instanceof Program) return `P:${programText(o)}`;
  if (o instanceof SymDim) return `D:${JSON.stringify(o.toString())}`;
  if (o instanceof ShapedArray) return `A:${JSON.stringify(`${o}${o.weak ? "~" : ""}`)}`;
  return undefined;
}

/** A canonical string for a param value (core/encode's encodeValue): equal strings mean interchangeable params. */
export function canonicalParam(v: unknown): string {
  return encodeValue(v, irParam);
}

/** Vars by identity; literals by their exact value (-0, NaN, Infinity distinct), dtype and weak flag. */
export function atomKey(a: Atom): string {
  if (a instanceof Literal) return `${encodeNumber(a.value)}:${a.aval}${a.aval.weak ? "~" : ""}`;
  return `%${(a as Var).id}`;
}

/**
 * canonicalParam of an equation's params object, encoded once per object: every round of the
 * pipeline keys every equation again, and rewritten equations keep their params object (params
 * are never mutated once built). null: cannot be canonicalized.
 */
const paramKeys = new WeakMap<object, string | null>();
const NO_PARAMS = {};
function paramsKey(params: unknown): string | null {
  const cacheable = typeof params === "object" && params !== null;
  let key = cacheable ? paramKeys.get(params) : undefined;
  if (key === undefined) {
    try {
      key = canonicalParam(params);
    } catch {
      key = null; // e.g. a sub-program holding a JS function cannot be hashed: never merge it
    }
    if (cacheable) paramKeys.set(params, key);
  }
  return key;
}

/** The key under which equal equations meet, or null when params cannot be canonicalized. */
export function equationKey(e: Equation): string | null {
  const params = paramsKey(e.params ?? NO_PARAMS);
  if (params === null) return null;
  const ins = e.inputs.map(atomKey);
  if (COMMUTATIVE.has(e.prim.name) && ins.length === 2) ins.sort();
  return `${e.prim.name}#${identityOf(e.prim)}(${ins.join(" ")})${params}`;
}

export function cse(p: Program): Program {
  const subst = new Subst();
  const consts: Var[] = [];
  const constValues: Tensor[] = [];
  const byTensor = new Map<Tensor, Var>();
  p.consts.forEach((v, i) => {
    const t = p.constValues[i]!;
    const prev = byTensor.get(t);
    if (prev && sameAval(prev.aval, v.aval)) {
      subst.set(v, prev);
      return;
    }
    byTensor.set(t, v);
    consts.push(v);
    constValues.push(t);
  });

  const seen = new Map<string, Var[]>();
  const equations: Equation[] = [];
  for (const e0 of p.equations) {
    const e = subst.eqn(e0);
    const key = equationKey(e);
    const prev = key === null ? undefined : seen.get(key);
    if (prev && prev.length === e.outs.length && prev.every((v, i) => sameAval(v.aval, e.outs[i]!.aval))) {
      e.outs.forEach((o, i) => subst.set(o, prev[i]!));
      continue;
    }
    if (key !== null) seen.set(key, e.outs);
    equations.push(e);
  }
  return rebuild(p, { consts, constValues, equations, outputs: subst.atoms(p.outputs) });
}
