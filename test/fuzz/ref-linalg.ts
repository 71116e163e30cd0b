// The fuzzer reference's linear algebra, in plain float64 with forward-mode dual numbers (a value
// and its partials with respect to every entry of the input matrix and right-hand side): LU with
// partial pivoting (det, log|det|, solve, inv), Cholesky of the symmetrized matrix, modified
// Gram-Schmidt (|diag R| of QR), and for eigen/singular values a Jacobi eigensolver with the
// closed-form first-order perturbation dw_i = v_i^T dA v_i (invariant: no eigenvector sign enters).
// Near-repeated eigen/singular values are recorded as kinks (their sorted values are not smooth).

import type { Expr } from "./ast.js";
import { type Ctx, type RT, type Term, dotOfPairs, promoteRT } from "./ref.js";

/** A dual number over `n` input entries. */
class D {
  constructor(readonly v: number, readonly g: Float64Array) {}
  static c(v: number, n: number) { return new D(v, new Float64Array(n)); }
  static input(v: number, i: number, n: number) { const g = new Float64Array(n); g[i] = 1; return new D(v, g); }
  add(o: D) { return new D(this.v + o.v, this.g.map((x, i) => x + o.g[i]!)); }
  sub(o: D) { return new D(this.v - o.v, this.g.map((x, i) => x - o.g[i]!)); }
  mul(o: D) { return new D(this.v * o.v, this.g.map((x, i) => x * o.v + this.v * o.g[i]!)); }
  div(o: D) { const q = this.v / o.v; return new D(q, this.g.map((x, i) => (x - q * o.g[i]!) / o.v)); }
  scale(s: number) { return new D(this.v * s, this.g.map((x) => x * s)); }
  sqrt() { const r = Math.sqrt(this.v); return new D(r, this.g.map((x) => x / (2 * r))); }
  log() { return new D(Math.log(this.v), this.g.map((x) => x / this.v)); }
  abs() { return this.v < 0 ? this.scale(-1) : this; }
}
type M = D[][];

function lu(a: M): { lu: M; perm: number[]; sign: number } {
  const n = a.length;
  const m = a.map((r) => r.slice());
  const perm = m.map((_, i) => i);
  let sign = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i]![k]!.v) > Math.abs(m[p]![k]!.v)) p = i;
    if (p !== k) { [m[p], m[k]] = [m[k]!, m[p]!]; [perm[p], perm[k]] = [perm[k]!, perm[p]!]; sign = -sign; }
    for (let i = k + 1; i < n; i++) {
      const f = m[i]![k]!.div(m[k]![k]!);
      m[i]![k] = f;
      for (let j = k + 1; j < n; j++) m[i]![j] = m[i]![j]!.sub(f.mul(m[k]![j]!));
    }
  }
  return { lu: m, perm, sign };
}
function luSolve(f: ReturnType<typeof lu>, b: M): M {
  const n = f.lu.length;
  const x = f.perm.map((p) => b[p]!.slice());
  for (let c = 0; c < x[0]!.length; c++) {
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) x[i]![c] = x[i]![c]!.sub(f.lu[i]![j]!.mul(x[j]![c]!));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = i + 1; j < n; j++) x[i]![c] = x[i]![c]!.sub(f.lu[i]![j]!.mul(x[j]![c]!));
      x[i]![c] = x[i]![c]!.div(f.lu[i]![i]!);
    }
  }
  return x;
}
function cholesky(a: M): M {
  const n = a.length;
  const s = a.map((r, i) => r.map((x, j) => x.add(a[j]![i]!).scale(0.5)));
  const L: M = s.map((r) => r.map((x) => D.c(0, x.g.length)));
  for (let j = 0; j < n; j++) {
    let d = s[j]![j]!;
    for (let k = 0; k < j; k++) d = d.sub(L[j]![k]!.mul(L[j]![k]!));
    L[j]![j] = d.sqrt();
    for (let i = j + 1; i < n; i++) {
      let t = s[i]![j]!;
      for (let k = 0; k < j; k++) t = t.sub(L[i]![k]!.mul(L[j]![k]!));
      L[i]![j] = t.div(L[j]![j]!);
    }
  }
  return L;
}
/** |diag R| of a = QR (columns by modified Gram-Schmidt). */
function qrAbsDiag(a: M): D[] {
  const [m, n] = [a.length, a[0]!.length];
  const cols = Array.from({ length: n }, (_, j) => a.map((r) => r[j]!));
  const out: D[] = [];
  for (let j = 0; j < n; j++) {
    let v = cols[j]!;
    for (let k = 0; k < j; k++) {
      const q = cols[k]!;
      let dot = D.c(0, v[0]!.g.length);
      for (let i = 0; i < m; i++) dot = dot.add(q[i]!.mul(v[i]!));
      v = v.map((x, i) => x.sub(dot.mul(q[i]!)));
    }
    // the norm of v, scaled by a power of two so its squares cannot overflow
    const s = pow2For(Math.max(...v.map((x) => Math.abs(x.v))));
    let nn = D.c(0, v[0]!.g.length);
    for (const x of v) { const y = x.scale(s); nn = nn.add(y.mul(y)); }
    const r = nn.sqrt().scale(1 / s);
    out.push(r);
    cols[j] = v.map((x) => x.div(r));
  }
  return out;
}

