// Lowering Program -> kernel IR, with fusion. Elementwise and data-movement equations do not
// become kernels of their own: they build lazy scalar expressions (reading buffers through
// strided views) that are inlined into whichever kernel consumes them. A value is materialized
// into a buffer only when it is a program output, a non-fusible operand (matmul, fallback call),
// or used several times and too costly to recompute.

import { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { type Dim, dimAdd, dimEq, dimMul, shapeSize } from "../core/shape.js";
import { InternalError } from "../core/errors.js";
import { type Atom, type Equation, Literal, type Program, type Var } from "../ir/program.js";
import type { DotParams } from "../prims/dot.js";
import { type GatherParams, type IndexCheckParams, type ScatterAddParams, indexCheckP } from "../prims/gather.js";
import type {
  Buffer,
  BufferKind,
  CallKernel,
  Expr,
  Kernel,
  LoweredProgram,
  OutputSource,
  View,
} from "./kernel-ir.js";
import { type DimMap, MAX_EXPR_COST, REUSE_COST, contiguousStrides, exprCost, identityMap, isFlatAffine, mapExpr, reshapeExpr } from "./views.js";
import { scalarOpName } from "./scalar-ops.js";
import { lowerCond, lowerScan, lowerWhile } from "./control-flow.js";
import { padExpr } from "./pad.js";
import type { PadParams } from "../prims/shape.js";

export type Lazy =
  | { kind: "buffer"; buf: number; shape: Dim[] }
  | { kind: "expr"; shape: Dim[]; expr: Expr; eqns: number[] }
  | { kind: "literal"; value: number; aval: ShapedArray };


/** Higher-order primitives whose meaning is "run params.program on the inputs". */
const INLINE_CALLS = new Set(["jit_call", "checkpoint", "custom_jvp_call", "custom_vjp_call"]);

export function lowerProgram(p: Program): LoweredProgram {
  return new Lowerer(p).run();
}

export class Lowerer {
  readonly buffers: Buffer[] = [];
  /** where kernels go: the program's list, or a loop body's while one is being lowered */
  kernels: Kernel[] = [];
  readonly env = new Map<Var, Lazy>();
  readonly uses = new Map<Var, number>();
  readonly outputVars: Set<Var>;
  /** buffers already allocated for program outputs */
  readonly outputBuf = new Map<Var, number>();
  /** constants of inlined sub-programs */
  readonly constExtra: { buf: number; value: Tensor }[] = [];
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
    return mapExpr(l.expr, map, loopRank);
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

  lowerEquation(e: Equation, id: number): void {
    const name = e.prim.name;
    const out = e.outs[0]!;
    const outShape = out.aval.shape as Dim[];
    const rank = outShape.length;
    const fused = (extra: Atom[]) => [...extra.flatMap((a) => this.eqnsOf(a)), id];

    if (INLINE_CALLS.has(name) && e.params.program) {
      // inline the sub-program: bind its inputs to our lazies, lower its equations
      const sub = e.params.program as Program;
      sub.inputs.forEach((v, i) => this.env.set(v, this.lazy(e.inputs[i]!)));
      this.bindSubProgram(sub);
      sub.equations.forEach((se) => this.lowerEquation(se, id));
      e.outs.forEach((o, i) => this.bindInlinedOutput(o, sub.outputs[i]!));
      return;
    }

    const op = scalarOpName(e);
    if (op !== null) {
      // elementwise: operands are the output's shape or rank-0
      const args = e.inputs.map((a) => this.readOrMaterialize(a, a.aval.shape.length === 0 ? [] : identityMap(rank), rank));
      const expr: Expr = op === "id" ? args[0]! : { k: "op", op, args, dtype: out.aval.dtype };
      this.defineExpr(out, expr, fused(e.inputs));
      return;
    }

    switch (name) {
      case "dim_value":
        this.defineExpr(out, { k: "dim", dim: e.params.dim as Dim, dtype: out.aval.dtype }, [id]);
        return;
      case "reshape": {
        const src = e.inputs[0]!;
        const l = this.lazy(src);
        if (l.kind === "buffer") {
          this.env.set(out, { kind: "buffer", buf: l.buf, shape: outShape });
          if (this.outputVars.has(out)) this.materialize(out);
          return;
        }
        if (l.kind === "expr" && isFlatAffine(l.expr, l.shape)) {
          this.defineExpr(out, reshapeExpr(l.expr, l.shape, outShape), fused([src]));
          return;
        }
        const b = this.materialize(src as Var);
        this.env.set(out, { kind: "buffer", buf: b, shape: outShape });
        if (this.outputVars.has(out)) this.materialize(out);
        return;
      }
      case "transpose": {
        const perm = e.params.perm as number[];
        // input dim perm[i] is read by loop dim i
        const map: DimMap[] = new Array(perm.length);
        perm.forEach((p, i) => (map[p] = { loop: i, scale: 1, offset: 0 }));
        this.defineExpr(out, this.readOrMaterialize(e.inputs[0]!, map, rank), fused([e.inputs[0]!]));
        return;
      }
      case "broadcast_in_dim": {
        const dims = e.params.dims as number[];
        const inShape = e.inputs[0]!.aval.shape as Dim[];
        const map: DimMap[] = dims.map((d, j) =>
          inShape[j] === 1 && outShape[d] !== 1 ? { loop: -1, offset: 0 } : { loop: d, scale: 1, offset: 0 },
        );
        this.defineExpr(out, this.readOrMaterialize(e.inputs[0]!, map, rank), fused([e.inputs[0]!]));
        return;
      }
      case "slice": {
        const { start, strides } = e.params as { start: number[]; strides: number[] };
        const map: DimMap[] = start.map((s, i) => ({ loop: i, scale: strides[i]!, offset: s }));
        this.defineExpr(out, this.readOrMaterialize(e.inputs[0]!, map, rank), fused([e.inputs[0]!]));
        return;
      }
      case "rev": {
        const axes = e.params.axes as number[];
        const map: DimMap[] = outShape.map((d, i) => (axes.includes(i) ? { loop: i, scale: -1, offset: dimAdd(d, -1) } : { loop: i, scale: 1, offset: 0 }));
        this.defineExpr(out, this.readOrMaterialize(e.inputs[0]!, map, rank), fused([e.inputs[0]!]));
        return;
      }
      case "pad":
        this.defineExpr(out, padExpr(this, e.inputs[0]!, e.params as PadParams, fused([e.inputs[0]!])), fused([e.inputs[0]!]));
        return;
      case "concatenate": {
        const axis = e.params.axis as number;
        const parts: { expr: Expr; lo: number; hi: number }[] = [];
        let off = 0;
        for (const a of e.inputs) {
          const n = a.aval.shape[axis] as number;
          const map: DimMap[] = outShape.map((_, i) => ({ loop: i, scale: 1, offset: i === axis ? -off : 0 }));
          parts.push({ expr: this.readOrMaterialize(a, map, rank), lo: off, hi: off + n });
          off += n;
        }
        let expr = parts[parts.length - 1]!.expr;
        for (let k = parts.length - 2; k >= 0; k--) {
          const p = parts[k]!;
          expr = { k: "guard", dim: axis, lo: p.lo, hi: p.hi, body: p.expr, other: expr, dtype: out.aval.dtype };
        }
        this.defineExpr(out, expr, fused(e.inputs));
        return;
      }
      case "reduce_sum":
      case "reduce_max":
      case "reduce_min":
      case "reduce_prod": {
        const axes = e.params.axes as number[];
        const inShape = e.inputs[0]!.aval.shape as Dim[];
        const kept = inShape.map((_, i) => i).filter((i) => !axes.includes(i));
        const red = [...axes].sort((a, b) => a - b);
        const order = [...kept, ...red];
        const map: DimMap[] = new Array(inShape.length);
        order.forEach((d, pos) => (map[d] = { loop: pos, scale: 1, offset: 0 }));
        const expr = this.readOrMaterialize(e.inputs[0]!, map, inShape.length);
        const kind: "output" | "temp" = this.outputVars.has(out) ? "output" : "temp";
        const buf = this.newBuffer(kind, out.aval, kind === "output" ? this.nOut++ : -1);
        if (kind === "output") this.outputBuf.set(out, buf);
        const opName = name.slice("reduce_".length) as "sum" | "max" | "min" | "prod";
        this.kernels.push({
          kind: "reduce",
          out: buf,
          outShape: kept.map((d) => inShape[d]!),
          redShape: red.map((d) => inShape[d]!),
          op: opName,
          expr,
          eqns: fused([e.inputs[0]!]),
        });
        this.env.set(out, { kind: "buffer", buf, shape: outShape });
        return;
      }
      case "argmax":
      case "argmin": {
        const axis = e.params.axis as number;
        const inShape = e.inputs[0]!.aval.shape as Dim[];
        const kept = inShape.map((_, i) => i).filter((i) => i !== axis);
        const map: DimMap[] = new Array(inShape.length);
        [...kept, axis].forEach((d, pos) => (map[d] = { loop: pos, scale: 1, offset: 0 }));
        const expr = this.readOrMaterialize(e.inputs[0]!, map, inShape.length);
        const buf = this.outBuffer(out);
        this.kernels.push({ kind: "reduce", out: buf, outShape: kept.map((d) => inShape[d]!), redShape: [inShape[axis]!], op: name, expr, eqns: fused([e.inputs[0]!]) });
        this.env.set(out, { kind: "buffer", buf, shape: outShape });
        return;
      }
      case "gather": {
        const { axis, batchDims, mode, op } = e.params as GatherParams;
        const [x, idx] = e.inputs as [Atom, Atom];
        const xb = this.materialize(x as Var);
        const xs = x.aval.shape as Dim[];
        const ni = idx.aval.shape.length - batchDims;
        const cs = contiguousStrides(xs);
        // x dims before the axis are loop dims 0..axis-1; after it, they follow the index dims
        const view: View = { buf: xb, offset: 0, strides: new Array<Dim>(rank).fill(0) };
        xs.forEach((_, j) => {
          if (j < axis) view.strides[j] = cs[j]!;
          else if (j > axis) view.strides[axis + ni + (j - axis - 1)] = cs[j]!;
        });
        const idxMap: DimMap[] = idx.aval.shape.map((_, k) => ({ loop: k < batchDims ? k : axis + (k - batchDims), scale: 1, offset: 0 }));
        const index = mode === "raise" ? this.checkedIndex(e, idx, xs[axis]!, op, idxMap, rank, id) : this.readOrMaterialize(idx, idxMap, rank);
        this.defineExpr(out, { k: "gather", view, index, stride: cs[axis]!, size: xs[axis]!, dtype: out.aval.dtype }, fused([idx]));
        return;
      }
      case "scatter_add": {
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
        const value = this.readOrMaterialize(upd, identityMap(us.length), us.length);
        const idxMap: DimMap[] = idx.aval.shape.map((_, k) => ({ loop: k < batchDims ? k : axis + (k - batchDims), scale: 1, offset: 0 }));
        const index = mode === "raise" ? this.checkedIndex(e, idx, size, op, idxMap, us.length, id) : this.readOrMaterialize(idx, idxMap, us.length);
        const buf = this.outBuffer(out);
        base.buf = buf;
        this.kernels.push({ kind: "scatter", out: buf, shape: us, value, index, base, stride: cs[axis]!, size, eqns: fused([upd, idx]) });
        this.env.set(out, { kind: "buffer", buf, shape: outShape });
        return;
      }
      case "dot_general":
        if (this.lowerDot(e, id)) return;
        break;
      case "scan":
        lowerScan(this, e, id);
        return;
      case "while":
        lowerWhile(this, e, id);
        return;
      case "cond":
        lowerCond(this, e, id);
        return;
    }
    this.lowerCall(e, id);
  }

  /**
   * The indices of a mode "raise" gather (or scatter_add, its transpose), read back from an
   * index_check call kernel that throws the reference gather's ArgumentError when one is outside
   * [0, size): the fused read's clamping never changes a value eager evaluation would refuse.
   */
  private checkedIndex(e: Equation, idx: Atom, size: Dim, op: string | undefined, map: DimMap[], rank: number, id: number): Expr {
    const ib = this.materialize(idx as Var);
    const checked = this.newBuffer("temp", idx.aval, -1);
    const source = e.source ? String(e.source) : "";
    const params: IndexCheckParams = { size, op: op ?? "gather", ...(source ? { source } : {}) };
    this.kernels.push({ kind: "call", prim: indexCheckP, params, ins: [ib], inAvals: [idx.aval], outs: [checked], outAvals: [idx.aval], eqns: [id] });
    const shape = idx.aval.shape as Dim[];
    return mapExpr({ k: "load", view: { buf: checked, offset: 0, strides: contiguousStrides(shape) }, dtype: "int32" }, map, rank)!;
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

  lowerDot(e: Equation, id: number): boolean {
    const p = e.params as DotParams;
    const [x, y] = e.inputs as [Atom, Atom];
    const xs = x.aval.shape as Dim[];
    const ys = y.aval.shape as Dim[];
    const xFree = xs.map((_, i) => i).filter((i) => !p.lhsContract.includes(i) && !p.lhsBatch.includes(i));
    const yFree = ys.map((_, i) => i).filter((i) => !p.rhsContract.includes(i) && !p.rhsBatch.includes(i));
    const size = (s: Dim[], d: number[]): Dim => shapeSize(d.map((i) => s[i]!));
    const fusedEqns: number[] = [];
    const view = (a: Atom, groups: number[][]): View => {
      const v = this.groupedView(a, groups);
      if (v) {
        fusedEqns.push(...this.eqnsOf(a)); // data movement read through strides
        return v;
      }
      // materialize in the needed order, then it is contiguous
      const order = groups.flat();
      const shape = a.aval.shape as Dim[];
      const map: DimMap[] = new Array(shape.length);
      order.forEach((d, pos) => (map[d] = { loop: pos, scale: 1, offset: 0 }));
      const permShape = order.map((d) => shape[d]!);
      const expr = this.readOrMaterialize(a, map, shape.length);
      const buf = this.newBuffer("temp", new ShapedArray(permShape, a.aval.dtype), -1);
      this.kernels.push({ kind: "map", out: buf, shape: permShape, expr, eqns: this.eqnsOf(a) });
      const cs = contiguousStrides(permShape);
      const strides: Dim[] = groups.map((g, gi) => {
        const lastPos = groups.slice(0, gi + 1).flat().length - 1;
        return g.length ? cs[lastPos]! : 0;
      });
      return { buf, offset: 0, strides };
    };
    const lhs = view(x, [p.lhsBatch, xFree, p.lhsContract]);
    const rhs = view(y, [p.rhsBatch, p.rhsContract, yFree]);
    const out = e.outs[0]!;
    const kind: "output" | "temp" = this.outputVars.has(out) ? "output" : "temp";
    const buf = this.newBuffer(kind, out.aval, kind === "output" ? this.nOut++ : -1);
    if (kind === "output") this.outputBuf.set(out, buf);
    this.kernels.push({
      kind: "dot",
      out: buf,
      B: size(xs, p.lhsBatch),
      M: size(xs, xFree),
      N: size(ys, yFree),
      K: size(xs, p.lhsContract),
      dtype: out.aval.dtype,
      lhs,
      rhs,
      eqns: [...fusedEqns, id],
    });
    this.env.set(out, { kind: "buffer", buf, shape: out.aval.shape as Dim[] });
    return true;
  }

  lowerCall(e: Equation, id: number): void {
    const ins = e.inputs.map((a) => {
      if (a instanceof Literal) {
        const b = this.newBuffer("temp", a.aval, -1);
        this.kernels.push({ kind: "map", out: b, shape: [], expr: { k: "const", value: a.value, dtype: a.aval.dtype }, eqns: [] });
        return b;
      }
      return this.materialize(a);
    });
    const outs = e.outs.map((o) => {
      const kind: "output" | "temp" = this.outputVars.has(o) ? "output" : "temp";
      const b = this.newBuffer(kind, o.aval, kind === "output" ? this.nOut++ : -1);
      if (kind === "output") this.outputBuf.set(o, b);
      this.env.set(o, { kind: "buffer", buf: b, shape: o.aval.shape as Dim[] });
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
