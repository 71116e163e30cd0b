// Declared constraints on the symbolic dimensions of an export, read before tracing. Two kinds:
// checks (B >= 2, B <= 4096, B == 4, B % 8 == 0) that the module runs once the arguments bind B,
// and rewrites, which the shape rules see: `B % 8 == 0` makes B the polynomial 8*(B/8) and a
// relation `B == 2*K` makes it 2*K, in the specs the function is traced at. Shape arithmetic then
// stays exact polynomial arithmetic over independent symbols (reshape([-1, 2]) of [B,3] with B even
// is [3*B/2, 2]) and the module derives the new symbols from the user's at call time.

import { ShapedArray } from "../core/aval.js";
import { ArgumentError } from "../core/errors.js";
import { type Dim, type DimFacts, SymDim, dimAdd, dimLinearIn, dimSub, dimSubstitute, parseDim } from "../core/shape.js";
import { boundsOf, quotientOf, quotientSymbol } from "../core/symbols.js";
import { type DimConstraint, parseConstraints } from "./shape-checks.js";

/** A user symbol rewritten before tracing: `symbol` = `def` (a polynomial in other symbols). */
export interface DimRewrite {
  symbol: string;
  def: Dim;
  /** the declared constraint it comes from */
  text: string;
  /** a relation (B == 2*K), else divisibility (B % 2 == 0, also a check) */
  relation: boolean;
}

export interface DimRules {
  /** constraints checked at call time (the rewrites' divisibility included) */
  checks: DimConstraint[];
  rewrites: DimRewrite[];
  /** the symbols of the user's specs and relations (what the manifest lists) */
  symbols: string[];
  /** what the shape rules may assume while tracing (bounds of the traced symbols: every one >= 1) */
  facts: DimFacts;
  /** inequalities between the user's symbols (T <= S), checked at call time, facts while tracing */
  inequalities: DimInequality[];
}

export const NO_RULES: DimRules = { checks: [], rewrites: [], symbols: [], facts: { bounds: {} }, inequalities: [] };

/** The symbols and the user symbols their quotient symbols divide (B/2 -> B), sorted. */
export function withQuotientBases(syms: readonly string[]): string[] {
  return [...new Set([...syms, ...syms.flatMap((s) => quotientOf(s)?.symbol ?? [])])].sort();
}

/** The symbols of a list of avals, sorted. */
export function symbolsOf(avals: readonly ShapedArray[]): string[] {
  return [...new Set(avals.flatMap((a) => a.shape.flatMap((d) => (typeof d === "number" ? [] : d.symbols()))))].sort();
}