/** A power of two bringing max |m| near 1 (sums of squares must not overflow in the reference either). */
const pow2For = (m: number) => (Number.isFinite(m) && m > 0 ? 2 ** Math.max(-1020, Math.min(1020, -Math.round(Math.log2(m)))) : 1);
const pow2Scale = (a: number[][]) => pow2For(Math.max(...a.flat().map(Math.abs)));

/** Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix, by cyclic Jacobi. */
export function jacobiEig(a1: number[][]): { w: number[]; v: number[][] } {
  const sc = pow2Scale(a1);
  const r = jacobiEigInRange(a1.map((row) => row.map((x) => x * sc)));
  return { w: r.w.map((x) => x / sc), v: r.v };
}
function jacobiEigInRange(a0: number[][]): { w: number[]; v: number[][] } {
  const n = a0.length;
  const a = a0.map((r, i) => r.map((x, j) => (x + a0[j]![i]!) / 2));
  const v: number[][] = a.map((_, i) => a.map((__, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off === 0 || !Number.isFinite(off)) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      if (a[p]![q] === 0) continue;
      const th = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
      const t = Math.sign(th || 1) / (Math.abs(th) + Math.sqrt(th * th + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < n; k++) { const [x, y] = [a[k]![p]!, a[k]![q]!]; a[k]![p] = c * x - s * y; a[k]![q] = s * x + c * y; }
      for (let k = 0; k < n; k++) { const [x, y] = [a[p]![k]!, a[q]![k]!]; a[p]![k] = c * x - s * y; a[q]![k] = s * x + c * y; }
      for (let k = 0; k < n; k++) { const [x, y] = [v[k]![p]!, v[k]![q]!]; v[k]![p] = c * x - s * y; v[k]![q] = s * x + c * y; }
    }
  }
  const idx = a.map((_, i) => i).sort((i, j) => a[i]![i]! - a[j]![j]!);
  return { w: idx.map((i) => a[i]![i]!), v: v.map((r) => idx.map((i) => r[i]!)) };
}

/** Singular values (descending) of a [m, n] with ds_i/da_jk = u_ji v_ki, via the smaller Gram matrix. */
function singular(a1: number[][]): { s: number[]; ds: number[][][] } {
  const sc = pow2Scale(a1);
  const r = singularInRange(a1.map((row) => row.map((x) => x * sc)));
  return { s: r.s.map((x) => x / sc), ds: r.ds };
}
function singularInRange(a: number[][]): { s: number[]; ds: number[][][] } {
  const [m, n] = [a.length, a[0]!.length];
  const tall = m >= n;
  const gram = tall
    ? Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => a.reduce((s, r) => s + r[i]! * r[j]!, 0)))
    : Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => a[i]!.reduce((s, x, k) => s + x * a[j]![k]!, 0)));
  const { w, v } = jacobiEig(gram);
  const k = w.length;
  const s: number[] = [];
  const ds: number[][][] = [];
  for (let t = k - 1; t >= 0; t--) {
    const sv = Math.sqrt(Math.max(w[t]!, 0));
    s.push(sv);
    const vec = v.map((r) => r[t]!);
    // tall: right vector vec, left u = a vec / s; wide: left vec, right = a^T vec / s
    const other = tall ? a.map((r) => r.reduce((acc, x, j) => acc + x * vec[j]!, 0) / sv) : Array.from({ length: n }, (_, j) => a.reduce((acc, r, i) => acc + r[j]! * vec[i]!, 0) / sv);
    const [u, vr] = tall ? [other, vec] : [vec, other];
    ds.push(Array.from({ length: m }, (_, j) => Array.from({ length: n }, (_, l) => u[j]! * vr[l]!)));
  }
  return { s, ds };
}

