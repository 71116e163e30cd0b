// np.einsum (NumPy subscripts: implicit and explicit output, ellipsis, repeated indices for
// diagonals and traces, size-1 broadcasting) and np.tensordot, lowered onto dot_general plus
// reduce_sum / select / transpose, so both are differentiable and batchable through those
// primitives' own rules. Contractions run left to right, as NumPy's einsum with optimize=False.

import { ArgumentError, ShapeError } from "../../core/errors.js";
import { type Dim, dimEq, normalizeAxis, shapeToString } from "../../core/shape.js";
import type { Tensor } from "../../core/tensor.js";
import { dotGeneral } from "../../prims/dot.js";
import { reduceSum } from "../../prims/reduce.js";
import { broadcastInDim, reshape, transpose } from "../../prims/shape.js";
import { compare, select } from "../../prims/compare.js";
import { arange } from "./creation.js";
import { promote, scalarTensor } from "./coerce.js";

type X = Tensor | number;
/** A label: a letter's char code, or ELL + k for the k-th (left-aligned) ellipsis dimension. */
type Label = number;
const ELL = 1000;

interface Term {
  labels: Label[];
  hasEllipsis: boolean;
}

function parseTerm(s: string, ndim: number | null, ellRank: number, where: string): Term {
  const t = s.replace(/\s+/g, "");
  const parts = t.split("...");
  if (parts.length > 2) throw new ArgumentError(`einsum: ${where} "${s}" has more than one ellipsis`);
  for (const ch of parts.join("")) {
    if (!/[a-zA-Z]/.test(ch)) throw new ArgumentError(`einsum: invalid subscript '${ch}' in ${where} "${s}" (use letters a-z, A-Z and '...')`);
  }
  const letters = parts.join("").length;
  const codes = (p: string) => [...p].map((c) => c.charCodeAt(0));
  if (parts.length === 1) {
    if (ndim !== null && letters !== ndim) {
      throw new ShapeError(`einsum: ${where} "${s}" has ${letters} subscripts for an operand of rank ${ndim}`);
    }
    return { labels: codes(t), hasEllipsis: false };
  }
  const e = ndim === null ? ellRank : ndim - letters;
  if (e < 0) throw new ShapeError(`einsum: ${where} "${s}" has ${letters} subscripts for an operand of rank ${ndim}`);
  const ell = Array.from({ length: e }, (_, k) => ELL + ellRank - e + k);
  return { labels: [...codes(parts[0]!), ...ell, ...codes(parts[1]!)], hasEllipsis: true };
}

const labelName = (l: Label) => (l >= ELL ? `...[${l - ELL}]` : String.fromCharCode(l));

/** Takes the diagonal over every label repeated within one operand (e.g. "ii" -> "i"). */
function diagonals(x: Tensor, labels: Label[]): [Tensor, Label[]] {
  for (;;) {
    const i = labels.findIndex((l, k) => labels.indexOf(l) !== k);
    if (i < 0) return [x, labels];
    const a = labels.indexOf(labels[i]!);
    const n = x.aval.shape[a]!;
    if (!dimEq(n, x.aval.shape[i]!)) {
      throw new ShapeError(`einsum: repeated subscript '${labelName(labels[a]!)}' has sizes ${n} and ${x.aval.shape[i]} in ${x.aval}`);
    }
    const io = arange(0, n as number, 1, { dtype: "int32" });
    const eq = compare(broadcastInDim(io, [n, n], [0]), broadcastInDim(io, [n, n], [1]), "eq");
    const mask = broadcastInDim(eq, x.aval.shape, [a, i]);
    const zero = broadcastInDim(scalarTensor(0, x.aval.dtype), x.aval.shape, []);
    x = reduceSum(select(mask, x, zero), [i]);
    labels = labels.filter((_, k) => k !== i);
  }
}

