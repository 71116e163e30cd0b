// The straight-line language our float32 math functions are written in (issue 12: "our own
// vectorizable transcendental functions, written once"). A function is a list of statements over
// float32 values and boolean masks, with no loops and no data-dependent branches except `patch`
// (a rare lane that needs the library fallback). From this one definition come the in-process JS
// (a generated, checked-in runtime: math/runtime-f32.ts), the JS text embedded in generated code
// and exports (the same runtime's text), and WebAssembly scalar and f32x4 SIMD bodies
// (backends/wasm/math.ts). Every operation is an IEEE float32 operation (JS: the double result
// rounded by Math.fround, which is the correctly rounded float32 result for + - * / sqrt), so all
// of them compute the same bits.

/** A float32 value (`f`), a float64 value (`d`) or a boolean mask (`b`), by statement index. */
export interface Val {
  readonly kind: "f" | "d" | "b";
  readonly id: number;
}

export type FBinOp = "add" | "sub" | "mul" | "div";
export type FUnOp = "neg" | "abs" | "floor" | "nearest" | "sqrt";
export type CmpOp = "lt" | "le" | "gt" | "ge" | "eq" | "ne";

export type Stmt =
  | { op: "arg"; i: number }
  | { op: "const"; v: number }
  | { op: FBinOp; a: number; b: number }
  | { op: FUnOp; a: number }
  | { op: "cmp"; cmp: CmpOp; a: number; b: number }
  | { op: "and" | "or"; a: number; b: number }
  | { op: "not"; a: number }
  | { op: "select"; c: number; a: number; b: number }
  /** a * 2^n for an integer-valued n in [-150, 128] (the definition clamps n first) */
  | { op: "scaleb"; a: number; n: number }
  /** for finite normal a > 0: the unbiased binary exponent e (a = m * 2^e, m in [1, 2)) */
  | { op: "exponent"; a: number }
  /** for finite normal a > 0: the significand m in [1, 2) */
  | { op: "significand"; a: number }
  /** float64 steps (exact range reductions): widen, narrow (round), and arithmetic on doubles */
  | { op: "promote"; a: number }
  | { op: "demote"; a: number }
  | { op: "dconst"; v: number }
  | { op: "dadd" | "dsub" | "dmul"; a: number; b: number }
  | { op: "dfloor"; a: number }
  /** c ? fround(Math[fn](x)) : fast; the library fallback for rare lanes (e.g. sin of 1e30) */
  | { op: "patch"; c: number; fast: number; x: number; fn: "sin" | "cos" };

export interface MathFn {
  readonly name: string;
  readonly arity: number;
  readonly stmts: readonly Stmt[];
  readonly result: number;
}

/** Builds one function; values are handles to statements (common constants are shared). */
export class MathBuilder {
  readonly stmts: Stmt[] = [];
  private readonly consts = new Map<string, Val>();

