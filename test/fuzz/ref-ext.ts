// The fuzzer reference's second half (see ref.ts): the array operations of issue 18 written from
// NumPy's documentation in plain float64 JS, each as values plus the partial derivatives the dual
// numbers of ref.ts propagate: roll, pad modes, diagonal/trace, tril/triu, x.at(i) updates,
// stable sort/argsort/topK (NaN placement as NumPy / jax.lax.top_k), einsum and tensordot by the
// defining sum, direct (not im2col) dilated grouped convolution and pooling, astype, and the
// np.linalg functions (ref-linalg.ts).

import { type Expr, size } from "./ast.js";
import { indexPositions } from "./indexing.js";
import { type Ctx, type Fn, type RDT, type RT, type Term, dotOfPairs, dtOf, ravel } from "./ref.js";
import { linalgRef, spdRef } from "./ref-linalg.js";
import { windowOut } from "./gen-ext.js";

const pmod = (i: number, n: number) => ((i % n) + n) % n;

/** NumPy's np.pad modes: the source index of padded position i (relative to the original start), -1 for a constant. */
export function padSource(i: number, n: number, mode: string): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case "edge": return i < 0 ? 0 : n - 1;
    case "wrap": return pmod(i, n);
    case "symmetric": { const j = pmod(i, 2 * n); return j < n ? j : 2 * n - 1 - j; }
    case "reflect": { if (n === 1) return 0; const p = 2 * (n - 1); const j = pmod(i, p); return j < n ? j : p - j; }
    default: return -1;
  }
}

/** Converts to a dtype (astype; an update cast to the updated array's dtype). */
export function castRT(ctx: Ctx, a: RT, to: RDT): RT {
  if (dtOf(a) === to) return a;
  return ctx.combine([a], a.sh, (k) => [[0, k]], (vs) => [vs[0]!, [1]], "astype", to, to !== "f32");
}

/** NumPy's sort order: NaN last, -0 equal to 0; `desc` puts NaN first (JAX's descending). Stable. */
function order(vals: number[], desc: boolean): number[] {
  const key = (x: number) => (Number.isNaN(x) ? Infinity : x);
  const idx = vals.map((_, i) => i);
  return idx.sort((i, j) => {
    const [a, b] = [vals[i]!, vals[j]!];
    const [na, nb] = [Number.isNaN(a), Number.isNaN(b)];
    if (na || nb) return na && nb ? i - j : desc ? (na ? -1 : 1) : na ? 1 : -1;
    const c = desc ? key(b) - key(a) : key(a) - key(b);
    return c !== 0 ? c : i - j;
  });
}

/** Flat positions of the lines along `axis` (or the whole flattened array for axis null). */
function lines(sh: number[], axis: number | null): number[][] {
  if (axis === null) return [Array.from({ length: size(sh) }, (_, i) => i)];
  const ax = axis < 0 ? axis + sh.length : axis;
  const st = sh.slice(ax + 1).reduce((a, b) => a * b, 1);
  const n = sh[ax]!;
  const out: number[][] = [];
  const outer = size(sh) / (n * st);
  for (let o = 0; o < outer; o++) for (let i = 0; i < st; i++) out.push(Array.from({ length: n }, (_, t) => o * n * st + t * st + i));
  return out;
}

/** An integer result (argsort, topK indices) as the program's float dtype: exact, no derivative. */
function indicesRT(ctx: Ctx, sh: number[], v: Float64Array): RT {
  return { sh, v, mv: v.map(Math.abs), d: null, md: null, f32: ctx.progF32 };
}

