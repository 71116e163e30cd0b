// WebAssembly code generation from the kernel IR: one module per program, one function per
// top-level kernel (so V8 tiers each hot kernel up on its own) and an exported `run` calling them
// in order. Buffers live in one imported memory; a table at address 0 holds the symbol values
// and every buffer's byte address (i32 each), written by the caller before `run` (wasm/program.ts).
// Loop nests, hoisting and CSE follow the JS backend: contiguous loop dims are merged, and every
// subexpression is computed once, at the outermost loop level it depends on. The untaken side of
// a guard (pad, concatenate) is computed inside an if/else, never hoisted, so it is never read.
// Matrix products and fallback calls are imports back into JS (dot(k, aOff, bOff) and call(k)).

import type { DType } from "../../core/dtype.js";
import type { Dim } from "../../core/shape.js";
import {
  type CallKernel,
  type DotKernel,
  type Expr,
  type Kernel,
  type LoweredProgram,
  type View,
  allKernels,
} from "../../lower/kernel-ir.js";
import { collapse, collectViews, groupSizes, regroup } from "../../lower/loop-nest.js";
import { contiguousStrides } from "../../lower/views.js";
import { Code, type FuncBuilder, ModuleBuilder } from "./encoder.js";
import { MEM, type OpContext, type VT, VT_OF, declareImports, emitScalarOp, fromF64, toF64 } from "./scalar.js";

export interface WasmProgram {
  bytes: Uint8Array;
  /** the dot and call kernels, by the index the dot(k, ...) / call(k) imports receive */
  dots: DotKernel[];
  calls: CallKernel[];
  /** bytes of the table at address 0: one i32 per symbol, then one per buffer */
  tableBytes: number;
}

export function tableBytes(lp: LoweredProgram): number {
  return Math.ceil((4 * (lp.symbols.length + lp.buffers.length)) / 16) * 16;
}

/** Per-function state: locals for buffer addresses and symbols (loaded in the prologue). */
class Fn {
  readonly body = new Code();
  private readonly bases = new Map<number, number>();
  readonly syms = new Map<string, number>();
  private readonly symLoads = new Map<string, number>();
  private readonly scratches = new Map<string, number>();
  constructor(
    readonly f: FuncBuilder,
    readonly g: Gen,
  ) {}

  local(vt: VT | "i32"): number {
    return this.f.local(vt);
  }
  scratch(vt: VT, which = 0): number {
    const key = `${vt}${which}`;
    let l = this.scratches.get(key);
    if (l === undefined) this.scratches.set(key, (l = this.local(vt)));
    return l;
  }
  /** Pushes buffer `id`'s byte address. */
  base(id: number): void {
    let l = this.bases.get(id);
    if (l === undefined) this.bases.set(id, (l = this.local("i32")));
    this.body.localGet(l);
  }
  /** Pushes a dimension's value (i32). */
  dim(d: Dim): void {
    const c = this.body;
    if (typeof d === "number") return void c.i32Const(d);
    let first = true;
    for (const [mono, coef] of d.terms) {
      const fs = mono ? mono.split("*") : [];
      if (fs.length === 0) c.i32Const(coef);
      fs.forEach((s, i) => {
        c.localGet(this.sym(s));
        if (i > 0) c.i32Mul();
      });
      if (fs.length && coef !== 1) c.i32Const(coef).i32Mul();
      if (!first) c.i32Add();
      first = false;
    }
  }
  private sym(name: string): number {
    const l = this.syms.get(name);
    if (l !== undefined) return l;
    const i = this.g.lp.symbols.indexOf(name);
    if (i < 0) throw new Error(`wasm codegen: dimension symbol ${name} has no value here`);
    const loc = this.local("i32");
    this.syms.set(name, loc);
    this.symLoads.set(name, i);
    return loc;
  }
  /** The function body: loads of the table entries used, then the code. */
  finish(): void {
    const c = this.f.code;
    for (const [name, i] of this.symLoads) c.i32Const(0).i32Load(4 * i).localSet(this.syms.get(name)!);
    const nSym = this.g.lp.symbols.length;
    for (const [id, l] of this.bases) c.i32Const(0).i32Load(4 * (nSym + id)).localSet(l);
    c.raw(...this.body.bytes);
  }
  ops(): OpContext {
    return { code: this.body, imports: this.g.imports, scratch: (vt) => this.scratch(vt), scratch2: (vt) => this.scratch(vt, 1) };
  }
}