/** A = M M^T + n I (the program's spd node): eigenvalues >= n. */
export function spdRef(ctx: Ctx, m: RT): RT {
  const n = m.sh[m.sh.length - 1]!;
  const dt = m.weak ? "f32" : promoteRT([m]); // np.eye is float32 (not weak)
  const prod = ctx.combine([m], m.sh, (_, idx) => {
    const r = idx.length;
    const base = idx.slice(0, -2);
    const flat = (i: number, k: number) => [...base, i, k].reduce((acc, x, j) => acc * m.sh[j]! + x, 0);
    const ts: Term[] = [];
    for (let k = 0; k < n; k++) ts.push([0, flat(idx[r - 2]!, k)], [0, flat(idx[r - 1]!, k)]);
    return ts;
  }, dotOfPairs, "spd", dt);
  const r = m.sh.length;
  let onDiag = false; // (terms runs right before the value function for each element)
  return ctx.combine([prod], m.sh, (k, idx) => { onDiag = idx[r - 1] === idx[r - 2]; return [[0, k]]; }, (vs) => [vs[0]! + (onDiag ? n : 0), [1]], "spd + nI");
}

/** Applies one np.linalg function matrix by matrix over the leading (batch) dimensions. */
export function linalgRef(ctx: Ctx, e: Extract<Expr, { k: "linalg" }>, a: RT, b: RT | null): RT {
  if (e.f === "norm") return normRef(ctx, e.opt, a);
  const [r, c] = [a.sh[a.sh.length - 2]!, a.sh[a.sh.length - 1]!];
  const per = r * c;
  const bPer = b ? b.sh.slice(a.sh.length - 2).reduce((x, y) => x * y, 1) : 0;
  const bCols = b && b.sh.length === a.sh.length ? b.sh[b.sh.length - 1]! : 1;
  const outPer = e.sh.slice(a.sh.length - 2).reduce((x, y) => x * y, 1);
  let cur = 0;
  return ctx.combine(b ? [a, b] : [a], e.sh, (k) => {
    const bi = Math.floor(k / outPer);
    cur = k % outPer;
    const ts: Term[] = [];
    for (let i = 0; i < per; i++) ts.push([0, bi * per + i]);
    for (let i = 0; i < bPer; i++) ts.push([1, bi * bPer + i]);
    return ts;
  }, (vs) => {
    // a non-finite matrix: LAPACK raises or returns NaN, adgen's loops NaN or Inf; not compared
    if (!vs.every(Number.isFinite)) ctx.nearTie(0, 0, 1, `${e.f} of a non-finite matrix`);
    const nIn = vs.length;
    const mat: M = Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => D.input(vs[i * c + j]!, i * c + j, nIn)));
    const rhs = b ? Array.from({ length: r }, (_, i) => Array.from({ length: bCols }, (_, j) => D.input(vs[per + i * bCols + j]!, per + i * bCols + j, nIn))) : null;
    return evalOne(ctx, e.f, mat, rhs, cur);
  }, e.f);
}

function evalOne(ctx: Ctx, f: string, a: M, b: M | null, k: number): [number, number[]] {
  const pick = (d: D): [number, number[]] => [d.v, Array.from(d.g)];
  const n = a.length;
  const nIn = a[0]![0]!.g.length;
  if (f !== "qr" && f !== "svdvals" && a.every((r) => r.every((x) => Number.isFinite(x.v)))) {
    // A = M M^T + nI is well conditioned unless M's entries dwarf n (then A is singular in
    // floating point and det's rule det(a) tr(a^-1 da) is NaN, as documented): not compared
    const { s } = singular(a.map((r) => r.map((x) => x.v)));
    ctx.nearTie(s[s.length - 1]!, 0, 1e1 * s[0]!, `${f} of an ill-conditioned matrix`);
  }
  switch (f) {
    case "det": case "logdet": {
      const F = lu(a);
      if (f === "det") { let d = D.c(F.sign, nIn); for (let i = 0; i < n; i++) d = d.mul(F.lu[i]![i]!); return pick(d); }
      let s = D.c(0, nIn);
      for (let i = 0; i < n; i++) s = s.add(F.lu[i]![i]!.abs().log());
      return pick(s);
    }
    case "solve": return pick(luSolve(lu(a), b!).flat()[k]!);
    case "inv": return pick(luSolve(lu(a), a.map((r, i) => r.map((_, j) => D.c(i === j ? 1 : 0, nIn)))).flat()[k]!);
    case "cholesky": return pick(cholesky(a).flat()[k]!);
    case "qr": {
      // a (numerically) rank-deficient column: R_kk ~ 0, where Householder and Gram-Schmidt
      // legitimately differ (0 vs NaN) and the derivative is undefined
      const r = qrAbsDiag(a);
      const colNorm = Math.hypot(...a.map((row) => row[k]!.v));
      if (Number.isFinite(colNorm)) ctx.nearTie(r[k]!.v, 0, 1e3 * colNorm, "qr: a rank-deficient column");
      else ctx.nearTie(0, 0, 1, "qr: non-finite column");
      return pick(r[k]!);
    }
    case "eigvalsh": case "eigh": {
      const { w, v } = jacobiEig(a.map((r) => r.map((x) => x.v)));
      gaps(ctx, w, false);
      return [w[k]!, a.flatMap((r, j) => r.map((_, l) => v[j]![k]! * v[l]![k]!))];
    }
    case "svdvals": {
      const { s, ds } = singular(a.map((r) => r.map((x) => x.v)));
      gaps(ctx, s, true);
      return [s[k]!, ds[k]!.flat()];
    }
  }
  throw new Error(`reference: unknown linalg ${f}`);
}
function gaps(ctx: Ctx, w: number[], zero: boolean): void {
  if (!w.every(Number.isFinite)) return;
  const scale = 1e3 * w.reduce((s, x) => s + Math.abs(x), 0);
  for (let i = 1; i < w.length; i++) ctx.nearTie(w[i]!, w[i - 1]!, scale, "repeated eigen/singular values");
  if (zero) for (const x of w) ctx.nearTie(x, 0, scale, "a zero singular value");
}

