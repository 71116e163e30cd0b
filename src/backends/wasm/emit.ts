// The building blocks of the WebAssembly kernel generator (kernels.ts): per-function state (locals
// for buffer addresses and symbols, loaded from the table in a prologue), the expression emitter
// (each subexpression a local set at the outermost loop level it depends on; byte addresses built
// up loop by loop; guards evaluated lazily inside if/else), and counted loop nests.

import type { DType } from "../../core/dtype.js";
import type { Dim } from "../../core/shape.js";
import { type Expr, type LoweredProgram, type View, exprKey, exprLevel, viewLevel } from "../../lower/kernel-ir.js";
import { Code, type FuncBuilder } from "../../runtime/wasm/encoder.js";
import { MEM, type OpContext, type VT, VT_OF, emitScalarOp } from "./scalar.js";
import type { ModuleMath } from "./math.js";

/** Per-function state: locals for buffer addresses and symbols (loaded in the prologue). */
export class Fn {
  readonly body = new Code();
  private readonly bases = new Map<number, number>();
  readonly syms = new Map<string, number>();
  private readonly symLoads = new Map<string, number>();
  private readonly scratches = new Map<string, number>();
  constructor(
    readonly f: FuncBuilder,
    readonly lp: LoweredProgram,
    readonly imports: Map<string, number>,
    readonly math: ModuleMath,
  ) {}

  local(vt: VT | "v128"): number {
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
    const i = this.lp.symbols.indexOf(name);
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
    const nSym = this.lp.symbols.length;
    for (const [id, l] of this.bases) c.i32Const(0).i32Load(4 * (nSym + id)).localSet(l);
    // appended in place: spreading a body of thousands of bytes as arguments is slow (and bounded by the stack)
    for (const b of this.body.bytes) c.bytes.push(b);
  }
  ops(): OpContext {
    return { code: this.body, imports: this.imports, scratch: (vt) => this.scratch(vt), scratch2: (vt) => this.scratch(vt, 1), math: this.math };
  }
}

export interface Node {
  local: number;
  level: number;
  /** position of its declaration among all declarations (they run in this order within a level) */
  seq: number;
}

/**
 * Where a guard's branches are computed: inside the guard node's declaration (at `level`, after
 * the declarations numbered below `seq`). A known node holds its current value there only if its
 * declaration ran before: at an outer level, or earlier at the same level. Reusing a node declared
 * later would read the value it had in the previous iteration.
 */
interface Scope {
  level: number;
  seq: number;
}

/**
 * The key of view `v`'s partial address (element size `bytes`, loop dims < k applied), encoded
 * once per view (every load of a kernel asks for it at each loop level).
 */
const addressKeys = new WeakMap<View, Map<number, string>>();
function addressKey(v: View, bytes: number, k: number): string {
  let m = addressKeys.get(v);
  if (!m) addressKeys.set(v, (m = new Map()));
  const slot = bytes * 256 + k;
  let key = m.get(slot);
  if (key === undefined) m.set(slot, (key = exprKey(["addr", v.buf, bytes, v.offset, v.strides.slice(0, k)])));
  return key;
}

/** Expression emitter for one loop nest: nodes become locals set at their loop level. */
export class Exprs {
  readonly decls: (() => void)[][];
  private readonly nodes = new Map<string, Node>();
  private seq = 0;
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

  /** The loop level an expression depends on. */
  levelOf(e: Expr): number {
    return exprLevel(e);
  }

