// WebAssembly code generation from the kernel IR: one module per program, one function per
// top-level kernel (so V8 tiers each hot kernel up on its own) and an exported `run` calling them
// in order. Buffers live in one imported memory; a table at address 0 holds the symbol values
// and every buffer's byte address (i32 each), written by the caller before `run` (wasm/program.ts).
// Loop nests, hoisting and CSE follow the JS backend: contiguous loop dims are merged, and every
// subexpression is computed once, at the outermost loop level it depends on. The untaken side of
// a guard (pad, concatenate) is computed inside an if/else, never hoisted, so it is never read.
// Matrix products and fallback calls are imports back into JS (dot(k, aOff, bOff) and call(k)).
// Cumulative reductions (cumsum, cumprod) store their accumulator at every scanned step.

import {
  type CallKernel,
  type DotKernel,
  type Expr,
  type Kernel,
  type LoweredProgram,
  allKernels,
} from "../../lower/kernel-ir.js";
import { mapNest, reduceNest } from "../../lower/loop-nest.js";
import { kernelReads, kernelWrites } from "../../lower/memory.js";
import { Exprs, Fn, type Range, countedLoop, nest, storeAt } from "./emit.js";
import { ModuleBuilder } from "../../runtime/wasm/encoder.js";
import { MEM, VT_OF, declareImports, emitScalarOp, fromF64, toF64 } from "./scalar.js";
import { ModuleMath } from "./math.js";
import { vectorValue, vectorizable } from "./simd.js";
import { columnReduction } from "./reduce-columns.js";
import { ImportUse, type RowSplit, emitRunKernel, importsSharedMemory, rowSplit } from "./threads.js";
import type { Dim } from "../../core/shape.js";

export interface WasmProgram {
  bytes: Uint8Array;
  /** the dot and call kernels, by the index the dot(k, ...) / call(k) imports receive */
  dots: DotKernel[];
  calls: CallKernel[];
  /** bytes of the table at address 0: one i32 per symbol, then one per buffer */
  tableBytes: number;
  /**
   * the module imports a shared memory and m.par(k, n): large map and row-reduction kernels are
   * exported as `k<index>(lo, hi)` over a range of their outermost loop, which worker threads
   * run in pieces (wasm/threads.ts)
   */
  shared: boolean;
}

/** Byte addresses of the constants (fixed, right after the table), and the end of that region. */
export function constLayout(lp: LoweredProgram): { addr: Map<number, number>; end: number } {
  const addr = new Map<number, number>();
  let at = tableBytes(lp);
  for (const c of lp.consts) {
    addr.set(c.buf, at);
    at = Math.ceil((at + c.value.data.byteLength) / 16) * 16;
  }
  return { addr, end: at };
}

/** The buffers the module itself reads or writes (the others only matrix products and fallback calls touch). */
export function touchedByWasm(lp: LoweredProgram): Set<number> {
  const s = new Set<number>();
  for (const k of allKernels(lp.kernels)) {
    if (k.kind === "dot" || k.kind === "call" || k.kind === "loop") continue;
    if (k.kind === "cond") s.add(k.index);
    else if (k.kind === "while") s.add(k.pred);
    else for (const b of [...kernelReads(k), ...kernelWrites(k)]) s.add(b);
  }
  return s;
}

export function tableBytes(lp: LoweredProgram): number {
  return Math.ceil((4 * (lp.symbols.length + lp.buffers.length)) / 16) * 16;
}

/** How a program's module is generated. */
export interface WasmGenOptions {
  /** m.tick(k) before top-level kernel k and after the last (a profiling build: never cached or exported) */
  profile?: boolean;
  /** a shared memory and threaded kernels (the jit, where SharedArrayBuffer exists; never exports) */
  threads?: boolean;
}

