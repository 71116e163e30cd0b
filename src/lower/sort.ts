// Lowering rule of sort (prims/sort.ts) for short rows, as three native kernels instead of the
// fallback call: the stable rank of every element (a reduce kernel counting, per element i, the
// elements j of its row that sort before it: a smaller key, or an equal key and j < i; NaN
// sorts last ascending, first descending; -0 equals 0), the permutation (a scatter kernel
// writing i at position rank(i); ranks of a row are a permutation, so every slot is written once)
// and the values (a fused gather of the operand at the permutation, so -0 and NaN keep their
// bits). This is the reference's order exactly. It costs n^2 comparisons per row, so rows longer
// than SORT_RANK_MAX_ROW keep the call kernel (a merge sort kernel is what would lift that).

import type { Dim } from "../core/shape.js";
import type { Equation, Var } from "../ir/program.js";
import type { SortParams } from "../prims/sort.js";
import { type LowerContext, fusedEqns } from "./context.js";
import type { Expr, View } from "./kernel-ir.js";
import { contiguousStrides } from "./views.js";

/** Rows up to this length sort by ranks (n^2 comparisons per row); longer ones call the reference. */
export const SORT_RANK_MAX_ROW = 256;

const op = (name: string, args: Expr[], dtype: Expr["dtype"] = "bool"): Expr => ({ k: "op", op: name, args, dtype });

export function sortByRank(L: LowerContext, e: Equation, id: number): void {
  const { descending, n } = e.params as SortParams;
  if (n > SORT_RANK_MAX_ROW) return L.call(e, id);
  const [x] = e.inputs as [Var];
  const [vals, perm] = e.outs as [Var, Var];
  const shape = x.aval.shape as Dim[];
  const r = shape.length;
  const dt = x.aval.dtype;
  const xb = L.materialize(x);
  const cs = contiguousStrides(shape);
  // loop space of the ranks: [...leading dims, i, j]
  const lead = cs.slice(0, r - 1);
  const xi: Expr = { k: "load", view: { buf: xb, offset: 0, strides: [...cs, 0] }, dtype: dt };
  const xj: Expr = { k: "load", view: { buf: xb, offset: 0, strides: [...lead, 0, 1] }, dtype: dt };
  const ni = op("cmp:ne", [xi, xi]), nj = op("cmp:ne", [xj, xj]);
  // j's key before i's: ascending a smaller number or i NaN and j not; descending mirrored
  const smaller = descending ? op("logical:or", [op("cmp:gt", [xj, xi]), op("cmp:gt", [nj, ni])]) : op("logical:or", [op("cmp:lt", [xj, xi]), op("cmp:gt", [ni, nj])]);
  const tie = op("logical:or", [op("cmp:eq", [xj, xi]), op("logical:and", [nj, ni])]);
  const earlier = op("cmp:lt", [{ k: "index", dim: r, dtype: "int32" }, { k: "index", dim: r - 1, dtype: "int32" }]);
  const before = op("logical:or", [smaller, op("logical:and", [tie, earlier])]);
  const rank = L.newTemp(perm.aval);
  const eqns = fusedEqns(L, [x], id);
  L.push({ kind: "reduce", out: rank, outShape: shape, redShape: [n], op: "sum", expr: op("convert:int32", [before], "int32"), eqns });
  // perm[row, rank(i)] = i
  const pb = L.outBuffer(perm);
  const contiguous: View = { buf: rank, offset: 0, strides: cs };
  const base: View = { buf: pb, offset: 0, strides: [...lead, 0] };
  L.push({ kind: "scatter", out: pb, shape, value: { k: "index", dim: r - 1, dtype: "int32" }, index: { k: "load", view: contiguous, dtype: "int32" }, base, stride: 1, size: n, eqns: [id] });
  L.bindBuffer(perm, pb);
  // values[row, p] = x[row, perm[row, p]]
  const index: Expr = { k: "load", view: { buf: pb, offset: 0, strides: cs }, dtype: "int32" };
  L.defineExpr(vals, { k: "gather", view: { buf: xb, offset: 0, strides: [...lead, 0] }, index, stride: 1, size: n, dtype: dt }, [id]);
}