interface Node {
  local: number;
  level: number;
}

/** Expression emitter for one loop nest: nodes become locals set at their loop level. */
class Exprs {
  readonly decls: (() => void)[][];
  private readonly nodes = new Map<string, Node>();
  constructor(
    readonly fn: Fn,
    readonly loopLocals: number[],
  ) {
    this.decls = Array.from({ length: loopLocals.length + 1 }, () => []);
  }

  /** Pushes the element index of a view at the current loop indices; returns its level. */
  index(v: View): number {
    const c = this.fn.body;
    let level = 0;
    this.fn.dim(v.offset);
    v.strides.forEach((s, i) => {
      if (s === 0) return;
      level = Math.max(level, i + 1);
      c.localGet(this.loopLocals[i]!);
      if (s !== 1) {
        this.fn.dim(s);
        c.i32Mul();
      }
      c.i32Add();
    });
    return level;
  }

  viewLevel(v: View): number {
    let level = 0;
    v.strides.forEach((s, i) => s !== 0 && (level = Math.max(level, i + 1)));
    return level;
  }

  levelOf(e: Expr): number {
    switch (e.k) {
      case "const":
      case "dim":
        return 0;
      case "load":
        return this.viewLevel(e.view);
      case "gather":
        return Math.max(this.viewLevel(e.view), this.levelOf(e.index));
      case "op":
        return Math.max(0, ...e.args.map((a) => this.levelOf(a)));
      case "guard":
        return Math.max(e.dim + 1, this.levelOf(e.body), this.levelOf(e.other));
    }
  }

  /**
   * The byte address of view `v` with loop dims < k applied, as a node: base + offset * bytes at
   * level 0, then + i_j * stride_j * bytes at level j + 1 (dims of stride 0 add nothing).
   */
  private address(v: View, bytes: number, k: number): Node {
    if (k > 0 && v.strides[k - 1] === 0) return this.address(v, bytes, k - 1);
    const key = JSON.stringify(["addr", v.buf, bytes, v.offset, v.strides.slice(0, k)]);
    const hit = this.nodes.get(key);
    if (hit) return hit;
    const c = this.fn.body;
    const local = this.fn.local("i32");
    const prev = k > 0 ? this.address(v, bytes, k - 1) : null;
    const level = k;
    this.decls[level]!.push(() => {
      if (!prev) {
        this.fn.base(v.buf);
        if (v.offset !== 0) {
          this.fn.dim(v.offset);
          if (bytes > 1) c.i32Const(bytes).i32Mul();
          c.i32Add();
        }
      } else {
        c.localGet(prev.local).localGet(this.loopLocals[k - 1]!);
        const s = v.strides[k - 1]!;
        if (typeof s === "number") c.i32Const(s * bytes).i32Mul();
        else {
          this.fn.dim(s);
          c.i32Mul();
          if (bytes > 1) c.i32Const(bytes).i32Mul();
        }
        c.i32Add();
      }
      c.localSet(local);
    });
    const node = { local, level };
    this.nodes.set(key, node);
    return node;
  }

  /** Pushes `load` of dtype at byte address (base + index * bytes). */
  private loadAt(buf: number, dtype: DType, index: () => void): void {
    const c = this.fn.body;
    const m = MEM[dtype];
    this.fn.base(buf);
    index();
    if (m.bytes > 1) c.i32Const(Math.log2(m.bytes)).i32Shl();
    c.i32Add().memOp(m.load, 0, m.align);
  }

