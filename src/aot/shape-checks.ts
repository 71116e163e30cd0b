// The argument-shape checks of an exported function: statements that bind every symbolic
// dimension from the argument shapes and then check every declared dimension. A symbol is bound
// from an axis that determines it: first an axis whose size is the symbol itself (B), else an axis
// whose size is linear in it once the symbols bound so far are known (2*B, B+1, T*B with T bound),
// solved at call time with a divisibility check. A symbol no axis determines (it appears only in
// B*B, or only together with another unknown) is rejected at export time, so an export never
// produces a module that fails every call.

import { ArgumentError } from "../core/errors.js";
import type { DimConstraint } from "../core/symbols.js";

export { type DimConstraint, parseConstraints } from "../core/symbols.js";
import { type Dim, SymDim, dimLinearIn as linearIn, shapeToString } from "../core/shape.js";
import type { DimJs } from "../backends/js/codegen.js";

export interface ShapeSpec {
  /** "argument 1 (float32)" */
  what: string;
  shape: readonly Dim[];
  /** the JS variable holding the argument's shape */
  sh: string;
  /** a JS expression replacing every failure message of this spec (a declared relation's) */
  message?: string;
}

const js = (v: unknown) => JSON.stringify(v);

const isSymbol = (dim: Dim): dim is SymDim => typeof dim !== "number" && dim.terms.size === 1 && [...dim.terms.values()][0] === 1 && !dim.toString().includes("*");

/**
 * Statements that bind each of `symbols` from argument shapes and check every declared dimension
 * (`bound`: symbols whose variables earlier statements set).
 */
export function shapeChecks(specs: ShapeSpec[], d: DimJs, symbols: string[], fnName: string, bound: readonly string[] = []): string[] {
  const lines: string[] = symbols.filter((s) => !bound.includes(s)).map((s) => `let ${d.sym(s)} = -1;`);
  // $fail("<what> should have shape <decl>, got [..]" + <why> [+ <value expression>])
  const fail = (sp: ShapeSpec, why: string, value?: string) =>
    sp.message ? `$fail(${sp.message})` : `$fail(${js(`${sp.what} should have shape ${shapeToString(sp.shape)}, got `)} + $shapeStr(${sp.sh}) + ${js(why)}${value ? ` + ${value}` : ""})`;
  for (const sp of specs) lines.push(`if (${sp.sh}.length !== ${sp.shape.length}) ${fail(sp, ` (rank ${sp.shape.length} expected)`)};`);
  // plan (at export time) which axis binds which symbol
  const binder = new Map<string, { sp: ShapeSpec | null; k: number }>(bound.map((s) => [s, { sp: null, k: -1 }]));
  const axes = specs.flatMap((sp) => sp.shape.map((dim, k) => ({ sp, k, dim })));
  for (const { sp, k, dim } of axes) {
    if (!isSymbol(dim) || binder.has(dim.toString())) continue;
    const v = d.sym(dim.toString());
    binder.set(dim.toString(), { sp, k });
    lines.push(`${v} = ${sp.sh}[${k}]; if (${v} < 1) ${fail(sp, `: ${dim} must be >= 1`)};`);
  }
  for (let progress = true; progress; ) {
    progress = false;
    for (const { sp, k, dim } of axes) {
      if (typeof dim === "number") continue;
      const open = dim.symbols().filter((s) => !binder.has(s));
      const lin = open.length === 1 ? linearIn(dim, open[0]!) : null;
      if (!lin || lin.coef === 0) continue;
      const u = open[0]!;
      const v = d.sym(u);
      binder.set(u, { sp, k });
      progress = true;
      const num = lin.rest === 0 ? "size" : `(size - (${lin.rest}))`;
      const why = `: axis ${k} is ${dim}, which needs ${u} = ${lin.coef === 1 ? num : `${num} / ${typeof lin.coef === "number" ? lin.coef : `(${lin.coef})`}`} to be an integer >= 1`;
      lines.push(
        `{ const r = ${sp.sh}[${k}] - ${d.js(lin.rest)}, a = ${d.js(lin.coef)}; ${v} = a === 0 ? -1 : r / a; if (!Number.isInteger(${v}) || ${v} < 1) ${fail(sp, why)}; }`,
      );
    }
  }
  const unbound = symbols.filter((s) => !binder.has(s));
  if (unbound.length) {
    const uses = axes.filter(({ dim }) => typeof dim !== "number" && dim.symbols().some((s) => unbound.includes(s))).map(({ sp, k, dim }) => `${dim} (${sp.what}, axis ${k})`);
    throw new ArgumentError(
      `export ${fnName}: the symbolic dimension${unbound.length > 1 ? "s" : ""} ${unbound.join(", ")} cannot be determined from the argument shapes ` +
        `(${uses.join("; ") || "not in any argument shape"}): give some argument an axis of size ${unbound[0]} alone, or a size linear in it (2*${unbound[0]}, ${unbound[0]}+1)`,
    );
  }
  for (const { sp, k, dim } of axes) {
    const b = typeof dim === "number" ? undefined : binder.get(dim.toString());
    if (b && b.sp === sp && b.k === k && isSymbol(dim)) continue; // the binding axis itself
    if (isSymbol(dim)) {
      const v = d.sym(dim.toString());
      lines.push(`if (${sp.sh}[${k}] !== ${v}) ${fail(sp, `: axis ${k} is ${dim}, which an earlier argument set to `, v)};`);
      continue;
    }
    const why = typeof dim === "number" ? `: axis ${k} should be ${dim}` : `: axis ${k} should be ${dim} = `;
    lines.push(`if (${sp.sh}[${k}] !== ${d.js(dim)}) ${fail(sp, why, typeof dim === "number" ? undefined : d.js(dim))};`);
  }
  return lines;
}

/** Statements checking the constraints on this function's symbols once they are bound. */
export function constraintChecks(cs: readonly DimConstraint[], d: DimJs, symbols: readonly string[]): string[] {
  return cs
    .filter((c) => symbols.includes(c.symbol))
    .map((c) => {
      const v = d.sym(c.symbol);
      const ok = c.op === "%" ? `${v} % ${c.value} === 0` : `${v} ${c.op === "==" ? "===" : c.op} ${c.value}`;
      return `if (!(${ok})) $fail(${js(`the arguments bind ${c.symbol} = `)} + ${v} + ${js(`, which violates the declared constraint ${c.text}`)});`;
    });
}
