// The JS expression and loop-nest emitter: dimensions as JS over the symbol variables and loop
// indices, and an expression emitter that places every subexpression at the outermost loop level
// it depends on (loop-invariant hoisting and common-subexpression elimination in one step),
// except the branches of guards, which are computed only on their taken side.

import type { DType } from "../../core/dtype.js";
import { InternalError } from "../../core/errors.js";
import type { Dim } from "../../core/shape.js";
import { type CallKernel, type Expr, type View, exprKey, exprLevel } from "../../lower/kernel-ir.js";
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

/** A declared node: its variable, the loop level it is declared at, and its declaration order. */
interface Named {
  name: string;
  level: number;
  seq: number;
}

/**
 * Emits one expression tree as const bindings placed at the loop level each node depends on.
 * A guard (pad, concatenate) is a `let` assigned in an if/else: its branches are computed only on
 * the taken side (never hoisted, so the untaken side is never read), reusing only nodes already
 * declared at that point (an outer level, or earlier at the same level).
 */
export class ExprEmitter {
  /** per loop level (0 = before all loops), the declarations to emit there */
  readonly decls: string[][];
  private readonly names = new Map<string, Named>();
  private n = 0;
  private seq = 0;

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

  /** The loop level an expression depends on. */
  levelOf(e: Expr): number {
    return exprLevel(e);
  }

  /** JS reading view.buf at the gather's clamped index `ix` (a variable or literal). */
  private gatherJs(e: Extract<Expr, { k: "gather" }>, ix: string): string {
    const d = this.ctx.d;
    const [base] = this.indexOf(e.view);
    const clamped = `(${ix} < 0 ? 0 : ${ix} > ${d.js(e.size)} - 1 ? ${d.js(e.size)} - 1 : ${ix})`;
    return `${this.ctx.buf(e.view.buf)}[${base} + ${clamped} * ${d.js(e.stride)}]`;
  }

  /** JS of a guard's condition. */
  private guardCond(e: Extract<Expr, { k: "guard" }>): string {
    const d = this.ctx.d;
    const range = `i${e.dim} >= ${d.js(e.lo)} && i${e.dim} < ${d.js(e.hi)}`;
    return e.step ? `${range} && (i${e.dim} - ${d.js(e.lo)}) % ${e.step} === 0` : range;
  }

  /** Returns [js expression, level]. */
  emit(e: Expr): [string, number] {
    if (e.k === "const") return [jsNumber(e.value), 0];
    if (e.k === "dim") return [this.ctx.d.js(e.dim), 0];
    if (e.k === "index") return [`i${e.dim}`, e.dim + 1];
    const key = exprKey(e);
    const hit = this.names.get(key);
    if (hit) return [hit.name, hit.level];
    const name = `${this.prefix}${this.n++}`;
    let lines: string[];
    let level: number;
    if (e.k === "load") {
      const [idx, l] = this.indexOf(e.view);
      level = l;
      lines = [`const ${name} = ${this.ctx.buf(e.view.buf)}[${idx}];`];
    } else if (e.k === "gather") {
      const [ix, li] = this.emit(e.index);
      level = Math.max(this.indexOf(e.view)[1], li);
      lines = [`const ${name} = ${this.gatherJs(e, ix)};`];
    } else if (e.k === "op") {
      const args = e.args.map((a) => this.emit(a));
      level = Math.max(0, ...args.map((a) => a[1]));
      lines = [`const ${name} = ${jsScalarOp(e.op, args.map((a) => a[0]), e.dtype, e.args.map((a) => a.dtype))};`];
    } else {
      level = this.levelOf(e);
      lines = [];
      this.guardLines(name, e, { level, seq: this.seq }, new Map(), lines);
    }
    const seq = this.seq++;
    this.decls[level]!.push(...lines);
    this.names.set(key, { name, level, seq });
    return [name, level];
  }

  /** `let name; if (cond) { ...; name = body } else { ...; name = other }` into `lines`. */
  private guardLines(name: string, e: Extract<Expr, { k: "guard" }>, scope: Scope, local: Map<string, string>, lines: string[]): void {
    const side = (x: Expr): string[] => {
      const inner: string[] = [];
      const v = this.inline(x, scope, new Map(local), inner); // block-scoped: the branch's names stay inside
      return [...indent(inner, 1), `  ${name} = ${v};`];
    };
    lines.push(`let ${name};`, `if (${this.guardCond(e)}) {`, ...side(e.body), "} else {", ...side(e.other), "}");
  }

  /**
   * JS for `e` computed in place (inside a guard's branch, declaration `scope`): consts pushed to
   * `lines` and deduplicated in `local`; hoisted nodes reused only when already declared.
   */
  private inline(e: Expr, scope: Scope, local: Map<string, string>, lines: string[]): string {
    if (e.k === "const") return jsNumber(e.value);
    if (e.k === "dim") return this.ctx.d.js(e.dim);
    if (e.k === "index") return `i${e.dim}`;
    const key = exprKey(e);
    const known = local.get(key);
    if (known) return known;
    const hit = this.names.get(key);
    if (hit && (hit.level < scope.level || (hit.level === scope.level && hit.seq < scope.seq))) return hit.name;
    const name = `${this.prefix}${this.n++}`;
    if (e.k === "guard") this.guardLines(name, e, scope, local, lines);
    else {
      let js: string;
      if (e.k === "load") js = `${this.ctx.buf(e.view.buf)}[${this.indexOf(e.view)[0]}]`;
      else if (e.k === "gather") js = this.gatherJs(e, this.inline(e.index, scope, local, lines));
      else js = jsScalarOp(e.op, e.args.map((a) => this.inline(a, scope, local, lines)), e.dtype, e.args.map((a) => a.dtype));
      lines.push(`const ${name} = ${js};`);
    }
    local.set(key, name);
    return name;
  }
}

/** Where a guard's branches are computed: in the declaration numbered `seq` at loop `level`. */
interface Scope {
  level: number;
  seq: number;
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