/** NumPy's einsum. */
export function einsum(subscripts: string, ...operands: X[]): Tensor {
  if (typeof subscripts !== "string") throw new ArgumentError("einsum: the first argument must be a subscripts string such as \"ij,jk->ik\"");
  if (operands.length === 0) throw new ArgumentError("einsum: at least one operand is needed");
  const xs = promote("einsum", operands, "int");
  const arrow = subscripts.indexOf("->");
  const lhs = arrow < 0 ? subscripts : subscripts.slice(0, arrow);
  const inputs = lhs.split(",");
  if (inputs.length !== xs.length) {
    throw new ArgumentError(`einsum: "${subscripts}" names ${inputs.length} operands but ${xs.length} were given`);
  }
  const ellRank = Math.max(0, ...inputs.map((s, k) => (s.includes("...") ? xs[k]!.aval.ndim - s.replace(/\s+|\.\.\./g, "").length : 0)));
  const terms = inputs.map((s, k) => parseTerm(s, xs[k]!.aval.ndim, ellRank, `operand ${k} subscripts`));
  let out: Label[];
  if (arrow >= 0) {
    const o = parseTerm(subscripts.slice(arrow + 2), null, ellRank, "output subscripts");
    out = o.labels;
    if (!o.hasEllipsis && ellRank > 0) {
      throw new ShapeError(`einsum: "${subscripts}": the operands have ellipsis dimensions but the output has no '...'`);
    }
    const dup = out.find((l, k) => out.indexOf(l) !== k);
    if (dup !== undefined) throw new ArgumentError(`einsum: output subscript '${labelName(dup)}' appears more than once in "${subscripts}"`);
    for (const l of out) {
      if (!terms.some((t) => t.labels.includes(l))) throw new ArgumentError(`einsum: output subscript '${labelName(l)}' does not appear in any operand of "${subscripts}"`);
    }
  } else {
    const counts = new Map<Label, number>();
    for (const t of terms) for (const l of t.labels) if (l < ELL) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts].filter(([, c]) => c === 1).map(([l]) => l).sort((a, b) => a - b);
    out = [...Array.from({ length: ellRank }, (_, k) => ELL + k), ...once];
  }
  // sizes: equal, or 1 (broadcast, as NumPy)
  const size = new Map<Label, Dim>();
  terms.forEach((t, k) => {
    t.labels.forEach((l, a) => {
      const d = xs[k]!.aval.shape[a]!;
      const s = size.get(l);
      if (s === undefined || s === 1) size.set(l, d);
      else if (d !== 1 && !dimEq(s, d)) {
        throw new ShapeError(`einsum: subscript '${labelName(l)}' has incompatible sizes ${s} and ${d} (operands ${xs.map((x) => shapeToString(x.aval.shape)).join(", ")})`);
      }
    });
  });
  // per operand: diagonals, drop broadcast size-1 axes, sum out labels used nowhere else
  const ops: [Tensor, Label[]][] = xs.map((x, k) => {
    let [y, ls] = diagonals(x, terms[k]!.labels);
    const squeeze = ls.map((l, a) => y.aval.shape[a] === 1 && size.get(l) !== 1);
    if (squeeze.some(Boolean)) {
      ls = ls.filter((_, a) => !squeeze[a]);
      y = reshape(y, y.aval.shape.filter((_, a) => !squeeze[a]));
    }
    const usedElsewhere = (l: Label) => out.includes(l) || terms.some((t, j) => j !== k && t.labels.includes(l));
    const lone = ls.map((l, a) => (usedElsewhere(l) ? -1 : a)).filter((a) => a >= 0);
    if (lone.length) {
      y = reduceSum(y, lone);
      ls = ls.filter((_, a) => !lone.includes(a));
    }
    return [y, ls];
  });
  let [acc, accL] = ops[0]!;
  for (let k = 1; k < ops.length; k++) {
    const [y, yl] = ops[k]!;
    const later = new Set([...out, ...ops.slice(k + 1).flatMap(([, l]) => l)]);
    const shared = accL.filter((l) => yl.includes(l));
    const batch = shared.filter((l) => later.has(l));
    const contract = shared.filter((l) => !later.has(l));
    acc = dotGeneral(acc, y, {
      lhsBatch: batch.map((l) => accL.indexOf(l)),
      rhsBatch: batch.map((l) => yl.indexOf(l)),
      lhsContract: contract.map((l) => accL.indexOf(l)),
      rhsContract: contract.map((l) => yl.indexOf(l)),
    });
    accL = [...batch, ...accL.filter((l) => !shared.includes(l)), ...yl.filter((l) => !shared.includes(l))];
  }
  const extra = accL.map((l, a) => (out.includes(l) ? -1 : a)).filter((a) => a >= 0);
  if (extra.length) {
    acc = reduceSum(acc, extra);
    accL = accL.filter((_, a) => !extra.includes(a));
  }
  const present = out.filter((l) => accL.includes(l));
  const perm = present.map((l) => accL.indexOf(l));
  if (!perm.every((p, i) => p === i)) acc = transpose(acc, perm);
  if (present.length < out.length) {
    // an output label whose every occurrence had size 1 and was squeezed: broadcast it back
    return broadcastInDim(acc, out.map((l) => size.get(l)!), present.map((l) => out.indexOf(l)));
  }
  return acc;
}

/** NumPy's tensordot: axes = N (last N of a with first N of b) or [axesA, axesB]. */
export function tensordot(x: X, y: X, axes: number | readonly [number | readonly number[], number | readonly number[]] = 2): Tensor {
  const [a, b] = promote("tensordot", [x, y], "int") as [Tensor, Tensor];
  const na = a.aval.ndim;
  const nb = b.aval.ndim;
  let ca: number[];
  let cb: number[];
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > na || axes > nb) {
      throw new ArgumentError(`tensordot: axes=${axes} must be an integer between 0 and the operands' ranks (${a.aval} and ${b.aval})`);
    }
    ca = Array.from({ length: axes }, (_, i) => na - axes + i);
    cb = Array.from({ length: axes }, (_, i) => i);
  } else if (Array.isArray(axes) && axes.length === 2) {
    const list = (v: number | readonly number[]) => (typeof v === "number" ? [v] : [...v]);
    ca = list(axes[0]!);
    cb = list(axes[1]!);
    if (ca.length !== cb.length) throw new ArgumentError(`tensordot: axes lists [${ca}] and [${cb}] have different lengths`);
  } else {
    throw new ArgumentError("tensordot: axes must be an integer or a pair [axesOfA, axesOfB]");
  }
  const norm = (list: number[], n: number, t: Tensor) =>
    list.map((v) => {
      const k = Number.isInteger(v) ? normalizeAxis(v, n) : -1;
      if (k < 0) throw new ShapeError(`tensordot: axis ${v} is out of range for ${t.aval}`);
      return k;
    });
  ca = norm(ca, na, a);
  cb = norm(cb, nb, b);
  ca.forEach((p, i) => {
    if (!dimEq(a.aval.shape[p]!, b.aval.shape[cb[i]!]!)) {
      throw new ShapeError(`tensordot: shape mismatch for sum: axis ${p} of ${a.aval} has size ${a.aval.shape[p]} but axis ${cb[i]} of ${b.aval} has size ${b.aval.shape[cb[i]!]}`);
    }
  });
  return dotGeneral(a, b, { lhsContract: ca, rhsContract: cb, lhsBatch: [], rhsBatch: [] });
}