  /** Registers `e` (and its operands) for computation at their levels; returns a way to push it. */
  value(e: Expr): () => void {
    const c = this.fn.body;
    if (e.k === "const") {
      const vt = VT_OF[e.dtype];
      return () => void (vt === "f32" ? c.f32Const(e.value) : vt === "f64" ? c.f64Const(e.value) : c.i32Const(e.value));
    }
    const key = JSON.stringify(e);
    const hit = this.nodes.get(key);
    if (hit) return () => void c.localGet(hit.local);
    const vt = VT_OF[e.dtype];
    const local = this.fn.local(vt);
    let level: number;
    let emit: () => void;
    if (e.k === "dim") {
      level = 0;
      emit = () => {
        this.fn.dim(e.dim);
        if (vt === "f32") c.raw(0xb2);
        else if (vt === "f64") c.raw(0xb7);
      };
    } else if (e.k === "load") {
      // the byte address is built up loop by loop (each partial sum hoisted to its level)
      const m = MEM[e.dtype];
      const addr = this.address(e.view, m.bytes, e.view.strides.length);
      level = addr.level;
      emit = () => void c.localGet(addr.local).memOp(m.load, 0, m.align);
    } else if (e.k === "gather") {
      const ix = this.value(e.index);
      level = Math.max(this.viewLevel(e.view), this.levelOf(e.index));
      emit = () => this.loadAt(e.view.buf, e.dtype, () => this.gatherIndex(e, ix));
    } else if (e.k === "op") {
      const args = e.args.map((a) => this.value(a));
      level = this.levelOf(e);
      emit = () => emitScalarOp(this.fn.ops(), e.op, args, e.dtype, e.args.map((a) => a.dtype));
    } else {
      level = this.levelOf(e);
      emit = () => this.inline(e, true);
    }
    this.decls[level]!.push(() => {
      emit();
      c.localSet(local);
    });
    this.nodes.set(key, { local, level });
    return () => void c.localGet(local);
  }

  /** view index + clamp(index, 0, size - 1) * stride */
  gatherIndex(e: Extract<Expr, { k: "gather" }>, ix: () => void): void {
    const c = this.fn.body;
    const t = this.fn.scratch("i32");
    this.index(e.view);
    // clamp: max(0, min(ix, size - 1))
    ix();
    c.localSet(t);
    this.fn.dim(e.size);
    c.i32Const(1).raw(0x6b); // size - 1
    c.localGet(t);
    c.localGet(t);
    this.fn.dim(e.size);
    c.i32Const(1).raw(0x6b);
    c.raw(0x4a).select(); // t > size-1 ? size-1 : t
    c.localSet(t);
    c.i32Const(0).localGet(t).localGet(t).i32Const(0).raw(0x48).select(); // t < 0 ? 0 : t
    this.fn.dim(e.stride);
    c.i32Mul().i32Add();
  }

