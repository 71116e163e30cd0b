// Algebraic simplification driven by a rule table (the rules live in simplify-rules.ts). Each
// rule has a name, a matcher that sees an equation and, through the context, the equations
// defining its inputs, and a rewrite returning either replacement atoms (the equation goes away)
// or replacement equations (the last one defines the original outputs). Rewritten equations are
// simplified again, so rules compose: mul(x, broadcast(1.0)) -> mul(x, 1.0) -> x.
//
// Safety net, whatever a rule says: a replacement must have exactly the original outputs'
// shapes, dtypes and weak flags, and every replacement equation must type-check; otherwise the
// rule is skipped. Rules never apply to higher-order equations.

import { type Atom, type Equation, Literal, type Program, Var } from "../ir/program.js";
import { DEFAULT_RULES } from "./simplify-rules.js";
import { Subst, isHigherOrder, rebuild, sameAval } from "./rewrite.js";

/** What a rule may look at besides the equation itself. */
export interface RuleContext {
  /** The (already simplified) equation defining a variable; undefined for inputs, constants and literals. */
  def(a: Atom | undefined): Equation | undefined;
}

/** Replacement atoms (one per output), or equations whose last one defines the outputs. */
export type Rewrite = Atom[] | Equation | Equation[];

export interface SimplifyRule<M = any> {
  name: string;
  /** Primitive names the rule applies to (any, when absent). */
  prims?: readonly string[];
  /** Returns what the rewrite needs, or null/undefined/false when the rule does not apply. */
  match(e: Equation, ctx: RuleContext): M | null | undefined | false;
  rewrite(e: Equation, m: M, ctx: RuleContext): Rewrite;
}

export interface SimplifyResult {
  program: Program;
  /** How many times each rule fired. */
  fired: Record<string, number>;
}

/** Bound on nested rewrites of one equation (rules always shrink or settle; this is a backstop). */
const MAX_DEPTH = 32;

function isAtomList(r: Rewrite): r is Atom[] {
  return Array.isArray(r) && r.length > 0 && (r[0] instanceof Var || r[0] instanceof Literal);
}

function typeChecks(e: Equation): boolean {
  try {
    const outs = e.prim.abstractEval(e.inputs.map((a) => a.aval), e.params);
    return outs.length === e.outs.length && outs.every((a, i) => sameAval(a, e.outs[i]!.aval));
  } catch {
    return false;
  }
}

export function simplifyWith(p: Program, rules: readonly SimplifyRule[] = DEFAULT_RULES): SimplifyResult {
  const subst = new Subst();
  const defs = new Map<Var, Equation>();
  const equations: Equation[] = [];
  const fired: Record<string, number> = {};
  const ctx: RuleContext = { def: (a) => (a instanceof Var ? defs.get(a) : undefined) };

  const emit = (e: Equation) => {
    equations.push(e);
    e.outs.forEach((o) => defs.set(o, e));
  };

  /** Tries each rule in order; the first whose rewrite passes the safety net wins. */
  const process = (e: Equation, depth: number): void => {
    if (depth > MAX_DEPTH || isHigherOrder(e)) return emit(e);
    for (const rule of rules) {
      if (rule.prims && !rule.prims.includes(e.prim.name)) continue;
      const m = rule.match(e, ctx);
      if (m === null || m === undefined || m === false) continue;
      const r = rule.rewrite(e, m, ctx);
      if (isAtomList(r)) {
        if (r.length !== e.outs.length || !r.every((a, i) => sameAval(a.aval, e.outs[i]!.aval))) continue;
        e.outs.forEach((o, i) => subst.set(o, r[i]!));
        fired[rule.name] = (fired[rule.name] ?? 0) + 1;
        return;
      }
      const eqns = Array.isArray(r) ? (r as Equation[]) : [r];
      const last = eqns[eqns.length - 1];
      if (!last || last.outs.length !== e.outs.length) continue;
      if (!last.outs.every((o, i) => sameAval(o.aval, e.outs[i]!.aval)) || !eqns.every(typeChecks)) continue;
      fired[rule.name] = (fired[rule.name] ?? 0) + 1;
      const withSource = (x: Equation): Equation => (x.source === undefined && e.source !== undefined ? { ...x, source: e.source } : x);
      eqns.slice(0, -1).forEach((x) => process(withSource(x), depth + 1));
      last.outs.forEach((o, i) => {
        if (o !== e.outs[i]) subst.set(e.outs[i]!, o);
      });
      return process(withSource(last), depth + 1);
    }
    emit(e);
  };

  for (const e of p.equations) process(subst.eqn(e), 0);
  const program = rebuild(p, { equations, outputs: subst.atoms(p.outputs) });
  return { program, fired };
}

/** The simplify pass with the default rule table. */
export function simplify(p: Program): Program {
  return simplifyWith(p).program;
}

/** A simplify pass with another rule table (e.g. DEFAULT_RULES plus project-specific rules). */
export function makeSimplifier(rules: readonly SimplifyRule[]): (p: Program) => Program {
  return (p) => simplifyWith(p, rules).program;
}
