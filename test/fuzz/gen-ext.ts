// The fuzzer generator's second half: the array operations of issue 18 and the promotion lattice
// (roll, diagonal/trace, tril/triu, x.at(i) updates, sort/argsort/topK, einsum/tensordot,
// np.linalg on well-conditioned matrices, lax.conv / nn.conv2d / pooling, astype). Each kind reads
// its choices from the same stream as ast.ts (choice 0 is the simplest option), so shrinking works
// the same way. Linear algebra is applied to A = M M^T + n I (symmetric positive definite with
// eigenvalues >= n, so every factorization is well conditioned and its derivative well defined);
// only invariant outputs are compared (det, log|det|, solves, inverses, the Cholesky factor,
// sorted eigen/singular values, |diag R| of QR, norms), never eigenvectors whose sign is arbitrary.

import { type ConvPadding, type Expr, LINALG, type ProgramGenerator, type Shape, size } from "./ast.js";
import { indexPositions } from "./indexing.js";

export const EXT_KINDS = 12;

/** Output sizes of a (dilated, padded, strided) window over `sp`, or null when a window does not fit. */
export function windowOut(sp: number[], win: number[], strides: number[], padding: ConvPadding, lhsDil: number[], rhsDil: number[]): { out: number[]; lo: number[] } | null {
  const dil = sp.map((n, i) => (n - 1) * lhsDil[i]! + 1);
  const eff = win.map((k, i) => (k - 1) * rhsDil[i]! + 1);
  const out: number[] = [];
  const lo: number[] = [];
  for (let i = 0; i < sp.length; i++) {
    let l: number, h: number;
    if (padding === "VALID") [l, h] = [0, 0];
    else if (padding === "SAME") {
      const o = Math.ceil(dil[i]! / strides[i]!);
      const total = Math.max((o - 1) * strides[i]! + eff[i]! - dil[i]!, 0);
      [l, h] = [Math.floor(total / 2), total - Math.floor(total / 2)];
    } else [l, h] = padding[i]!;
    const padded = dil[i]! + l + h;
    if (padded < eff[i]!) return null;
    out.push(Math.floor((padded - eff[i]!) / strides[i]!) + 1);
    lo.push(l);
  }
  return { out, lo };
}

const LETTERS = "abcdefgh";

