// Optimization passes and analyses, one at a time: for each pass a small program before and
// after (printed), semantics preserved against the interpreter, the verifier satisfied and the
// input program untouched. The pipeline, gradient programs, higher-order equations and random
// programs are in passes-pipeline.test.ts.

import { describe, expect, it } from "vitest";
import { Tensor, makeProgram } from "../src/index.js";
import { type Atom, Program, Var } from "../src/ir/program.js";
import { verifyProgram } from "../src/ir/verify.js";
import { add, binaryPrims, div, mul, sub } from "../src/prims/binary.js";
import { compare, select } from "../src/prims/compare.js";
import { reduceMaxP, reduceSum } from "../src/prims/reduce.js";
import { broadcastInDim, broadcastInDimP, reshape, reshapeP, transpose } from "../src/prims/shape.js";
import { convertP, exp, neg, sin } from "../src/prims/unary.js";
import { activity } from "../src/passes/activity.js";
import { cse } from "../src/passes/cse.js";
import { dce } from "../src/passes/dce.js";
import { fold } from "../src/passes/fold.js";
import { PASSES, countEquations } from "../src/passes/pipeline.js";
import { type SimplifyRule, makeSimplifier, simplify, simplifyWith } from "../src/passes/simplify.js";
import { DEFAULT_RULES } from "../src/passes/simplify-rules.js";
import { analyzeActivity } from "../src/analysis/activity.js";
import { liveness } from "../src/analysis/liveness.js";
import { rand } from "./util/check.js";
import { Builder, expectSameResults, f64, show, vec } from "./util/programs.js";


/**
 * Runs `pass`; checks the verifier, that the input is untouched and that results are identical.
 * A pass that changes nothing returns its input object (the pipeline's fixed-point test).
 */
function check(pass: (p: Program) => Program, p: Program, args: Tensor[]): Program {
  const before = show(p);
  const eqns = p.equations.slice();
  const q = pass(p);
  if (show(q) === before) expect(q).toBe(p);
  expect(show(p)).toBe(before);
  expect(p.equations).toEqual(eqns);
  verifyProgram(q);
  expectSameResults(p, q, args);
  return q;
}

describe("dce", () => {
  it("drops unused equations and constants, transitively", () => {
    const c = vec([1, 2, 3]);
    const p = makeProgram((x: Tensor) => {
      void exp(sin(mul(x, c))); // an unused chain; c is used only there
      return add(x, x);
    })(vec([0, 0, 0]));
    const q = check(dce, p, [vec([1, -2, 3])]);
    expect(show(p)).toMatchInlineSnapshot(`
      "{ lambda a:f64[3] ; b:f64[3]. let
          c:f64[3] = mul b a
          d:f64[3] = sin c
          e:f64[3] = exp d
          f:f64[3] = add b b
        in (f) }"
    `);
    expect(show(q)).toMatchInlineSnapshot(`
      "{ lambda ; a:f64[3]. let
          b:f64[3] = add a a
        in (b) }"
    `);
  });
});

describe("cse", () => {
  it("merges equal equations: commutative operands, equal params, equal literals", () => {
    const p = makeProgram((x: Tensor, y: Tensor) => {
      const s1 = reduceSum(add(mul(x, y), f64(2)), [0]);
      const s2 = reduceSum(add(mul(y, x), f64(2)), [0]); // mul commutes: all three merge
      const t = add(sub(x, y), sub(y, x)); // sub does not commute: both kept
      const r = reduceSum(reshape(x, [2, 1]), [1]); // different params: kept
      return [add(s1, s2), t, add(r, reduceSum(reshape(x, [1, 2]), [0]))];
    })(vec([1, 2]), vec([3, 4]));
    const q = check(cse, p, [vec([1, 2]), vec([-3, 5])]);
    expect(countEquations(q)).toBe(countEquations(p) - 3);
    expect(show(q)).toMatchInlineSnapshot(`
      "{ lambda ; a:f64[2] b:f64[2]. let
          c:f64[2] = mul a b
          d:f64[2] = add c 2.0:f64[]
          e:f64[] = reduce_sum[axes=[0]] d
          f:f64[2] = sub a b
          g:f64[2] = sub b a
          h:f64[2] = add f g
          i:f64[2,1] = reshape[shape=[2,1]] a
          j:f64[2] = reduce_sum[axes=[1]] i
          k:f64[] = add e e
          l:f64[1,2] = reshape[shape=[1,2]] a
          m:f64[2] = reduce_sum[axes=[0]] l
          n:f64[2] = add j m
        in (k, h, n) }"
    `);
  });

  it("merges constants bound to the same tensor", () => {
    const t = vec([1, 2]);
    const x = new Var(t.aval);
    const [c1, c2] = [new Var(t.aval), new Var(t.aval)];
    const b = new Builder();
    const u = b.eq(binaryPrims["mul"]!, [c1, x]);
    const v = b.eq(binaryPrims["mul"]!, [x, c2]);
    const o = b.eq(binaryPrims["sub"]!, [u, v]);
    const p = new Program([x], [c1, c2], [t, t], b.equations, [o]);
    const q = check(cse, p, [vec([5, 6])]);
    expect(show(q)).toMatchInlineSnapshot(`
      "{ lambda a:f64[2] ; b:f64[2]. let
          c:f64[2] = mul a b
          d:f64[2] = sub c c
        in (d) }"
    `);
  });
});

