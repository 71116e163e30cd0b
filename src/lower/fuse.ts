// Lowering Program -> kernel IR, with fusion. Elementwise and data-movement equations do not
// become kernels of their own: they build lazy scalar expressions (reading buffers through
// strided views) that are inlined into whichever kernel consumes them. A value is materialized
// into a buffer only when it is a program output, a non-fusible operand (matmul, fallback call),
// or used several times and too costly to recompute. What each primitive lowers to is its row in
// the rule table (rules.ts); this file holds the lowerer's state (buffers, kernels, the lazy
// value of every variable) behind the interfaces the rules see (context.ts).

import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { type Dim, dimEq, dimMul, shapeSize } from "../core/shape.js";
import { InternalError } from "../core/errors.js";
import { profiled } from "../core/profile.js";
import { type Atom, type Equation, Literal, type Program, type Var } from "../ir/program.js";
import type { PrimName } from "../prims/names.js";
import type { Buffer, BufferKind, CallKernel, Expr, Kernel, LoweredProgram, OutputSource, View } from "./kernel-ir.js";
import type { Lazy, NestedContext } from "./context.js";
import { LOWER_RULES, type LowerRule, MAX_EXPR_COST, REUSE_COST, exprCost, lowerElementwise } from "./rules.js";
import { type DimMap, contiguousStrides, identityMap, isIdentityMap, mapExpr } from "./views.js";
import { verifyLowered, verifyLoweredEnabled } from "./verify.js";

export function lowerProgram(p: Program): LoweredProgram {
  const lp = profiled("lower", () => new Lowerer(p).run());
  if (verifyLoweredEnabled()) profiled("verify", () => verifyLowered(lp));
  return lp;
}

export class Lowerer implements NestedContext {
  private readonly buffers: Buffer[] = [];
  /** where kernels go: the program's list, or a nested list while `collect` runs */
  private kernels: Kernel[] = [];
  private readonly env = new Map<Var, Lazy>();
  private readonly uses = new Map<Var, number>();
  private readonly outputVars: Set<Var>;
  /** buffers already allocated for program outputs */
  private readonly outputBuf = new Map<Var, number>();
  /** constants of inlined sub-programs */
  private readonly constExtra: { buf: number; value: Tensor }[] = [];
  private nOut = 0;
  private nLoops = 0;
  /** symbols of the program's input shapes (loop index names must differ) */
  readonly symbols: string[];

  constructor(readonly p: Program) {
    this.outputVars = new Set(p.outputs.filter((a): a is Var => !(a instanceof Literal)));
    this.symbols = [...new Set(p.inputs.flatMap((v) => v.aval.shape.flatMap((d) => (typeof d === "number" ? [] : d.symbols()))))].sort();
  }

  /** A fresh name for a loop index (a symbolic dimension inside the loop body). */
  freshLoopSymbol(): string {
    let name: string;
    do name = `__loop${this.nLoops++}`;
    while (this.symbols.includes(name));
    return name;
  }

  /** Gives an inlined sub-program's constants buffers and counts its uses of values. */
  bindSubProgram(sub: Program): void {
    sub.consts.forEach((v, i) => {
      const b = this.newBuffer("const", v.aval, -1);
      this.constExtra.push({ buf: b, value: sub.constValues[i]! });
      this.env.set(v, { kind: "buffer", buf: b, shape: v.aval.shape as Dim[] });
    });
    for (const se of sub.equations) for (const a of se.inputs) if (!(a instanceof Literal)) this.uses.set(a, (this.uses.get(a) ?? 0) + 1);
    for (const a of sub.outputs) if (!(a instanceof Literal)) this.uses.set(a, (this.uses.get(a) ?? 0) + 1);
  }

  newBuffer(kind: BufferKind, a: ShapedArray, index = -1): number {
    const id = this.buffers.length;
    this.buffers.push({ id, kind, dtype: a.dtype, size: shapeSize(a.shape), index });
    return id;
  }

