// The kernel-IR verifier: checks a lowered program's invariants independently of the code that
// built it (fuse.ts, the rule table) and of the memory planner, so that a lowering or planning
// bug is a typed error naming the kernel and the rule instead of wrong numbers in generated code.
// Rules (KernelRule in core/errors.ts):
//   unknown-buffer    every buffer a kernel or output names exists
//   use-before-def    a kernel reads only inputs, constants and buffers an earlier kernel wrote
//                     (a loop body in order; after a cond, what every branch wrote)
//   write-readonly    kernels write only temporaries and outputs
//   out-of-bounds     every read and write stays inside its buffer, where the loop bounds,
//                     offsets and strides are static (loop indices by their ranges, guards
//                     narrowing the guarded dim; a view whose range is not static is skipped)
//   dtype             loads match their buffer, kernels' values match their output, ops' operands
//                     match their result (comparisons give bool, select takes a bool predicate,
//                     convert gives its target), indices are int32
//   arena-overlap     for a static program, the planner's arena blocks of two temporaries that
//                     are live at the same kernel do not overlap, except a map kernel writing in
//                     place of an input that dies there and that it reads element for element;
//                     the same for the buffers a donation plan puts in a donated input's memory
//   output-unwritten  every output buffer is written
// Runs on every lowered program under ADGEN_VERIFY=1 (the test suite; wired in index.ts).

import { type DType, byteSize } from "../core/dtype.js";
import { KernelVerifyError, type KernelRule } from "../core/errors.js";
import { type Dim, SymDim, dimEq, shapeSize } from "../core/shape.js";
import { type Expr, type Kernel, type LoweredProgram, type View, nestedKernels } from "./kernel-ir.js";
import { kernelReads, kernelWrites, planMemory } from "./memory.js";
import { contiguousStrides } from "./views.js";

/** Inclusive integer range; null: not statically known. */
type Range = [number, number] | null;

interface Scope {
  /** where we are, for messages */
  name: string;
  /** loop symbols (LoopKernel index names) and their ranges */
  symbols: Map<string, Range>;
}

let enabled = false;
/** Verify every program lowerProgram returns (set under ADGEN_VERIFY=1 by index.ts). */
export function verifyEveryLoweredProgram(on: boolean): void {
  enabled = on;
}
export function verifyLoweredEnabled(): boolean {
  return enabled;
}

export function verifyLowered(lp: LoweredProgram): void {
  new Verifier(lp).run();
}

/** Checks a donation plan (lower/memory-donate.ts): buffer id -> the donated input whose memory it is written into. */
export function verifyDonation(lp: LoweredProgram, aliases: ReadonlyMap<number, number>): void {
  new Verifier(lp).donation(aliases);
}

class Verifier {
  constructor(readonly lp: LoweredProgram) {}

  fail(rule: KernelRule, where: string, detail: string): never {
    throw new KernelVerifyError(rule, where, detail);
  }

  buf(id: number, where: string) {
    const b = this.lp.buffers[id];
    if (!b || b.id !== id) this.fail("unknown-buffer", where, `buffer ${id} does not exist (${this.lp.buffers.length} buffers)`);
    return b;
  }

  run(): void {
    const lp = this.lp;
    const defined = new Set<number>();
    for (const b of lp.buffers) if (b.kind === "input" || b.kind === "const") defined.add(b.id);
    const top: Scope = { name: "", symbols: new Map() };
    this.kernels(lp.kernels, defined, top, "kernel");
    lp.outputs.forEach((o, i) => {
      if (o.kind !== "buffer") return;
      const b = this.buf(o.buf, `output ${i}`);
      if (!defined.has(b.id)) this.fail("output-unwritten", "program", `output ${i} (buffer ${b.id}) is never written`);
      const aval = lp.outAvals[i];
      if (aval && aval.dtype !== b.dtype) this.fail("dtype", "program", `output ${i} is ${aval.dtype} but buffer ${b.id} is ${b.dtype}`);
    });
    for (const b of lp.buffers)
      if (b.kind === "output" && !defined.has(b.id)) this.fail("output-unwritten", "program", `output buffer ${b.id} is never written`);
    this.arena();
  }

  /** Walks a kernel list in order, growing `defined` with what each kernel writes. */
  kernels(ks: readonly Kernel[], defined: Set<number>, scope: Scope, label: string): void {
    ks.forEach((k, i) => {
      const where = `${scope.name}${label} ${i} (${k.kind})`;
      this.kernel(k, defined, { ...scope, name: where }, where);
    });
  }