describe("fold", () => {
  it("evaluates equations on constants, to literals when rank-0", () => {
    const c = vec([1, 2, 3]);
    const p = makeProgram((x: Tensor) => {
      const k = exp(mul(c, f64(2))); // constants only: folds to a new constant
      const s = reduceSum(k, [0]); // folds to a literal
      return add(mul(x, k), div(s, f64(4)));
    })(vec([0, 0, 0]));
    const q = check(fold, p, [vec([1, 2, 3])]);
    expect(show(p)).toMatchInlineSnapshot(`
      "{ lambda a:f64[3] ; b:f64[3]. let
          c:f64[3] = mul a 2.0:f64[]
          d:f64[3] = exp c
          e:f64[] = reduce_sum[axes=[0]] d
          f:f64[3] = mul b d
          g:f64[] = div e 4.0:f64[]
          h:f64[3] = add f g
        in (h) }"
    `);
    expect(show(q)).toMatchInlineSnapshot(`
      "{ lambda a:f64[3] b:f64[3] c:f64[3] ; d:f64[3]. let
          e:f64[3] = mul d c
          f:f64[3] = add e 116.3539999062025:f64[]
        in (f) }"
    `);
    expect(q.consts.length).toBe(3); // c and c * 2 (now unused, left for dce) and exp(c * 2)
    expect(dce(q).consts.length).toBe(1);
  });

  it("never folds a result larger than its inputs (a broadcast stays fusible)", () => {
    const p = makeProgram((x: Tensor) => mul(x, broadcastInDim(add(f64(1), f64(2)), [100], [])))(rand([100], 1));
    const q = check(fold, p, [rand([100], 2)]);
    expect(show(q)).toMatchInlineSnapshot(`
      "{ lambda ; a:f64[100]. let
          b:f64[100] = broadcast_in_dim[shape=[100] dims=[]] 3.0:f64[]
          c:f64[100] = mul a b
        in (c) }"
    `);
  });
});