export function extExpr(g: ProgramGenerator, kind: number, sub: () => Expr): Expr {
  const ch = g.ch;
  const pickOf = <T>(xs: readonly T[]): T => xs[ch.pick(xs.length)]!;
  switch (kind) {
    case 0: { // roll (flattened, one axis or several)
      const a = sub();
      if (a.sh.length === 0) return a;
      const shifts = () => ch.pick(11) - 5;
      if (ch.pick(3) === 0) return { k: "roll", shift: [shifts()], axes: null, a, sh: a.sh };
      const axes = a.sh.map((_, i) => i).filter(() => ch.bool());
      if (axes.length === 0) axes.push(ch.pick(a.sh.length));
      return { k: "roll", shift: axes.map(shifts), axes, a, sh: a.sh };
    }
    case 1: case 2: { // diagonal / trace
      const a = sub();
      if (a.sh.length < 2) return a;
      const ax1 = ch.pick(a.sh.length);
      let ax2 = ch.pick(a.sh.length - 1);
      if (ax2 >= ax1) ax2++;
      const offset = ch.pick(5) - 2;
      const [n1, n2] = [a.sh[ax1]!, a.sh[ax2]!];
      const len = offset >= 0 ? Math.min(n1, n2 - offset) : Math.min(n1 + offset, n2);
      if (len <= 0) return a;
      const rest = a.sh.filter((_, i) => i !== ax1 && i !== ax2);
      return kind === 1
        ? { k: "diag", offset, ax1, ax2, a, sh: [...rest, len] }
        : { k: "trace", offset, ax1, ax2, a, sh: rest };
    }
    case 3: { // tril / triu
      const a = sub();
      if (a.sh.length < 2) return a;
      return { k: "tri", upper: ch.bool(), kk: ch.pick(5) - 2, a, sh: a.sh };
    }
    case 4: { // x.at(items).set/add/multiply/min/max(v)
      const a = sub();
      if (a.sh.length === 0) return a;
      const ix = g.indexItems(a.sh);
      if (!ix) return a;
      let op = pickOf(["set", "add", "multiply", "min", "max"] as const);
      const pos = indexPositions(a.sh, ix.items).pos;
      // multiply's gradient w.r.t. the updates assumes unique positions (documented, as JAX)
      if (op === "multiply" && new Set(pos).size !== pos.length) op = "add";
      const v = g.fit(sub(), ix.sh);
      return { k: "at", items: ix.items, op, a, v, sh: a.sh };
    }
    case 5: { // sort / argsort (as floats: the permutation is compared exactly)
      const a = sub();
      const axis = a.sh.length === 0 || ch.pick(4) === 3 ? null : ch.bool() ? -1 : ch.pick(a.sh.length);
      const sh = axis === null ? [size(a.sh)] : a.sh;
      return { k: "sort", axis, desc: ch.pick(3) === 2, arg: ch.pick(3) === 2, a, sh };
    }
    case 6: { // lax.topK along the last axis: values or indices
      const a = sub();
      if (a.sh.length === 0) return a;
      const n = a.sh[a.sh.length - 1]!;
      const kk = 1 + ch.pick(n);
      return { k: "topk", kk, out: ch.pick(3) === 2 ? 1 : 0, a, sh: [...a.sh.slice(0, -1), kk] };
    }
    case 7: return einsum(g, sub);
    case 8: { // tensordot: an integer (last N of a with first N of b) or a pair of axis lists
      const a = sub();
      if (a.sh.length === 0) return a;
      const extra: Shape = ch.bool() ? [pickOf([2, 3])] : [];
      if (ch.pick(3) < 2) {
        const N = ch.pick(Math.min(a.sh.length, 2) + 1);
        const b = g.exact(sub(), [...a.sh.slice(a.sh.length - N), ...extra]);
        return { k: "tdot", axes: N, a, b, sh: [...a.sh.slice(0, a.sh.length - N), ...extra] };
      }
      const i = ch.pick(a.sh.length);
      const j = ch.pick(extra.length + 1);
      const bsh = [...extra];
      bsh.splice(j, 0, a.sh[i]!);
      const b = g.exact(sub(), bsh);
      return { k: "tdot", axes: [[i], [j]], a, b, sh: [...a.sh.filter((_, x) => x !== i), ...bsh.filter((_, x) => x !== j)] };
    }
    case 9: return ch.bool() ? conv(g, sub) : linalg(g, sub); // (the costliest to check: one slot)
    case 10: { // max / avg pooling over [N, C, ...spatial]
      const nd = 1 + ch.pick(2);
      const lead = [1 + ch.pick(2), 1 + ch.pick(2)];
      const sp = Array.from({ length: nd }, () => pickOf([3, 4, 2]));
      const win = sp.map(() => 1 + ch.pick(3));
      const strides = ch.bool() ? win : sp.map(() => 1 + ch.pick(2));
      const pc = ch.pick(3);
      const padding: ConvPadding = pc === 0 ? "VALID" : pc === 1 ? "SAME" : win.map((k) => [ch.pick(k), ch.pick(k)] as [number, number]);
      const o = windowOut(sp, win, strides, padding, sp.map(() => 1), sp.map(() => 1));
      const a = g.exact(sub(), [...lead, ...sp]);
      if (!o) return a;
      return { k: "pool", kind: ch.bool() ? "avg" : "max", win, strides, padding, a, sh: [...lead, ...o.out] };
    }
    default: { // astype between the float dtypes (the promotion lattice: float32 op float64 is float64)
      const a = sub();
      return { k: "cast", to: ch.bool() ? "float32" : "float64", a, sh: a.sh };
    }
  }
}

/** einsum over one or two operands: repeated labels (diagonals), contractions, explicit or implicit output. */
function einsum(g: ProgramGenerator, sub: () => Expr): Expr {
  const ch = g.ch;
  const a = sub();
  if (a.sh.length > 3) return a;
  const sizeOf = new Map<string, number>();
  const la: string[] = [];
  let next = 0;
  for (const d of a.sh) {
    // reuse an earlier label of the same size (a diagonal) now and then
    const same = la.filter((l) => sizeOf.get(l) === d);
    if (same.length && ch.pick(4) === 3) { la.push(same[ch.pick(same.length)]!); continue; }
    const l = LETTERS[next++]!;
    sizeOf.set(l, d);
    la.push(l);
  }
  const ops: Expr[] = [a];
  const subs = [la.join("")];
  if (ch.bool()) {
    const rank = ch.pick(4);
    const lb: string[] = [];
    for (let i = 0; i < rank; i++) {
      const known = [...sizeOf.keys()];
      if (known.length && ch.pick(3) !== 0) lb.push(known[ch.pick(known.length)]!);
      else { const l = LETTERS[next++]!; sizeOf.set(l, [2, 3, 1][ch.pick(3)]!); lb.push(l); }
    }
    ops.push(g.exact(sub(), lb.map((l) => sizeOf.get(l)!)));
    subs.push(lb.join(""));
  }
  const all = [...new Set(subs.join(""))];
  let out: string[];
  let sub_: string;
  if (ch.pick(3) === 0) {
    // implicit output: the labels used exactly once, in alphabetical order
    out = all.filter((l) => subs.join("").split(l).length === 2).sort();
    sub_ = subs.join(",");
  } else {
    out = all.filter(() => ch.bool());
    for (let i = out.length - 1; i > 0; i--) { const j = ch.pick(i + 1); [out[i], out[j]] = [out[j]!, out[i]!]; }
    sub_ = `${subs.join(",")}->${out.join("")}`;
  }
  return { k: "einsum", sub: sub_, xs: ops, sh: out.map((l) => sizeOf.get(l)!) };
}

