// The JS expression and loop-nest emitter: dimensions as JS over the symbol variables and loop
// indices, and an expression emitter that places every subexpression at the outermost loop level
// it depends on (loop-invariant hoisting and common-subexpression elimination in one step).

import type { DType } from "../../core/dtype.js";
import { InternalError } from "../../core/errors.js";
import type { Dim } from "../../core/shape.js";
import type { CallKernel, Expr, View } from "../../lower/kernel-ir.js";
import { jsNumber, jsScalarOp } from "./scalar.js";

export const ARRAY: Record<DType, string> = { float32: "Float32Array", float64: "Float64Array", int32: "Int32Array", bool: "Uint8Array" };

/** Turns dimensions into JS expressions over the symbol variables (and loop indices). */
export class DimJs {
  private readonly index: Map<string, number>;
  private readonly loops = new Map<string, string>();
  constructor(symbols: readonly string[]) {
    this.index = new Map(symbols.map((s, i) => [s, i]));
  }
  /** The JS variable of a loop kernel's index. */
  bindLoop(name: string): string {
    const v = `$l${this.loops.size}`;
    this.loops.set(name, v);
    return v;
  }
  sym(name: string): string {
    const i = this.index.get(name);
    if (i !== undefined) return `$s${i}`;
    const l = this.loops.get(name);
    if (l === undefined) throw new InternalError(`codegen: dimension symbol ${name} has no value here`);
    return l;
  }
  js(d: Dim): string {
    if (typeof d === "number") return jsNumber(d);
    const parts = [...d.terms].map(([mono, coef]) => {
      const f = mono ? mono.split("*").map((s) => this.sym(s)) : [];
      return coef === 1 && f.length ? f.join(" * ") : [jsNumber(coef), ...f].join(" * ");
    });
    return `(${parts.join(" + ")})`;
  }
}

export interface Ctx {
  buf: (id: number) => string;
  d: DimJs;
  /** position of each fallback call kernel in `calls` */
  calls: Map<CallKernel, number>;
  scratch: (n: number) => string;
}

/** Emits one expression tree as let-bindings placed at the loop level each node depends on. */
export class ExprEmitter {
  /** per loop level (0 = before all loops), the declarations to emit there */
  readonly decls: string[][];
  private readonly names = new Map<string, { name: string; level: number }>();
  private n = 0;

  constructor(
    readonly prefix: string,
    readonly nLoops: number,
    readonly ctx: Ctx,
  ) {
    this.decls = Array.from({ length: nLoops + 1 }, () => []);
  }

  /** The flat index of a view at the current loop indices: [js, level it depends on]. */
  indexOf(v: View): [string, number] {
    const d = this.ctx.d;
    let level = 0;
    const terms: string[] = v.offset !== 0 ? [d.js(v.offset)] : [];
    v.strides.forEach((s, i) => {
      if (s === 0) return;
      level = Math.max(level, i + 1);
      terms.push(s === 1 ? `i${i}` : `i${i} * ${d.js(s)}`);
    });
    return [terms.length ? terms.join(" + ") : "0", level];
  }

  /** Returns [js expression, level]. */
  emit(e: Expr): [string, number] {
    if (e.k === "const") return [jsNumber(e.value), 0];
    if (e.k === "dim") return [this.ctx.d.js(e.dim), 0];
    const key = JSON.stringify(e);
    const hit = this.names.get(key);
    if (hit) return [hit.name, hit.level];
    const d = this.ctx.d;
    let js: string;
    let level: number;
    if (e.k === "load") {
      const [idx, l] = this.indexOf(e.view);
      level = l;
      js = `${this.ctx.buf(e.view.buf)}[${idx}]`;
    } else if (e.k === "gather") {
      const [base, lb] = this.indexOf(e.view);
      const [ix, li] = this.emit(e.index);
      level = Math.max(lb, li);
      const clamped = `(${ix} < 0 ? 0 : ${ix} > ${d.js(e.size)} - 1 ? ${d.js(e.size)} - 1 : ${ix})`;
      js = `${this.ctx.buf(e.view.buf)}[${base} + ${clamped} * ${d.js(e.stride)}]`;
    } else if (e.k === "op") {
      const args = e.args.map((a) => this.emit(a));
      level = Math.max(0, ...args.map((a) => a[1]));
      js = jsScalarOp(e.op, args.map((a) => a[0]), e.dtype, e.args.map((a) => a.dtype));
    } else {
      const [b, lb] = this.emit(e.body);
      const [o, lo] = this.emit(e.other);
      level = Math.max(e.dim + 1, lb, lo);
      js = `(i${e.dim} >= ${d.js(e.lo)} && i${e.dim} < ${d.js(e.hi)} ? ${b} : ${o})`;
    }
    const name = `${this.prefix}${this.n++}`;
    this.decls[level]!.push(`const ${name} = ${js};`);
    this.names.set(key, { name, level });
    return [name, level];
  }
}

export function indent(lines: string[], depth: number): string[] {
  const pad = "  ".repeat(depth);
  return lines.map((l) => pad + l);
}

export function emitLoops(shape: Dim[], em: ExprEmitter, inner: string[]): string[] {
  const lines: string[] = [...em.decls[0]!];
  const close: string[] = [];
  shape.forEach((n, d) => {
    lines.push(...indent([`for (let i${d} = 0; i${d} < ${em.ctx.d.js(n)}; i${d}++) {`], d));
    lines.push(...indent(em.decls[d + 1]!, d + 1));
    close.unshift("  ".repeat(d) + "}");
  });
  lines.push(...indent(inner, shape.length));
  return [...lines, ...close];
}
