// The differential fuzzer's program representation: a small data AST over adgen's public API
// (elementwise ops, broadcasting, reductions, data movement, gathers, matmul, cumsum, lax control
// flow, nested jit/checkpoint/vmap), shape-annotated, plus the generator that builds one from a
// stream of choices. Generating from a flat choice stream (Hypothesis-style) is what makes
// fast-check's shrinking useful: shrinking the stream (fewer, smaller choices) yields smaller
// programs, and choice 0 always means "the simplest thing" (a leaf).

import { EXT_KINDS, extExpr } from "./gen-ext.js";
import { indexPlan } from "./indexing.js";

export type DT = "float32" | "float64";
export type Shape = number[];

export const UNARY = [
  "negative", "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "tanh", "sqrt", "abs", "square",
  "sigmoid", "reciprocal", "sign", "floor", "round", "relu",
  "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "log2", "log10", "exp2",
] as const;
export type Unary = (typeof UNARY)[number];
export const BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power", "arctan2", "hypot", "mod", "floorDivide"] as const;
export type Binary = (typeof BINARY)[number];
export const CMP = ["less", "lessEqual", "greater", "greaterEqual", "equal", "notEqual"] as const;
export type Cmp = (typeof CMP)[number];
export const REDUCE = ["sum", "max", "min", "mean", "prod"] as const;
export type Reduce = (typeof REDUCE)[number];

/** One item of np.index: a slice, an integer (drops the axis), null (newaxis) or an integer array (advanced). */
export type IndexItem = { s: [number | null, number | null, number | null] } | { arr: number[] } | number | null;
export type PadMode = "constant" | "edge" | "wrap" | "reflect" | "symmetric";
export const LINALG = ["det", "logdet", "solve", "inv", "cholesky", "eigvalsh", "eigh", "svdvals", "norm", "qr"] as const;
export type Linalg = (typeof LINALG)[number];
export type ConvPadding = "SAME" | "VALID" | [number, number][];

export type Expr = { sh: Shape } & (
  | { k: "in"; i: number }
  | { k: "var"; name: string }
  | { k: "lit"; v: number }
  | { k: "un"; f: Unary; a: Expr }
  | { k: "bin"; f: Binary; a: Expr; b: Expr }
  | { k: "where"; c: Cmp; a: Expr; b: Expr; x: Expr; y: Expr }
  | { k: "red"; f: Reduce; axes: number[] | null; keep: boolean; a: Expr }
  | { k: "reshape"; a: Expr }
  | { k: "broadcast"; a: Expr }
  | { k: "transpose"; perm: number[]; a: Expr }
  | { k: "index"; items: IndexItem[]; a: Expr }
  | { k: "pad"; w: [number, number][]; mode?: PadMode; a: Expr }
  | { k: "concat" | "stack"; axis: number; xs: Expr[] }
  | { k: "take"; idx: number[]; axis: number; a: Expr }
  | { k: "matmul"; a: Expr; b: Expr }
  | { k: "cumsum"; axis: number; prod?: boolean; a: Expr }
  | { k: "roll"; shift: number[]; axes: number[] | null; a: Expr }
  | { k: "diag" | "trace"; offset: number; ax1: number; ax2: number; a: Expr }
  | { k: "tri"; upper: boolean; kk: number; a: Expr }
  | { k: "at"; items: IndexItem[]; op: "set" | "add" | "multiply" | "min" | "max"; a: Expr; v: Expr }
  | { k: "sort"; axis: number | null; desc: boolean; arg: boolean; a: Expr }
  | { k: "topk"; kk: number; out: 0 | 1; a: Expr }
  | { k: "einsum"; sub: string; xs: Expr[] }
  | { k: "tdot"; axes: number | [number[], number[]]; a: Expr; b: Expr }
  | { k: "spd"; a: Expr }
  | { k: "linalg"; f: Linalg; opt?: number | string; a: Expr; b?: Expr }
  | { k: "conv"; how: "lax" | "conv2d"; a: Expr; w: Expr; strides: number[]; padding: ConvPadding; lhsDil: number[]; rhsDil: number[]; groups: number }
  | { k: "pool"; kind: "max" | "avg"; win: number[]; strides: number[]; padding: ConvPadding; a: Expr }
  | { k: "cast"; to: DT; a: Expr }
  | { k: "cond"; p: Expr; v: string; t: Expr; f: Expr; a: Expr }
  | { k: "scan"; c: string; r: string; init: Expr; xs: Expr; body: Expr; out: "carry" | "ys" }
  | { k: "fori"; c: string; n: number; init: Expr; body: Expr }
  | { k: "call"; how: "jit" | "checkpoint" | "vmap"; p: string; body: Expr; a: Expr }
  | { k: "let"; name: string; value: Expr; body: Expr }
);

