// Native lowering of control flow: lax.scan, lax.whileLoop and lax.cond/switch become loop,
// while and cond kernels whose nested kernel lists are the sub-Programs lowered (and fused) into
// the same buffer space as the rest of the program: no per-iteration dispatch or allocation.
// A scan iteration i reads its xs slices in place through views offset by i and writes its ys
// slices straight into the stacked results; carries live in buffers that persist across
// iterations. A cond with a literal index is inlined, as are the calls whose meaning is "run
// params.program on the inputs" (jit_call, checkpoint, custom_jvp_call, custom_vjp_call): their
// equations fuse with the caller's. These rules see only the NestedContext (context.ts).
//
// Carry updates are two-phase: every new carry value is first computed into a buffer no carry
// lives in, then all are copied over the carries, so a body that permutes its carries
// ((a, b) -> (b, a)) or reads an old carry after computing a new one stays correct.

import { type Dim, SymDim, dimAdd, dimMul, shapeSize } from "../core/shape.js";
import { type Atom, type Equation, Literal, type Program, type Var } from "../ir/program.js";
import type { CondParams } from "../higher-order/cond.js";
import type { ScanParams } from "../higher-order/scan.js";
import type { WhileParams } from "../higher-order/while.js";
import type { Expr, Kernel } from "./kernel-ir.js";
import type { Lazy, NestedContext } from "./context.js";
import { REUSE_COST, exprCost } from "./rules.js";
import { contiguousStrides, identityMap } from "./views.js";

/** The value of a loop-invariant operand inside a loop body: cheap lazies as they are. */
function invariant(L: NestedContext, a: Atom): Lazy {
  const l = L.lazy(a);
  if (l.kind !== "expr" || exprCost(l.expr) <= REUSE_COST) return l;
  const buf = L.materialize(a as Var); // computed once, before the loop
  return { kind: "buffer", buf, shape: a.aval.shape as Dim[] };
}