class Gen {
  readonly module = new ModuleBuilder();
  readonly imports: ImportUse;
  readonly dots: DotKernel[];
  readonly calls: CallKernel[];
  readonly math: ModuleMath;
  private readonly profile: boolean;
  private readonly threads: boolean;
  constructor(
    readonly lp: LoweredProgram,
    opts: WasmGenOptions = {},
  ) {
    this.profile = opts.profile ?? false;
    this.threads = opts.threads ?? false;
    // the memory import comes first (importsSharedMemory reads it back from cached bytes)
    this.module.importMemory("env", "memory", this.threads ? { initial: 1, maximum: 65536, shared: true } : { initial: 1 });
    this.imports = new ImportUse(declareImports(this.module));
    // profiling build only (bench/profile-kernels.ts): m.tick(k) before top-level kernel k and after the last
    if (this.profile) this.imports.set("tick", this.module.importFunc("m", "tick", ["i32"], []));
    if (this.threads) this.imports.set("par", this.module.importFunc("m", "par", ["i32", "i32"], []));
    this.math = new ModuleMath(this.module, (name) => this.imports.get(`u_${name}`)!);
    this.imports.math = this.math;
    ({ dots: this.dots, calls: this.calls } = importedKernels(lp));
  }

  /** Emits kernel `k`; with `range`, a map or row reduction runs its outermost loop over [lo, hi) only (returns whether it did). */
  kernel(fn: Fn, k: Kernel, range?: Range): boolean {
    const c = fn.body;
    const dtypeOf = (id: number) => this.lp.buffers[id]!.dtype;
    switch (k.kind) {
      case "map": {
        const { shape, expr } = mapNest(k);
        const loops = shape.map(() => fn.local("i32"));
        const ex = new Exprs(fn, loops);
        const o = fn.local("i32");
        // float32: four elements per step, stored at out[o]
        const vector =
          dtypeOf(k.out) === "float32"
            ? this.simdLoop(fn, ex, shape, expr, loops, (value) => {
                fn.base(k.out);
                c.localGet(o).i32Const(2).i32Shl().i32Add();
                value();
                c.raw(0xfd, 0x0b, 2, 0); // v128.store align=4
                c.localGet(o).i32Const(4).i32Add().localSet(o);
              })
            : undefined;
        const root = ex.value(expr);
        fn.dim(k.outOffset ?? 0);
        if (range) rangeStart(fn, range, shape.slice(1)), c.i32Add();
        c.localSet(o);
        nest(fn, ex, shape, loops, () => storeAt(fn, k.out, dtypeOf(k.out), o, root), 0, shape.length, -1, vector, range);
        return range !== undefined;
      }
      case "reduce":
        return this.reduce(fn, k, range);
      case "scatter": {
        const dt = dtypeOf(k.out);
        const m = MEM[dt];
        if (!k.combine) {
          fn.base(k.out);
          c.i32Const(0);
          fn.dim(this.lp.buffers[k.out]!.size);
          if (m.bytes > 1) c.i32Const(Math.log2(m.bytes)).i32Shl();
          c.memoryFill();
        }
        const combine = k.combine;
        const old = combine ? fn.local(VT_OF[dt]) : -1;
        const upd = combine ? fn.local(VT_OF[dt]) : -1;
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
          if (combine) {
            // out already holds the operand: out = op(update, old) with the elementwise op
            c.localSet(old);
            value();
            c.localSet(upd);
            emitScalarOp(fn.ops(), combine, [() => void c.localGet(upd), () => void c.localGet(old)], dt, [dt, dt]);
          } else {
            value();
            c.raw(VT_OF[dt] === "f32" ? 0x92 : VT_OF[dt] === "f64" ? 0xa0 : 0x6a);
          }
          c.memOp(m.store, 0, m.align);
        });
        return false;
      }
      case "dot":
        c.i32Const(this.dots.indexOf(k));
        fn.dim(k.lhs.offset);
        fn.dim(k.rhs.offset);
        c.call(this.imports.get("dot")!);
        return false;
      case "call":
        c.i32Const(this.calls.indexOf(k)).call(this.imports.get("call")!);
        return false;
      case "loop": {
        const i = fn.local("i32");
        fn.syms.set(k.index, i);
        countedLoop(fn, i, k.length, () => k.body.forEach((b) => this.kernel(fn, b)), k.reverse);
        return false;
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
        return false;
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
        return false;
      }
    }
  }

  /**
   * The f32x4 loop over the innermost dim (wasm/simd.ts): `step` consumes four elements of `expr`
   * per iteration, then the scalar innermost loop runs the tail. Undefined when the kernel stays
   * scalar (short or non-vectorizable innermost loop).
   */
  private simdLoop(fn: Fn, ex: Exprs, shape: Dim[], expr: Expr, loops: number[], step: (value: () => void) => void): ((end?: number) => void) | undefined {
    const inner = shape.length - 1;
    const n = shape[inner];
    if (n === undefined || (typeof n === "number" && n < 4) || !vectorizable(expr, inner)) return undefined;
    const i = loops[inner]!;
    const value = vectorValue(fn, ex, expr, inner, i);
    return (end) => {
      const c = fn.body;
      const size = end ?? fn.local("i32");
      if (end === undefined) {
        fn.dim(n);
        c.localSet(size);
      }
      const exit = c.block();
      const top = c.loop();
      c.localGet(i).i32Const(4).i32Add().localGet(size).raw(0x4a).brIf(exit); // i + 4 > size
      step(value);
      c.localGet(i).i32Const(4).i32Add().localSet(i);
      c.br(top);
      c.end();
      c.end();
    };
  }

  /**
   * cumsum / cumprod: the accumulator in the dtype's own value type, stepped by the scalar op the
   * fused add / mul emits (so rounding is the JS backend's and the interpreter's) and stored at
   * every step of the scanned loop (counting down when reversed).
   */
  private cumulative(fn: Fn, k: Extract<Kernel, { kind: "reduce" }>): void {
    const c = fn.body;
    const { shape, nOuter, expr, out } = reduceNest(k);
    const loops = shape.map(() => fn.local("i32"));
    const ex = new Exprs(fn, loops);
    const root = ex.value(expr);
    const dt = this.lp.buffers[k.out]!.dtype;
    const vt = VT_OF[dt];
    const m = MEM[dt];
    const acc = fn.local(vt);
    const sum = k.op === "cumsum";
    const init = () => {
      // -0 + x is x, -0 included
      if (vt === "f32") c.f32Const(sum ? -0 : 1);
      else if (vt === "f64") c.f64Const(sum ? -0 : 1);
      else c.i32Const(sum ? 0 : 1);
      c.localSet(acc);
    };
    const step = () => {
      emitScalarOp(fn.ops(), sum ? "add" : "mul", [() => void c.localGet(acc), root], dt, [dt, dt]);
      c.localSet(acc);
      fn.base(k.out);
      ex.index(out);
      if (m.bytes > 1) c.i32Const(Math.log2(m.bytes)).i32Shl();
      c.i32Add().localGet(acc).memOp(m.store, 0, m.align);
    };
    nest(fn, ex, shape, loops, () => {
      init();
      nest(fn, ex, shape, loops, step, nOuter, shape.length, k.scan!.reverse ? shape.length - 1 : -1);
    }, 0, nOuter);
  }

  /**
   * Reductions accumulate in f64 (as the JS backend's accumulator) and store with JS semantics.
   * A float32 sum/prod/max/min computes its elements four at a time (f32x4, wasm/simd.ts) but
   * accumulates them one by one in element order, so the bits are the scalar loop's.
   */
  private reduce(fn: Fn, k: Extract<Kernel, { kind: "reduce" }>, range?: Range): boolean {
    if (k.op === "cumsum" || k.op === "cumprod") return this.cumulative(fn, k), false;
    if (columnReduction(fn, k, this.lp.buffers[k.out]!.dtype)) return false;
    const op = k.op;
    const c = fn.body;
    const { shape, nOuter, expr } = reduceNest(k);
    const loops = shape.map(() => fn.local("i32"));
    const ex = new Exprs(fn, loops);
    const root = ex.value(expr);
    const inVt = VT_OF[k.expr.dtype];
    const outDt = this.lp.buffers[k.out]!.dtype;
    const acc = fn.local(k.op.startsWith("arg") ? "i32" : "f64");
    const best = fn.local("f64");
    const v = fn.local("f64");
    const o = fn.local("i32");
    if (range && nOuter > 0) rangeStart(fn, range, shape.slice(1, nOuter));
    else c.i32Const(0);
    c.localSet(o);
    const init = () => {
      if (op === "argmax" || op === "argmin") c.i32Const(-1).localSet(acc).f64Const(NaN).localSet(best);
      else c.f64Const({ sum: 0, prod: 1, max: -Infinity, min: Infinity }[op]).localSet(acc);
    };
    const accumulate = () => {
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
    const combine = () => {
      root();
      toF64(c, inVt);
      c.localSet(v);
      accumulate();
    };
    const lanes = fn.local("v128");
    const vector =
      inVt === "f32" && !op.startsWith("arg") && nOuter < shape.length
        ? this.simdLoop(fn, ex, shape, expr, loops, (value) => {
            value();
            c.localSet(lanes);
            for (let lane = 0; lane < 4; lane++) {
              c.localGet(lanes).raw(0xfd, 0x1f, lane).raw(0xbb).localSet(v); // f32x4.extract_lane, f64.promote
              accumulate();
            }
          })
        : undefined;
    const store = () =>
      storeAt(fn, k.out, outDt, o, () => {
        c.localGet(acc);
        if (!k.op.startsWith("arg")) fromF64(c, this.imports, VT_OF[outDt], () => fn.scratch("f64"));
        if (outDt === "bool") c.i32Const(255).i32And();
      });
    const ranged = range !== undefined && nOuter > 0;
    nest(fn, ex, shape, loops, () => {
      init();
      nest(fn, ex, shape, loops, combine, nOuter, shape.length, -1, vector);
      store();
    }, 0, nOuter, -1, undefined, ranged ? range : undefined);
    return ranged;
  }

  build(): WasmProgram {
    const fns = this.lp.kernels.map((k, i) => {
      // a kernel threads may split takes the range of its outermost loop as parameters
      const split: RowSplit | undefined = this.threads ? rowSplit(k) : undefined;
      const f = this.module.func(split ? `k${i}` : undefined, split ? ["i32", "i32"] : [], []);
      const fn = new Fn(f, this.lp, this.imports, this.math);
      this.imports.startKernel();
      const ranged = this.kernel(fn, k, split && { lo: 0, hi: 1 });
      fn.finish();
      // only a kernel that calls no JS import runs in workers (they have no JS functions of ours)
      return { f, split, parallel: ranged && !this.imports.kernelUsesImports() };
    });
    const run = this.module.func("run", [], []);
    const runFn = new Fn(run, this.lp, this.imports, this.math);
    const tick = (k: number) => this.profile && runFn.body.i32Const(k).call(this.imports.get("tick")!);
    fns.forEach(({ f, split, parallel }, k) => {
      tick(k);
      emitRunKernel(runFn, f.index, k, split, parallel, this.imports.get("par"));
    });
    tick(fns.length);
    runFn.finish();
    return { bytes: this.module.build(), dots: this.dots, calls: this.calls, tableBytes: tableBytes(this.lp), shared: this.threads };
  }
}

