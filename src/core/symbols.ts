// The run-time binding of symbolic dimensions ("B" -> 32) while a shape-polymorphic program runs:
// derived from the concrete shapes of the program's inputs, checked for consistency, and made
// available to primitives that need a dimension's value (dim_value) and to parameters that hold
// symbolic shapes. Also the declared constraints on symbols (B >= 2, B % 8 == 0) that exports and
// jit read, and the quotient symbols (B/8) a divisibility constraint introduces.

import { ArgumentError, ShapeError } from "./errors.js";
import { type Dim, SymDim, dimLinearIn, evalDim, shapeToString, type Shape } from "./shape.js";

export type Binding = Readonly<Record<string, number>>;

let current: Binding = {};

export function currentBinding(): Binding {
  return current;
}

export function withBinding<T>(b: Binding, fn: () => T): T {
  const prev = current;
  current = b;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/**
 * Binds the symbols of `declared` shapes from `actual` concrete shapes (a dimension that is a bare
 * symbol binds it, then an axis linear in one unbound symbol solves it; every dimension is checked
 * once all are bound). Throws a ShapeError
 * naming the argument and the symbol on any mismatch.
 */
export function bindSymbols(declared: readonly Shape[], actual: readonly (readonly number[])[], names: (i: number) => string, outer: Binding = {}): Binding {
  const env: Record<string, number> = { ...outer };
  const fail = (i: number, why: string) =>
    new ShapeError(`${names(i)} has shape ${shapeToString(actual[i]!)} but ${shapeToString(declared[i]!)} was declared: ${why}`);
  declared.forEach((shape, i) => {
    const got = actual[i]!;
    if (got.length !== shape.length) throw fail(i, `rank ${got.length} != ${shape.length}`);
    shape.forEach((d, k) => {
      if (!(d instanceof SymDim) || d.terms.size !== 1 || d.terms.values().next().value !== 1) return;
      const name = [...d.terms.keys()][0]!;
      if (name.includes("*")) return;
      const v = got[k]!;
      if (env[name] !== undefined && env[name] !== v) throw fail(i, `${name} is ${env[name]} from an earlier argument but ${v} here`);
      env[name] = v;
    });
  });
  // a symbol no axis holds alone: solved from an axis linear in it once the others are bound
  // (2*K, K+1, T*K), as the exported module's shape checks do
  for (let progress = true; progress; ) {
    progress = false;
    declared.forEach((shape, i) =>
      shape.forEach((d, k) => {
        if (typeof d === "number") return;
        const open = d.symbols().filter((s) => env[s] === undefined);
        const lin = open.length === 1 ? dimLinearIn(d, open[0]!) : null;
        if (!lin || lin.coef === 0) return;
        const a = evalDim(lin.coef, env);
        const v = (actual[i]![k]! - evalDim(lin.rest, env)) / a;
        if (!Number.isInteger(v) || v < 1) throw fail(i, `axis ${k} is ${d}, which needs ${open[0]} to be an integer >= 1 (got ${v})`);
        env[open[0]!] = v;
        progress = true;
      }),
    );
  }
  declared.forEach((shape, i) => {
    shape.forEach((d: Dim, k) => {
      let want: number;
      try {
        want = typeof d === "number" ? d : d.evaluate(env);
      } catch {
        throw fail(i, `dimension ${d} cannot be determined from the arguments`);
      }
      if (want !== actual[i]![k]) throw fail(i, `axis ${k} should be ${d} = ${want}, got ${actual[i]![k]}`);
    });
  });
  return env;
}

/** Replaces symbolic dimensions anywhere in a parameter value by their bound numbers. */
export function instantiateParams(v: unknown, env: Binding): unknown {
  if (v instanceof SymDim) return v.evaluate(env);
  if (Array.isArray(v)) {
    let changed = false;
    const out = v.map((x) => {
      const y = instantiateParams(x, env);
      if (y !== x) changed = true;
      return y;
    });
    return changed ? out : v;
  }
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const y = instantiateParams(x, env);
      if (y !== x) changed = true;
      out[k] = y;
    }
    return changed ? out : v;
  }
  return v;
}