  /**
   * Pushes `e` computed in place (a guard and its branches): known nodes are reused, nothing is
   * registered. `top`: `e` is the node being defined (its own registration is not a value yet).
   */
  private inline(e: Expr, top = false): void {
    const c = this.fn.body;
    const hit = e.k === "const" || top ? undefined : this.nodes.get(JSON.stringify(e));
    if (hit) return void c.localGet(hit.local);
    switch (e.k) {
      case "const":
        return this.value(e)();
      case "dim":
        this.fn.dim(e.dim);
        if (VT_OF[e.dtype] === "f32") c.raw(0xb2);
        else if (VT_OF[e.dtype] === "f64") c.raw(0xb7);
        return;
      case "load":
        return this.loadAt(e.view.buf, e.dtype, () => this.index(e.view));
      case "gather": {
        const t = this.fn.local("i32");
        this.inline(e.index);
        c.localSet(t);
        return this.loadAt(e.view.buf, e.dtype, () => this.gatherIndex(e, () => void c.localGet(t)));
      }
      case "op": {
        // operands into fresh locals, then the op
        const locals = e.args.map((a) => {
          const l = this.fn.local(VT_OF[a.dtype]);
          this.inline(a);
          c.localSet(l);
          return l;
        });
        return emitScalarOp(this.fn.ops(), e.op, locals.map((l) => () => void c.localGet(l)), e.dtype, e.args.map((a) => a.dtype));
      }
      case "guard": {
        const i = this.loopLocals[e.dim]!;
        c.localGet(i);
        this.fn.dim(e.lo);
        c.raw(0x4e); // i >= lo
        c.localGet(i);
        this.fn.dim(e.hi);
        c.raw(0x48).raw(0x71); // i < hi, and
        c.if_(VT_OF[e.dtype]);
        this.inline(e.body);
        c.else_();
        this.inline(e.other);
        c.end();
        return;
      }
    }
  }
}

/** Emits `for (i = 0; i < size; i++)` around `inner`. */
function countedLoop(fn: Fn, i: number, size: Dim, inner: () => void, reverse = false): void {
  const c = fn.body;
  const n = fn.local("i32");
  fn.dim(size);
  c.localSet(n);
  if (reverse) c.localGet(n).i32Const(1).raw(0x6b).localSet(i);
  else c.i32Const(0).localSet(i);
  const exit = c.block();
  const top = c.loop();
  if (reverse) c.localGet(i).i32Const(0).raw(0x48).brIf(exit);
  else c.localGet(i).localGet(n).raw(0x4e).brIf(exit);
  inner();
  c.localGet(i).i32Const(reverse ? -1 : 1).i32Add().localSet(i);
  c.br(top);
  c.end();
  c.end();
}

/** Loop nest over `shape` running each level's declarations, then `inner` innermost. */
function nest(fn: Fn, ex: Exprs, shape: Dim[], loops: number[], inner: () => void, from = 0, to = shape.length): void {
  const run = (d: number): void => {
    if (d === to && to < shape.length) return inner(); // the caller continues the nest from here
    for (const decl of ex.decls[d]!) decl();
    if (d === shape.length) return inner();
    countedLoop(fn, loops[d]!, shape[d]!, () => run(d + 1));
  };
  run(from);
}

/** Stores the value on the stack (of the buffer's dtype) at buf[counter] and bumps the counter. */
function storeAt(fn: Fn, buf: number, dtype: DType, counter: number, value: () => void): void {
  const c = fn.body;
  const m = MEM[dtype];
  fn.base(buf);
  c.localGet(counter);
  if (m.bytes > 1) c.i32Const(Math.log2(m.bytes)).i32Shl();
  c.i32Add();
  value();
  c.memOp(m.store, 0, m.align);
  c.localGet(counter).i32Const(1).i32Add().localSet(counter);
}

class Gen {
  readonly module = new ModuleBuilder();
  readonly imports: Map<string, number>;
  readonly dots: DotKernel[];
  readonly calls: CallKernel[];
  constructor(readonly lp: LoweredProgram) {
    this.module.importMemory("env", "memory", { initial: 1 });
    this.imports = declareImports(this.module);
    ({ dots: this.dots, calls: this.calls } = importedKernels(lp));
  }

