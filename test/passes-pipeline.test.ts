// The optimization pipeline: named, verified and traced passes; the gradient program of an
// MLP-like function; higher-order equations (never folded or rewritten, merged and dropped
// whole, optionally optimized inside); and a fast-check property: on random small programs
// `optimize` preserves interpreter results exactly and never adds equations.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Tensor, grad, makeProgram, np } from "../src/index.js";
import { ShapedArray } from "../src/core/aval.js";
import type { DType } from "../src/core/dtype.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { Program, Var } from "../src/ir/program.js";
import { add, binaryPrims, div, mul, sub } from "../src/prims/binary.js";
import { compare, select } from "../src/prims/compare.js";
import { definePrimitive } from "../src/prims/primitive.js";
import { reduceSum, reduceSumP } from "../src/prims/reduce.js";
import { broadcastInDim, reshape, reshapeP, transpose } from "../src/prims/shape.js";
import { convertP, exp, neg, sin } from "../src/prims/unary.js";
import { scalar } from "../src/rules/scalar.js";
import { dce } from "../src/passes/dce.js";
import { PASSES, countEquations, optimize } from "../src/passes/pipeline.js";
import { rand } from "./util/check.js";
import { Builder, expectSameResults, f64, show, vec } from "./util/programs.js";


describe("pipeline", () => {
  it("runs named passes, verifies and traces each one, and stops when nothing changes", () => {
    const p = makeProgram((x: Tensor) => add(mul(sin(x), broadcastInDim(f64(1), [3], [])), f64(-0)))(vec([1, 2, 3]));
    const seen: string[] = [];
    const last: Program[] = [];
    const q = optimize(p, { verify: true, trace: (name, r, round) => (seen.push(`${round}:${name}`), round === 2 && last.push(r)) });
    expect(seen).toEqual(["1:simplify", "1:fold", "1:cse", "1:dce", "2:simplify", "2:fold", "2:cse", "2:dce"]);
    // the fixed point: in the last round every pass returned its input object
    expect(last.every((r) => r === q)).toBe(true);
    expect(optimize(q)).toBe(q);
    expect(show(q)).toMatchInlineSnapshot(`
      "{ lambda ; a:f64[3]. let
          b:f64[3] = sin a
        in (b) }"
    `);
    expect(Object.keys(PASSES).sort()).toEqual(["activity", "cse", "dce", "fold", "simplify"]);
    expect(() => optimize(p, { passes: ["nope"] })).toThrow(/unknown pass "nope"/);
    expect(show(optimize(p, { passes: ["dce"] }))).toBe(show(dce(p)));
  });

  it("keeps the source lines of the equations it keeps or rewrites", () => {
    const p = makeProgram((x: Tensor) => add(mul(sin(x), broadcastInDim(f64(2), [3], [])), f64(-0)))(vec([1, 2, 3]));
    const q = optimize(p);
    const sourceOf = (prog: Program, name: string) => prog.equations.find((e) => e.prim.name === name)?.source;
    expect(q.equations.map((e) => e.prim.name)).toEqual(["sin", "mul"]);
    expect(String(sourceOf(p, "mul"))).toMatch(/passes-pipeline\.test\.ts:\d+/);
    expect(sourceOf(q, "sin")).toBe(sourceOf(p, "sin"));
    expect(sourceOf(q, "mul")).toBe(sourceOf(p, "mul"));
  });

  it("shrinks the gradient program of an MLP-like function and leaves no multiplication by 1.0", () => {
    const W = rand([3, 4], 1);
    const f = (x: Tensor) => np.sum(np.tanh(np.matmul(x, W)));
    const x = rand([2, 3], 2);
    const p = makeProgram(grad(f))(x);
    const q = optimize(p, { verify: true });
    expect(countEquations(q)).toBeLessThan(countEquations(p));
    expect(show(p)).toMatch(/ = broadcast_in_dim.* 1\.0:/); // the seed of the cotangent
    expect(show(q)).not.toMatch(/ = mul .*1\.0:/);
    expect(show(q)).not.toMatch(/broadcast_in_dim/);
    expectSameResults(p, q, [x]);
    expect(show(q)).toMatchInlineSnapshot(`
      "{ lambda a:f64[3,4] ; b:f64[2,3]. let
          c:f64[2,4] = dot_general[lhsContract=[1] rhsContract=[0] lhsBatch=[] rhsBatch=[]] b a
          d:f64[2,4] = tanh c
          e:f64[2,4] = mul d d
          f:f64[2,4] = sub 1.0:f64[] e
          g:f64[2,3] = dot_general[lhsContract=[1] rhsContract=[1] lhsBatch=[] rhsBatch=[]] f a
        in (g) }"
    `);
  });
});