describe("simplify", () => {
  const x3 = vec([0.5, -2, 3, 1.5, -0.25, 4]);
  const cases: [string, (x: Tensor) => Tensor, string][] = [
    ["mul-one", (x) => mul(mul(x, f64(1)), sin(mul(f64(1), x))), "mul-one"],
    ["add-zero", (x) => add(add(x, f64(-0)), add(f64(-0), x)), "add-zero"], // x + -0 (x + 0 is not x at -0: regress-passes)
    ["sub-zero", (x) => sin(sub(x, f64(0))), "sub-zero"],
    ["div-one", (x) => sin(div(x, f64(1))), "div-one"],
    ["neg-neg", (x) => sin(neg(neg(x))), "neg-neg"],
    ["zero-sub", (x) => sub(f64(-0), x), "zero-sub"], // -0 - x (0 - 0 is +0, neg 0 is -0)
    ["select-same", (x) => select(compare(x, f64(0), "gt"), sin(x), sin(x)), ""],
    ["select-same", (x) => ((s) => select(compare(x, f64(0), "gt"), s, s))(sin(x)), "select-same"],
    ["convert-same-dtype", (x) => sin(convertP.bind1([x], { dtype: "float64" })), "convert-same-dtype"],
    ["reshape-same-shape", (x) => sin(reshapeP.bind1([x], { shape: [6] })), "reshape-same-shape"],
    ["reshape-reshape", (x) => reshape(reshape(x, [2, 3]), [3, 2]), "reshape-reshape"],
    ["transpose-transpose", (x) => transpose(transpose(reshape(x, [1, 2, 3]), [1, 2, 0]), [1, 0, 2]), "transpose-transpose"],
    ["transpose-identity", (x) => sin(transpose(transpose(reshape(x, [2, 3]), [1, 0]), [1, 0])), "transpose-transpose"],
    ["broadcast-identity", (x) => sin(broadcastInDimP.bind1([x], { shape: [6], dims: [0] })), "broadcast-identity"],
    ["reduce-no-axes", (x) => sin(reduceMaxP.bind1([x], { axes: [] })), "reduce-no-axes"], // float reduce_sum is 0 + x: kept
    ["elementwise-scalar-operand", (x) => mul(x, broadcastInDim(f64(1), [6], [])), "elementwise-scalar-operand"],
    ["elementwise-broadcast-literals", (x) => add(x, mul(broadcastInDim(f64(3), [6], []), f64(2))), "elementwise-broadcast-literals"],
    ["movement-of-scalar-broadcast", (x) => sin(reshape(broadcastInDim(x, [2, 6], [1]), [12])), ""],
    ["movement-of-scalar-broadcast", (x) => transpose(broadcastInDim(reduceSum(x, [0]), [2, 3], []), [1, 0]), "movement-of-scalar-broadcast"],
  ];
  const printed: Record<string, string> = {};
  for (const [title, fn, rule] of cases) {
    it(`${title}${rule ? "" : " (does not apply)"}`, () => {
      const p = makeProgram(fn)(x3);
      const { program, fired } = simplifyWith(p);
      check(() => program, p, [x3]);
      if (rule) expect(fired[rule], `${rule} fired`).toBeGreaterThan(0);
      else expect(fired).toEqual({});
      printed[title + (rule ? "" : "?")] = show(dce(program));
    });
  }
  it("prints the simplified programs", () => {
    expect(printed).toMatchInlineSnapshot(`
      {
        "add-zero": "{ lambda ; a:f64[6]. let
          b:f64[6] = add a a
        in (b) }",
        "broadcast-identity": "{ lambda ; a:f64[6]. let
          b:f64[6] = sin a
        in (b) }",
        "convert-same-dtype": "{ lambda ; a:f64[6]. let
          b:f64[6] = sin a
        in (b) }",
        "div-one": "{ lambda ; a:f64[6]. let
          b:f64[6] = sin a
        in (b) }",
        "elementwise-broadcast-literals": "{ lambda ; a:f64[6]. let
          b:f64[6] = add a 6.0:f64[]
        in (b) }",
        "elementwise-scalar-operand": "{ lambda ; a:f64[6]. let
        in (a) }",
        "movement-of-scalar-broadcast": "{ lambda ; a:f64[6]. let
          b:f64[] = reduce_sum[axes=[0]] a
          c:f64[3,2] = broadcast_in_dim[shape=[3,2] dims=[]] b
        in (c) }",
        "movement-of-scalar-broadcast?": "{ lambda ; a:f64[6]. let
          b:f64[2,6] = broadcast_in_dim[shape=[2,6] dims=[1]] a
          c:f64[12] = reshape[shape=[12]] b
          d:f64[12] = sin c
        in (d) }",
        "mul-one": "{ lambda ; a:f64[6]. let
          b:f64[6] = sin a
          c:f64[6] = mul a b
        in (c) }",
        "neg-neg": "{ lambda ; a:f64[6]. let
          b:f64[6] = sin a
        in (b) }",
        "reduce-no-axes": "{ lambda ; a:f64[6]. let
          b:f64[6] = sin a
        in (b) }",
        "reshape-reshape": "{ lambda ; a:f64[6]. let
          b:f64[3,2] = reshape[shape=[3,2]] a
        in (b) }",
        "reshape-same-shape": "{ lambda ; a:f64[6]. let
          b:f64[6] = sin a
        in (b) }",
        "select-same": "{ lambda ; a:f64[6]. let
          b:f64[6] = sin a
        in (b) }",
        "select-same?": "{ lambda ; a:f64[6]. let
          b:bool[6] = compare[op=gt] a 0.0:f64[]
          c:f64[6] = sin a
          d:f64[6] = sin a
          e:f64[6] = select b c d
        in (e) }",
        "sub-zero": "{ lambda ; a:f64[6]. let
          b:f64[6] = sin a
        in (b) }",
        "transpose-identity": "{ lambda ; a:f64[6]. let
          b:f64[2,3] = reshape[shape=[2,3]] a
          c:f64[2,3] = sin b
        in (c) }",
        "transpose-transpose": "{ lambda ; a:f64[6]. let
          b:f64[1,2,3] = reshape[shape=[1,2,3]] a
          c:f64[3,2,1] = transpose[perm=[2,1,0]] b
        in (c) }",
        "zero-sub": "{ lambda ; a:f64[6]. let
          b:f64[6] = neg a
        in (b) }",
      }
    `);
  });

  it("takes extra rules, and skips any rewrite that would change an output's type", () => {
    const maxSame: SimplifyRule<Atom> = {
      name: "max-same",
      prims: ["max"],
      match: (e) => e.inputs[0] === e.inputs[1] && e.inputs[0],
      rewrite: (_e, x) => [x],
    };
    const wrong: SimplifyRule<Atom> = { name: "sum-is-x", prims: ["reduce_sum"], match: (e) => e.inputs[0], rewrite: (_e, x) => [x] };
    const p = makeProgram((x: Tensor) => reduceSum(binaryPrims["max"]!.bind1([x, x], {}), [0]))(x3);
    const { program, fired } = simplifyWith(p, [...DEFAULT_RULES, maxSame, wrong]);
    check(() => program, p, [vec([1, NaN, -3, 0, 2, 5])]);
    expect(fired).toEqual({ "max-same": 1 });
    expect(show(makeSimplifier([maxSame])(p))).toBe(show(program));
  });

  it("never folds x*0 (NaN and Inf times 0 are NaN)", () => {
    const p = makeProgram((x: Tensor) => mul(x, f64(0)))(x3);
    const q = check(simplify, p, [vec([NaN, Infinity, 1])]);
    expect(show(q)).toBe(show(p));
  });

  it("keeps the full output shape when every operand would become a scalar", () => {
    const p = makeProgram((x: Tensor) => {
      const s = reduceSum(x, [0]);
      return add(broadcastInDim(s, [3], []), broadcastInDim(sin(s), [3], []));
    })(x3);
    const q = check(simplify, p, [x3]);
    expect(q.outAvals[0]!.shape).toEqual([3]);
    expect(show(q)).toBe(show(p));
  });
});

