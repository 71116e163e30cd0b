// Lowering rule of dot_general: a dot kernel (batched matrix product) over strided views of its
// operands. An operand whose batch / free / contracted dims can be merged in place is read
// through its view (a transpose feeding a product costs nothing); any other is materialized in
// the needed order first. Batch dims that do not merge into one stride (attention's [B, H] read
// through a transpose of [B, T, H, d]) keep one stride each (DotKernel.batch) instead of a copy.

import { ShapedArray } from "../core/aval.js";
import { type Dim, dimEq, dimMul, shapeSize } from "../core/shape.js";
import type { Atom, Equation } from "../ir/program.js";
import type { DotParams } from "../prims/dot.js";
import type { LowerContext } from "./context.js";
import type { View } from "./kernel-ir.js";
import { type DimMap, contiguousStrides } from "./views.js";

export function dotGeneral(L: LowerContext, e: Equation, id: number): void {
  const p = e.params as DotParams;
  const [x, y] = e.inputs as [Atom, Atom];
  const xs = x.aval.shape as Dim[];
  const ys = y.aval.shape as Dim[];
  const xFree = xs.map((_, i) => i).filter((i) => !p.lhsContract.includes(i) && !p.lhsBatch.includes(i));
  const yFree = ys.map((_, i) => i).filter((i) => !p.rhsContract.includes(i) && !p.rhsBatch.includes(i));
  const size = (s: Dim[], d: number[]): Dim => shapeSize(d.map((i) => s[i]!));
  const fusedEqns: number[] = [];
  const materialize = (a: Atom, groups: number[][]): View => {
    const order = groups.flat();
    const shape = a.aval.shape as Dim[];
    const map: DimMap[] = new Array(shape.length);
    order.forEach((d, pos) => (map[d] = { loop: pos, scale: 1, offset: 0 }));
    const permShape = order.map((d) => shape[d]!);
    const expr = L.readOrMaterialize(a, map, shape.length);
    const buf = L.newTemp(new ShapedArray(permShape, a.aval.dtype));
    L.push({ kind: "map", out: buf, shape: permShape, expr, eqns: L.eqnsOf(a) });
    const cs = contiguousStrides(permShape);
    const strides: Dim[] = groups.map((g, gi) => {
      const lastPos = groups.slice(0, gi + 1).flat().length - 1;
      return g.length ? cs[lastPos]! : 0;
    });
    return { buf, offset: 0, strides };
  };
  const inPlace = (a: Atom, groups: number[][]): View | null => {
    const v = L.groupedView(a, groups);
    if (v) fusedEqns.push(...L.eqnsOf(a)); // data movement read through strides
    return v;
  };
  const xGroups = [p.lhsBatch, xFree, p.lhsContract];
  const yGroups = [p.rhsBatch, p.rhsContract, yFree];
  let lhs = L.groupedView(x, xGroups);
  let rhs = L.groupedView(y, yGroups);
  let batch: Dim[] | undefined;
  if (lhs && rhs) {
    lhs = inPlace(x, xGroups)!;
    rhs = inPlace(y, yGroups)!;
  } else if (p.lhsBatch.length > 1) {
    // one stride per batch dim (materializing only an operand whose free/contracted dims do not merge)
    const one = (g: number[]) => g.map((d) => [d]);
    const xg = [...one(p.lhsBatch), xFree, p.lhsContract];
    const yg = [...one(p.rhsBatch), p.rhsContract, yFree];
    const lv = inPlace(x, xg) ?? materialize(x, xg);
    const rv = inPlace(y, yg) ?? materialize(y, yg);
    const merged = mergeBatchDims(p.lhsBatch.map((d) => xs[d]!), lv, rv);
    [lhs, rhs, batch] = [merged.lhs, merged.rhs, merged.batch.length > 1 ? merged.batch : undefined];
  } else {
    lhs = inPlace(x, xGroups) ?? materialize(x, xGroups);
    rhs = inPlace(y, yGroups) ?? materialize(y, yGroups);
  }
  const out = e.outs[0]!;
  const buf = L.outBuffer(out);
  L.push({
    kind: "dot",
    out: buf,
    B: size(xs, p.lhsBatch),
    ...(batch ? { batch } : {}),
    M: size(xs, xFree),
    N: size(ys, yFree),
    K: size(xs, p.lhsContract),
    dtype: out.aval.dtype,
    lhs,
    rhs,
    eqns: [...fusedEqns, id],
  });
  L.bindBuffer(out, buf);
}

/**
 * Views with one stride per batch dim (then the two matrix strides), with adjacent batch dims
 * merged where both operands allow it (the output is contiguous, so it always does) and size-1
 * dims dropped: one batch dim left is the plain [B, M, K] form.
 */
function mergeBatchDims(shape: Dim[], lhs: View, rhs: View): { batch: Dim[]; lhs: View; rhs: View } {
  const nb = shape.length;
  const batch: Dim[] = [];
  const ls: Dim[] = [];
  const rs: Dim[] = [];
  for (let i = 0; i < nb; i++) {
    if (shape[i] === 1) continue;
    const j = batch.length - 1;
    // dim i continues the previous one when stride[prev] = stride[i] * size[i] for both
    if (j >= 0 && dimEq(ls[j]!, dimMul(lhs.strides[i]!, shape[i]!)) && dimEq(rs[j]!, dimMul(rhs.strides[i]!, shape[i]!))) {
      batch[j] = dimMul(batch[j]!, shape[i]!);
      ls[j] = lhs.strides[i]!;
      rs[j] = rhs.strides[i]!;
      continue;
    }
    batch.push(shape[i]!);
    ls.push(lhs.strides[i]!);
    rs.push(rhs.strides[i]!);
  }
  if (batch.length === 0) batch.push(1), ls.push(0), rs.push(0);
  const tail = (v: View) => v.strides.slice(nb);
  return { batch, lhs: { ...lhs, strides: [...ls, ...tail(lhs)] }, rhs: { ...rhs, strides: [...rs, ...tail(rhs)] } };
}