/** A whole program: `dt` inputs of the given shapes, one output. */
export interface Prog {
  dt: DT;
  inputs: Shape[];
  body: Expr;
}

export const size = (s: Shape) => s.reduce((a, b) => a * b, 1);
export const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/** NumPy broadcasting of two shapes, or null if they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): Shape | null {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}
const broadcastsTo = (a: Shape, target: Shape) => {
  const b = broadcastShapes(a, target);
  return b !== null && sameShape(b, target);
};

/** Python slice semantics: the selected positions of an axis of length n. */
export function slicePositions(n: number, [start, stop, step]: [number | null, number | null, number | null]): number[] {
  const st = step ?? 1;
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let b: number, e: number;
  if (st > 0) {
    b = start === null ? 0 : clamp(start < 0 ? start + n : start, 0, n);
    e = stop === null ? n : clamp(stop < 0 ? stop + n : stop, 0, n);
  } else {
    b = start === null ? n - 1 : clamp(start < 0 ? start + n : start, -1, n - 1);
    e = stop === null ? -1 : clamp(stop < 0 ? stop + n : stop, -1, n - 1);
  }
  const out: number[] = [];
  for (let i = b; st > 0 ? i < e : i > e; i += st) out.push(i);
  return out;
}

/** Reads choices; past the end every choice is 0 (the simplest option). */
export class Chooser {
  private i = 0;
  private names = 0;
  constructor(private readonly xs: readonly number[]) {}
  pick(n: number): number {
    if (n <= 1) return 0;
    const v = this.i < this.xs.length ? this.xs[this.i]! : 0;
    this.i++;
    return v % n;
  }
  get exhausted(): boolean {
    return this.i >= this.xs.length;
  }
  bool(): boolean {
    return this.pick(2) === 1;
  }
  name(prefix: string): string {
    return `${prefix}${this.names++}`;
  }
}

/** Literal palette: simple values first, then the special ones (signed zeros, infinities, NaN, extremes). */
export const LITERALS = [0.5, 2, -1, 1, 0, 3, -0, Infinity, -Infinity, NaN, 1e30, -1e-30, 1e-40, 5e-324, 1.5e300, 0.1];

/**
 * Choice -> node kind. fast-check draws small choices far more often than large ones, so the
 * extension kinds (27.., gen-ext.ts) are interleaved with the base kinds: both appear in the
 * short programs of the bounded run.
 */
const KIND_ORDER: number[] = (() => {
  const base = Array.from({ length: 26 }, (_, i) => i + 1);
  const ext = Array.from({ length: EXT_KINDS }, (_, i) => 27 + i);
  const out = [0];
  while (base.length || ext.length) {
    if (base.length) out.push(base.shift()!);
    if (ext.length) out.push(ext.shift()!);
    if (base.length) out.push(base.shift()!);
  }
  return out;
})();

interface Leaf {
  e: Expr;
}
const MAX_DEPTH = 5;

export class ProgramGenerator {
  private nodes = 0;
  constructor(readonly ch: Chooser, private readonly maxNodes = 40) {}

  program(): Prog {
    const ch = this.ch;
    const dt: DT = ch.pick(3) === 2 ? "float32" : "float64";
    const nIn = 1 + ch.pick(2);
    const inputs: Shape[] = [];
    for (let i = 0; i < nIn; i++) {
      const rank = [1, 2, 0, 3][ch.pick(4)]!;
      inputs.push(Array.from({ length: rank }, () => [3, 2, 1, 4][ch.pick(4)]!));
    }
    const env: Leaf[] = inputs.map((sh, i) => ({ e: { k: "in", i, sh } }));
    return { dt, inputs, body: this.expr(env, 0) };
  }

