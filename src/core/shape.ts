// Shapes and dimensions. A dimension is a non-negative integer or a symbolic polynomial over
// named dimensions ("B", "2*B", "B*T+1") so that one program can serve many sizes. JS conversions
// of a symbolic dimension (which user code may branch on) are reported to a watcher, so that jit
// never silently reuses a shape-generalized program for a function whose JS reads a size.
// Comparisons of dimensions (dimLeq) hold for every size the current DimFacts allow: symbols are
// >= 0, within the bounds and inequalities an export or a jit declared (withDimFacts).

import { ShapeError } from "./errors.js";

export type Dim = number | SymDim;

/** Receives every JS conversion of a symbolic dimension while installed (see watchDimUses). */
export type DimWatcher = (d: SymDim, how: string) => void;
let watcher: DimWatcher | null = null;

function noteDimUse(d: SymDim, how: string): void {
  watcher?.(d, how);
}

/** Runs `fn` with `w` seeing each JS conversion (number, string, JSON) of a symbolic dimension. */
export function watchDimUses<T>(w: DimWatcher, fn: () => T): T {
  const prev = watcher;
  watcher = w;
  try {
    return fn();
  } finally {
    watcher = prev;
  }
}
export type Shape = readonly Dim[];

/** An integer polynomial over named dimensions, kept in a canonical form (sorted monomials). */
export class SymDim {
  /** monomial key ("B*T", "" for the constant) -> coefficient; never holds a zero coefficient */
  readonly terms: ReadonlyMap<string, number>;

  private constructor(terms: Map<string, number>) {
    this.terms = terms;
  }

  static symbol(name: string): SymDim {
    // an identifier, or a quotient symbol "B/2" (core/symbols.ts quotientSymbol)
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\/[1-9][0-9]*)?$/.test(name)) {
      throw new Error(`invalid symbolic dimension name ${JSON.stringify(name)}`);
    }
    return new SymDim(new Map([[name, 1]]));
  }

  /** Builds a dim from terms, collapsing to a plain number when no symbol remains. */
  static fromTerms(terms: Map<string, number>): Dim {
    for (const [k, v] of [...terms]) if (v === 0) terms.delete(k);
    if (terms.size === 0) return 0;
    if (terms.size === 1 && terms.has("")) return terms.get("")!;
    return new SymDim(new Map([...terms].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  }

  symbols(): string[] {
    const s = new Set<string>();
    for (const k of this.terms.keys()) for (const f of k.split("*")) if (f) s.add(f);
    return [...s].sort();
  }

  evaluate(env: Readonly<Record<string, number>>): number {
    let total = 0;
    for (const [mono, coef] of this.terms) {
      let v = coef;
      for (const f of mono.split("*")) {
        if (!f) continue;
        const x = env[f];
        if (x === undefined) throw new Error(`symbolic dimension ${f} has no value`);
        v *= x;
      }
      total += v;
    }
    return total;
  }

  /**
   * A symbolic dimension has no JS number value while a program is traced: arithmetic such as
   * `x.shape[0] * 2` would silently produce NaN, and `x.shape[0] == 1` a silent false, so both throw.
   */
  valueOf(): number {
    noteDimUse(this, "used as a number");
    throw new ShapeError(
      `dimension ${this.toString()} is symbolic (its size is known only at run time): pass it to np functions ` +
        `(e.g. np.divide(x, x.shape[0])) instead of using it in JS arithmetic or comparisons`,
    );
  }

  /**
   * JS conversions (template strings, String(d), `d + ""`, `d == 1`, `d > 2`, Math.max(d)) all come
   * here. Each is reported to the active dimension watcher (jit refuses to generalize a function
   * that reads a learned size in JS); only the string hint has an answer, the symbol's text.
   */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === "string") {
      noteDimUse(this, "converted to a string");
      return this.toString();
    }
    return this.valueOf() as never;
  }

  /** JSON form (JSON.stringify(x.shape) in user code is reported like a string conversion). */
  toJSON(): { $dim: string } {
    noteDimUse(this, "serialized with JSON.stringify");
    return { $dim: this.toString() };
  }

  /** The canonical text ("2*B+1"); what adgen's own keys, hashes and messages use (never watched). */
  toString(): string {
    const parts: string[] = [];
    for (const [mono, coef] of this.terms) {
      if (mono === "") parts.push(String(coef));
      else if (coef === 1) parts.push(mono);
      else if (coef === -1) parts.push(`-${mono}`);
      else parts.push(`${coef}*${mono}`);
    }
    return parts.join("+").replace(/\+-/g, "-");
  }
}

function termsOf(d: Dim): Map<string, number> {
  return typeof d === "number" ? new Map(d === 0 ? [] : [["", d]]) : new Map(d.terms);
}

export function isSymbolic(d: Dim): d is SymDim {
  return typeof d !== "number";
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a + b;
  const t = termsOf(a);
  for (const [k, v] of termsOf(b)) t.set(k, (t.get(k) ?? 0) + v);
  return SymDim.fromTerms(t);
}