/**
 * The symbol an export introduces for a declared `B % m == 0`: B is traced as m * (B/m) (see
 * aot/dim-rules.ts), so that shape rules can divide by m exactly. Its name is its meaning, "B/m":
 * shapes print as the user reads them (3*B/2, which is 3*(B/2)), and no user-written name can
 * collide with it (a name is an identifier; spec strings refuse "/").
 */
export function quotientSymbol(symbol: string, modulus: number): string {
  return `${symbol}/${modulus}`;
}

/** The user symbol and modulus a quotient symbol stands for, or null for any other name. */
export function quotientOf(name: string): { symbol: string; modulus: number } | null {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\/(\d+)$/.exec(name);
  return m ? { symbol: m[1]!, modulus: Number(m[2]) } : null;
}

/** A declared constraint on a symbolic dimension: `B >= 4`, `B <= 4096`, `B % 8 == 0`, `B == 2`. */
export interface DimConstraint {
  text: string;
  symbol: string;
  op: ">=" | "<=" | ">" | "<" | "==" | "%";
  value: number;
}

const CONSTRAINT = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:(>=|<=|>|<|==)\s*(-?\d+)|%\s*(\d+)\s*==\s*0)\s*$/;

/** Parses declared constraints; each must name one of the export's symbolic dimensions. */
export function parseConstraints(list: readonly string[], symbols: readonly string[], what: string): DimConstraint[] {
  if (!Array.isArray(list)) throw new ArgumentError(`${what}: constraints must be an array of strings such as "B >= 2" or "B % 8 == 0"`);
  return list.map((text) => {
    const m = typeof text === "string" ? CONSTRAINT.exec(text) : null;
    if (!m) throw new ArgumentError(`${what}: cannot read the constraint ${JSON.stringify(text)}; write "<dim> >= <int>", "<dim> <= <int>", "<dim> > <int>", "<dim> < <int>", "<dim> == <int>" or "<dim> % <int> == 0"`);
    const symbol = m[1]!;
    if (!symbols.includes(symbol)) throw new ArgumentError(`${what}: the constraint ${JSON.stringify(text)} names ${symbol}, which is not a symbolic dimension of the argument specs (${symbols.join(", ") || "none"})`);
    if (m[4] !== undefined && Number(m[4]) < 1) throw new ArgumentError(`${what}: the constraint ${JSON.stringify(text)} takes a modulus >= 1`);
    return m[4] !== undefined ? { text: text.trim(), symbol, op: "%" as const, value: Number(m[4]) } : { text: text.trim(), symbol, op: m[2] as DimConstraint["op"], value: Number(m[3]) };
  });
}

/** Whether `v` (the value the arguments bind to c.symbol) satisfies c. */
export function constraintHolds(c: DimConstraint, v: number): boolean {
  switch (c.op) {
    case "%":
      return v % c.value === 0;
    case ">=":
      return v >= c.value;
    case "<=":
      return v <= c.value;
    case ">":
      return v > c.value;
    case "<":
      return v < c.value;
    default:
      return v === c.value;
  }
}

/** Each constrained symbol's bounds from the bound constraints (>=, >, <=, <, == a number), starting from `min` (no max: Infinity). */
export function boundsOf(cs: readonly DimConstraint[], min: number): Record<string, { min: number; max: number }> {
  const bounds: Record<string, { min: number; max: number }> = {};
  for (const c of cs) {
    const b = (bounds[c.symbol] ??= { min, max: Infinity });
    if (c.op === ">=" || c.op === ">" || c.op === "==") b.min = Math.max(b.min, c.op === ">" ? c.value + 1 : c.value);
    if (c.op === "<=" || c.op === "<" || c.op === "==") b.max = Math.min(b.max, c.op === "<" ? c.value - 1 : c.value);
  }
  return bounds;
}