const RELATION = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*==\s*(.*[A-Za-z_].*)$/;
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Reads `list` (ExportOptions.constraints) against the symbols of the specs. Specs holding a
 * quotient symbol B/2 (an artifact's, re-exported by extendModule) take constraints on B too.
 */
export function dimRules(list: readonly string[] | undefined, specAvals: readonly ShapedArray[], what: string): DimRules {
  const specSyms = withQuotientBases(symbolsOf(specAvals));
  if (list === undefined) return withFacts({ ...NO_RULES, symbols: specSyms });
  if (!Array.isArray(list)) return { ...NO_RULES, checks: parseConstraints(list, specSyms, what) }; // throws the usage message
  const relations: DimRewrite[] = [];
  const rest: string[] = [];
  for (const text of list) {
    const m = typeof text === "string" ? RELATION.exec(text) : null;
    if (!m) {
      rest.push(text);
      continue;
    }
    let def: Dim;
    try {
      def = parseDim(m[2]!);
    } catch {
      throw new ArgumentError(`${what}: cannot read the right side of the relation ${JSON.stringify(text)}; write "<dim> == <polynomial>", e.g. "B == 2*K" or "T == S + 1"`);
    }
    const symbol = m[1]!;
    if (!specSyms.includes(symbol)) throw new ArgumentError(`${what}: the relation ${JSON.stringify(text)} names ${symbol}, which is not a symbolic dimension of the argument specs (${specSyms.join(", ") || "none"})`);
    if (typeof def !== "number" && def.symbols().includes(symbol)) throw new ArgumentError(`${what}: the relation ${JSON.stringify(text)} defines ${symbol} by itself`);
    if (relations.some((r) => r.symbol === symbol)) throw new ArgumentError(`${what}: ${symbol} has two relations; declare one`);
    relations.push({ symbol, def, text: text.trim(), relation: true });
  }
  resolveChains(relations, what);
  const relSyms = [...new Set(relations.flatMap((r) => (typeof r.def === "number" ? [] : r.def.symbols())))];
  const symbols = [...new Set([...specSyms, ...relSyms])].sort();
  const { bounds, inequalities } = splitInequalities(rest, symbols, what);
  const checks = parseConstraints(bounds, symbols, what);
  // divisibility: B % m == 0 (and B % n == 0) makes B = lcm(m, n) * (B/lcm); on a symbol a
  // relation defines as c*K it is divisibility of K (B == 2*K, B % 4 == 0: K % 2 == 0)
  const mods = new Map<string, number[]>();
  const why = new Map<string, string[]>();
  const addMod = (s: string, m: number, text: string) => {
    if (m <= 1) return;
    mods.set(s, [...(mods.get(s) ?? []), m]);
    why.set(s, [...(why.get(s) ?? []), text]);
  };
  for (const c of checks) {
    if (c.op !== "%" || c.value <= 1) continue;
    const rel = relations.find((r) => r.symbol === c.symbol);
    if (!rel) {
      addMod(c.symbol, c.value, c.text);
      continue;
    }
    const k = typeof rel.def === "number" ? [] : rel.def.symbols();
    const lin = k.length === 1 && typeof rel.def !== "number" ? dimLinearIn(rel.def, k[0]!) : null;
    if (typeof rel.def === "number" || !lin || typeof lin.coef !== "number" || lin.rest !== 0) {
      throw new ArgumentError(`${what}: ${c.symbol} has the relation ${JSON.stringify(rel.text)} and the divisibility constraint ${JSON.stringify(c.text)}, which adgen combines only for a relation of the form ${c.symbol} == c*K; put the factor in the relation (e.g. ${c.symbol} == ${c.value}*K)`);
    }
    addMod(k[0]!, c.value / gcd(c.value, Math.abs(lin.coef)), `${rel.text} and ${c.text}`);
  }
  const divs: DimRewrite[] = [];
  for (const [s, ms] of mods) {
    const l = ms.reduce((a, b) => (a / gcd(a, b)) * b);
    divs.push({ symbol: s, def: SymDim.fromTerms(new Map([[quotientSymbol(s, l), l]])), text: why.get(s)!.join(", "), relation: false });
  }
  const divSub = Object.fromEntries(divs.map((r) => [r.symbol, r.def]));
  const rewrites = [...relations.map((r) => ({ ...r, def: dimSubstitute(r.def, divSub) })), ...divs];
  const sub = Object.fromEntries(rewrites.map((r) => [r.symbol, r.def]));
  const nonneg = inequalities.map((q) => dimSubstitute(dimSub(q.rhs, q.lhs), sub));
  const r = withFacts({ checks, rewrites, symbols, facts: NO_RULES.facts, inequalities });
  return { ...r, facts: { ...r.facts, nonneg } };
}

/**
 * Relations written in terms of each other (B == 2*C, C == 3*K) become relations in independent
 * symbols (B == 6*K, C == 3*K), in place; a cycle (B == C + 1, C == B - 1) is an ArgumentError.
 */
function resolveChains(relations: DimRewrite[], what: string): void {
  const defined = new Set(relations.map((r) => r.symbol));
  for (let round = 0; ; round++) {
    const open = relations.filter((r) => typeof r.def !== "number" && r.def.symbols().some((s) => defined.has(s)));
    if (!open.length) return;
    if (round > relations.length) throw new ArgumentError(`${what}: the relations ${open.map((r) => JSON.stringify(r.text)).join(", ")} define their symbols in terms of each other (a cycle); write each symbol in terms of independent ones`);
    const sub = Object.fromEntries(relations.map((r) => [r.symbol, r.def]));
    for (const r of open) r.def = dimSubstitute(r.def, sub);
  }
}

/** A declared inequality between symbolic dimensions: lhs <= rhs (T <= S, 2*T < S + 1, T >= S). */
export interface DimInequality {
  text: string;
  lhs: Dim;
  rhs: Dim;
}

const INEQUALITY = /^([^<>=]*)(<=|>=|<|>)([^<>=]*)$/;

/** The inequality a constraint text states when both of its sides hold symbols, else null (a bound such as B >= 2, or not an inequality). */
export function parseInequality(text: string): DimInequality | null {
  const m = INEQUALITY.exec(text);
  if (!m) return null;
  let a: Dim, b: Dim;
  try {
    a = parseDim(m[1]!.trim());
    b = parseDim(m[3]!.trim());
  } catch {
    return null;
  }
  if (typeof a === "number" || typeof b === "number") return null;
  const op = m[2]!;
  const [lhs, rhs] = op === "<=" || op === "<" ? [a, b] : [b, a];
  return { text: text.trim(), lhs: op === "<" || op === ">" ? dimAdd(lhs, 1) : lhs, rhs };
}

/** Splits inequalities between symbols (T <= S) from the other constraint texts. */
function splitInequalities(list: readonly string[], symbols: readonly string[], what: string): { bounds: string[]; inequalities: DimInequality[] } {
  const bounds: string[] = [];
  const inequalities: DimInequality[] = [];
  for (const t of list) {
    const q = typeof t === "string" ? parseInequality(t) : null;
    if (!q) {
      bounds.push(t);
      continue;
    }
    const unknown = [...(q.lhs as SymDim).symbols(), ...(q.rhs as SymDim).symbols()].find((s) => !symbols.includes(s));
    if (unknown) throw new ArgumentError(`${what}: the constraint ${JSON.stringify(t)} names ${unknown}, which is not a symbolic dimension of the argument specs (${symbols.join(", ") || "none"})`);
    inequalities.push(q);
  }
  return { bounds, inequalities };
}

/**
 * The rules with their facts: each user symbol's declared bounds (at least 1: the module checks
 * every symbol >= 1), carried to the symbol a rewrite replaces it by when the rewrite is c*K + d
 * (B % 2 == 0 with B >= 4 gives B/2 >= 2; B == 2*K with B <= 64 gives K <= 32).
 */
function withFacts(r: DimRules): DimRules {
  const bounds = boundsOf(r.checks, 1);
  const get = (s: string) => (bounds[s] ??= { min: 1, max: Infinity });
  for (const s of r.symbols) get(s);
  for (const w of r.rewrites) {
    if (typeof w.def === "number") continue;
    for (const k of w.def.symbols()) get(k);
    const from = get(w.symbol);
    const syms = w.def.symbols();
    const lin = syms.length === 1 ? dimLinearIn(w.def, syms[0]!) : null;
    if (!lin || typeof lin.coef !== "number" || typeof lin.rest !== "number" || lin.coef <= 0) continue;
    const to = get(syms[0]!);
    to.min = Math.max(to.min, Math.ceil((from.min - lin.rest) / lin.coef));
    to.max = Math.min(to.max, Math.floor((from.max - lin.rest) / lin.coef));
  }
  const out: Record<string, { min: number; max?: number }> = {};
  for (const [s, b] of Object.entries(bounds)) out[s] = b.max === Infinity ? { min: b.min } : b;
  return { ...r, facts: { bounds: out } };
}

/** The avals with every rewritten symbol replaced by its definition. */
export function rewriteAvals(avals: readonly ShapedArray[], rules: DimRules): ShapedArray[] {
  if (!rules.rewrites.length) return [...avals];
  const sub = Object.fromEntries(rules.rewrites.map((r) => [r.symbol, r.def]));
  return avals.map((a) => new ShapedArray(a.shape.map((d) => dimSubstitute(d, sub)), a.dtype, a.weak));
}

/**
 * A dimension in the user's symbols where that is exact: a multiple of a quotient symbol B/m
 * (from `B % m == 0`) becomes a multiple of B when its coefficient takes the division (2*B/2 is
 * B, 4*B/2 is 2*B; 3*B/2 stays, and reads as the user would write it).
 */
export function userDim(d: Dim): Dim {
  if (typeof d === "number") return d;
  const t = new Map<string, number>();
  for (const [mono, coef] of d.terms) {
    let c = coef;
    const fs = mono ? mono.split("*") : [];
    const out = fs.map((f) => {
      const q = quotientOf(f);
      if (!q || c % q.modulus !== 0) return f;
      c /= q.modulus;
      return q.symbol;
    });
    if (out.some((f) => quotientOf(f))) return d;
    const key = out.sort().join("*");
    t.set(key, (t.get(key) ?? 0) + c);
  }
  return SymDim.fromTerms(t);
}

/** The quotient symbols of the rules with what defines them (the manifest's derivedDims). */
export function derivedDims(rules: DimRules): { name: string; definition: string }[] {
  return rules.rewrites.flatMap((r) => {
    if (typeof r.def === "number" || r.relation) return []; // (a relation's quotient symbols are named by their own rewrite)
    return r.def.symbols().flatMap((s) => {
      const q = quotientOf(s);
      return q ? [{ name: s, definition: `${q.symbol} / ${q.modulus} (from ${r.text})` }] : [];
    });
  });
}