export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a * b;
  const t = new Map<string, number>();
  for (const [ka, va] of termsOf(a)) {
    for (const [kb, vb] of termsOf(b)) {
      const key = [...ka.split("*"), ...kb.split("*")].filter(Boolean).sort().join("*");
      t.set(key, (t.get(key) ?? 0) + va * vb);
    }
  }
  return SymDim.fromTerms(t);
}

/** Exact division a / b (b a positive number or a dimension that divides a), else null. */
export function dimDiv(a: Dim, b: Dim): Dim | null {
  if (typeof b === "number") {
    if (b === 0) return null;
    if (typeof a === "number") return a % b === 0 ? a / b : null;
    const t = new Map<string, number>();
    for (const [k, v] of a.terms) {
      if (v % b !== 0) return null;
      t.set(k, v / b);
    }
    return SymDim.fromTerms(t);
  }
  if (typeof a === "number") return null;
  if (a.toString() === b.toString()) return 1;
  // b a single monomial c*m: divide every term of a by it
  if (b.terms.size !== 1) return null;
  const [[bm, bc]] = [...b.terms];
  const bf = bm.split("*").filter(Boolean);
  const t = new Map<string, number>();
  for (const [k, v] of a.terms) {
    const f = k.split("*").filter(Boolean);
    for (const s of bf) {
      const i = f.indexOf(s);
      if (i < 0) return null;
      f.splice(i, 1);
    }
    if (v % bc! !== 0) return null;
    t.set(f.sort().join("*"), v / bc!);
  }
  return SymDim.fromTerms(t);
}

export function dimSub(a: Dim, b: Dim): Dim {
  return dimAdd(a, dimMul(-1, b));
}

/**
 * Declared facts about symbolic dimensions that the shape rules may assume: per symbol a lower
 * and an upper bound (`B >= 2`, `B <= 4096`), and polynomials known to be >= 0 (`S - T` for a
 * declared `T <= S`). An export or a jit with declared constraints traces inside `withDimFacts`
 * and checks the constraints on every call, so a shape fact decided under them holds wherever the
 * program runs. Outside any scope every symbol is only known to be >= 0.
 */
export interface DimFacts {
  bounds: Readonly<Record<string, { min?: number; max?: number }>>;
  /** polynomials known to be >= 0 for every allowed size */
  nonneg?: readonly Dim[];
}
const NO_FACTS: DimFacts = { bounds: {} };
let facts: DimFacts = NO_FACTS;

/** Runs `fn` with the shape rules assuming `f` (see DimFacts). */
export function withDimFacts<T>(f: DimFacts | undefined, fn: () => T): T {
  if (!f) return fn();
  const prev = facts;
  facts = f;
  try {
    return fn();
  } finally {
    facts = prev;
  }
}

/** The facts the shape rules assume now. */
export function currentDimFacts(): DimFacts {
  return facts;
}

const symMin = (s: string) => Math.max(0, facts.bounds[s]?.min ?? 0);
const symMax = (s: string) => facts.bounds[s]?.max ?? Infinity;

/** The least and greatest value of `d` over the allowed sizes (each monomial is monotone in its symbols, all >= 0). */
function dimRange(d: Dim): [number, number] {
  if (typeof d === "number") return [d, d];
  let lo = 0;
  let hi = 0;
  for (const [mono, c] of d.terms) {
    const fs = mono ? mono.split("*") : [];
    const mLo = fs.reduce((v, f) => v * symMin(f), 1);
    const mHi = fs.some((f) => symMax(f) === 0) ? 0 : fs.reduce((v, f) => v * symMax(f), 1);
    lo += c > 0 ? c * mLo : c * mHi;
    hi += c > 0 ? c * mHi : c * mLo;
  }
  return [lo, hi];
}

/**
 * Whether a <= b for every allowed value of the symbols: true or false when that holds (or fails)
 * for all of them, null when it depends on their values. The symbols are sizes (>= 0) within the
 * declared bounds of the current DimFacts; b - a is bounded below and above monomial by monomial,
 * and a declared non-negative polynomial p is used as b - a - p >= 0.
 */
export function dimLeq(a: Dim, b: Dim): boolean | null {
  const diff = dimSub(b, a);
  if (typeof diff === "number") return diff >= 0;
  const [lo, hi] = dimRange(diff);
  if (lo >= 0) return true;
  if (hi < 0) return false;
  for (const p of facts.nonneg ?? []) if (dimRange(dimSub(diff, p))[0] >= 0) return true;
  return null;
}

/**
 * The declared constraint that would make `a <= b` hold for every size: a bound when it depends
 * on one symbol linearly (`B >= 2` for 2 <= B), the inequality itself between two symbolic
 * dimensions (`T <= S`), else null.
 */
export function boundNeeded(a: Dim, b: Dim): string | null {
  const diff = dimSub(b, a);
  if (typeof diff === "number") return null;
  const syms = diff.symbols();
  // between symbols (T <= S), the inequality itself is what to declare
  if (syms.length !== 1) return typeof a !== "number" && typeof b !== "number" ? `${dimToString(a)} <= ${dimToString(b)}` : null;
  const lin = dimLinearIn(diff, syms[0]!);
  if (!lin || typeof lin.coef !== "number" || typeof lin.rest !== "number") return null;
  // coef * s + rest >= 0
  const s = syms[0]!;
  return lin.coef > 0 ? `${s} >= ${Math.ceil(-lin.rest / lin.coef)}` : `${s} <= ${Math.floor(lin.rest / -lin.coef)}`;
}