/** Pushes the output counter's start for a range: lo * (elements per step of the outermost loop). */
function rangeStart(fn: Fn, range: Range, inner: Dim[]): void {
  fn.body.localGet(range.lo);
  for (const d of inner) fn.dim(d), fn.body.i32Mul();
}

/**
 * The WebAssembly module of a lowered program. With `profile`, `run` also calls the import
 * m.tick(k) before top-level kernel k and m.tick(kernels.length) at the end (a profiling build:
 * never cached or exported); with `threads`, see WasmProgram.shared.
 */
export function generateWasm(lp: LoweredProgram, opts: WasmGenOptions = {}): WasmProgram {
  return new Gen(lp, opts).build();
}

/** The kernels a module calls back into JS for, depth first (their import index is the position). */
export function importedKernels(lp: LoweredProgram): { dots: DotKernel[]; calls: CallKernel[] } {
  const all = allKernels(lp.kernels);
  return { dots: all.filter((k): k is DotKernel => k.kind === "dot"), calls: all.filter((k): k is CallKernel => k.kind === "call") };
}

/** A module generated earlier for this lowered program (the disk cache). */
export function wasmProgramOf(lp: LoweredProgram, bytes: Uint8Array): WasmProgram {
  return { bytes, ...importedKernels(lp), tableBytes: tableBytes(lp), shared: importsSharedMemory(bytes) };
}