  kernel(k: Kernel, defined: Set<number>, scope: Scope, where: string): void {
    const nested = nestedKernels(k);
    // reads of a control-flow kernel are checked inside its nested lists, in their order
    const reads = nested.length ? (k.kind === "cond" ? [k.index] : []) : kernelReads(k);
    for (const r of reads) {
      const b = this.buf(r, where);
      if (!defined.has(b.id)) this.fail("use-before-def", where, `reads buffer ${b.id} (${b.kind}) before any kernel writes it`);
    }
    if (!nested.length)
      for (const w of kernelWrites(k)) {
        const b = this.buf(w, where);
        if (b.kind === "input" || b.kind === "const") this.fail("write-readonly", where, `writes buffer ${b.id}, a program ${b.kind}`);
      }
    const sub = { ...scope, name: `${where} > ` };
    switch (k.kind) {
      case "map": {
        const out = this.buf(k.out, where);
        this.expr(k.expr, k.shape, scope, where);
        this.sameDType(k.expr.dtype, out.dtype, where, `its value`, `output buffer ${out.id}`);
        const n = this.size(shapeSize(k.shape), scope);
        const off = this.dimRange(k.outOffset ?? 0, scope);
        if (n !== null && off) this.inBounds(out.id, [off[0], off[1] + n - 1], where, "writes");
        break;
      }
      case "reduce": {
        const out = this.buf(k.out, where);
        const loop = [...k.outShape, ...k.redShape];
        this.expr(k.expr, loop, scope, where);
        const want: DType = k.op === "argmax" || k.op === "argmin" ? "int32" : k.expr.dtype;
        this.sameDType(want, out.dtype, where, `its ${k.op} result`, `output buffer ${out.id}`);
        if (k.scan) this.view({ buf: k.out, offset: 0, strides: k.scan.strides }, loop, scope, where, "writes");
        else {
          const n = this.size(shapeSize(k.outShape), scope);
          if (n !== null) this.inBounds(out.id, [0, n - 1], where, "writes");
        }
        break;
      }
      case "dot": {
        const out = this.buf(k.out, where);
        for (const v of [k.lhs, k.rhs]) this.sameDType(this.buf(v.buf, where).dtype, k.dtype, where, `operand buffer ${v.buf}`, "the product");
        this.sameDType(k.dtype, out.dtype, where, "the product", `output buffer ${out.id}`);
        // a batched product's views carry one stride per batch dim (DotKernel.batch), else one for B
        const batch = k.batch ?? [k.B];
        this.view(k.lhs, [...batch, k.M, k.K], scope, where, "reads");
        this.view(k.rhs, [...batch, k.K, k.N], scope, where, "reads");
        const n = this.size(shapeSize([k.B, k.M, k.N]), scope);
        if (n !== null) this.inBounds(out.id, [0, n - 1], where, "writes");
        break;
      }
      case "scatter": {
        const out = this.buf(k.out, where);
        this.expr(k.value, k.shape, scope, where);
        this.expr(k.index, k.shape, scope, where);
        this.sameDType(k.value.dtype, out.dtype, where, "the scattered value", `output buffer ${out.id}`);
        this.sameDType(k.index.dtype, "int32", where, "the scatter index", "int32");
        this.gatherRange(k.base, k.shape, k.stride, k.size, scope, where, "writes");
        break;
      }
      case "call":
        [...k.ins.map((b, i) => [b, k.inAvals[i]!, "input"] as const), ...k.outs.map((b, i) => [b, k.outAvals[i]!, "output"] as const)].forEach(([id, aval, what], i) => {
          const b = this.buf(id, where);
          this.sameDType(aval.dtype, b.dtype, where, `${what} ${i} of ${k.prim.name}`, `buffer ${b.id}`);
          const n = this.size(shapeSize(aval.shape), scope), have = this.size(b.size, scope);
          if (n !== null && have !== null && n !== have) this.fail("out-of-bounds", where, `${what} ${i} of ${k.prim.name} has ${n} elements but buffer ${b.id} holds ${have}`);
        });
        break;
      case "loop": {
        const len = this.size(k.length, scope);
        const symbols = new Map(scope.symbols).set(k.index, len === null ? null : [0, len - 1]);
        this.kernels(k.body, defined, { ...sub, symbols }, "body");
        break;
      }
      case "cond": {
        this.sameDType(this.buf(k.index, where).dtype, "int32", where, `index buffer ${k.index}`, "int32");
        const after = k.branches.map((br, i) => {
          const d = new Set(defined);
          this.kernels(br, d, sub, `branch ${i}`);
          return d;
        });
        // what every branch wrote is defined after the cond
        for (const b of after[0] ?? []) if (after.every((d) => d.has(b))) defined.add(b);
        break;
      }
      case "while": {
        this.kernels(k.cond, defined, sub, "cond");
        if (!defined.has(k.pred)) this.fail("use-before-def", where, `the predicate buffer ${k.pred} is not written by the cond kernels`);
        this.sameDType(this.buf(k.pred, where).dtype, "bool", where, `predicate buffer ${k.pred}`, "bool");
        this.kernels(k.body, defined, sub, "body");
        break;
      }
    }
    // (control flow added what its nested lists define above)
    if (!nested.length) for (const w of kernelWrites(k)) defined.add(w);
  }