function sortLike(ctx: Ctx, a: RT, axis: number | null, desc: boolean, arg: boolean, kk: number | null, outSh: number[]): RT {
  const ls = lines(a.sh, axis);
  // result element k reads source flat position src[k]; its index within the line is ix[k]
  const src: number[] = [];
  const ix: number[] = [];
  const lineLen = kk ?? ls[0]!.length;
  for (const line of ls) {
    const vals = line.map((p) => a.v[p]!);
    const scale = line.reduce((s, p) => s + a.mv[p]!, 0);
    for (let i = 0; i < vals.length; i++) for (let j = i + 1; j < vals.length; j++) ctx.nearTie(vals[i]!, vals[j]!, scale, "sort near-tie");
    const ord = order(vals, desc).slice(0, lineLen);
    ord.forEach((o) => { src.push(line[o]!); ix.push(o); });
  }
  // results along a non-last axis: lines were walked line by line; scatter back to C order
  const posOf = axis === null || kk !== null ? null : lines(outSh, axis).flat();
  const n = src.length;
  const perm = new Array<number>(n);
  for (let k = 0; k < n; k++) perm[posOf ? posOf[k]! : k] = k;
  if (arg) return indicesRT(ctx, outSh, Float64Array.from({ length: n }, (_, k) => ix[perm[k]!]!));
  return ctx.move(a, outSh, (idx) => src[perm[ravel(idx, outSh)]!]!);
}

/** einsum by its definition: out[free] = sum over the contracted labels of the product of operands. */
function einsumRef(ctx: Ctx, sub: string, xs: RT[]): RT {
  const [ins, outSpec] = sub.split("->") as [string, string | undefined];
  const opLabels = ins.split(",");
  const sizeOf = new Map<string, number>();
  opLabels.forEach((ls, a) => [...ls].forEach((l, i) => sizeOf.set(l, xs[a]!.sh[i]!)));
  const all = [...new Set(opLabels.join(""))];
  const out = outSpec !== undefined ? [...outSpec] : all.filter((l) => opLabels.join("").split(l).length === 2).sort();
  const red = all.filter((l) => !out.includes(l));
  const redSh = red.map((l) => sizeOf.get(l)!);
  const outSh = out.map((l) => sizeOf.get(l)!);
  const nRed = size(redSh);
  return ctx.combine(xs, outSh, (_, idx) => {
    const ts: Term[] = [];
    const val = new Map<string, number>();
    out.forEach((l, i) => val.set(l, idx[i]!));
    for (let r = 0; r < nRed; r++) {
      let q = r;
      for (let i = red.length - 1; i >= 0; i--) { val.set(red[i]!, q % redSh[i]!); q = Math.floor(q / redSh[i]!); }
      opLabels.forEach((ls, a) => ts.push([a, ravel([...ls].map((l) => val.get(l)!), xs[a]!.sh)]));
    }
    return ts;
  }, (vs) => {
    const m = opLabels.length;
    let s = 0;
    const cs = new Array<number>(vs.length).fill(0);
    for (let t = 0; t < vs.length; t += m) {
      let p = 1;
      for (let j = 0; j < m; j++) p *= vs[t + j]!;
      s += p;
      for (let j = 0; j < m; j++) { let q = 1; for (let i = 0; i < m; i++) if (i !== j) q *= vs[t + i]!; cs[t + j] = q; }
    }
    return [s, cs];
  }, "einsum");
}

function tensordotSub(ra: number, rb: number, axes: number | [number[], number[]]): string {
  const L = "abcdefghijklmnop";
  const la = [...L.slice(0, ra)];
  const lb = [...L.slice(ra, ra + rb)];
  const [ca, cb] = typeof axes === "number" ? [Array.from({ length: axes }, (_, i) => ra - axes + i), Array.from({ length: axes }, (_, i) => i)] : axes;
  ca.forEach((a, i) => (lb[cb[i]!] = la[a]!));
  const out = [...la.filter((_, i) => !ca.includes(i)), ...lb.filter((_, i) => !cb.includes(i))];
  return `${la.join("")},${lb.join("")}->${out.join("")}`;
}

