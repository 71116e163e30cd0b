// Common-subexpression elimination: two equations with the same primitive, equal params and the
// same input atoms compute the same values (primitives are pure), so the later one is dropped
// and its outputs renamed to the earlier one's. Params compare canonically and deeply; Programs
// in params compare by structural hash; functions and tensors by identity. Constants bound to
// the same tensor object are merged too.

import { ShapedArray } from "../core/aval.js";
import { SymDim } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { type Atom, type Equation, Literal, Program, type Var } from "../ir/program.js";
import { programHash } from "../ir/serialize.js";
import { Subst, rebuild, sameAval } from "./rewrite.js";

/** Primitives whose two operands may be swapped without changing any result bit. */
const COMMUTATIVE = new Set(["add", "mul"]);

/** Identity numbers for params compared by identity (functions, tensors, class instances). */
const identities = new WeakMap<object, number>();
let nextIdentity = 1;
function idOf(o: object): number {
  let id = identities.get(o);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(o, id);
  }
  return id;
}

function numberKey(n: number): string {
  return Object.is(n, -0) ? "-0" : String(n);
}

/** A canonical string for a param value: equal strings mean interchangeable params. */
export function canonicalParam(v: unknown): string {
  if (v instanceof Program) return `P:${programHash(v)}`;
  if (v instanceof SymDim) return `D:${v}`;
  if (v instanceof ShapedArray) return `A:${v}${v.weak ? "w" : ""}`;
  if (v instanceof Tensor) return `T#${idOf(v)}`;
  if (typeof v === "number") return numberKey(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return `F#${idOf(v)}`;
  if (Array.isArray(v)) return `[${v.map(canonicalParam).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return `O#${idOf(v)}`;
    const keys = Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${k}:${canonicalParam((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return String(v); // boolean, null, undefined
}

/** Vars by identity, literals by value, dtype and weak flag. */
export function atomKey(a: Atom): string {
  if (a instanceof Literal) return `${numberKey(a.value)}:${a.aval}${a.aval.weak ? "w" : ""}`;
  return `%${(a as Var).id}`;
}

/** The key under which equal equations meet, or null when params cannot be canonicalized. */
export function equationKey(e: Equation): string | null {
  let params: string;
  try {
    params = canonicalParam(e.params ?? {});
  } catch {
    return null; // e.g. a sub-program holding a JS function cannot be hashed: never merge it
  }
  const ins = e.inputs.map(atomKey);
  if (COMMUTATIVE.has(e.prim.name) && ins.length === 2) ins.sort();
  return `${e.prim.name}#${idOf(e.prim)}(${ins.join(" ")})${params}`;
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