  sameDType(a: DType, b: DType, where: string, what: string, against: string): void {
    if (a !== b) this.fail("dtype", where, `${what} is ${a} but ${against} is ${b}`);
  }

  /** Checks dtypes and bounds of an expression over loop space `shape`. */
  expr(e: Expr, shape: readonly Dim[], scope: Scope, where: string, ranges: Range[] = shape.map((d) => this.loopRange(d, scope))): void {
    switch (e.k) {
      case "load":
        this.sameDType(e.dtype, this.buf(e.view.buf, where).dtype, where, `a load of buffer ${e.view.buf}`, "the buffer");
        this.viewIn(e.view, ranges, scope, where, "reads");
        return;
      case "gather":
        this.sameDType(e.dtype, this.buf(e.view.buf, where).dtype, where, `a gather from buffer ${e.view.buf}`, "the buffer");
        this.sameDType(e.index.dtype, "int32", where, "a gather index", "int32");
        this.expr(e.index, shape, scope, where, ranges);
        this.gatherIn(e.view, ranges, e.stride, e.size, scope, where, "reads");
        return;
      case "index":
        this.sameDType(e.dtype, "int32", where, `loop index ${e.dim}`, "int32");
        return;
      case "const":
      case "dim":
        return;
      case "guard": {
        for (const side of [e.body, e.other]) this.sameDType(side.dtype, e.dtype, where, "a guarded value", "the guard");
        const r = ranges[e.dim];
        const lo = this.size(e.lo, scope), hi = this.size(e.hi, scope);
        const inside = [...ranges];
        const outside = [...ranges];
        if (r && lo !== null && hi !== null) {
          inside[e.dim] = [Math.max(r[0], lo), Math.min(r[1], hi - 1)];
          // the complement of [lo, hi) is one range only when the guard covers one end
          outside[e.dim] = lo <= r[0] ? [Math.max(r[0], hi), r[1]] : hi > r[1] ? [r[0], Math.min(r[1], lo - 1)] : null;
        } else inside[e.dim] = outside[e.dim] = null;
        // an empty side is never taken
        if (!inside[e.dim] || inside[e.dim]![0] <= inside[e.dim]![1]) this.expr(e.body, shape, scope, where, inside);
        if (!outside[e.dim] || outside[e.dim]![0] <= outside[e.dim]![1]) this.expr(e.other, shape, scope, where, outside);
        return;
      }
      case "op": {
        e.args.forEach((a) => this.expr(a, shape, scope, where, ranges));
        const [head, tail] = e.op.split(":") as [string, string | undefined];
        const args = e.args.map((a) => a.dtype);
        const want = (ds: DType[], result: DType) => {
          if (ds.length !== args.length || ds.some((d, i) => d !== args[i]) || result !== e.dtype)
            this.fail("dtype", where, `op ${e.op} on (${args.join(", ")}) gives ${e.dtype}, expected (${ds.join(", ")}) -> ${result}`);
        };
        if (head === "convert") want([args[0]!], tail as DType);
        else if (head === "cmp") want([args[0]!, args[0]!], "bool");
        else if (head === "select") want(["bool", e.dtype, e.dtype], e.dtype);
        else want(args.map(() => e.dtype), e.dtype);
        return;
      }
    }
  }

  /** A dim's value when static (loop symbols must have a single value: not here). */
  size(d: Dim, scope: Scope): number | null {
    const r = this.dimRange(d, scope);
    return r && r[0] === r[1] ? r[0] : null;
  }

  /** Range of a loop over extent `d` (indices 0 .. d - 1). */
  loopRange(d: Dim, scope: Scope): Range {
    const n = this.size(d, scope);
    return n === null ? null : [0, n - 1];
  }