/** `d` with each symbol named in `sub` replaced by its dimension (a rewrite such as B -> 2*K). */
export function dimSubstitute(d: Dim, sub: Readonly<Record<string, Dim>>): Dim {
  if (typeof d === "number") return d;
  let total: Dim = 0;
  for (const [mono, coef] of d.terms) {
    let v: Dim = coef;
    for (const f of mono.split("*")) if (f) v = dimMul(v, sub[f] ?? SymDim.symbol(f));
    total = dimAdd(total, v);
  }
  return total;
}

/** `dim` as coef * u + rest when it is linear in `u` (every monomial holds u at most once), else null. */
export function dimLinearIn(dim: SymDim, u: string): { coef: Dim; rest: Dim } | null {
  const coef = new Map<string, number>();
  const rest = new Map<string, number>();
  for (const [mono, c] of dim.terms) {
    const fs = (mono ? mono.split("*") : []);
    const n = fs.filter((f) => f === u).length;
    if (n > 1) return null;
    if (n === 0) rest.set(mono, c);
    else {
      const i = fs.indexOf(u);
      const m = [...fs.slice(0, i), ...fs.slice(i + 1)].join("*");
      coef.set(m, (coef.get(m) ?? 0) + c);
    }
  }
  return { coef: SymDim.fromTerms(coef), rest: SymDim.fromTerms(rest) };
}

/** Evaluates a dimension under a binding of its symbols. */
export function evalDim(d: Dim, env: Readonly<Record<string, number>>): number {
  return typeof d === "number" ? d : d.evaluate(env);
}

export function dimEq(a: Dim, b: Dim): boolean {
  if (typeof a === "number" || typeof b === "number") return a === b;
  return a.toString() === b.toString();
}

export function shapeEq(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => dimEq(d, b[i]!));
}

export function dimToString(d: Dim): string {
  return typeof d === "number" ? String(d) : d.toString();
}

export function shapeToString(s: Shape): string {
  return `[${s.map(dimToString).join(",")}]`;
}

export function isConcreteShape(s: Shape): s is readonly number[] {
  return s.every((d) => typeof d === "number");
}

/** Number of elements; symbolic when any dimension is. */
export function shapeSize(s: Shape): Dim {
  let n: Dim = 1;
  for (const d of s) n = dimMul(n, d);
  return n;
}

export function concreteSize(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

/** Row-major strides of a concrete shape. */
export function stridesOf(s: readonly number[]): number[] {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i]!;
  }
  return st;
}

/** Normalizes a possibly negative axis; returns -1 when out of range. */
export function normalizeAxis(axis: number, ndim: number): number {
  const a = axis < 0 ? axis + ndim : axis;
  return Number.isInteger(a) && a >= 0 && a < ndim ? a : -1;
}

/**
 * NumPy broadcasting of two or more shapes. Returns null when they are incompatible.
 * Symbolic dims broadcast only against 1 or an equal dim.
 */
export function broadcastShapes(...shapes: Shape[]): Dim[] | null {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = new Array(nd).fill(1);
  for (const s of shapes) {
    const off = nd - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const cur = out[off + i]!;
      if (cur === 1) out[off + i] = d;
      else if (d === 1) continue;
      else if (!dimEq(cur, d)) return null;
    }
  }
  return out;
}

/** Parses a dimension expression such as "B", "2*B", "B*T+1", "7" or "3*B/2" (a quotient symbol: 3*(B/2)). */
export function parseDim(text: string): Dim {
  const tokens = text.replace(/\s+/g, "").match(/[A-Za-z_][A-Za-z0-9_]*(?:\/[1-9][0-9]*)?|\d+|[+*-]/g);
  if (!tokens || tokens.join("") !== text.replace(/\s+/g, "")) throw new Error(`invalid dimension ${JSON.stringify(text)}`);
  let i = 0;
  const factor = (): Dim => {
    const t = tokens[i++];
    if (t === undefined) throw new Error(`invalid dimension ${JSON.stringify(text)}`);
    if (/^\d+$/.test(t)) return Number(t);
    if (/^[A-Za-z_]/.test(t)) return SymDim.symbol(t);
    throw new Error(`invalid dimension ${JSON.stringify(text)}`);
  };
  const term = (): Dim => {
    let v = factor();
    while (tokens[i] === "*") {
      i++;
      v = dimMul(v, factor());
    }
    return v;
  };
  let v: Dim = tokens[0] === "-" ? (i++, dimMul(-1, term())) : term();
  while (i < tokens.length) {
    const op = tokens[i++];
    const t = term();
    if (op === "+") v = dimAdd(v, t);
    else if (op === "-") v = dimAdd(v, dimMul(-1, t));
    else throw new Error(`invalid dimension ${JSON.stringify(text)}`);
  }
  return v;
}