/** Slice `index` along axis 0 of a stacked operand, as a view (materializing it first if needed). */
function slice(L: NestedContext, a: Atom, index: SymDim): Lazy {
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

const identity = (v: Atom) => identityMap(v.aval.shape.length);

/** Lowers `sub` (inputs already bound) into a fresh kernel list; `finish` adds the list's last kernels. */
function lowerInto(L: NestedContext, sub: Program, id: number, finish: () => void): Kernel[] {
  L.bindSubProgram(sub);
  return L.collect(() => {
    sub.equations.forEach((se) => L.lowerEquation(se, id));
    finish();
  });
}

/** out[outOffset + ...] = the value of `a` (a kernel appended to the current list). */
function copyInto(L: NestedContext, out: number, a: Atom, outOffset?: Dim): void {
  const shape = a.aval.shape as Dim[];
  L.push({ kind: "map", out, shape, expr: L.readOrMaterialize(a, identity(a), shape.length), eqns: [], ...(outOffset !== undefined ? { outOffset } : {}) });
}

/** Carry buffers (the final-value buffers of `outs`), initialized from `init` before the loop. */
function carryBuffers(L: NestedContext, outs: Var[], init: Atom[]): number[] {
  return outs.map((o, i) => {
    const buf = L.outBuffer(o);
    copyInto(L, buf, init[i]!);
    return buf;
  });
}

/** The two-phase carry update at the end of an iteration (see the file comment). */
function updateCarries(L: NestedContext, carries: number[], carryIn: Var[], carryOut: Atom[], between: () => void): void {
  const next = carryOut.map((a, i): number | null => {
    if (a === carryIn[i]) return null; // unchanged
    const l = a instanceof Literal ? null : L.lazy(a);
    if (l?.kind === "buffer" && !carries.includes(l.buf)) return l.buf;
    const t = L.newTemp(a.aval);
    copyInto(L, t, a);
    return t;
  });
  between();
  next.forEach((src, i) => {
    if (src === null) return;
    const a = carryIn[i]!.aval;
    const shape = a.shape as Dim[];
    L.push({ kind: "map", out: carries[i]!, shape, expr: { k: "load", view: { buf: src, offset: 0, strides: contiguousStrides(shape) }, dtype: a.dtype }, eqns: [] });
  });
}

export function lowerScan(L: NestedContext, e: Equation, id: number): void {
  const p = e.params as ScanParams;
  const body = p.body;
  const nC = p.numConsts;
  const nK = p.numCarry;
  const xs = e.inputs.slice(nC + nK);
  const length: Dim = xs.length ? xs[0]!.aval.shape[0]! : p.length;
  const name = L.freshLoopSymbol();
  const index = SymDim.symbol(name);
  const carries = carryBuffers(L, e.outs.slice(0, nK), e.inputs.slice(nC, nC + nK));
  const stacked = e.outs.slice(nK).map((o) => L.outBuffer(o));
  body.inputs.forEach((v, i) => {
    if (i < nC) L.bind(v, invariant(L, e.inputs[i]!));
    else if (i < nC + nK) L.bind(v, { kind: "buffer", buf: carries[i - nC]!, shape: v.aval.shape as Dim[] });
    else L.bind(v, slice(L, xs[i - nC - nK]!, index));
  });
  const loopBody = lowerInto(L, body, id, () =>
    updateCarries(L, carries, body.inputs.slice(nC, nC + nK), body.outputs.slice(0, nK), () =>
      // ys slices straight into the stacked results, before the carries change
      body.outputs.slice(nK).forEach((a, j) => copyInto(L, stacked[j]!, a, dimMul(index, shapeSize(a.aval.shape)))),
    ),
  );
  L.push({ kind: "loop", index: name, length, reverse: p.reverse, body: loopBody, eqns: [id] });
  e.outs.forEach((o, i) => L.bind(o, { kind: "buffer", buf: i < nK ? carries[i]! : stacked[i - nK]!, shape: o.aval.shape as Dim[] }));
}

export function lowerWhile(L: NestedContext, e: Equation, id: number): void {
  const p = e.params as WhileParams;
  const nCC = p.numCondConsts;
  const nBC = p.numBodyConsts;
  const carryInit = e.inputs.slice(nCC + nBC);
  const carries = carryBuffers(L, e.outs, carryInit);
  const bindCarries = (prog: Program, nConsts: number, consts: Atom[]) =>
    prog.inputs.forEach((v, i) =>
      L.bind(v, i < nConsts ? invariant(L, consts[i]!) : { kind: "buffer", buf: carries[i - nConsts]!, shape: v.aval.shape as Dim[] }),
    );
  bindCarries(p.cond, nCC, e.inputs.slice(0, nCC));
  bindCarries(p.body, nBC, e.inputs.slice(nCC, nCC + nBC));
  const predAtom = p.cond.outputs[0]!;
  const pred = L.newTemp(predAtom.aval);
  const cond = lowerInto(L, p.cond, id, () => copyInto(L, pred, predAtom));
  const body = lowerInto(L, p.body, id, () => updateCarries(L, carries, p.body.inputs.slice(nBC), p.body.outputs, () => {}));
  L.push({ kind: "while", cond, pred, body, eqns: [id] });
  e.outs.forEach((o, i) => L.bind(o, { kind: "buffer", buf: carries[i]!, shape: o.aval.shape as Dim[] }));
}

export function lowerCond(L: NestedContext, e: Equation, id: number): void {
  const { branches } = e.params as CondParams;
  const [index, ...ops] = e.inputs as [Atom, ...Atom[]];
  const operands = ops.map((a) => invariant(L, a));
  const bind = (b: Program) => b.inputs.forEach((v, i) => L.bind(v, operands[i]!));
  if (index instanceof Literal) {
    // a known branch: inline it
    const b = branches[Math.min(Math.max(index.value, 0), branches.length - 1)]!;
    bind(b);
    inline(L, b, e, id);
    return;
  }
  const ib = L.materialize(index);
  const outs = e.outs.map((o) => L.outBuffer(o));
  const lists = branches.map((b) => {
    bind(b);
    return lowerInto(L, b, id, () => b.outputs.forEach((a, j) => copyInto(L, outs[j]!, a)));
  });
  L.push({ kind: "cond", index: ib, branches: lists, eqns: [id] });
  e.outs.forEach((o, i) => L.bind(o, { kind: "buffer", buf: outs[i]!, shape: o.aval.shape as Dim[] }));
}

/** Lowers the equations of `sub` (inputs already bound) in place and binds `e`'s outputs to its outputs. */
function inline(L: NestedContext, sub: Program, e: Equation, id: number): void {
  L.bindSubProgram(sub);
  sub.equations.forEach((se) => L.lowerEquation(se, id));
  e.outs.forEach((o, i) => L.bindInlinedOutput(o, sub.outputs[i]!));
}

/** A call of params.program (jit_call, checkpoint, custom_jvp/vjp_call), inlined; without one, a fallback call. */
export function lowerInlineCall(L: NestedContext, e: Equation, id: number): void {
  const sub = e.params.program as Program | undefined;
  if (!sub) return L.call(e, id);
  sub.inputs.forEach((v, i) => L.bind(v, L.lazy(e.inputs[i]!)));
  inline(L, sub, e, id);
}