  kernel(fn: Fn, k: Kernel): void {
    const c = fn.body;
    const dtypeOf = (id: number) => this.lp.buffers[id]!.dtype;
    switch (k.kind) {
      case "map": {
        const views: View[] = [];
        const guards = new Set<number>();
        collectViews(k.expr, views, guards);
        const groups = collapse(k.shape, [...views, { buf: k.out, offset: 0, strides: contiguousStrides(k.shape) }], guards, -1);
        const shape = groupSizes(k.shape, groups);
        const loops = shape.map(() => fn.local("i32"));
        const ex = new Exprs(fn, loops);
        const root = ex.value(regroup(k.expr, groups));
        const o = fn.local("i32");
        fn.dim(k.outOffset ?? 0);
        c.localSet(o);
        nest(fn, ex, shape, loops, () => storeAt(fn, k.out, dtypeOf(k.out), o, root));
        return;
      }
      case "reduce":
        return this.reduce(fn, k);
      case "scatter": {
        const dt = dtypeOf(k.out);
        const m = MEM[dt];
        fn.base(k.out);
        c.i32Const(0);
        fn.dim(this.lp.buffers[k.out]!.size);
        if (m.bytes > 1) c.i32Const(Math.log2(m.bytes)).i32Shl();
        c.memoryFill();
        const loops = k.shape.map(() => fn.local("i32"));
        const ex = new Exprs(fn, loops);
        const value = ex.value(k.value);
        const ix = ex.value(k.index);
        const gather: Expr = { k: "gather", view: k.base, index: k.index, stride: k.stride, size: k.size, dtype: dt };
        const addr = fn.local("i32");
        nest(fn, ex, k.shape, loops, () => {
          // address of out[base + clamp(index) * stride], then out += value
          fn.base(k.out);
          ex.gatherIndex(gather as Extract<Expr, { k: "gather" }>, ix);
          if (m.bytes > 1) c.i32Const(Math.log2(m.bytes)).i32Shl();
          c.i32Add().localTee(addr);
          c.localGet(addr).memOp(m.load, 0, m.align);
          value();
          c.raw(VT_OF[dt] === "f32" ? 0x92 : VT_OF[dt] === "f64" ? 0xa0 : 0x6a);
          c.memOp(m.store, 0, m.align);
        });
        return;
      }
      case "dot":
        c.i32Const(this.dots.indexOf(k));
        fn.dim(k.lhs.offset);
        fn.dim(k.rhs.offset);
        c.call(this.imports.get("dot")!);
        return;
      case "call":
        c.i32Const(this.calls.indexOf(k)).call(this.imports.get("call")!);
        return;
      case "loop": {
        const i = fn.local("i32");
        fn.syms.set(k.index, i);
        countedLoop(fn, i, k.length, () => k.body.forEach((b) => this.kernel(fn, b)), k.reverse);
        return;
      }
      case "cond": {
        const idx = fn.local("i32");
        fn.base(k.index);
        c.i32Load().localSet(idx);
        const n = k.branches.length;
        const branch = (j: number) => {
          if (j === n - 1) return k.branches[j]!.forEach((b) => this.kernel(fn, b));
          c.localGet(idx).i32Const(j);
          c.raw(j === 0 ? 0x4c : 0x46); // j == 0: idx <= 0, else idx == j
          c.if_();
          k.branches[j]!.forEach((b) => this.kernel(fn, b));
          c.else_();
          branch(j + 1);
          c.end();
        };
        branch(0);
        return;
      }
      case "while": {
        const exit = c.block();
        const top = c.loop();
        k.cond.forEach((b) => this.kernel(fn, b));
        fn.base(k.pred);
        c.memOp(MEM.bool.load, 0, 0).i32Eqz().brIf(exit);
        k.body.forEach((b) => this.kernel(fn, b));
        c.br(top);
        c.end();
        c.end();
        return;
      }
    }
  }