  run(): LoweredProgram {
    const p = this.p;
    const countUses = (prog: Program) => {
      for (const e of prog.equations) for (const a of e.inputs) if (!(a instanceof Literal)) this.uses.set(a, (this.uses.get(a) ?? 0) + 1);
      for (const a of prog.outputs) if (!(a instanceof Literal)) this.uses.set(a, (this.uses.get(a) ?? 0) + 1);
    };
    countUses(p);
    const inputs = p.inputs.map((v, i) => {
      const b = this.newBuffer("input", v.aval, i);
      this.env.set(v, { kind: "buffer", buf: b, shape: v.aval.shape as Dim[] });
      return b;
    });
    const consts = p.consts.map((v, i) => {
      const b = this.newBuffer("const", v.aval, i);
      this.env.set(v, { kind: "buffer", buf: b, shape: v.aval.shape as Dim[] });
      return { buf: b, value: p.constValues[i]! };
    });
    this.lowerEquations(p, p.equations.map((_, i) => i));
    const outputs: OutputSource[] = p.outputs.map((a) => {
      if (a instanceof Literal) return { kind: "literal", value: a.value, dtype: a.aval.dtype };
      const ii = p.inputs.indexOf(a);
      if (ii >= 0) return { kind: "input", index: ii };
      const ci = p.consts.indexOf(a);
      if (ci >= 0) return { kind: "const", value: p.constValues[ci]! };
      return { kind: "buffer", buf: this.materialize(a) };
    });
    return {
      buffers: this.buffers,
      kernels: this.kernels,
      inputs,
      consts: [...consts, ...this.constExtra],
      outputs,
      outAvals: p.outAvals,
      inShapes: p.inputs.map((v) => [...v.aval.shape]),
      arenaBytes: 0,
      offsets: [],
      symbols: this.symbols,
    };
  }

  lowerEquations(p: Program, ids: number[]): void {
    p.equations.forEach((e, k) => this.lowerEquation(e, ids[k]!));
  }

  /** The lazy value of an atom. */
  lazy(a: Atom): Lazy {
    if (a instanceof Literal) return { kind: "literal", value: a.value, aval: a.aval };
    const l = this.env.get(a);
    if (!l) throw new InternalError("lowering: undefined variable");
    return l;
  }

  /** Reads a value over a loop space of rank `loopRank` through `map` (null: must materialize). */
  read(a: Atom, map: DimMap[], loopRank: number): Expr | null {
    const l = this.lazy(a);
    const dtype = a.aval.dtype;
    if (l.kind === "literal") return { k: "const", value: l.value, dtype };
    if (l.kind === "buffer") {
      const view: View = { buf: l.buf, offset: 0, strides: contiguousStrides(l.shape) };
      return mapExpr({ k: "load", view, dtype }, map, loopRank);
    }
    return isIdentityMap(map, loopRank) ? l.expr : mapExpr(l.expr, map, loopRank);
  }

  /** Like read, but materializes the value first when it cannot be mapped. */
  readOrMaterialize(a: Atom, map: DimMap[], loopRank: number): Expr {
    const e = this.read(a, map, loopRank);
    if (e) return e;
    this.materialize(a as Var);
    return this.read(a, map, loopRank)!;
  }

  /** Ensures a var lives in a buffer (an output buffer if it is a program output). */
  materialize(v: Var): number {
    const l = this.lazy(v);
    if (l.kind === "buffer") {
      if (this.outputVars.has(v) && this.buffers[l.buf]!.kind !== "output" && !this.outputBuf.has(v)) {
        // an output that aliases an input/const/temp buffer is copied into its own buffer
        const out = this.newBuffer("output", v.aval, this.nOut++);
        this.outputBuf.set(v, out);
        this.kernels.push({ kind: "map", out, shape: l.shape, expr: this.read(v, identityMap(l.shape.length), l.shape.length)!, eqns: [] });
        return out;
      }
      return this.outputBuf.get(v) ?? l.buf;
    }
    const shape = v.aval.shape as Dim[];
    const kind: BufferKind = this.outputVars.has(v) ? "output" : "temp";
    const out = this.newBuffer(kind, v.aval, kind === "output" ? this.nOut++ : -1);
    if (kind === "output") this.outputBuf.set(v, out);
    const expr = l.kind === "literal" ? ({ k: "const", value: l.value, dtype: v.aval.dtype } as Expr) : l.expr;
    this.kernels.push({ kind: "map", out, shape, expr, eqns: l.kind === "expr" ? l.eqns : [] });
    this.env.set(v, { kind: "buffer", buf: out, shape });
    return out;
  }

  /** Records a lazily computed var, materializing it right away when that is cheaper. */
  defineExpr(v: Var, expr: Expr, eqns: number[]): void {
    const shape = v.aval.shape as Dim[];
    this.env.set(v, { kind: "expr", shape, expr, eqns });
    const cost = exprCost(expr);
    if (((this.uses.get(v) ?? 0) > 1 && cost > REUSE_COST) || cost > MAX_EXPR_COST) this.materialize(v);
  }