  /**
   * The byte address of view `v` with loop dims < k applied, as a node: base + offset * bytes at
   * level 0, then + i_j * stride_j * bytes at level j + 1 (dims of stride 0 add nothing).
   */
  address(v: View, bytes: number, k: number): Node {
    if (k > 0 && v.strides[k - 1] === 0) return this.address(v, bytes, k - 1);
    const key = addressKey(v, bytes, k);
    const hit = this.nodes.get(key);
    if (hit) return hit;
    const c = this.fn.body;
    const local = this.fn.local("i32");
    const prev = k > 0 ? this.address(v, bytes, k - 1) : null;
    const level = k;
    const seq = this.seq++;
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
    const node = { local, level, seq };
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
    if (e.k === "index") return () => void c.localGet(this.loopLocals[e.dim]!);
    const key = exprKey(e);
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
      level = Math.max(viewLevel(e.view), this.levelOf(e.index));
      emit = () => this.loadAt(e.view.buf, e.dtype, () => this.gatherIndex(e, ix));
    } else if (e.k === "op") {
      const args = e.args.map((a) => this.value(a));
      level = this.levelOf(e);
      emit = () => emitScalarOp(this.fn.ops(), e.op, args, e.dtype, e.args.map((a) => a.dtype));
    } else {
      level = this.levelOf(e);
      const scope = { level, seq: this.seq };
      emit = () => this.inline(e, scope, true);
    }
    const seq = this.seq++;
    this.decls[level]!.push(() => {
      emit();
      c.localSet(local);
    });
    this.nodes.set(key, { local, level, seq });
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
   * Pushes `e` computed in place (a guard and its branches, in the declaration `scope`): nodes
   * already computed there are reused, nothing is registered. `top`: `e` is the node being
   * defined (its own registration is not a value yet).
   */
  private inline(e: Expr, scope: Scope, top = false): void {
    const c = this.fn.body;
    const hit = e.k === "const" || top ? undefined : this.nodes.get(exprKey(e));
    if (hit && (hit.level < scope.level || (hit.level === scope.level && hit.seq < scope.seq))) return void c.localGet(hit.local);
    switch (e.k) {
      case "const":
        return this.value(e)();
      case "dim":
        this.fn.dim(e.dim);
        if (VT_OF[e.dtype] === "f32") c.raw(0xb2);
        else if (VT_OF[e.dtype] === "f64") c.raw(0xb7);
        return;
      case "index":
        return void c.localGet(this.loopLocals[e.dim]!);
      case "load":
        return this.loadAt(e.view.buf, e.dtype, () => this.index(e.view));
      case "gather": {
        const t = this.fn.local("i32");
        this.inline(e.index, scope);
        c.localSet(t);
        return this.loadAt(e.view.buf, e.dtype, () => this.gatherIndex(e, () => void c.localGet(t)));
      }
      case "op": {
        // operands into fresh locals, then the op
        const locals = e.args.map((a) => {
          const l = this.fn.local(VT_OF[a.dtype]);
          this.inline(a, scope);
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
        if (e.step) {
          c.localGet(i);
          this.fn.dim(e.lo);
          c.raw(0x6b).i32Const(e.step).raw(0x6f).raw(0x45).raw(0x71); // (i - lo) % step == 0, and
        }
        c.if_(VT_OF[e.dtype]);
        this.inline(e.body, scope);
        c.else_();
        this.inline(e.other, scope);
        c.end();
        return;
      }
    }
  }
}

/**
 * A range [lo, hi) of a kernel's outermost loop, in two i32 locals (the parameters of a kernel
 * function that threads run in pieces, kernels.ts).
 */
export interface Range {
  lo: number;
  hi: number;
}

/**
 * Emits `for (i = 0; i < size; i++)` around `inner` (`resume`: from i's current value; `end`: a
 * local holding the bound instead of `size`).
 */
export function countedLoop(fn: Fn, i: number, size: Dim, inner: () => void, reverse = false, resume = false, end?: number): void {
  const c = fn.body;
  const n = end ?? fn.local("i32");
  if (end === undefined) {
    fn.dim(size);
    c.localSet(n);
  }
  if (reverse) c.localGet(n).i32Const(1).raw(0x6b).localSet(i);
  else if (!resume) c.i32Const(0).localSet(i);
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

/**
 * Loop nest over `shape` running each level's declarations, then `inner` innermost; loop `reversed`
 * counts down. `vector`: emits a loop over the innermost dim that stops where fewer than its step
 * remain (leaving the loop index there; given the local of its bound, or undefined for the dim's
 * size); the scalar innermost loop then runs the tail. `range`: loop dim 0 runs over [lo, hi) only
 * (never reversed: only map and row-reduction kernels take a range).
 */
export function nest(fn: Fn, ex: Exprs, shape: Dim[], loops: number[], inner: () => void, from = 0, to = shape.length, reversed = -1, vector?: (end?: number) => void, range?: Range): void {
  const run = (d: number): void => {
    if (d === to && to < shape.length) return inner(); // the caller continues the nest from here
    for (const decl of ex.decls[d]!) decl();
    if (d === shape.length) return inner();
    const r = d === 0 ? range : undefined;
    const tail = vector !== undefined && d === shape.length - 1;
    if (r) fn.body.localGet(r.lo).localSet(loops[d]!);
    if (tail) {
      if (!r) fn.body.i32Const(0).localSet(loops[d]!);
      vector(r?.hi);
    }
    countedLoop(fn, loops[d]!, shape[d]!, () => run(d + 1), d === reversed, tail || r !== undefined, r?.hi);
  };
  run(from);
}

/** Stores the value on the stack (of the buffer's dtype) at buf[counter] and bumps the counter. */
export function storeAt(fn: Fn, buf: number, dtype: DType, counter: number, value: () => void): void {
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
