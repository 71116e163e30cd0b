// What a lowering rule may do (src/lower/rules.ts): the narrow interfaces the fusing lowerer
// (fuse.ts) offers its per-primitive rules. A rule reads operands as lazy values or scalar
// expressions over a loop space, defines its outputs as fused expressions or buffers, and
// appends kernels; a rule with sub-programs (control flow, inlined calls) may also lower
// equations into a kernel list of its own. Rules never see the lowerer's tables.

import type { ShapedArray } from "../core/aval.js";
import type { Dim } from "../core/shape.js";
import type { Atom, Equation, Program, Var } from "../ir/program.js";
import type { Expr, Kernel, View } from "./kernel-ir.js";
import type { DimMap } from "./views.js";

/** A value during lowering: a buffer, a fused scalar expression (with its equations), or a literal. */
export type Lazy =
  | { kind: "buffer"; buf: number; shape: Dim[] }
  | { kind: "expr"; shape: Dim[]; expr: Expr; eqns: number[] }
  | { kind: "literal"; value: number; aval: ShapedArray };

/** What every lowering rule may use. */
export interface LowerContext {
  /** The lazy value of an atom. */
  lazy(a: Atom): Lazy;
  /** Binds a variable to a lazy value. */
  bind(v: Var, l: Lazy): void;
  /** Binds a variable to a buffer holding it (contiguous, in the variable's shape). */
  bindBuffer(v: Var, buf: number): void;
  /** Reads a value over a loop space of rank `loopRank` through `map` (null: must materialize). */
  read(a: Atom, map: DimMap[], loopRank: number): Expr | null;
  /** Like read, but materializes the value first when it cannot be mapped. */
  readOrMaterialize(a: Atom, map: DimMap[], loopRank: number): Expr;
  /** Ensures a var lives in a buffer (an output buffer if it is a program output). */
  materialize(v: Var): number;
  /** Records a lazily computed var, materializing it right away when that is cheaper. */
  defineExpr(v: Var, expr: Expr, eqns: number[]): void;
  /** The equations fused into an atom's lazy expression (none for buffers and literals). */
  eqnsOf(a: Atom): number[];
  /** A fresh temporary buffer. */
  newTemp(a: ShapedArray): number;
  /** A fresh buffer for an equation output (an output buffer when the program returns it). */
  outBuffer(v: Var): number;
  /** Whether the program returns this variable. */
  isOutput(v: Var): boolean;
  /** Appends a kernel to the current kernel list. */
  push(k: Kernel): void;
  /** A strided view of a value over `groups` of its dims merged into single loop dims, or null. */
  groupedView(a: Atom, groups: number[][]): View | null;
  /** Lowers an equation to a fallback call kernel (the primitive's implementation on whole buffers). */
  call(e: Equation, id: number): void;
}

/** What rules with sub-programs (control flow, inlined calls) may use besides. */
export interface NestedContext extends LowerContext {
  /** A fresh name for a loop index (a symbolic dimension inside the loop body). */
  freshLoopSymbol(): string;
  /** Gives an inlined sub-program's constants buffers and counts its uses of values. */
  bindSubProgram(sub: Program): void;
  /** Lowers one equation (of a sub-program) through its rule; `id` is the enclosing equation. */
  lowerEquation(e: Equation, id: number): void;
  /** Runs `fn`, returning the kernels it appended instead of adding them to the current list. */
  collect(fn: () => void): Kernel[];
  /** Gives an output of an inlined sub-program the value of the sub-program's output atom. */
  bindInlinedOutput(o: Var, src: Atom): void;
}

/** The equations a kernel or expression built from `atoms` fuses, ending with equation `id`. */
export function fusedEqns(L: LowerContext, atoms: readonly Atom[], id: number): number[] {
  return [...atoms.flatMap((a) => L.eqnsOf(a)), id];
}
