// Helpers for tests of Program -> Program passes: printing without source lines, float64
// scalars and vectors, hand-built equations, and "same results as the interpreter" bit for bit
// (Object.is: -0 and +0 differ, NaN equals NaN; every rewrite is exact, see
// src/passes/simplify-rules.ts).

import { expect } from "vitest";
import { Tensor } from "../../src/index.js";
import { interpret } from "../../src/backends/interp/interpret.js";
import { type Atom, type Equation, type Program, Var } from "../../src/ir/program.js";
import { printProgram } from "../../src/ir/printer.js";
import type { Primitive } from "../../src/prims/primitive.js";
import { scalar } from "../../src/rules/scalar.js";

export const show = (p: Program) => printProgram(p, { sources: false });
export const f64 = (v: number) => scalar(v, "float64");
export const vec = (xs: number[]) => Tensor.fromData(Float64Array.from(xs), [xs.length]);

/** Hand-built equations for programs tracing cannot produce (shared constants, sub-programs). */
export class Builder {
  readonly equations: Equation[] = [];
  eq(prim: Primitive<any>, inputs: Atom[], params: any = {}): Var {
    const outs = prim.abstractEval(inputs.map((a) => a.aval), params).map((a) => new Var(a));
    this.equations.push({ prim, inputs, params, outs });
    return outs[0]!;
  }
}

/** Equal bit for bit, NaN payloads aside (Object.is: -0 and +0 differ, NaN equals NaN). */
export function sameNumbers(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** `q` computes what `p` computes on `args`: same avals, same numbers. */
export function expectSameResults(p: Program, q: Program, args: Tensor[]): void {
  const want = interpret(p, args);
  const got = interpret(q, args);
  expect(got.length).toBe(want.length);
  got.forEach((t, i) => {
    expect(t.aval.equals(want[i]!.aval), `output ${i} aval`).toBe(true);
    expect(sameNumbers(t.data, want[i]!.data), `output ${i}: ${t.data} vs ${want[i]!.data}`).toBe(true);
  });
}

/** One op of a random chain program: unary on the last value, or binary on the last two. */
export type ChainOp = { kind: "unary"; f: (x: Tensor) => Tensor } | { kind: "binary"; f: (x: Tensor, y: Tensor) => Tensor };

/** The chain program `ops` over `table`: each op consumes the last value (and the one before). */
export function chainProgram(table: Record<string, ChainOp>, ops: string[]): (x: Tensor, y: Tensor) => Tensor {
  return (x, y) => {
    let a = x;
    let b = y;
    for (const name of ops) {
      const op = table[name]!;
      const next = op.kind === "unary" ? op.f(a) : op.f(a, b);
      b = a;
      a = next;
    }
    return a;
  };
}