describe("activity analysis", () => {
  const p = makeProgram((x: Tensor, y: Tensor) => {
    const mask = compare(x, f64(0), "gt"); // not differentiable
    const k = sin(y); // varied by y only
    const dead = exp(x); // reaches no output
    void dead;
    return [select(mask, mul(x, k), k), reduceSum(k, [0])];
  })(vec([1, 2]), vec([3, 4]));
  const [x, y] = p.inputs;
  const defOf = (name: string) => p.equations.find((e) => e.prim.name === name)!.outs[0]!;

  it("varied ∩ useful, stopping at non-differentiable primitives", () => {
    const a = analyzeActivity(p, { activeInputs: [true, false] });
    expect(a.varied.has(x!)).toBe(true);
    expect(a.varied.has(y!)).toBe(false);
    expect(a.varied.has(defOf("compare"))).toBe(false); // bool, and compare carries no derivative
    expect(a.varied.has(defOf("exp"))).toBe(true);
    expect(a.useful.has(defOf("exp"))).toBe(false);
    expect(a.isActive(defOf("mul"))).toBe(true);
    expect(a.isActive(defOf("exp"))).toBe(false);
    expect(a.activeEquations.map((e) => e.prim.name)).toEqual(["mul", "select"]);
    const onlySecond = analyzeActivity(p, { activeInputs: [false, true], activeOutputs: [false, true] });
    expect(onlySecond.activeEquations.map((e) => e.prim.name)).toEqual(["sin", "reduce_sum"]);
  });

  it("the activity pass folds input-independent equations and drops useless ones", () => {
    const c = vec([1, 2]);
    const q0 = makeProgram((x: Tensor) => {
      void sin(x);
      return mul(x, sin(mul(c, f64(3))));
    })(c);
    const q = check(activity, q0, [vec([-1, 7])]);
    expect(show(q)).toMatchInlineSnapshot(`
      "{ lambda a:f64[2] ; b:f64[2]. let
          c:f64[2] = mul b a
        in (c) }"
    `);
    expect(PASSES["activity"]).toBe(activity);
  });
});

describe("liveness", () => {
  it("gives each variable its definition and last use; outputs live to the end", () => {
    const p = makeProgram((x: Tensor) => {
      const a = sin(x); // 0
      const b = exp(a); // 1
      const c = mul(a, b); // 2: last use of a and b
      return [c, neg(c)]; // 3; c is an output
    })(vec([1, 2, 3]));
    const l = liveness(p);
    const [x] = p.inputs;
    const [a, b, c, d] = p.equations.map((e) => e.outs[0]!);
    const range = (v: Var) => [l.ranges.get(v)!.def, l.ranges.get(v)!.lastUse];
    expect([x, a, b, c, d].map((v) => range(v!))).toEqual([[-1, 0], [0, 2], [1, 2], [2, 4], [3, 4]]);
    expect(l.dyingAt).toEqual([[x], [], [a, b], []]);
    expect(l.liveAfter(2)).toEqual([c]);
  });
});
