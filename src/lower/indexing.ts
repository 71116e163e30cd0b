// Lowering rules of gather (a fused read at a clamped index along one axis of a materialized
// operand), scatter_add (a scatter kernel: zero the output, then add every update at its
// clamped index) and scatter (min / max / mul: a map kernel copies the operand into the output,
// in place when the operand dies there, then a combining scatter kernel folds the updates in
// order). With mode "raise" the indices first pass an index_check call kernel.

import type { Dim } from "../core/shape.js";
import type { Atom, Equation, Var } from "../ir/program.js";
import { type GatherParams, type IndexCheckParams, type ScatterAddParams, indexCheckP } from "../prims/gather.js";
import type { ScatterParams } from "../prims/scatter.js";
import { type LowerContext, fusedEqns } from "./context.js";
import type { Expr, View } from "./kernel-ir.js";
import { type DimMap, contiguousStrides, identityMap, mapExpr } from "./views.js";

/**
 * The indices of a mode "raise" gather (or scatter_add, its transpose), read back from an
 * index_check call kernel that throws the reference gather's ArgumentError when one is outside
 * [0, size): the fused read's clamping never changes a value eager evaluation would refuse.
 */
function checkedIndex(L: LowerContext, e: Equation, idx: Atom, size: Dim, op: string | undefined, map: DimMap[], rank: number, id: number): Expr {
  const ib = L.materialize(idx as Var);
  const checked = L.newTemp(idx.aval);
  const source = e.source ? String(e.source) : "";
  const params: IndexCheckParams = { size, op: op ?? "gather", ...(source ? { source } : {}) };
  L.push({ kind: "call", prim: indexCheckP, params, ins: [ib], inAvals: [idx.aval], outs: [checked], outAvals: [idx.aval], eqns: [id] });
  const shape = idx.aval.shape as Dim[];
  return mapExpr({ k: "load", view: { buf: checked, offset: 0, strides: contiguousStrides(shape) }, dtype: "int32" }, map, rank)!;
}

/** Index dims are read by the loop dims that replace the gathered axis (batch dims lead). */
const indexMap = (idx: Atom, batchDims: number, axis: number): DimMap[] =>
  idx.aval.shape.map((_, k) => ({ loop: k < batchDims ? k : axis + (k - batchDims), scale: 1, offset: 0 }));

export function gather(L: LowerContext, e: Equation, id: number): void {
  const out = e.outs[0]!;
  const rank = out.aval.shape.length;
  const { axis, batchDims, mode, op } = e.params as GatherParams;
  const [x, idx] = e.inputs as [Atom, Atom];
  const xb = L.materialize(x as Var);
  const xs = x.aval.shape as Dim[];
  const ni = idx.aval.shape.length - batchDims;
  const cs = contiguousStrides(xs);
  // x dims before the axis are loop dims 0..axis-1; after it, they follow the index dims
  const view: View = { buf: xb, offset: 0, strides: new Array<Dim>(rank).fill(0) };
  xs.forEach((_, j) => {
    if (j < axis) view.strides[j] = cs[j]!;
    else if (j > axis) view.strides[axis + ni + (j - axis - 1)] = cs[j]!;
  });
  const idxMap = indexMap(idx, batchDims, axis);
  const index = mode === "raise" ? checkedIndex(L, e, idx, xs[axis]!, op, idxMap, rank, id) : L.readOrMaterialize(idx, idxMap, rank);
  L.defineExpr(out, { k: "gather", view, index, stride: cs[axis]!, size: xs[axis]!, dtype: out.aval.dtype }, fusedEqns(L, [idx], id));
}

export function scatterAdd(L: LowerContext, e: Equation, id: number): void {
  const out = e.outs[0]!;
  const outShape = out.aval.shape as Dim[];
  const { axis, batchDims, size, mode, op } = e.params as ScatterAddParams;
  const [upd, idx] = e.inputs as [Atom, Atom];
  const us = upd.aval.shape as Dim[];
  const ni = idx.aval.shape.length - batchDims;
  const cs = contiguousStrides(outShape);
  const base: View = { buf: -1, offset: 0, strides: new Array<Dim>(us.length).fill(0) };
  outShape.forEach((_, j) => {
    if (j < axis) base.strides[j] = cs[j]!;
    else if (j > axis) base.strides[axis + ni + (j - axis - 1)] = cs[j]!;
  });
  const value = L.readOrMaterialize(upd, identityMap(us.length), us.length);
  const idxMap = indexMap(idx, batchDims, axis);
  const index = mode === "raise" ? checkedIndex(L, e, idx, size, op, idxMap, us.length, id) : L.readOrMaterialize(idx, idxMap, us.length);
  const buf = L.outBuffer(out);
  base.buf = buf;
  L.push({ kind: "scatter", out: buf, shape: us, value, index, base, stride: cs[axis]!, size, eqns: fusedEqns(L, [upd, idx], id) });
  L.bindBuffer(out, buf);
}

/** scatter(x [N], idx [K], upd [K], {mode}): out = x, then out[clamp(idx[k])] = mode(upd[k], out[...]) for k in order. */
export function scatterCombine(L: LowerContext, e: Equation, id: number): void {
  const out = e.outs[0]!;
  const { mode } = e.params as ScatterParams;
  const [x, idx, upd] = e.inputs as [Atom, Atom, Atom];
  const n = x.aval.shape[0]!;
  const k = upd.aval.shape as Dim[];
  const buf = L.outBuffer(out);
  L.push({ kind: "map", out: buf, shape: [n], expr: L.readOrMaterialize(x, identityMap(1), 1), eqns: fusedEqns(L, [x], id) });
  const value = L.readOrMaterialize(upd, identityMap(1), 1);
  const index = L.readOrMaterialize(idx, identityMap(1), 1);
  const base: View = { buf, offset: 0, strides: [0] };
  L.push({ kind: "scatter", out: buf, shape: k, value, index, base, stride: 1, size: n, combine: mode, eqns: fusedEqns(L, [upd, idx], id) });
  L.bindBuffer(out, buf);
}