function convRef(ctx: Ctx, e: Extract<Expr, { k: "conv" }>, x: RT, w: RT): RT {
  const [, C, ...sp] = x.sh;
  const [O, Cg, ...win] = w.sh;
  const o = windowOut(sp, win, e.strides, e.padding, e.lhsDil, e.rhsDil)!;
  const nd = sp.length;
  const K = size(win);
  return ctx.combine([x, w], e.sh, (_, idx) => {
    const [n, oc, ...op] = idx;
    const g = Math.floor(oc! / (O! / e.groups));
    const ts: Term[] = [];
    for (let c = 0; c < Cg!; c++) {
      for (let kf = 0; kf < K; kf++) {
        const kidx = new Array<number>(nd);
        let q = kf;
        for (let d = nd - 1; d >= 0; d--) { kidx[d] = q % win[d]!; q = Math.floor(q / win[d]!); }
        const pos: number[] = [];
        let ok = true;
        for (let d = 0; d < nd; d++) {
          const p = op[d]! * e.strides[d]! + kidx[d]! * e.rhsDil[d]! - o.lo[d]!; // in dilated input coordinates
          if (p < 0 || p % e.lhsDil[d]! !== 0 || p / e.lhsDil[d]! >= sp[d]!) { ok = false; break; }
          pos.push(p / e.lhsDil[d]!);
        }
        if (!ok) continue;
        ts.push([0, ravel([n!, g * Cg! + c, ...pos], x.sh)], [1, ravel([oc!, c, ...kidx], w.sh)]);
      }
    }
    if (C === undefined) throw new Error("conv: bad input");
    return ts;
  }, dotOfPairs, "conv");
}

function poolRef(ctx: Ctx, e: Extract<Expr, { k: "pool" }>, x: RT): RT {
  const sp = x.sh.slice(2);
  const nd = sp.length;
  const ones = sp.map(() => 1);
  const o = windowOut(sp, e.win, e.strides, e.padding, ones, ones)!;
  const K = size(e.win);
  const fn: Fn = e.kind === "avg"
    ? (vs) => [vs.reduce((s, v) => s + v, 0) / K, vs.map(() => 1 / K)]
    : (vs, ms) => {
      if (vs.length === 0) return [-Infinity, []]; // a window of padding only
      if (vs.some(Number.isNaN)) return [NaN, vs.map((v) => (Number.isNaN(v) ? 1 : 0))];
      const best = Math.max(...vs);
      const scale = ms.reduce((s, m) => s + m, 0);
      vs.forEach((v) => { if (v !== best) ctx.nearTie(v, best, scale, "maxPool near-tie"); });
      const ties = vs.filter((v) => v === best).length;
      if (ties > 1) ctx.nearTie(0, 0, 1, "maxPool tie");
      return [best, vs.map((v) => (v === best ? 1 / ties : 0))];
    };
  return ctx.combine([x], e.sh, (_, idx) => {
    const [n, c, ...op] = idx;
    const ts: Term[] = [];
    for (let kf = 0; kf < K; kf++) {
      let q = kf;
      const pos = new Array<number>(nd);
      let ok = true;
      for (let d = nd - 1; d >= 0; d--) {
        const kd = q % e.win[d]!;
        q = Math.floor(q / e.win[d]!);
        const p = op[d]! * e.strides[d]! + kd - o.lo[d]!;
        if (p < 0 || p >= sp[d]!) ok = false;
        pos[d] = p;
      }
      if (ok) ts.push([0, ravel([n!, c!, ...pos], x.sh)]);
    }
    return ts;
  }, fn, `${e.kind}Pool`);
}

function atRef(ctx: Ctx, e: Extract<Expr, { k: "at" }>, a: RT, v0: RT): RT {
  const v = castRT(ctx, v0, dtOf(a));
  const { sh: ish, pos } = indexPositions(a.sh, e.items);
  // the updates broadcast to the indexed shape
  const off = ish.length - v.sh.length;
  const vAt = (j: number) => {
    const idx = new Array<number>(ish.length);
    let q = j;
    for (let i = ish.length - 1; i >= 0; i--) { idx[i] = q % ish[i]!; q = Math.floor(q / ish[i]!); }
    return ravel(v.sh.map((d, i) => (d === 1 ? 0 : idx[i + off]!)), v.sh);
  };
  const updates = new Map<number, number[]>();
  pos.forEach((p, j) => updates.set(p, [...(updates.get(p) ?? []), vAt(j)]));
  const op = e.op;
  return ctx.combine([a, v], a.sh, (k) => [[0, k] as Term, ...(updates.get(k) ?? []).map((j) => [1, j] as Term)], (vs, ms) => {
    const [x, ...us] = vs;
    if (us.length === 0) return [x!, [1]];
    switch (op) {
      case "set": return [us[us.length - 1]!, vs.map((_, i) => (i === vs.length - 1 ? 1 : 0))];
      case "add": return [vs.reduce((s, y) => s + y, 0), vs.map(() => 1)];
      case "multiply": return [vs.reduce((s, y) => s * y, 1), vs.map((_, i) => vs.reduce((p, y, j) => (j === i ? p : p * y), 1))];
      default: {
        if (vs.some(Number.isNaN)) return [NaN, vs.map((y) => (Number.isNaN(y) ? 1 : 0))];
        const best = op === "min" ? Math.min(...vs) : Math.max(...vs);
        const scale = ms.reduce((s, m) => s + m, 0);
        vs.forEach((y) => { if (y !== best) ctx.nearTie(y, best, scale, `at.${op} near-tie`); });
        if (vs.filter((y) => y === best).length > 1) ctx.nearTie(0, 0, 1, `at.${op} tie`);
        // (-0 vs 0: min/max of equal values keeps the first, as np.minimum)
        const i = vs.findIndex((y) => y === best);
        return [vs[i]!, vs.map((_, j) => (j === i ? 1 : 0))];
      }
    }
  }, `at.${op}`, dtOf(a));
}

