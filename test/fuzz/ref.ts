// The fuzzer's independent reference: evaluates a program AST in plain JS float64 with NumPy
// semantics (broadcasting, Python slicing, half-to-even rounding, C pow, NaN-propagating max),
// written without any adgen code. Derivatives come from forward mode with vector dual numbers
// (one tangent direction per input element), an AD system independent of adgen's JVP rules.
//
// Every value carries, next to its tangents, a forward error scale (`mv`, `md`: sums of
// magnitudes in units of rounding error) so comparisons can use a tolerance relative to how much
// cancellation happened, and the evaluation records where the derivative is not well defined
// (a kink: abs/relu at 0, max ties, a comparison or rounding at its threshold) or is ill-conditioned
// (non-finite values, log/sqrt/division at or below 0): derivative checks skip such inputs.

import { type Expr, type Prog, type Shape, broadcastShapes, size } from "./ast.js";
import { indexPlan } from "./indexing.js";
import { evalExt, padSource } from "./ref-ext.js";
import { carryInit, joinBranches } from "./ref-weak.js";

export interface RT {
  sh: Shape;
  v: Float64Array;
  mv: Float64Array;
  /** Tangents, row-major [element][direction]; null = structurally zero (no input dependence). */
  d: Float64Array | null;
  md: Float64Array | null;
  /** weakly typed (built from JS number literals only): computed in float32, like adgen and JAX */
  weak?: boolean;
  /** a float32 array (else float64): values rounded to float32, error scales widened by F32 */
  f32?: boolean;
}

/** The dtype of a result: JAX's lattice (weak only if every operand is; float64 wins over float32). */
export type RDT = "weak" | "f32" | "f64";
export const dtOf = (a: RT): RDT => (a.weak ? "weak" : a.f32 ? "f32" : "f64");
export function promoteRT(args: RT[]): RDT {
  if (args.length === 0 || args.every((a) => a.weak)) return "weak";
  return args.some((a) => !a.weak && !a.f32) ? "f64" : "f32";
}
/**
 * A float32 operation's error in units of the float64 tolerances: its values are compared to
 * rtol 1e-12 x F32_V (~4e-6, some 60 float32 ulps per operation), its derivatives to 1e-9 x F32_D.
 */
const F32_V = 2 ** 22;
const F32_D = 2 ** 13;

export interface RefResult {
  out: RT;
  /** Why derivatives (and close value comparisons) are not meaningful at this input, if so. */
  kink: string | null;
  ill: string | null;
}

export const strides = (sh: Shape) => {
  const s = new Array<number>(sh.length);
  let acc = 1;
  for (let i = sh.length - 1; i >= 0; i--) { s[i] = acc; acc *= sh[i]!; }
  return s;
};
export const unravel = (k: number, sh: Shape): number[] => {
  const idx = new Array<number>(sh.length);
  for (let i = sh.length - 1; i >= 0; i--) { idx[i] = k % sh[i]!; k = Math.floor(k / sh[i]!); }
  return idx;
};
export const ravel = (idx: number[], sh: Shape) => idx.reduce((acc, x, i) => acc * sh[i]! + x, 0);