  /** Reductions accumulate in f64 (as the JS backend's accumulator) and store with JS semantics. */
  private reduce(fn: Fn, k: Extract<Kernel, { kind: "reduce" }>): void {
    const c = fn.body;
    const full = [...k.outShape, ...k.redShape];
    const views: View[] = [];
    const guards = new Set<number>();
    collectViews(k.expr, views, guards);
    const nOut = k.outShape.length;
    const out: View = { buf: k.out, offset: 0, strides: [...contiguousStrides(k.outShape), ...k.redShape.map(() => 0)] };
    const groups = collapse(full, [...views, out], guards, nOut);
    const shape = groupSizes(full, groups);
    const nOuter = groups.filter((g) => g[0]! < nOut).length;
    const loops = shape.map(() => fn.local("i32"));
    const ex = new Exprs(fn, loops);
    const root = ex.value(regroup(k.expr, groups));
    const inVt = VT_OF[k.expr.dtype];
    const outDt = this.lp.buffers[k.out]!.dtype;
    const acc = fn.local(k.op.startsWith("arg") ? "i32" : "f64");
    const best = fn.local("f64");
    const v = fn.local("f64");
    const o = fn.local("i32");
    c.i32Const(0).localSet(o);
    const init = () => {
      if (k.op === "argmax" || k.op === "argmin") c.i32Const(-1).localSet(acc).f64Const(NaN).localSet(best);
      else c.f64Const({ sum: 0, prod: 1, max: -Infinity, min: Infinity }[k.op]).localSet(acc);
    };
    const combine = () => {
      root();
      toF64(c, inVt);
      c.localSet(v);
      if (k.op === "sum" || k.op === "prod") {
        c.localGet(acc).localGet(v).raw(k.op === "sum" ? 0xa0 : 0xa2).localSet(acc);
      } else if (k.op === "max" || k.op === "min") {
        // if (v > acc || v !== v) acc = v
        c.localGet(v).localGet(acc).raw(k.op === "max" ? 0x64 : 0x63);
        c.localGet(v).localGet(v).raw(0x62).raw(0x72);
        c.if_();
        c.localGet(v).localSet(acc).end();
      } else {
        // first element, or (best === best && (v > best || v !== v)): take it
        const inner = loops[shape.length - 1]!;
        c.localGet(acc).i32Const(0).raw(0x48);
        c.localGet(best).localGet(best).raw(0x61);
        c.localGet(v).localGet(best).raw(k.op === "argmax" ? 0x64 : 0x63);
        c.localGet(v).localGet(v).raw(0x62).raw(0x72).raw(0x71);
        c.raw(0x72);
        c.if_();
        c.localGet(inner).localSet(acc).localGet(v).localSet(best).end();
      }
    };
    const store = () =>
      storeAt(fn, k.out, outDt, o, () => {
        c.localGet(acc);
        if (!k.op.startsWith("arg")) fromF64(c, this.imports, VT_OF[outDt], () => fn.scratch("f64"));
        if (outDt === "bool") c.i32Const(255).i32And();
      });
    nest(fn, ex, shape, loops, () => {
      init();
      nest(fn, ex, shape, loops, combine, nOuter);
      store();
    }, 0, nOuter);
  }

  build(): WasmProgram {
    const fns = this.lp.kernels.map((k) => {
      const f = this.module.func(undefined, [], []);
      const fn = new Fn(f, this);
      this.kernel(fn, k);
      fn.finish();
      return f;
    });
    const run = this.module.func("run", [], []);
    for (const f of fns) run.code.call(f.index);
    return { bytes: this.module.build(), dots: this.dots, calls: this.calls, tableBytes: tableBytes(this.lp) };
  }
}

/** The WebAssembly module of a lowered program. */
export function generateWasm(lp: LoweredProgram): WasmProgram {
  return new Gen(lp).build();
}

/** The kernels a module calls back into JS for, depth first (their import index is the position). */
export function importedKernels(lp: LoweredProgram): { dots: DotKernel[]; calls: CallKernel[] } {
  const all = allKernels(lp.kernels);
  return { dots: all.filter((k): k is DotKernel => k.kind === "dot"), calls: all.filter((k): k is CallKernel => k.kind === "call") };
}

/** A module generated earlier for this lowered program (the disk cache). */
export function wasmProgramOf(lp: LoweredProgram, bytes: Uint8Array): WasmProgram {
  return { bytes, ...importedKernels(lp), tableBytes: tableBytes(lp) };
}