function linalg(g: ProgramGenerator, sub: () => Expr): Expr {
  const ch = g.ch;
  const f = LINALG[ch.pick(LINALG.length)]!;
  const batch: Shape = ch.pick(4) === 3 ? [2] : [];
  const n = 1 + ch.pick(4);
  if (f === "norm") {
    const x = sub();
    const r = x.sh.length;
    const ords: (number | string | undefined)[] = r === 1 ? [undefined, 2, 1, Infinity, -Infinity, 3, 0] : r === 2 ? [undefined, "fro", "nuc", 1, -1, Infinity, -Infinity, 2, -2] : [undefined];
    const opt = ords[ch.pick(ords.length)];
    return { k: "linalg", f, ...(opt === undefined ? {} : { opt }), a: x, sh: [] };
  }
  if (f === "svdvals" && ch.bool()) {
    // singular values of a general (possibly rectangular) matrix
    const m = 1 + ch.pick(4);
    const M = g.exact(sub(), [...batch, m, n]);
    return { k: "linalg", f, a: M, sh: [...batch, Math.min(m, n)] };
  }
  if (f === "qr" && ch.bool()) {
    // a tall matrix with full column rank (almost surely): |diag R| are the Gram-Schmidt norms
    const m = n + ch.pick(2);
    const M = g.exact(sub(), [...batch, m, n]);
    return { k: "linalg", f, a: M, sh: [...batch, n] };
  }
  const M = g.exact(sub(), [...batch, n, n]);
  const A: Expr = { k: "spd", a: M, sh: M.sh };
  switch (f) {
    case "det": case "logdet": return { k: "linalg", f, a: A, sh: batch };
    case "solve": {
      const vec = batch.length === 0 && ch.bool();
      const b = g.exact(sub(), vec ? [n] : [...batch, n, 1 + ch.pick(2)]);
      return { k: "linalg", f, a: A, b, sh: b.sh };
    }
    case "inv": case "cholesky": return { k: "linalg", f, a: A, sh: A.sh };
    default: return { k: "linalg", f, a: A, sh: [...batch, n] }; // eigvalsh, eigh (values), svdvals, qr
  }
}

function conv(g: ProgramGenerator, sub: () => Expr): Expr {
  const ch = g.ch;
  const two = ch.bool();
  const nd = two ? 2 : 1 + ch.pick(2);
  const G = ch.pick(3) === 2 ? 2 : 1;
  const N = 1 + ch.pick(2);
  const C = G * (1 + ch.pick(2));
  const O = G * (1 + ch.pick(2));
  const sp = Array.from({ length: nd }, () => [3, 4, 2][ch.pick(3)]!);
  const win = sp.map(() => 1 + ch.pick(3));
  const strides = sp.map(() => 1 + (ch.pick(3) === 2 ? 1 : 0));
  const lhsDil = sp.map(() => 1 + (ch.pick(4) === 3 ? 1 : 0));
  const rhsDil = sp.map(() => 1 + (ch.pick(4) === 3 ? 1 : 0));
  const pc = ch.pick(3);
  const padding: ConvPadding = pc === 0 ? "VALID" : pc === 1 ? "SAME" : sp.map(() => [ch.pick(4) - 1, ch.pick(4) - 1] as [number, number]);
  const o = windowOut(sp, win, strides, padding, lhsDil, rhsDil);
  const a = g.exact(sub(), [N, C, ...sp]);
  if (!o) return a;
  const w = g.exact(sub(), [O, C / G, ...win]);
  return { k: "conv", how: two && ch.bool() ? "conv2d" : "lax", a, w, strides, padding, lhsDil, rhsDil, groups: G, sh: [N, O, ...o.out] };
}