/** np.linalg.norm: vector orders on 1-D (or flattened, no ord) input, matrix orders on 2-D input. */
function normRef(ctx: Ctx, ord: number | string | undefined, x: RT): RT {
  const n = x.v.length;
  const rows = x.sh.length === 2 ? x.sh[0]! : 1;
  const cols = x.sh.length === 2 ? x.sh[1]! : n;
  const matrix = x.sh.length === 2 && ord !== undefined;
  const absTies = (vs: number[], ms: number[]) => vs.forEach((v, i) => ctx.nearTie(v, 0, ms[i]!, "norm: |x| at 0"));
  const extreme = (sums: number[], scale: number, best: number) => {
    sums.forEach((s) => { if (s !== best) ctx.nearTie(s, best, scale, "norm: max/min tie"); });
    if (sums.filter((s) => s === best).length > 1) ctx.nearTie(0, 0, 1, "norm tie");
    return sums.indexOf(best);
  };
  return ctx.combine([x], [], () => Array.from({ length: n }, (_, i) => [0, i] as Term), (vs, ms) => {
    const scale = ms.reduce((s, m) => s + m, 0);
    if (!matrix && (ord === undefined || ord === 2) || ord === "fro") {
      const s = Math.sqrt(vs.reduce((acc, v) => acc + v * v, 0));
      ctx.nearTie(s, 0, scale, "norm at 0");
      return [s, vs.map((v) => v / s)];
    }
    if (!matrix) {
      const p = ord as number;
      if (p === 0) return [vs.filter((v) => v !== 0).length, vs.map(() => 0)];
      absTies(vs, ms);
      if (p === 1) return [vs.reduce((s, v) => s + Math.abs(v), 0), vs.map(Math.sign)];
      if (p === Infinity || p === -Infinity) {
        if (vs.some(Number.isNaN)) return [NaN, vs.map(() => 0)];
        const a = vs.map(Math.abs);
        const best = p === Infinity ? Math.max(...a) : Math.min(...a);
        const i = extreme(a, scale, best);
        return [best, vs.map((v, j) => (j === i ? Math.sign(v) : 0))];
      }
      const s = Math.pow(vs.reduce((acc, v) => acc + Math.pow(Math.abs(v), p), 0), 1 / p);
      return [s, vs.map((v) => Math.sign(v) * Math.pow(Math.abs(v) / s, p - 1))];
    }
    if (ord === "nuc" || ord === 2 || ord === -2) {
      const { s, ds } = singular(Array.from({ length: rows }, (_, i) => vs.slice(i * cols, (i + 1) * cols)));
      gaps(ctx, s, ord === "nuc" ? false : false);
      if (ord === "nuc") return [s.reduce((a, b) => a + b, 0), ds.reduce((acc, d) => acc.map((x, i) => x + d.flat()[i]!), new Array<number>(n).fill(0))];
      const i = ord === 2 ? 0 : s.length - 1;
      return [s[i]!, ds[i]!.flat()];
    }
    // 1 / -1: max / min column sum of |x|; Infinity / -Infinity: over rows
    absTies(vs, ms);
    if (vs.some(Number.isNaN)) return [NaN, vs.map(() => 0)];
    const byCol = ord === 1 || ord === -1;
    const groups = byCol ? cols : rows;
    const member = (i: number) => (byCol ? i % cols : Math.floor(i / cols));
    const sums = Array.from({ length: groups }, (_, g) => vs.reduce((s, v, i) => (member(i) === g ? s + Math.abs(v) : s), 0));
    const best = ord === 1 || ord === Infinity ? Math.max(...sums) : Math.min(...sums);
    const g = extreme(sums, scale, best);
    return [best, vs.map((v, i) => (member(i) === g ? Math.sign(v) : 0))];
  }, "norm");
}
