// Native lowering of lax.scan: the scan becomes one loop kernel whose body is the scan's body
// Program lowered (and fused) into the same buffer space as the rest of the program. Iteration i
// reads its xs slices in place through views offset by i, writes its ys slices straight into the
// stacked results, and keeps the carries in buffers that live across iterations: no per-iteration
// dispatch, allocation or copying of slices.
//
// Carry updates are two-phase: every new carry value is first computed into a buffer no carry
// lives in, then all are copied over the carries, so a body that permutes its carries
// ((a, b) -> (b, a)) or reads an old carry after computing a new one stays correct.

import { type Dim, SymDim, dimAdd, dimMul, shapeSize } from "../core/shape.js";
import { type Atom, type Equation, Literal, type Var } from "../ir/program.js";
import type { ScanParams } from "../prims/scan.js";
import type { Expr, Kernel } from "./kernel-ir.js";
import type { Lazy, Lowerer } from "./fuse.js";
import { REUSE_COST, contiguousStrides, exprCost, identityMap } from "./views.js";

/** The value of a loop-invariant operand inside a loop body: cheap lazies as they are. */
function invariant(L: Lowerer, a: Atom): Lazy {
  const l = L.lazy(a);
  if (l.kind !== "expr" || exprCost(l.expr) <= REUSE_COST) return l;
  const buf = L.materialize(a as Var); // computed once, before the loop
  return { kind: "buffer", buf, shape: a.aval.shape as Dim[] };
}

/** Slice `index` along axis 0 of a stacked operand, as a view (materializing it first if needed). */
function slice(L: Lowerer, a: Atom, index: SymDim): Lazy {
  const full = a.aval.shape as Dim[];
  const shape = full.slice(1);
  let l = L.lazy(a);
  if (l.kind === "literal" || (l.kind === "expr" && l.expr.k !== "load")) {
    l = { kind: "buffer", buf: L.materialize(a as Var), shape: full };
  }
  const dtype = a.aval.dtype;
  if (l.kind === "buffer") {
    const strides = contiguousStrides(full);
    return { kind: "expr", shape, expr: { k: "load", view: { buf: l.buf, offset: dimMul(index, strides[0]!), strides: strides.slice(1) }, dtype }, eqns: [] };
  }
  const v = (l.expr as Extract<Expr, { k: "load" }>).view;
  const view = { buf: v.buf, offset: dimAdd(v.offset, dimMul(index, v.strides[0]!)), strides: v.strides.slice(1) };
  return { kind: "expr", shape, expr: { k: "load", view, dtype }, eqns: l.eqns };
}

export function lowerScan(L: Lowerer, e: Equation, id: number): void {
  const p = e.params as ScanParams;
  const body = p.body;
  const nC = p.numConsts;
  const nK = p.numCarry;
  const xs = e.inputs.slice(nC + nK);
  const length: Dim = xs.length ? xs[0]!.aval.shape[0]! : p.length;
  const name = L.freshLoopSymbol();
  const index = SymDim.symbol(name);
  const full = (v: Atom) => identityMap(v.aval.shape.length);

  // carries live in the scan's final-carry buffers, initialized before the loop
  const carries = e.outs.slice(0, nK).map((o, i) => {
    const buf = L.outBuffer(o);
    const init = e.inputs[nC + i]!;
    L.kernels.push({ kind: "map", out: buf, shape: o.aval.shape as Dim[], expr: L.readOrMaterialize(init, full(init), init.aval.shape.length), eqns: [] });
    return buf;
  });
  const stacked = e.outs.slice(nK).map((o) => L.outBuffer(o));

  body.inputs.forEach((v, i) => {
    if (i < nC) L.env.set(v, invariant(L, e.inputs[i]!));
    else if (i < nC + nK) L.env.set(v, { kind: "buffer", buf: carries[i - nC]!, shape: v.aval.shape as Dim[] });
    else L.env.set(v, slice(L, xs[i - nC - nK]!, index));
  });
  L.bindSubProgram(body);

  const outer = L.kernels;
  L.kernels = [];
  body.equations.forEach((se) => L.lowerEquation(se, id));
  const emit = (k: Kernel) => L.kernels.push(k);
  const copy = (out: number, a: Atom, outOffset?: Dim) => {
    const shape = a.aval.shape as Dim[];
    emit({ kind: "map", out, shape, expr: L.readOrMaterialize(a, full(a), shape.length), eqns: [], ...(outOffset !== undefined ? { outOffset } : {}) });
  };
  // phase 1: new carry values into buffers no carry lives in
  const next = body.outputs.slice(0, nK).map((a, i): number | null => {
    if (a === body.inputs[nC + i]) return null; // unchanged
    const l = a instanceof Literal ? null : L.lazy(a);
    if (l?.kind === "buffer" && !carries.includes(l.buf)) return l.buf;
    const t = L.newBuffer("temp", a.aval);
    copy(t, a);
    return t;
  });
  // ys slices straight into the stacked results (before the carries change)
  body.outputs.slice(nK).forEach((a, j) => copy(stacked[j]!, a, dimMul(index, shapeSize(a.aval.shape))));
  // phase 2: the carries of the next iteration
  next.forEach((src, i) => {
    if (src === null) return;
    const shape = e.outs[i]!.aval.shape as Dim[];
    emit({ kind: "map", out: carries[i]!, shape, expr: { k: "load", view: { buf: src, offset: 0, strides: contiguousStrides(shape) }, dtype: e.outs[i]!.aval.dtype }, eqns: [] });
  });
  const loopBody = L.kernels;
  L.kernels = outer;
  L.kernels.push({ kind: "loop", index: name, length, reverse: p.reverse, body: loopBody, eqns: [id] });
  e.outs.forEach((o, i) => L.env.set(o, { kind: "buffer", buf: i < nK ? carries[i]! : stacked[i - nK]!, shape: o.aval.shape as Dim[] }));
}