  private leaf(env: Leaf[]): Expr {
    const ch = this.ch;
    const c = ch.pick(8);
    if (c === 7) return { k: "lit", v: LITERALS[ch.pick(LITERALS.length)]!, sh: [] };
    // the innermost binding (a let value, a loop carry) half the time: values read several times
    // are what fusion and cotangent accumulation get wrong
    if (c >= 4) return env[env.length - 1]!.e;
    return env[ch.pick(env.length)]!.e;
  }

  /** An expression whose shape broadcasts to `target` (adapting a random one if needed). */
  fit(e: Expr, target: Shape): Expr {
    if (broadcastsTo(e.sh, target)) return e;
    if (size(e.sh) === size(target)) return { k: "reshape", a: e, sh: target };
    return { k: "red", f: "sum", axes: null, keep: false, a: e, sh: [] };
  }
  /** Exactly `target`'s shape. */
  exact(e: Expr, target: Shape): Expr {
    const f = this.fit(e, target);
    return sameShape(f.sh, target) ? f : { k: "broadcast", a: f, sh: target };
  }
  /** `anchor op body`: a strong-typed result of exactly the anchor's shape and dtype. */
  anchored(anchor: Expr, env: Leaf[], depth: number): Expr {
    const f = (["add", "multiply", "subtract", "maximum"] as const)[this.ch.pick(4)]!;
    return { k: "bin", f, a: anchor, b: this.fit(this.expr(env, depth), anchor.sh), sh: anchor.sh };
  }

  /** Items of np.index / x.at for an array of shape `sh` (null when the result would be empty). */
  indexItems(sh: Shape): { items: IndexItem[]; sh: Shape } | null {
    const ch = this.ch;
    // integer arrays (advanced indexing) in a quarter of the indexes, then without newaxis
    const L = ch.pick(4) === 3 && sh.length > 0 ? 1 + ch.pick(3) : 0;
    const items: IndexItem[] = [];
    for (let ax = 0; ax < sh.length; ax++) {
      const n = sh[ax]!;
      if (L === 0 && ch.pick(5) === 4) items.push(null);
      const c = ch.pick(L ? 8 : 6);
      if (c >= 6) { // an integer array (length L, or 1 to broadcast), possibly negative entries
        const len = ch.pick(4) === 3 ? 1 : L;
        items.push({ arr: Array.from({ length: len }, () => (ch.bool() ? ch.pick(n) - n : ch.pick(n))) });
        continue;
      }
      if (c === 1) { // an integer, possibly negative
        const i = ch.pick(n);
        items.push(ch.bool() ? i - n : i);
        continue;
      }
      const s: [number | null, number | null, number | null] =
        c === 2 ? [ch.pick(n), null, null] :
        c === 3 ? [null, null, -1] :
        c === 4 ? [ch.pick(n + 1) - 1, ch.bool() ? null : -ch.pick(n + 1) - 1, -1 - ch.pick(2)] :
        c === 5 ? [ch.bool() ? null : ch.pick(n), ch.bool() ? null : n + 1 - ch.pick(n + 2), 1 + ch.pick(3)] :
        [null, null, null];
      items.push({ s });
    }
    const out = indexPlan(sh, items).sh;
    return out.some((d) => d === 0) ? null : { items, sh: out }; // zero-size results are tested elsewhere
  }