  eqnsOf(a: Atom): number[] {
    const l = a instanceof Literal ? null : this.env.get(a);
    return l?.kind === "expr" ? l.eqns : [];
  }

  /** Lowers one equation through its primitive's row of the rule table. */
  lowerEquation(e: Equation, id: number): void {
    const rule: LowerRule | undefined = (LOWER_RULES as Record<string, LowerRule | undefined>)[e.prim.name as PrimName];
    if (!rule) throw new InternalError(`lowering: primitive ${e.prim.name} has no lowering rule`);
    switch (rule.kind) {
      case "elementwise":
        return lowerElementwise(this, e, id, rule.op(e));
      case "fused":
      case "nested":
        return rule.lower(this, e, id);
      case "call":
        return this.call(e, id);
    }
  }

  bind(v: Var, l: Lazy): void {
    this.env.set(v, l);
  }

  bindBuffer(v: Var, buf: number): void {
    this.env.set(v, { kind: "buffer", buf, shape: v.aval.shape as Dim[] });
  }

  isOutput(v: Var): boolean {
    return this.outputVars.has(v);
  }

  push(k: Kernel): void {
    this.kernels.push(k);
  }

  newTemp(a: ShapedArray): number {
    return this.newBuffer("temp", a, -1);
  }

  collect(fn: () => void): Kernel[] {
    const outer = this.kernels;
    this.kernels = [];
    try {
      fn();
      return this.kernels;
    } finally {
      this.kernels = outer;
    }
  }

  /** A fresh buffer for an equation output (an output buffer when the program returns it). */
  outBuffer(v: Var): number {
    const kind: "output" | "temp" = this.outputVars.has(v) ? "output" : "temp";
    const buf = this.newBuffer(kind, v.aval, kind === "output" ? this.nOut++ : -1);
    if (kind === "output") this.outputBuf.set(v, buf);
    return buf;
  }

  /** Gives an output of an inlined sub-program the value of the sub-program's output atom. */
  bindInlinedOutput(o: Var, src: Atom): void {
    const l = this.lazy(src);
    this.env.set(o, l.kind === "literal" ? { kind: "expr", shape: [], expr: { k: "const", value: l.value, dtype: src.aval.dtype }, eqns: [] } : l);
    if (this.outputVars.has(o) || (this.uses.get(o) ?? 0) > 1) this.maybeMaterializeAfterInline(o);
  }

  maybeMaterializeAfterInline(v: Var): void {
    const l = this.lazy(v);
    if (l.kind === "expr" && (this.outputVars.has(v) || exprCost(l.expr) > REUSE_COST)) this.materialize(v);
  }

  /** A strided view of a value over `groups` of its dims merged into single loop dims, or null. */
  groupedView(a: Atom, groups: number[][]): View | null {
    const l = this.lazy(a);
    let view: View;
    if (l.kind === "buffer") view = { buf: l.buf, offset: 0, strides: contiguousStrides(l.shape) };
    else if (l.kind === "expr" && l.expr.k === "load") view = l.expr.view;
    else return null;
    const shape = a.aval.shape as Dim[];
    const strides: Dim[] = [];
    for (const g of groups) {
      // dims in g (in order) must be mergeable: stride[i] = stride[i+1] * size[i+1]
      const live = g.filter((d) => shape[d] !== 1);
      for (let i = 0; i + 1 < live.length; i++) {
        if (!dimEq(view.strides[live[i]!]!, dimMul(view.strides[live[i + 1]!]!, shape[live[i + 1]!]!))) return null;
      }
      strides.push(live.length ? view.strides[live[live.length - 1]!]! : 0);
    }
    return { buf: view.buf, offset: view.offset, strides };
  }

  call(e: Equation, id: number): void {
    const ins = e.inputs.map((a) => {
      if (a instanceof Literal) {
        const b = this.newBuffer("temp", a.aval, -1);
        this.kernels.push({ kind: "map", out: b, shape: [], expr: { k: "const", value: a.value, dtype: a.aval.dtype }, eqns: [] });
        return b;
      }
      return this.materialize(a);
    });
    const outs = e.outs.map((o) => {
      const b = this.outBuffer(o);
      this.bindBuffer(o, b);
      return b;
    });
    const k: CallKernel = {
      kind: "call",
      prim: e.prim,
      params: e.params,
      ins,
      inAvals: e.inputs.map((a) => a.aval),
      outs,
      outAvals: e.outs.map((o) => o.aval),
      eqns: [id],
    };
    this.kernels.push(k);
  }
}