  private push(kind: "f" | "d" | "b", s: Stmt): Val {
    this.stmts.push(s);
    return { kind, id: this.stmts.length - 1 };
  }
  arg(i: number): Val {
    return this.push("f", { op: "arg", i });
  }
  /** A float32 constant (rounded to float32 here, so every emitter writes the same value). */
  c(v: number): Val {
    const f = Math.fround(v);
    const key = Object.is(f, -0) ? "-0" : String(f);
    let h = this.consts.get(key);
    if (!h) this.consts.set(key, (h = this.push("f", { op: "const", v: f })));
    return h;
  }
  private f(x: Val | number): Val {
    if (typeof x === "number") return this.c(x);
    if (x.kind !== "f") throw new Error("math dsl: a mask used as a number");
    return x;
  }
  private d(x: Val | number): Val {
    if (typeof x === "number") return this.push("d", { op: "dconst", v: x });
    if (x.kind !== "d") throw new Error("math dsl: a float32 value used as a float64 one");
    return x;
  }
  private m(x: Val): Val {
    if (x.kind !== "b") throw new Error("math dsl: a number used as a mask");
    return x;
  }
  add = (a: Val | number, b: Val | number) => this.push("f", { op: "add", a: this.f(a).id, b: this.f(b).id });
  sub = (a: Val | number, b: Val | number) => this.push("f", { op: "sub", a: this.f(a).id, b: this.f(b).id });
  mul = (a: Val | number, b: Val | number) => this.push("f", { op: "mul", a: this.f(a).id, b: this.f(b).id });
  div = (a: Val | number, b: Val | number) => this.push("f", { op: "div", a: this.f(a).id, b: this.f(b).id });
  neg = (a: Val) => this.push("f", { op: "neg", a: this.f(a).id });
  abs = (a: Val) => this.push("f", { op: "abs", a: this.f(a).id });
  floor = (a: Val) => this.push("f", { op: "floor", a: this.f(a).id });
  nearest = (a: Val) => this.push("f", { op: "nearest", a: this.f(a).id });
  sqrt = (a: Val) => this.push("f", { op: "sqrt", a: this.f(a).id });
  cmp = (cmp: CmpOp, a: Val | number, b: Val | number) => this.push("b", { op: "cmp", cmp, a: this.f(a).id, b: this.f(b).id });
  and = (a: Val, b: Val) => this.push("b", { op: "and", a: this.m(a).id, b: this.m(b).id });
  or = (a: Val, b: Val) => this.push("b", { op: "or", a: this.m(a).id, b: this.m(b).id });
  not = (a: Val) => this.push("b", { op: "not", a: this.m(a).id });
  xor = (a: Val, b: Val) => this.or(this.and(a, this.not(b)), this.and(this.not(a), b));
  select = (c: Val, a: Val | number, b: Val | number) => this.push("f", { op: "select", c: this.m(c).id, a: this.f(a).id, b: this.f(b).id });
  promote = (a: Val) => this.push("d", { op: "promote", a: this.f(a).id });
  demote = (a: Val) => this.push("f", { op: "demote", a: this.d(a).id });
  dadd = (a: Val | number, b: Val | number) => this.push("d", { op: "dadd", a: this.d(a).id, b: this.d(b).id });
  dsub = (a: Val | number, b: Val | number) => this.push("d", { op: "dsub", a: this.d(a).id, b: this.d(b).id });
  dmul = (a: Val | number, b: Val | number) => this.push("d", { op: "dmul", a: this.d(a).id, b: this.d(b).id });
  dfloor = (a: Val) => this.push("d", { op: "dfloor", a: this.d(a).id });
  exponent = (a: Val) => this.push("f", { op: "exponent", a: this.f(a).id });
  significand = (a: Val) => this.push("f", { op: "significand", a: this.f(a).id });
  patch = (c: Val, fast: Val, x: Val, fn: "sin" | "cos") => this.push("f", { op: "patch", c: this.m(c).id, fast: this.f(fast).id, x: this.f(x).id, fn });

  /** a * 2^n, n integer-valued; NaN and out-of-range n are clamped so every backend agrees. */
  scaleb(a: Val, n: Val): Val {
    const clamped = this.select(this.cmp("gt", n, 128), 128, this.select(this.cmp("lt", n, -150), -150, n));
    const safe = this.select(this.cmp("eq", n, n), clamped, 0);
    return this.push("f", { op: "scaleb", a: this.f(a).id, n: safe.id });
  }
  /** Horner evaluation of sum(coefs[i] * x^i), highest degree first in `coefs`. */
  horner(x: Val, coefs: number[]): Val {
    let acc = this.c(coefs[0]!);
    for (let i = 1; i < coefs.length; i++) acc = this.add(this.mul(acc, x), coefs[i]!);
    return acc;
  }
}

/** Defines a function of `arity` float32 arguments with the builder. */
export function defineMath(name: string, arity: number, body: (b: MathBuilder, ...xs: Val[]) => Val): MathFn {
  const b = new MathBuilder();
  const args = Array.from({ length: arity }, (_, i) => b.arg(i));
  const r = body(b, ...args);
  if (r.kind !== "f") throw new Error(`math dsl: ${name} returns a mask`);
  return { name, arity, stmts: b.stmts, result: r.id };
}