  expr(env: Leaf[], depth: number): Expr {
    const ch = this.ch;
    if (depth >= MAX_DEPTH || this.nodes >= this.maxNodes || ch.exhausted) return this.leaf(env);
    let kind = KIND_ORDER[ch.pick(KIND_ORDER.length)]!;
    if (kind === 0) return this.leaf(env);
    if (kind >= 22 && kind < 27) {
      if (kind === 25) kind = 12; // more slicing
      else if (kind === 26) kind = 13; // more padding
      else {
        // let: a value used (possibly) several times in the body
        this.nodes++;
        const value = this.expr(env, depth + 1);
        const name = ch.name("h");
        const body = this.expr([...env, { e: { k: "var", name, sh: value.sh } }], depth + 1);
        return { k: "let", name, value, body, sh: body.sh };
      }
    }
    this.nodes++;
    const sub = () => this.expr(env, depth + 1);
    if (kind >= 27) return extExpr(this, kind - 27, sub);
    switch (kind) {
      case 1: case 2: case 3: {
        const a = sub();
        return { k: "un", f: UNARY[ch.pick(UNARY.length)]!, a, sh: a.sh };
      }
      case 4: case 5: case 6: {
        const a = sub();
        let b = sub();
        const f = BINARY[ch.pick(BINARY.length)]!;
        const bs = broadcastShapes(a.sh, b.sh);
        if (bs) return { k: "bin", f, a, b, sh: bs };
        b = this.fit(b, a.sh);
        return { k: "bin", f, a, b, sh: a.sh };
      }
      case 7: {
        const a = sub();
        const b = this.fit(sub(), a.sh);
        const x = this.fit(sub(), a.sh);
        const y = this.fit(sub(), a.sh);
        return { k: "where", c: CMP[ch.pick(CMP.length)]!, a, b, x, y, sh: a.sh };
      }
      case 8: case 9: {
        const a = sub();
        const f = REDUCE[ch.pick(REDUCE.length)]!;
        const keep = ch.bool();
        let axes: number[] | null = null;
        if (a.sh.length > 0 && ch.pick(3) !== 0) {
          axes = a.sh.map((_, i) => i).filter(() => ch.bool());
          if (axes.length === 0) axes = [ch.pick(a.sh.length)];
          if (axes.length === 1 && ch.bool()) axes = [axes[0]! - a.sh.length]; // negative axis
        }
        const norm = (axes ?? a.sh.map((_, i) => i)).map((x) => (x < 0 ? x + a.sh.length : x));
        const sh = keep ? a.sh.map((d, i) => (norm.includes(i) ? 1 : d)) : a.sh.filter((_, i) => !norm.includes(i));
        return { k: "red", f, axes, keep, a, sh };
      }
      case 10: {
        const a = sub();
        const n = size(a.sh);
        const cands: Shape[] = [[n], [1, n], [n, 1]];
        for (let p = 2; p < n; p++) if (n % p === 0) cands.push([p, n / p], [n / p, 1, p]);
        return { k: "reshape", a, sh: cands[ch.pick(cands.length)]! };
      }
      case 11: {
        const a = sub();
        if (a.sh.length < 2) return { k: "un", f: "negative", a, sh: a.sh };
        const perm = a.sh.map((_, i) => i);
        for (let i = perm.length - 1; i > 0; i--) {
          const j = ch.pick(i + 1);
          [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        }
        return { k: "transpose", perm, a, sh: perm.map((p) => a.sh[p]!) };
      }
      case 12: {
        const a = sub();
        const ix = this.indexItems(a.sh);
        if (!ix) return a;
        return { k: "index", items: ix.items, a, sh: ix.sh };
      }
      case 13: {
        const a = sub();
        if (a.sh.length === 0) return a;
        const w = a.sh.map(() => [ch.pick(3), ch.pick(3)] as [number, number]);
        const mode = (["constant", "constant", "edge", "wrap", "reflect", "symmetric"] as const)[ch.pick(6)]!;
        if (mode !== "constant" && ch.pick(4) === 3) w[0] = [ch.pick(7), ch.pick(7)]; // wider than the axis
        return { k: "pad", w, ...(mode === "constant" ? {} : { mode }), a, sh: a.sh.map((d, i) => d + w[i]![0] + w[i]![1]) };
      }
      case 14: {
        const a = sub();
        const stack = a.sh.length === 0 || ch.bool();
        const axis = ch.pick(a.sh.length + (stack ? 1 : 0));
        const n = 2 + ch.pick(2);
        const xs = [a];
        for (let i = 1; i < n; i++) {
          const b = sub();
          // concatenate joins operands that agree off the axis (their lengths along it may differ)
          const joins = !stack && b.sh.length === a.sh.length && a.sh.every((d, j) => j === axis || d === b.sh[j]);
          xs.push(joins ? b : this.exact(b, a.sh));
        }
        if (stack) return { k: "stack", axis, xs, sh: [...a.sh.slice(0, axis), n, ...a.sh.slice(axis)] };
        const len = xs.reduce((s, x) => s + x.sh[axis]!, 0);
        return { k: "concat", axis, xs, sh: a.sh.map((d, j) => (j === axis ? len : d)) };
      }
      case 15: {
        const a = sub();
        if (a.sh.length === 0) return a;
        const axis = ch.pick(a.sh.length);
        const n = a.sh[axis]!;
        const idx = Array.from({ length: 1 + ch.pick(4) }, () => (ch.pick(4) === 3 ? -1 - ch.pick(n) : ch.pick(n)));
        return { k: "take", idx, axis, a, sh: [...a.sh.slice(0, axis), idx.length, ...a.sh.slice(axis + 1)] };
      }
      case 16: {
        const a = sub();
        if (a.sh.length === 0 || a.sh.length > 2) return a;
        const k = a.sh[a.sh.length - 1]!;
        const vecB = ch.pick(3) === 0;
        const m = 1 + ch.pick(3);
        const b = this.exact(sub(), vecB ? [k] : [k, m]);
        const sh = [...a.sh.slice(0, -1), ...(vecB ? [] : [m])];
        return { k: "matmul", a, b, sh };
      }
      case 17: {
        const a = sub();
        if (a.sh.length === 0) return a;
        return { k: "cumsum", axis: ch.pick(a.sh.length), ...(ch.pick(3) === 2 ? { prod: true } : {}), a, sh: a.sh };
      }
      case 18: {
        const a = sub();
        const p = sub();
        const pred: Expr = { k: "red", f: "sum", axes: null, keep: false, a: p, sh: [] };
        const v = ch.name("v");
        const venv = [...env, { e: { k: "var", name: v, sh: a.sh } as Expr }];
        const vref = venv[venv.length - 1]!.e;
        const t = this.anchored(vref, venv, depth + 1);
        const f = this.anchored(vref, venv, depth + 1);
        return { k: "cond", p: pred, v, t, f, a, sh: a.sh };
      }
      case 19: {
        const xs = sub();
        if (xs.sh.length === 0) return xs;
        const init = this.exact(sub(), xs.sh.slice(1));
        const c = ch.name("c");
        const r = ch.name("r");
        const cv: Expr = { k: "var", name: c, sh: init.sh };
        const benv = [...env, { e: cv }, { e: { k: "var", name: r, sh: init.sh } as Expr }];
        const body = this.anchored(cv, benv, depth + 1);
        const out = ch.bool() ? "ys" : "carry";
        return { k: "scan", c, r, init, xs, body, out, sh: out === "ys" ? xs.sh : init.sh };
      }
      case 20: {
        const init = sub();
        const c = ch.name("c");
        const cv: Expr = { k: "var", name: c, sh: init.sh };
        const body = this.anchored(cv, [...env, { e: cv }], depth + 1);
        return { k: "fori", c, n: ch.pick(4), init, body, sh: init.sh };
      }
      default: {
        const a = sub();
        const how = (["jit", "checkpoint", "vmap"] as const)[ch.pick(3)]!;
        if (how === "vmap" && a.sh.length === 0) return a;
        const p = ch.name("p");
        const psh = how === "vmap" ? a.sh.slice(1) : a.sh;
        // the body sees only its parameter: closures over outer tracers are tested by lax bodies
        const pv: Expr = { k: "var", name: p, sh: psh };
        const body = this.anchored(pv, [{ e: pv }], depth + 1);
        return { k: "call", how, p, body, a, sh: how === "vmap" ? [a.sh[0]!, ...body.sh] : body.sh };
      }
    }
  }
}

export function generate(choices: readonly number[]): Prog {
  return new ProgramGenerator(new Chooser(choices)).program();
}

/** Every node of an expression (for KNOWN filters and statistics). */
export function* nodes(e: Expr): Generator<Expr> {
  yield e;
  for (const v of Object.values(e)) {
    if (v && typeof v === "object" && "k" in v) yield* nodes(v as Expr);
    if (Array.isArray(v)) for (const x of v) if (x && typeof x === "object" && "k" in x) yield* nodes(x as Expr);
  }
}
