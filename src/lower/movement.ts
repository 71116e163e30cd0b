// Lowering rules of data movement (reshape, transpose, broadcast_in_dim, slice, rev,
// concatenate; pad is pad.ts) and dim_value. None of them is a kernel: each re-indexes its
// operand through a DimMap (or a guard per concatenated part), so it fuses into whatever reads
// it. A reshape of a buffer (or of a flat-affine expression) is free; any other reshape
// materializes its operand first.

import type { Dim } from "../core/shape.js";
import { dimAdd, dimMul } from "../core/shape.js";
import type { Equation, Var } from "../ir/program.js";
import type { PadParams } from "../prims/shape.js";
import { type LowerContext, fusedEqns } from "./context.js";
import type { Expr } from "./kernel-ir.js";
import { padExpr } from "./pad.js";
import { REUSE_COST, exprCost } from "./rules.js";
import { type DimMap, isFlatAffine, reshapeExpr } from "./views.js";

type Rule = (L: LowerContext, e: Equation, id: number) => void;

const outShapeOf = (e: Equation) => e.outs[0]!.aval.shape as Dim[];

/** out = the operand read through `map` over the output's loop space. */
function remap(L: LowerContext, e: Equation, id: number, map: DimMap[]): void {
  const rank = outShapeOf(e).length;
  L.defineExpr(e.outs[0]!, L.readOrMaterialize(e.inputs[0]!, map, rank), fusedEqns(L, [e.inputs[0]!], id));
}

export const dimValue: Rule = (L, e, id) => {
  const out = e.outs[0]!;
  L.defineExpr(out, { k: "dim", dim: e.params.dim as Dim, dtype: out.aval.dtype }, [id]);
};

export const reshape: Rule = (L, e, id) => {
  const out = e.outs[0]!;
  const outShape = outShapeOf(e);
  const src = e.inputs[0]!;
  const l = L.lazy(src);
  if (l.kind === "buffer") {
    L.bind(out, { kind: "buffer", buf: l.buf, shape: outShape });
    if (L.isOutput(out)) L.materialize(out);
    return;
  }
  if (l.kind === "expr" && isFlatAffine(l.expr, l.shape)) {
    L.defineExpr(out, reshapeExpr(l.expr, l.shape, outShape), fusedEqns(L, [src], id));
    return;
  }
  const b = L.materialize(src as Var);
  L.bind(out, { kind: "buffer", buf: b, shape: outShape });
  if (L.isOutput(out)) L.materialize(out);
};

export const transpose: Rule = (L, e, id) => {
  const perm = e.params.perm as number[];
  // input dim perm[i] is read by loop dim i
  const map: DimMap[] = new Array(perm.length);
  perm.forEach((p, i) => (map[p] = { loop: i, scale: 1, offset: 0 }));
  remap(L, e, id, map);
};

export const broadcastInDim: Rule = (L, e, id) => {
  const dims = e.params.dims as number[];
  const outShape = outShapeOf(e);
  const x = e.inputs[0]!;
  const inShape = x.aval.shape as Dim[];
  // An expanding broadcast reads each element of its operand several times: like a value used
  // several times, a costly expression is computed once into a buffer rather than per read (the
  // col2im of a convolution's input gradient, broadcast over a max-pool window by its mask).
  const l = L.lazy(x);
  const expands = outShape.some((n, d) => n !== 1 && (!dims.includes(d) || inShape[dims.indexOf(d)] === 1));
  if (l.kind === "expr" && expands && exprCost(l.expr) > REUSE_COST) L.materialize(x as Var);
  const map: DimMap[] = dims.map((d, j) =>
    inShape[j] === 1 && outShape[d] !== 1 ? { loop: -1, offset: 0 } : { loop: d, scale: 1, offset: 0 },
  );
  remap(L, e, id, map);
};

export const slice: Rule = (L, e, id) => {
  const { start, strides } = e.params as { start: number[]; strides: number[] };
  remap(L, e, id, start.map((s, i) => ({ loop: i, scale: strides[i]!, offset: s })));
};

export const rev: Rule = (L, e, id) => {
  const axes = e.params.axes as number[];
  const map: DimMap[] = outShapeOf(e).map((d, i) => (axes.includes(i) ? { loop: i, scale: -1, offset: dimAdd(d, -1) } : { loop: i, scale: 1, offset: 0 }));
  remap(L, e, id, map);
};

export const pad: Rule = (L, e, id) => {
  const eqns = fusedEqns(L, [e.inputs[0]!], id);
  L.defineExpr(e.outs[0]!, padExpr(L, e.inputs[0]!, e.params as PadParams, eqns), fusedEqns(L, [e.inputs[0]!], id));
};

/** A guard per part along the axis: each output index reads the one part that holds it. */
export const concatenate: Rule = (L, e, id) => {
  const out = e.outs[0]!;
  const outShape = outShapeOf(e);
  const rank = outShape.length;
  const axis = e.params.axis as number;
  // offsets along the axis are Dims: parts may be symbolic there (concatenation along B)
  const parts: { expr: Expr; lo: Dim; hi: Dim }[] = [];
  let off: Dim = 0;
  for (const a of e.inputs) {
    const n = a.aval.shape[axis]!;
    const map: DimMap[] = outShape.map((_, i) => ({ loop: i, scale: 1, offset: i === axis ? dimMul(-1, off) : 0 }));
    parts.push({ expr: L.readOrMaterialize(a, map, rank), lo: off, hi: dimAdd(off, n) });
    off = dimAdd(off, n);
  }
  let expr = parts[parts.length - 1]!.expr;
  for (let k = parts.length - 2; k >= 0; k--) {
    const p = parts[k]!;
    expr = { k: "guard", dim: axis, lo: p.lo, hi: p.hi, body: p.expr, other: expr, dtype: out.aval.dtype };
  }
  L.defineExpr(out, expr, fusedEqns(L, e.inputs, id));
};