export function evalExt(ctx: Ctx, e: Expr, ev: (x: Expr) => RT): RT {
  switch (e.k) {
    case "roll": {
      const a = ev(e.a);
      if (e.axes === null) { const n = size(a.sh); return ctx.move(a, a.sh, (idx) => pmod(ravel(idx, a.sh) - e.shift[0]!, n)); }
      return ctx.move(a, a.sh, (idx) => ravel(idx.map((i, ax) => { const j = e.axes!.indexOf(ax); return j < 0 ? i : pmod(i - e.shift[j]!, a.sh[ax]!); }), a.sh));
    }
    case "diag": case "trace": {
      const a = ev(e.a);
      const rest = a.sh.map((_, i) => i).filter((i) => i !== e.ax1 && i !== e.ax2);
      const src = (r: number[], t: number) => {
        const s = new Array<number>(a.sh.length);
        rest.forEach((ax, j) => (s[ax] = r[j]!));
        s[e.ax1] = t + Math.max(-e.offset, 0);
        s[e.ax2] = t + Math.max(e.offset, 0);
        return ravel(s, a.sh);
      };
      if (e.k === "diag") return ctx.move(a, e.sh, (idx) => src(idx.slice(0, -1), idx[idx.length - 1]!));
      const n1 = a.sh[e.ax1]!, n2 = a.sh[e.ax2]!;
      const len = e.offset >= 0 ? Math.min(n1, n2 - e.offset) : Math.min(n1 + e.offset, n2);
      return ctx.reduce("sum", ctx.move(a, [...e.sh, len], (idx) => src(idx.slice(0, -1), idx[idx.length - 1]!)), [-1], false);
    }
    case "tri": {
      const a = ev(e.a);
      const r = a.sh.length;
      return ctx.move(a, a.sh, (idx) => {
        const d = idx[r - 1]! - idx[r - 2]!;
        return (e.upper ? d >= e.kk : d <= e.kk) ? ravel(idx, a.sh) : -1;
      });
    }
    case "at": return atRef(ctx, e, ev(e.a), ev(e.v));
    case "sort": return sortLike(ctx, ev(e.a), e.axis, e.desc, e.arg, null, e.sh);
    case "topk": return sortLike(ctx, ev(e.a), -1, true, e.out === 1, e.kk, e.sh);
    case "einsum": return einsumRef(ctx, e.sub, e.xs.map(ev));
    case "tdot": { const [a, b] = [ev(e.a), ev(e.b)]; return einsumRef(ctx, tensordotSub(a.sh.length, b.sh.length, e.axes), [a, b]); }
    case "spd": return spdRef(ctx, ev(e.a));
    case "linalg": return linalgRef(ctx, e, ev(e.a), e.b ? ev(e.b) : null);
    case "conv": return convRef(ctx, e, ev(e.a), ev(e.w));
    case "pool": return poolRef(ctx, e, ev(e.a));
    case "cast": return castRT(ctx, ev(e.a), e.to === "float32" ? "f32" : "f64");
  }
  throw new Error(`reference: unknown node ${e.k}`);
}