describe("higher-order equations", () => {
  // A minimal call primitive: runs its sub-program on its inputs.
  const callP = definePrimitive<{ body: Program }>({
    name: "test_call",
    traits: { higherOrder: true },
    abstractEval: (_ins, { body }) => body.outAvals,
    impl: (ins, { body }) => interpret(body, ins).map((t) => t.data),
    jvp: () => {
      throw new Error("test_call: no jvp in this test");
    },
    batch: () => {
      throw new Error("test_call: no batching in this test");
    },
  });
  const body = makeProgram((x: Tensor) => mul(sin(add(x, f64(-0))), broadcastInDim(f64(1), [2], [])))(vec([1, 2]));

  function program(): Program {
    const x = new Var(new ShapedArray([2], "float64"));
    const c = vec([0.25, 4]);
    const cv = new Var(c.aval);
    const b = new Builder();
    const fromConst = b.eq(callP, [cv], { body }); // constant inputs, but higher-order: never folded
    const y1 = b.eq(callP, [x], { body });
    const y2 = b.eq(callP, [x], { body: makeProgram((x: Tensor) => mul(sin(add(x, f64(-0))), broadcastInDim(f64(1), [2], [])))(vec([1, 2])) });
    b.eq(callP, [y1], { body }); // dead
    const o = b.eq(binaryPrims["add"]!, [y1, y2]);
    return new Program([x], [cv], [c], b.equations, [b.eq(binaryPrims["mul"]!, [o, fromConst])]);
  }

  it("are never folded or rewritten; dce drops them whole; cse merges them by program hash", () => {
    const p = program();
    const q = optimize(p, { verify: true });
    expectSameResults(p, q, [vec([0.5, -1])]);
    expect(q.equations.map((e) => e.prim.name)).toEqual(["test_call", "test_call", "add", "mul"]);
    expect(q.equations[0]!.params.body).toBe(body); // sub-programs untouched by default
  });

  it("with recurse, their sub-programs are optimized too (signatures kept)", () => {
    const p = program();
    const q = optimize(p, { verify: true, recurse: true });
    expectSameResults(p, q, [vec([0.5, -1])]);
    expect(show(q.equations[0]!.params.body)).toMatchInlineSnapshot(`
      "{ lambda ; a:f64[2]. let
          b:f64[2] = sin a
        in (b) }"
    `);
  });
});

// ---------------------------------------------------------------- random programs
type Step = { op: number; a: number; b: number; k: number };
const NUM_OPS = 26;
const stepArb = fc.record({
  op: fc.integer({ min: 0, max: NUM_OPS - 1 }),
  a: fc.nat(),
  b: fc.nat(),
  k: fc.nat(),
});

/** A random program over a pool of values shaped [], [2,3], [3,2] or [6] (sizes 1 and 6). */
function randomFunction(steps: Step[], consts: Tensor[], dtype: DType): (x: Tensor, y: Tensor) => Tensor[] {
  const lit = (v: number) => scalar(v, dtype);
  const like = (v: Tensor, ref: Tensor): Tensor => {
    if (v.ndim === 0 || v.size === ref.size) return v.ndim === 0 ? v : reshape(v, ref.shape);
    return ref.ndim === 0 ? reduceSum(v, v.shape.map((_, i) => i)) : v;
  };
  const shapes = [[2, 3], [3, 2], [6]];
  return (x, y) => {
    const pool: Tensor[] = [x, y];
    for (const { op, a: ai, b: bi, k } of steps) {
      const a = pool[ai % pool.length]!;
      const b = like(pool[bi % pool.length]!, a);
      const c = like(consts[k % consts.length]!, a);
      const one = a.ndim === 0 ? lit(1) : broadcastInDim(lit(1), a.shape, []);
      const r = ((): Tensor => {
        switch (op) {
          case 0: return add(a, b);
          case 1: return mul(a, b);
          case 2: return sub(a, b);
          case 3: return sin(a);
          case 4: return exp(sin(a));
          case 5: return reduceSum(a, a.shape.map((_, i) => i));
          case 6: return a.ndim === 0 ? broadcastInDim(a, shapes[k % 3]!, []) : reshape(a, shapes[k % 3]!);
          case 7: return a.ndim === 2 ? transpose(a, [1, 0]) : neg(a);
          case 8: return mul(a, lit(1));
          case 9: return add(lit(0), a);
          case 10: return mul(one, a);
          case 11: return neg(neg(a));
          case 12: return sub(lit(0), a);
          case 13: return div(a, lit(1));
          case 14: return select(compare(a, lit(0), "gt"), a, a);
          case 15: return convertP.bind1([a], { dtype });
          case 16: return reshapeP.bind1([a], { shape: a.shape });
          case 17: return mul(a, c);
          case 18: return mul(a, add(c, mul(c, lit(2)))); // the constant part folds
          case 19: return a.ndim === 2 ? transpose(transpose(a, [1, 0]), [1, 0]) : a;
          case 20: return reshape(reshape(a, [a.size]), a.shape);
          case 21: return reduceSumP.bind1([a], { axes: [] });
          case 22: return mul(a, lit(0)); // must stay
          case 23: return add(sin(a), sin(a)); // cse
          case 24: return sub(a, lit(0));
          default: return add(a, mul(one, lit(2)));
        }
      })();
      pool.push(r);
    }
    return [pool[pool.length - 1]!, pool[Math.floor(pool.length / 2)]!];
  };
}

describe("optimize on random programs", () => {
  for (const dtype of ["float64", "float32"] as const) {
    it(`preserves interpreter results exactly and never adds equations (${dtype})`, () => {
      const consts = [rand([2, 3], 11, -1, 1, dtype), rand([2, 3], 12, 0, 0, dtype), scalar(-0.5, dtype)];
      fc.assert(
        fc.property(fc.array(stepArb, { minLength: 1, maxLength: 14 }), fc.integer({ min: 0, max: 1000 }), (steps, seed) => {
          const args = [rand([2, 3], seed, -1, 1, dtype), rand([2, 3], seed + 1, -1, 1, dtype)];
          const p = makeProgram(randomFunction(steps, consts, dtype))(...args);
          const q = optimize(p, { verify: true });
          expectSameResults(p, q, args);
          expect(countEquations(q)).toBeLessThanOrEqual(countEquations(p));
        }),
        { numRuns: 200 },
      );
    });
  }
});