/** NumPy/C pow: x**0 = 1 and 1**y = 1 even for NaN; (-1)**(+-inf) = 1. */
export function numpyPow(a: number, b: number): number {
  if (b === 0 || a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}
/** NumPy's npy_divmod for floats: [floor quotient, remainder with the divisor's sign]. */
export function numpyDivmod(a: number, b: number): [number, number] {
  let mod = a % b; // C fmod
  if (b === 0) return [a / b, mod];
  let div = (a - mod) / b;
  if (mod !== 0 && !Number.isNaN(mod)) {
    if ((b < 0) !== (mod < 0)) { mod += b; div -= 1; }
  } else if (mod === 0) mod = b < 0 ? -0 : 0;
  let fd: number;
  if (div !== 0 && !Number.isNaN(div)) { fd = Math.floor(div); if (div - fd > 0.5) fd += 1; }
  else if (div === 0) fd = (a / b < 0 || Object.is(a / b, -0)) ? -0 : 0;
  else fd = div;
  return [fd, mod];
}
function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f;
  const r = diff > 0.5 ? f + 1 : diff < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

export type Term = [arg: number, flat: number];
export type Fn = (vals: number[], scales: number[]) => [number, number[]];

export class Ctx {
  kink: string | null = null;
  ill: string | null = null;
  env = new Map<string, RT>();
  constructor(readonly nT: number, readonly progF32 = false) {}

  nearTie(a: number, b: number, scale: number, what: string): void {
    if (this.kink === null && Math.abs(a - b) <= 1e-9 * scale) this.kink = what;
  }

  /**
   * The one evaluation primitive: out[k] = f(values of terms(k)), with tangents sum_i c_i d_i
   * and error scales propagated through the partials c_i that f returns.
   */
  combine(args: RT[], sh: Shape, terms: (k: number, idx: number[]) => Term[], f: Fn, what: string, force?: RDT, exact = false): RT {
    // (exact: data movement, which rounds nothing, also in float32)
    const n = size(sh);
    const nT = this.nT;
    const v = new Float64Array(n);
    const mv = new Float64Array(n);
    const tracked = args.some((a) => a.d !== null);
    const d = tracked ? new Float64Array(n * nT) : null;
    const md = tracked ? new Float64Array(n * nT) : null;
    // an operation on weak values only gives a weak float32 result (JAX's weak typing); a weak
    // operand of a float32 operation is converted to float32 first
    const dt = force ?? promoteRT(args);
    const weak = dt === "weak";
    const f32 = dt === "f32";
    const rd = weak || f32 ? Math.fround : (x: number) => x;
    const rdIn = args.map((a) => (weak || (f32 && a.weak) ? Math.fround : (x: number) => x));
    const scaleV = f32 && !exact ? F32_V : 1;
    const scaleD = f32 && !exact ? F32_D : 1;
    for (let k = 0; k < n; k++) {
      const ts = terms(k, unravel(k, sh));
      const [val, cs] = f(ts.map(([a, i]) => rdIn[a]!(args[a]!.v[i]!)), ts.map(([a, i]) => args[a]!.mv[i]!));
      v[k] = rd(val);
      let m = scaleV * Math.abs(val);
      ts.forEach(([a, i], j) => { const x = args[a]!.mv[i]!; if (x !== 0 && cs[j] !== 0) m += Math.abs(cs[j]!) * x; });
      mv[k] = m;
      if (!d || !md) continue;
      ts.forEach(([a, i], j) => {
        const src = args[a]!;
        if (!src.d || !src.md) return; // structurally zero tangent: its partial is never used
        const c = cs[j]!;
        if (!Number.isFinite(c) && this.ill === null) this.ill = `${what}: partial ${c}`;
        for (let t = 0; t < nT; t++) {
          const dt = src.d[i * nT + t]!;
          const mt = src.md[i * nT + t]!;
          if (dt === 0 && mt === 0) continue; // (a tangent that cancelled to 0 still carries its error scale)
          if (dt !== 0) d[k * nT + t] += c * dt;
          md[k * nT + t] += Math.abs(c) * (mt + Math.abs(dt));
        }
      });
      for (let t = 0; t < nT; t++) md[k * nT + t] += scaleD * Math.abs(d[k * nT + t]!);
    }
    if (this.ill === null) {
      if (v.some((x) => !Number.isFinite(x))) this.ill = `${what}: non-finite value`;
      // float32 derivatives near float32's range overflow (Inf * 0 = NaN) where float64 does not
      else if (f32 && md && md.some((x) => x > 3.4e38)) this.ill = `${what}: float32 derivative near overflow`;
      else if (d && d.some((x) => !Number.isFinite(x))) this.ill = `${what}: non-finite derivative`;
    }
    return { sh, v, mv, d, md, weak, f32 };
  }

  /** Data movement: out[k] = src[map(idx)] or 0 where map gives -1. */
  move(a: RT, sh: Shape, map: (idx: number[]) => number): RT {
    return this.combine([a], sh, (_, idx) => { const j = map(idx); return j < 0 ? [] : [[0, j]]; }, (vs) => (vs.length ? [vs[0]!, [1]] : [0, []]), "move", undefined, true);
  }


  /** Elementwise over broadcast arguments. */
  ew(args: RT[], f: Fn, what: string, force?: RDT, exact = false): RT {
    const sh = args.reduce<Shape | null>((s, a) => (s ? broadcastShapes(s, a.sh) : null), [])!;
    const maps = args.map((a) => {
      const off = sh.length - a.sh.length;
      return (idx: number[]) => ravel(a.sh.map((dd, i) => (dd === 1 ? 0 : idx[i + off]!)), a.sh);
    });
    return this.combine(args, sh, (_, idx) => maps.map((m, a) => [a, m(idx)] as Term), f, what, force, exact);
  }

  eval(e: Expr, inputs: RT[]): RT {
    const ev = (x: Expr) => this.eval(x, inputs);
    switch (e.k) {
      case "in": return inputs[e.i]!;
      case "var": return this.env.get(e.name)!;
      case "lit": return { sh: [], v: Float64Array.of(e.v), mv: Float64Array.of(Math.abs(e.v)), d: null, md: null, weak: true };
      case "un": return this.ew([ev(e.a)], this.unary(e.f), e.f);
      case "bin": return this.ew([ev(e.a), ev(e.b)], this.binary(e.f), e.f);
      case "where": {
        const [a, b, x, y] = [ev(e.a), ev(e.b), ev(e.x), ev(e.y)];
        const cmp = CMPS[e.c];
        // the result's dtype is x's and y's (the compared operands may be of another dtype)
        return this.ew([a, b, x, y], ([av, bv, xv, yv], [ma, mb]) => {
          this.nearTie(av!, bv!, ma! + mb!, `${e.c} tie`);
          return cmp(av!, bv!) ? [xv!, [0, 0, 1, 0]] : [yv!, [0, 0, 0, 1]];
        }, "where", promoteRT([x, y]), true);
      }
      case "red": return this.reduce(e.f, ev(e.a), e.axes, e.keep);
      case "reshape": { const a = ev(e.a); return this.move(a, e.sh, (idx) => ravel(idx, e.sh)); }
      case "broadcast": {
        const a = ev(e.a);
        const off = e.sh.length - a.sh.length;
        return this.move(a, e.sh, (idx) => ravel(a.sh.map((dd, i) => (dd === 1 ? 0 : idx[i + off]!)), a.sh));
      }
      case "transpose": {
        const a = ev(e.a);
        return this.move(a, e.sh, (idx) => { const src = new Array<number>(a.sh.length); e.perm.forEach((p, i) => (src[p] = idx[i]!)); return ravel(src, a.sh); });
      }
      case "index": {
        const a = ev(e.a);
        const plan = indexPlan(a.sh, e.items);
        return this.move(a, e.sh, (idx) => ravel(plan.src(idx), a.sh));
      }
      case "pad": {
        const a = ev(e.a);
        return this.move(a, e.sh, (idx) => {
          const src = idx.map((i, ax) => padSource(i - e.w[ax]![0], a.sh[ax]!, e.mode ?? "constant"));
          return src.every((i) => i >= 0) ? ravel(src, a.sh) : -1;
        });
      }
      case "concat": case "stack": {
        const xs = e.xs.map(ev);
        const ax = e.axis;
        return this.combine(xs, e.sh, (_, idx) => {
          if (e.k === "stack") return [[idx[ax]!, ravel([...idx.slice(0, ax), ...idx.slice(ax + 1)], xs[idx[ax]!]!.sh)]];
          let i = idx[ax]!;
          let a = 0;
          while (i >= xs[a]!.sh[ax]!) i -= xs[a++]!.sh[ax]!;
          return [[a, ravel(idx.map((x, j) => (j === ax ? i : x)), xs[a]!.sh)]];
        }, (vs) => [vs[0]!, [1]], e.k, undefined, true);
      }
      case "take": {
        const a = ev(e.a);
        const n = a.sh[e.axis]!;
        return this.move(a, e.sh, (idx) => {
          const j = e.idx[idx[e.axis]!]!;
          return ravel(idx.map((x, i) => (i === e.axis ? (j < 0 ? j + n : j) : x)), a.sh);
        });
      }
      case "matmul": {
        const [a, b] = [ev(e.a), ev(e.b)];
        const K = a.sh[a.sh.length - 1]!;
        const aRows = a.sh.length === 2;
        const bCols = b.sh.length === 2;
        const N = bCols ? b.sh[1]! : 1;
        return this.combine([a, b], e.sh, (_, idx) => {
          const r = aRows ? idx[0]! : 0;
          const col = bCols ? idx[idx.length - 1]! : 0;
          const ts: Term[] = [];
          for (let k = 0; k < K; k++) ts.push([0, r * K + k], [1, k * N + col]);
          return ts;
        }, dotOfPairs, "matmul");
      }
      case "cumsum": {
        const a = ev(e.a);
        const st = strides(a.sh)[e.axis]!;
        const fn: Fn = e.prod
          ? (vs) => [vs.reduce((p, x) => p * x, 1), vs.map((_, i) => vs.reduce((p, y, j) => (j === i ? p : p * y), 1))]
          : (vs) => [vs.reduce((s, x) => s + x, 0), vs.map(() => 1)];
        return this.combine([a], e.sh, (k, idx) => Array.from({ length: idx[e.axis]! + 1 }, (_, j) => [0, k - (idx[e.axis]! - j) * st] as Term), fn, e.prod ? "cumprod" : "cumsum");
      }
      case "cond": {
        const p = ev(e.p);
        const a = ev(e.a);
        this.nearTie(p.v[0]!, 0, p.mv[0]!, "cond predicate at 0");
        const [taken, other] = p.v[0]! > 0 ? [e.t, e.f] : [e.f, e.t];
        return joinBranches(this, this.bind(e.v, a, () => ev(taken)), () => this.bind(e.v, a, () => ev(other)));
      }
      case "scan": {
        const xs = ev(e.xs);
        const ys: RT[] = [];
        const rowSh = xs.sh.slice(1);
        const rowN = size(rowSh);
        const row = (t: number) => this.move(xs, rowSh, (idx) => t * rowN + ravel(idx, rowSh));
        const typeRow = this.move(xs, rowSh, () => -1); // (only its dtype matters; xs may be empty)
        let c = carryInit(this, ev(e.init), (c0) => this.bind(e.r, typeRow, () => this.bind(e.c, c0, () => ev(e.body))));
        for (let t = 0; t < xs.sh[0]!; t++) {
          this.env.set(e.r, row(t));
          c = this.bind(e.c, c, () => ev(e.body));
          ys.push(c);
        }
        this.env.delete(e.r);
        return e.out === "carry" ? c : this.stackRows(ys, e.sh);
      }
      case "fori": {
        let c = carryInit(this, ev(e.init), (c0) => this.bind(e.c, c0, () => ev(e.body)));
        for (let i = 0; i < e.n; i++) c = this.bind(e.c, c, () => ev(e.body));
        return c;
      }
      case "let": return this.bind(e.name, ev(e.value), () => ev(e.body));
      case "call": {
        const a = ev(e.a);
        if (e.how !== "vmap") return this.bind(e.p, a, () => ev(e.body));
        const rowSh = a.sh.slice(1);
        const rowN = size(rowSh);
        const rows = Array.from({ length: a.sh[0]! }, (_, t) =>
          this.bind(e.p, this.move(a, rowSh, (idx) => t * rowN + ravel(idx, rowSh)), () => ev(e.body)));
        return this.stackRows(rows, e.sh);
      }
      default: return evalExt(this, e, ev);
    }
  }

  bind(name: string, value: RT, f: () => RT): RT {
    const old = this.env.get(name);
    this.env.set(name, value);
    try { return f(); } finally { if (old) this.env.set(name, old); else this.env.delete(name); }
  }

  private stackRows(rows: RT[], sh: Shape): RT {
    const rowN = size(sh.slice(1));
    return this.combine(rows, sh, (k) => [[Math.floor(k / rowN), k % rowN]], (vs) => [vs[0]!, [1]], "stack rows", undefined, true);
  }

  reduce(f: string, a: RT, axes: number[] | null, keep: boolean): RT {
    const nd = a.sh.length;
    const red = (axes ?? a.sh.map((_, i) => i)).map((x) => (x < 0 ? x + nd : x));
    const kept = a.sh.map((_, i) => i).filter((i) => !red.includes(i));
    const outSh = keep ? a.sh.map((d, i) => (red.includes(i) ? 1 : d)) : kept.map((i) => a.sh[i]!);
    const redSh = red.slice().sort((x, y) => x - y).map((i) => a.sh[i]!);
    const redAxes = red.slice().sort((x, y) => x - y);
    const n = size(redSh);
    const fn: Fn = (vs, ms) => {
      if (f === "sum" || f === "mean") {
        const s = vs.reduce((x, y) => x + y, 0);
        return f === "sum" ? [s, vs.map(() => 1)] : [s / n, vs.map(() => 1 / n)];
      }
      if (f === "prod") return [vs.reduce((x, y) => x * y, 1), vs.map((_, i) => vs.reduce((p, y, j) => (j === i ? p : p * y), 1))];
      const isMax = f === "max";
      if (vs.some(Number.isNaN)) return [NaN, vs.map((x) => (Number.isNaN(x) ? 1 : 0))];
      const best = vs.reduce((x, y) => (isMax ? Math.max(x, y) : Math.min(x, y)));
      const scale = ms.reduce((s, x) => s + x, 0);
      const ties = vs.filter((x) => x === best).length;
      vs.forEach((x) => { if (x !== best) this.nearTie(x, best, scale, `${f} near-tie`); });
      if (ties > 1 && this.kink === null) this.kink = `${f} tie`;
      return [best, vs.map((x) => (x === best ? 1 / ties : 0))];
    };
    return this.combine([a], outSh, (_, idx) => {
      const keptIdx = keep ? kept.map((i) => idx[i]!) : idx;
      const terms: Term[] = [];
      for (let r = 0; r < n; r++) {
        const ridx = unravel(r, redSh);
        const src = new Array<number>(nd);
        kept.forEach((ax, j) => (src[ax] = keptIdx[j]!));
        redAxes.forEach((ax, j) => (src[ax] = ridx[j]!));
        terms.push([0, ravel(src, a.sh)]);
      }
      return terms;
    }, fn, f);
  }

  private unary(f: string): Fn {
    let scale = 0;
    const tie = (x: number, at: number, what: string) => this.nearTie(x, at, scale, what);
    const fn = this.unaryFn(f, tie);
    return (vs, ms) => { scale = ms[0]!; return fn(vs, ms); };
  }

  private unaryFn(f: string, tie: (x: number, at: number, what: string) => void): Fn {
    switch (f) {
      case "negative": return ([x]) => [-x!, [-1]];
      case "exp": return ([x]) => { const v = Math.exp(x!); return [v, [v]]; };
      case "log": return ([x]) => [Math.log(x!), [1 / x!]];
      case "log1p": return ([x]) => [Math.log1p(x!), [1 / (1 + x!)]];
      case "expm1": return ([x]) => [Math.expm1(x!), [Math.exp(x!)]];
      case "sin": return ([x]) => [Math.sin(x!), [Math.cos(x!)]];
      case "cos": return ([x]) => [Math.cos(x!), [-Math.sin(x!)]];
      case "tan": return ([x]) => { const v = Math.tan(x!); return [v, [1 + v * v]]; };
      case "tanh": return ([x]) => { const v = Math.tanh(x!); return [v, [1 - v * v]]; };
      case "sqrt": return ([x]) => { const v = Math.sqrt(x!); return [v, [0.5 / v]]; };
      case "abs": return ([x]) => { tie(x!, 0, "abs at 0"); return [Math.abs(x!), [Math.sign(x!)]]; };
      case "square": return ([x]) => [x! * x!, [2 * x!]];
      case "sigmoid": return ([x]) => { const v = 1 / (1 + Math.exp(-x!)); return [v, [v * (1 - v)]]; };
      case "reciprocal": return ([x]) => [1 / x!, [-1 / (x! * x!)]];
      case "sign": return ([x]) => { tie(x!, 0, "sign at 0"); return [Number.isNaN(x!) ? NaN : Math.sign(x!), [0]]; };
      case "floor": return ([x]) => { tie(x!, Math.round(x!), "floor at an integer"); return [Math.floor(x!), [0]]; };
      case "round": return ([x]) => { tie(x!, Math.floor(x!) + 0.5, "round at a half"); return [roundHalfEven(x!), [0]]; };
      case "relu": return ([x]) => { tie(x!, 0, "relu at 0"); return [Number.isNaN(x!) ? NaN : x! > 0 ? x! : 0, [x! > 0 ? 1 : 0]]; };
      case "arcsin": return ([x]) => [Math.asin(x!), [1 / Math.sqrt(1 - x! * x!)]];
      case "arccos": return ([x]) => [Math.acos(x!), [-1 / Math.sqrt(1 - x! * x!)]];
      case "arctan": return ([x]) => [Math.atan(x!), [1 / (1 + x! * x!)]];
      case "sinh": return ([x]) => [Math.sinh(x!), [Math.cosh(x!)]];
      case "cosh": return ([x]) => [Math.cosh(x!), [Math.sinh(x!)]];
      case "arcsinh": return ([x]) => [Math.asinh(x!), [1 / Math.hypot(x!, 1)]];
      case "arccosh": return ([x]) => [Math.acosh(x!), [1 / (Math.sqrt(x! - 1) * Math.sqrt(x! + 1))]];
      case "arctanh": return ([x]) => [Math.atanh(x!), [1 / ((1 - x!) * (1 + x!))]];
      case "log2": return ([x]) => [Math.log2(x!), [1 / (x! * Math.LN2)]];
      case "log10": return ([x]) => [Math.log10(x!), [1 / (x! * Math.LN10)]];
      case "exp2": return ([x]) => { const v = Math.pow(2, x!); return [v, [v * Math.LN2]]; };
    }
    throw new Error(`reference: unknown unary ${f}`);
  }

  private binary(f: string): Fn {
    switch (f) {
      case "add": return ([a, b]) => [a! + b!, [1, 1]];
      case "subtract": return ([a, b]) => [a! - b!, [1, -1]];
      case "multiply": return ([a, b]) => [a! * b!, [b!, a!]];
      case "divide": return ([a, b]) => [a! / b!, [1 / b!, -(a! / b!) / b!]]; // (a/b)/b: b*b would overflow
      case "maximum": case "minimum": return ([a, b], [ma, mb]) => {
        this.nearTie(a!, b!, ma! + mb!, `${f} tie`);
        if (Number.isNaN(a!) || Number.isNaN(b!)) return [NaN, [1, 1]];
        if (a === b) return [a!, [0.5, 0.5]];
        const first = f === "maximum" ? a! > b! : a! < b!;
        return first ? [a!, [1, 0]] : [b!, [0, 1]];
      };
      case "arctan2": return ([y, x], [my, mx]) => {
        // atan2 jumps across the negative x axis and is singular at the origin
        if (x! < 0) this.nearTie(y!, 0, my! + mx!, "arctan2 at its branch cut");
        this.nearTie(Math.hypot(x!, y!), 0, my! + mx!, "arctan2 at the origin");
        const r2 = x! * x! + y! * y!;
        return [Math.atan2(y!, x!), [x! / r2, -y! / r2]];
      };
      case "hypot": return ([a, b], [ma, mb]) => {
        const h = Math.hypot(a!, b!);
        this.nearTie(h, 0, ma! + mb!, "hypot at the origin");
        return [h, [a! / h, b! / h]];
      };
      case "mod": case "floorDivide": return ([a, b], [ma, mb]) => {
        const [q, m] = numpyDivmod(a!, b!);
        // a jump where a / b crosses an integer
        const r = a! / b!;
        if (Number.isFinite(r)) this.nearTie(r, Math.round(r), (ma! + mb!) * Math.abs(r) / Math.max(Math.abs(a!), 1e-300), `${f} at a jump`);
        return f === "mod" ? [m, [1, -q]] : [q, [0, 0]];
      };
      case "power": return ([a, b]) => {
        const v = numpyPow(a!, b!);
        return [v, [b! * numpyPow(a!, b! - 1), v * Math.log(a!)]];
      };
    }
    throw new Error(`reference: unknown binary ${f}`);
  }
}

const CMPS: Record<string, (a: number, b: number) => boolean> = {
  less: (a, b) => a < b, lessEqual: (a, b) => a <= b, greater: (a, b) => a > b,
  greaterEqual: (a, b) => a >= b, equal: (a, b) => a === b, notEqual: (a, b) => a !== b,
};

/**
 * Evaluates `p` at `inputs` (flat float64 data). Tangent directions are the elements of the
 * inputs listed in `wrt`, in order (input 0's elements first).
 */
export function evaluate(p: Prog, inputs: Float64Array[], wrt: number[] = p.inputs.map((_, i) => i)): RefResult {
  const nT = wrt.reduce((s, i) => s + inputs[i]!.length, 0);
  const ctx = new Ctx(nT, p.dt === "float32");
  let off = 0;
  const rts = inputs.map((v, i): RT => {
    const n = v.length;
    const base: RT = { sh: p.inputs[i]!, v, mv: v.map(Math.abs), d: null, md: null, f32: p.dt === "float32" };
    if (!wrt.includes(i)) return base;
    const d = new Float64Array(n * nT);
    for (let k = 0; k < n; k++) d[k * nT + off + k] = 1;
    off += n;
    return { ...base, d, md: d.slice() };
  });
  const out = ctx.eval(p.body, rts);
  return { out, kink: ctx.kink, ill: ctx.ill };
}

/** Gradient of sum(out * w) for each input in wrt: a contraction of the forward tangents. */
export function refGrad(r: RefResult, w: Float64Array, inputSizes: number[]): { g: Float64Array[]; m: Float64Array[] } {
  const { out } = r;
  const nT = inputSizes.reduce((a, b) => a + b, 0);
  const g = inputSizes.map((n) => new Float64Array(n));
  const m = inputSizes.map((n) => new Float64Array(n));
  if (!out.d || !out.md) return { g, m };
  for (let k = 0; k < out.v.length; k++) {
    let t = 0;
    inputSizes.forEach((n, i) => {
      for (let j = 0; j < n; j++, t++) {
        g[i]![j] += w[k]! * out.d![k * nT + t]!;
        m[i]![j] += Math.abs(w[k]!) * out.md![k * nT + t]!;
      }
    });
  }
  return { g, m };
}

/** Directional derivative along tangents (flat per input): a contraction of the forward tangents. */
export function refJvp(r: RefResult, tangents: Float64Array[]): { d: Float64Array; m: Float64Array } {
  const { out } = r;
  const n = out.v.length;
  const d = new Float64Array(n);
  const m = new Float64Array(n);
  if (!out.d || !out.md) return { d, m };
  const flatT = Float64Array.from(tangents.flatMap((t) => Array.from(t)));
  const nT = flatT.length;
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < nT; t++) {
      d[k] += out.d[k * nT + t]! * flatT[t]!;
      m[k] += out.md[k * nT + t]! * Math.abs(flatT[t]!);
    }
  }
  return { d, m };
}

/** sum_k v[2k] * v[2k+1] and its partials (each factor's partner): a dot product's combiner. */
export function dotOfPairs(vs: number[]): [number, number[]] {
  let s = 0;
  const cs: number[] = [];
  for (let k = 0; k < vs.length; k += 2) { s += vs[k]! * vs[k + 1]!; cs.push(vs[k + 1]!, vs[k]!); }
  return [s, cs];
}