  /**
   * Range of a dim over the loop symbols in scope: a polynomial in them, multilinear in practice
   * (a slice offset base + i * step), so its extremes are at the corners of the symbols' ranges.
   */
  dimRange(d: Dim, scope: Scope): Range {
    if (!(d instanceof SymDim)) return [d, d];
    const syms = d.symbols();
    const rs = syms.map((s) => scope.symbols.get(s));
    // (an empty range: a loop that never runs, whose body reads nothing)
    if (rs.some((r) => !r || r[0] > r[1]) || syms.length > 6) return null;
    let lo = Infinity, hi = -Infinity;
    for (let c = 0; c < 1 << syms.length; c++) {
      const env: Record<string, number> = {};
      syms.forEach((s, i) => (env[s] = rs[i]![(c >> i) & 1]!));
      const v = d.evaluate(env);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return [lo, hi];
  }

  /** Range of addresses a view touches over loop ranges (null: not static). */
  viewRange(v: View, ranges: readonly Range[], scope: Scope): Range {
    const off = this.dimRange(v.offset, scope);
    if (!off) return null;
    let [lo, hi] = off;
    // a loop dim of extent 0: the kernel touches nothing
    if (ranges.some((r) => r && r[0] > r[1])) return null;
    for (let i = 0; i < v.strides.length; i++) {
      const s = this.size(v.strides[i]!, scope);
      if (s === 0) continue;
      const r = ranges[i];
      if (s === null || !r) return null;
      lo += Math.min(s * r[0], s * r[1]);
      hi += Math.max(s * r[0], s * r[1]);
    }
    return [lo, hi];
  }

  view(v: View, shape: readonly Dim[], scope: Scope, where: string, what: "reads" | "writes"): void {
    this.viewIn(v, shape.map((d) => this.loopRange(d, scope)), scope, where, what);
  }

  viewIn(v: View, ranges: readonly Range[], scope: Scope, where: string, what: "reads" | "writes"): void {
    this.buf(v.buf, where);
    const r = this.viewRange(v, ranges, scope);
    if (r) this.inBounds(v.buf, r, where, what);
  }

  gatherRange(v: View, shape: readonly Dim[], stride: Dim, size: Dim, scope: Scope, where: string, what: "reads" | "writes"): void {
    this.gatherIn(v, shape.map((d) => this.loopRange(d, scope)), stride, size, scope, where, what);
  }

  /** view(loop) + clamp(index, 0, size - 1) * stride. */
  gatherIn(v: View, ranges: readonly Range[], stride: Dim, size: Dim, scope: Scope, where: string, what: "reads" | "writes"): void {
    this.buf(v.buf, where);
    const r = this.viewRange(v, ranges, scope);
    const s = this.size(stride, scope), n = this.size(size, scope);
    if (!r || s === null || n === null) return;
    const span = s * (n - 1);
    this.inBounds(v.buf, [r[0] + Math.min(0, span), r[1] + Math.max(0, span)], where, what);
  }

  inBounds(id: number, [lo, hi]: [number, number], where: string, what: string): void {
    const b = this.lp.buffers[id]!;
    if (typeof b.size !== "number" || hi < lo) return;
    if (lo < 0 || hi >= b.size) this.fail("out-of-bounds", where, `${what} elements ${lo}..${hi} of buffer ${id} (${b.kind}, ${b.size} elements)`);
  }

  /** The planner's arena for a static program: no two blocks overlap while both are live. */
  arena(): void {
    const lp = this.lp;
    if (lp.buffers.some((b) => typeof b.size !== "number")) return;
    // the offsets a backend planned (compileJs stores them), else the planner's for these sizes
    const offsets = lp.offsets.length ? lp.offsets : planMemory(lp, lp.buffers.map((b) => b.size as number)).offsets;
    const first = new Map<number, number>(), last = new Map<number, number>();
    lp.kernels.forEach((k, i) =>
      [...kernelReads(k), ...kernelWrites(k)].forEach((b) => {
        if (lp.buffers[b]?.kind !== "temp") return;
        if (!first.has(b)) first.set(b, i);
        last.set(b, i);
      }),
    );
    const temps = [...first.keys()].sort((a, b) => a - b);
    const bytes = (b: number) => (lp.buffers[b]!.size as number) * byteSize(lp.buffers[b]!.dtype);
    for (const a of temps)
      for (const b of temps) {
        if (b <= a || bytes(a) === 0 || bytes(b) === 0) continue;
        const oa = offsets[a]!, ob = offsets[b]!;
        if (oa + bytes(a) <= ob || ob + bytes(b) <= oa) continue;
        const from = this.liveTogether(a, b, first, last);
        if (from === null) continue;
        this.fail(
          "arena-overlap",
          `kernel ${from} (${lp.kernels[from]!.kind})`,
          `temporaries ${a} [${oa}, ${oa + bytes(a)}) and ${b} [${ob}, ${ob + bytes(b)}) share arena bytes while both are live (kernels ${first.get(a)}..${last.get(a)} and ${first.get(b)}..${last.get(b)})`,
        );
      }
  }

  /** The first kernel where `a` and `b` are both live, unless none or one is written there in place of the other. */
  liveTogether(a: number, b: number, first: ReadonlyMap<number, number>, last: ReadonlyMap<number, number>): number | null {
    const from = Math.max(first.get(a)!, first.get(b)!), to = Math.min(last.get(a)!, last.get(b)!);
    if (from > to) return null;
    if (from === to && (this.inPlace(a, b, from) || this.inPlace(b, a, from))) return null;
    return from;
  }

  /** Donation (memory-donate.ts): the buffers sharing a donated input's memory are never live together except in place. */
  donation(aliases: ReadonlyMap<number, number>): void {
    const lp = this.lp;
    const first = new Map<number, number>(), last = new Map<number, number>();
    lp.kernels.forEach((k, i) =>
      [...kernelReads(k), ...kernelWrites(k)].forEach((b) => {
        if (!first.has(b)) first.set(b, lp.buffers[b]?.kind === "input" ? -1 : i);
        last.set(b, lp.buffers[b]?.kind === "output" ? Infinity : i);
      }),
    );
    const groups = new Map<number, number[]>();
    for (const [b, root] of aliases) {
      const r = this.buf(root, "donation"), o = this.buf(b, "donation");
      if (r.kind !== "input" || (o.kind !== "temp" && o.kind !== "output")) this.fail("arena-overlap", "donation", `buffer ${b} (${o.kind}) is planned in the memory of buffer ${root} (${r.kind}): only temporaries and outputs go into donated inputs`);
      const bytes = (x: typeof r) => (typeof x.size === "number" ? x.size * byteSize(x.dtype) : null);
      if (bytes(o) !== null && bytes(r) !== null && bytes(o)! > bytes(r)!) this.fail("out-of-bounds", "donation", `buffer ${b} (${bytes(o)} bytes) does not fit in donated input ${root} (${bytes(r)} bytes)`);
      groups.set(root, [...(groups.get(root) ?? [root]), b]);
    }
    for (const g of groups.values())
      for (const a of g)
        for (const b of g) {
          const at = b > a && first.has(a) && first.has(b) ? this.liveTogether(a, b, first, last) : null;
          if (at !== null) this.fail("arena-overlap", `kernel ${at} (${lp.kernels[at]!.kind})`, `buffers ${a} and ${b} share donated input ${g[0]}'s memory while both are live`);
        }
  }

  /** Kernel `k` is a map writing `out` in place of `dying`, which it reads element for element and never again. */
  inPlace(dying: number, out: number, k: number): boolean {
    const lp = this.lp;
    const kern = lp.kernels[k]!;
    if (kern.kind !== "map" || kern.out !== out || kern.outOffset) return false;
    const d = lp.buffers[dying]!, o = lp.buffers[out]!;
    let lastUse = -1;
    lp.kernels.forEach((x, i) => (kernelReads(x).includes(dying) || kernelWrites(x).includes(dying)) && (lastUse = i));
    if (lastUse !== k || byteSize(d.dtype) !== byteSize(o.dtype) || kernelWrites(kern).includes(dying)) return false;
    const cs = contiguousStrides(kern.shape);
    const views: View[] = [];
    let gathered = false;
    const collect = (e: Expr): void => {
      if (e.k === "load") views.push(e.view);
      if (e.k === "gather") (gathered ||= e.view.buf === dying), collect(e.index);
      if (e.k === "op") e.args.forEach(collect);
      if (e.k === "guard") [e.body, e.other].forEach(collect);
    };
    collect(kern.expr);
    return !gathered && views.filter((v) => v.buf === dying).every((v) => dimEq(v.offset, 0) && v.strides.every((s, i) => dimEq(s, cs[i]!) || kern.shape[i] === 1));
  }
}
