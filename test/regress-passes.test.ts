// Regression tests of the optimizer from issue 9 (case 2, optimizer part) and issue 10 (item 4,
// CSE): every algebraic rewrite, constant fold and merge must hold for every value, -0, NaN,
// +-Infinity and int32 wrapping included, so an optimized program returns the bits eager
// evaluation returns. Each rule that was removed or narrowed has a test with the value that broke
// it, compared with eager (and the interpreter on the unoptimized program); a fast-check property
// runs random elementwise programs over special values and literals through `optimize`.

import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ShapedArray } from "../src/core/aval.js";
import type { DType } from "../src/core/dtype.js";
import { Tensor, config, jit, makeProgram, np } from "../src/index.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { Literal, Program, Var } from "../src/ir/program.js";
import { verifyProgram } from "../src/ir/verify.js";
import { add, binaryPrims, div, mul, sub } from "../src/prims/binary.js";
import { compare, select } from "../src/prims/compare.js";
import { reduceSumP } from "../src/prims/reduce.js";
import { neg, negP } from "../src/prims/unary.js";
import { scalar } from "../src/rules/scalar.js";
import { atomKey, canonicalParam, cse, equationKey } from "../src/passes/cse.js";
import { fold } from "../src/passes/fold.js";
import { optimize } from "../src/passes/pipeline.js";
import { simplifyWith } from "../src/passes/simplify.js";
import { tensor } from "./util/check.js";
import { Builder, show } from "./util/programs.js";

const { update: _u, ...saved } = { ...config };
afterEach(() => config.update(saved));

const BACKENDS = ["wasm", "js", "interp"] as const;
const fmt = (v: number | undefined) => (Object.is(v, -0) ? "-0" : String(v));

function expectBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i}: got ${fmt(got[i])}, want ${fmt(want[i])}`);
  }
}

/** `f` eagerly is `want`; so is every jit path (each backend; calls 1-4 cross tiering; compiled at once). */
function everyPath(f: (...a: Tensor[]) => Tensor, args: Tensor[], want: readonly number[], what: string): void {
  expectBits(f(...args).data, want, `${what} (eager)`);
  for (const backend of BACKENDS) {
    config.update({ ...saved, backend });
    const j = jit((...a: Tensor[]) => f(...a));
    for (let call = 1; call <= 4; call++) expectBits((j(...args) as Tensor).data, want, `${what} (${backend}, call ${call})`);
    config.update({ interpretBelowWork: 0 });
    expectBits((jit((...a: Tensor[]) => f(...a))(...args) as Tensor).data, want, `${what} (${backend}, compiled at once)`);
  }
}

/** optimize(p) computes p's bits on `args` (interpreter on both), and both verify. */
function expectOptimizedExact(p: Program, args: Tensor[], what: string): Program {
  const q = optimize(p, { verify: true });
  verifyProgram(q);
  const want = interpret(p, args);
  const got = interpret(q, args);
  want.forEach((w, i) => expectBits(got[i]!.data, w.data, `${what}: output ${i}`));
  return q;
}

const f64s = (xs: number[]) => tensor(xs, [xs.length], "float64");
const f32s = (xs: number[]) => tensor(xs, [xs.length], "float32");
const i32s = (xs: number[]) => tensor(xs, [xs.length], "int32");
const lit = (v: number, dtype: DType, weak = false) => new Literal(v, new ShapedArray([], dtype, weak));

/** A one-input program of hand-built equations (literals exactly as given, no tracing). */
function program(aval: ShapedArray, build: (b: Builder, x: Var) => Var): Program {
  const x = new Var(aval);
  const b = new Builder();
  const out = build(b, x);
  return new Program([x], [], [], b.equations, [out]);
}

describe("issue 9.2: algebraic rewrites hold for -0, NaN and infinities", () => {
  it("issue 9.2: 1 / ((x + -0) + (x + 0)) at x = -0 is +Infinity on every path (x + -0 and x + 0 are not the same)", () => {
    const f = (x: Tensor) => np.divide(1, np.add(np.add(x, -0), np.add(x, 0)));
    everyPath(f, [f32s([-0, 0, 2])], [Infinity, Infinity, 0.25], "1 / ((x + -0) + (x + 0))");
    everyPath(f, [f64s([-0])], [Infinity], "1 / ((x + -0) + (x + 0)) (float64)");
  });

  it("issue 9.2 add-zero: x + 0 is not x (at x = -0 it is +0): kept; x + -0 is x: dropped", () => {
    everyPath((x) => np.divide(1, np.add(x, 0)), [f32s([-0])], [Infinity], "1 / (x + 0)");
    everyPath((x) => np.divide(1, np.add(0, x)), [f64s([-0])], [Infinity], "1 / (0 + x)");
    everyPath((x) => np.divide(1, np.add(x, -0)), [f32s([-0, 0])], [-Infinity, Infinity], "1 / (x + -0)");
    const aval = new ShapedArray([1], "float64");
    const keep = program(aval, (b, x) => b.eq(binaryPrims["add"]!, [x, lit(0, "float64")]));
    expect(simplifyWith(keep).fired).toEqual({});
    expectOptimizedExact(keep, [f64s([-0])], "x + 0");
    const drop = program(aval, (b, x) => b.eq(binaryPrims["add"]!, [lit(-0, "float64"), x]));
    expect(simplifyWith(drop).fired).toEqual({ "add-zero": 1 });
    expectOptimizedExact(drop, [f64s([-0, 0, NaN, -Infinity])], "-0 + x");
  });

  it("issue 9.2 sub-zero: x - -0 is not x (at x = -0 it is +0): kept; x - 0 is x: dropped", () => {
    everyPath((x) => np.divide(1, np.subtract(x, -0)), [f32s([-0])], [Infinity], "1 / (x - -0)");
    everyPath((x) => np.divide(1, np.subtract(x, 0)), [f32s([-0])], [-Infinity], "1 / (x - 0)");
    const aval = new ShapedArray([1], "float32");
    const keep = program(aval, (b, x) => b.eq(binaryPrims["sub"]!, [x, lit(-0, "float32", true)]));
    expect(simplifyWith(keep).fired).toEqual({});
    expectOptimizedExact(keep, [f32s([-0])], "x - -0");
  });

  it("issue 9.2 zero-sub: 0 - x is not neg x (at x = 0: +0 vs -0): kept; -0 - x is neg x: rewritten", () => {
    everyPath((x) => np.divide(1, np.subtract(0, x)), [f32s([0, -0])], [Infinity, Infinity], "1 / (0 - x)");
    everyPath((x) => np.divide(1, np.subtract(-0, x)), [f32s([0, -0])], [-Infinity, Infinity], "1 / (-0 - x)");
    const aval = new ShapedArray([2], "float64");
    const keep = program(aval, (b, x) => b.eq(binaryPrims["sub"]!, [lit(0, "float64"), x]));
    expect(simplifyWith(keep).fired).toEqual({});
    expectOptimizedExact(keep, [f64s([0, -0])], "0 - x");
    const rewrite = program(aval, (b, x) => b.eq(binaryPrims["sub"]!, [lit(-0, "float64"), x]));
    expect(simplifyWith(rewrite).fired).toEqual({ "zero-sub": 1 });
    expectOptimizedExact(rewrite, [f64s([0, -0])], "-0 - x");
  });

  it("issue 9.2 reduce-no-axes: a float reduce_sum over no axes is 0 + x (+0 at x = -0): kept; max/min/prod and int32 sums dropped", () => {
    const p = program(new ShapedArray([2], "float32"), (b, x) => b.eq(reduceSumP, [x], { axes: [] }));
    expect(Array.from(interpret(p, [f32s([-0, 1])])[0]!.data).map(fmt)).toEqual(["0", "1"]); // the reference
    expect(simplifyWith(p).fired).toEqual({});
    expectOptimizedExact(p, [f32s([-0, 1])], "reduce_sum[axes=[]] x");
    const ints = program(new ShapedArray([2], "int32"), (b, x) => b.eq(reduceSumP, [x], { axes: [] }));
    expect(simplifyWith(ints).fired).toEqual({ "reduce-no-axes": 1 });
    expectOptimizedExact(ints, [i32s([-(2 ** 31), 2 ** 31 - 1])], "int32 reduce_sum[axes=[]] x");
  });

  it("issue 9.2: literals are matched by the value their dtype stores (float32 1e-50 is +0, 1 + 2^-24 is 1)", () => {
    const aval = new ShapedArray([3], "float32");
    // x + 1e-50 in float32 is x + 0: not an identity at -0
    const tiny = program(aval, (b, x) => b.eq(binaryPrims["add"]!, [x, lit(1e-50, "float32", true)]));
    expect(simplifyWith(tiny).fired).toEqual({});
    expectOptimizedExact(tiny, [f32s([-0, 0, 1])], "x + 1e-50 (float32)");
    // x + -1e-50 in float32 is x + -0, and x * (1 + 2^-24) is x * 1: identities
    const negTiny = program(aval, (b, x) => b.eq(binaryPrims["add"]!, [x, lit(-1e-50, "float32", true)]));
    expect(simplifyWith(negTiny).fired).toEqual({ "add-zero": 1 });
    expectOptimizedExact(negTiny, [f32s([-0, 0, 1])], "x + -1e-50 (float32)");
    const x = 1 + 2 ** -23;
    const almostOne = program(aval, (b, v) => b.eq(binaryPrims["mul"]!, [v, lit(1 + 2 ** -24, "float32", true)]));
    expect(simplifyWith(almostOne).fired).toEqual({ "mul-one": 1 });
    expectOptimizedExact(almostOne, [f32s([x, -0, 3])], "x * (1 + 2^-24) (float32)");
    everyPath((v) => np.multiply(v, 1 + 2 ** -24), [f32s([x])], [x], "x * (1 + 2^-24) (float32)");
  });

  it("issue 9.2: int32 rewrites follow wrapping (x + 0, x - 0, 0 - x = neg x, x * 1, neg neg x at the extremes)", () => {
    const ext = [-(2 ** 31), -1, 0, 1, 2 ** 31 - 1];
    const aval = new ShapedArray([5], "int32");
    const cases: [string, (b: Builder, x: Var) => Var][] = [
      ["add-zero", (b, x) => b.eq(binaryPrims["add"]!, [x, lit(0, "int32")])],
      ["sub-zero", (b, x) => b.eq(binaryPrims["sub"]!, [x, lit(-0, "int32")])],
      ["zero-sub", (b, x) => b.eq(binaryPrims["sub"]!, [lit(0, "int32"), x])],
      ["mul-one", (b, x) => b.eq(binaryPrims["mul"]!, [lit(1, "int32"), x])],
    ];
    for (const [rule, build] of cases) {
      const p = program(aval, build);
      expect(simplifyWith(p).fired, rule).toEqual({ [rule]: 1 });
      expectOptimizedExact(p, [i32s(ext)], rule);
    }
    everyPath((x) => np.subtract(0, x), [i32s(ext)], [-(2 ** 31), 1, 0, -1, -(2 ** 31) + 1], "int32 0 - x");
  });

  it("issue 9.2: x * 0, x - x, x / x, x * -1 and x + x are never rewritten (NaN, Inf, -0)", () => {
    const xs = f64s([NaN, Infinity, -Infinity, -0, 0, 2]);
    const fs: [string, (x: Tensor) => Tensor][] = [
      ["x * 0", (x) => mul(x, scalar(0, "float64"))],
      ["x - x", (x) => sub(x, x)],
      ["x / x", (x) => div(x, x)],
      ["0 * x", (x) => mul(scalar(0, "float64"), x)],
      ["x + x", (x) => add(x, x)],
      ["select(x > 0, x, x)", (x) => select(compare(x, scalar(0, "float64"), "gt"), x, x)],
      ["neg(neg(x))", (x) => neg(neg(x))],
    ];
    for (const [what, f] of fs) expectOptimizedExact(makeProgram(f)(xs), [xs], what);
    everyPath((x) => np.multiply(x, 0), [xs], [NaN, NaN, NaN, -0, 0, 0], "x * 0");
    everyPath((x) => np.subtract(x, x), [xs], [NaN, NaN, NaN, 0, 0, 0], "x - x");
  });
});

describe("issue 9.2: constant folding computes in the result dtype like the reference", () => {
  it("issue 9.2: float32 constants fold with float32 rounding, int32 ones wrap, -0 and NaN survive, same bits as eager", () => {
    const a32 = f32s([0.1, 3.4e38, -0, 1]);
    const b32 = f32s([0.2, 3.4e38, 0, NaN]);
    const ai = i32s([2 ** 31 - 1, -(2 ** 31), 7]);
    const bi = i32s([1, -1, -0]);
    const want32 = Array.from(np.add(a32, b32).data);
    expect(want32[0]).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
    expect(want32[1]).toBe(Infinity);
    const wantI = Array.from(np.add(ai, bi).data);
    expect(wantI).toEqual([-(2 ** 31), 2 ** 31 - 1, 7]);
    everyPath((x) => np.add(x, np.add(a32, b32)), [f32s([-0, -0, -0, -0])], want32.map((v) => -0 + v), "x + (a + b) (float32 constants)");
    everyPath((x) => np.add(x, np.add(ai, bi)), [i32s([0, 0, 0])], wantI, "x + (a + b) (int32 constants)");
    // folded literals: -0 * 1 stays -0, NaN stays NaN
    const p = program(new ShapedArray([], "float32"), (b, x) =>
      b.eq(binaryPrims["add"]!, [x, b.eq(binaryPrims["mul"]!, [lit(-0, "float32"), lit(1, "float32")])]),
    );
    const q = fold(p);
    expect(show(q)).toContain("add a -0.0:f32[]");
    expectOptimizedExact(p, [scalar(-0, "float32")], "x + (-0 * 1)");
  });
});

describe("issue 9.2 / 10.4: CSE keys literals and params exactly (core/encode)", () => {
  it("issue 10.4: CSE never merges equations whose literals differ as -0/0, NaN/Infinity, dtype or weak flag", () => {
    const aval = new ShapedArray([2], "float64");
    const pairs: [number, number][] = [
      [-0, 0],
      [NaN, Infinity],
      [Infinity, -Infinity],
    ];
    for (const [u, v] of pairs) {
      const x = new Var(aval);
      const b = new Builder();
      const s1 = b.eq(binaryPrims["add"]!, [x, lit(u, "float64")]);
      const s2 = b.eq(binaryPrims["add"]!, [x, lit(v, "float64")]);
      const out = b.eq(binaryPrims["div"]!, [lit(1, "float64"), b.eq(binaryPrims["add"]!, [s1, s2])]);
      const p = new Program([x], [], [], b.equations, [out]);
      const q = cse(p);
      expect(q.equations, `${fmt(u)} vs ${fmt(v)}`).toHaveLength(4);
      expectOptimizedExact(p, [f64s([-0, 1])], `(x + ${fmt(u)}) + (x + ${fmt(v)})`);
    }
    expect(atomKey(lit(-0, "float32"))).not.toBe(atomKey(lit(0, "float32")));
    expect(atomKey(lit(1, "float32"))).not.toBe(atomKey(lit(1, "float64")));
    expect(atomKey(lit(1, "float32", true))).not.toBe(atomKey(lit(1, "float32")));
    expect(atomKey(lit(NaN, "float32"))).toBe(atomKey(lit(NaN, "float32")));
    // commuted operands still meet
    const x = new Var(aval);
    const e1 = { prim: binaryPrims["add"]!, inputs: [x, lit(-0, "float64")], params: {}, outs: [new Var(aval)] };
    const e2 = { prim: binaryPrims["add"]!, inputs: [lit(-0, "float64"), x], params: {}, outs: [new Var(aval)] };
    expect(equationKey(e1)).toBe(equationKey(e2));
  });

  it("issue 10.4: CSE params are canonical and injective (numbers exact, keys quoted, undefined distinct)", () => {
    const distinct: unknown[] = [
      { v: -0 },
      { v: 0 },
      { v: NaN },
      { v: Infinity },
      { v: "0" },
      { "a: null, b": 1 },
      { a: null, b: 1 },
      { a: undefined },
      {},
      [1, [2]],
      [[1], 2],
      ["n:1"],
      [1],
    ];
    const keys = distinct.map(canonicalParam);
    expect(new Set(keys).size).toBe(distinct.length);
    expect(canonicalParam({ b: [NaN, -0], a: 1 })).toBe(canonicalParam({ a: 1, b: [NaN, -0] }));
  });
});

// ---------------------------------------------------------------- random programs over special values
const SPECIAL = [-0, 0, 1, -1, 0.5, 2, NaN, Infinity, -Infinity, 5e-324, -5e-324, 1.401298464324817e-45, 3.4028234663852886e38, 1e308];
const INTS = [0, -0, 1, -1, 2, 2 ** 31 - 1, -(2 ** 31), 7];
const OPS = ["add", "sub", "mul", "div", "max", "min"] as const;

type Node = { op: number; a: number; b: number; lit: number; side: number };
const nodeArb = fc.record({
  op: fc.integer({ min: 0, max: OPS.length + 3 }),
  a: fc.nat(),
  b: fc.nat(),
  lit: fc.nat(),
  side: fc.integer({ min: 0, max: 2 }),
});

/** A random elementwise program: binary ops between values or with special literals, neg, select. */
function randomProgram(nodes: Node[], dtype: DType, n: number): Program {
  const pool = dtype === "int32" ? INTS : SPECIAL;
  const aval = new ShapedArray([n], dtype);
  const x = new Var(aval);
  const y = new Var(aval);
  const vals: Var[] = [x, y];
  const b = new Builder();
  for (const nd of nodes) {
    const u = vals[nd.a % vals.length]!;
    const v = vals[nd.b % vals.length]!;
    const l = lit(pool[nd.lit % pool.length]!, dtype, nd.lit % 3 === 0);
    if (nd.op < OPS.length) {
      const prim = binaryPrims[OPS[nd.op]!]!;
      if (dtype === "int32" && OPS[nd.op] === "div") continue; // integer division by 0 is its own test
      const ins = nd.side === 0 ? [u, v] : nd.side === 1 ? [u, l] : [l, u];
      vals.push(b.eq(prim, ins));
    } else if (nd.op === OPS.length) vals.push(b.eq(negP, [u]));
    else if (nd.op === OPS.length + 1) vals.push(b.eq(binaryPrims["sub"]!, [l, u]));
    else vals.push(b.eq(binaryPrims["add"]!, [u, u]));
  }
  return new Program([x, y], [], [], b.equations, [vals[vals.length - 1]!, vals[Math.floor(vals.length / 2)]!]);
}

describe("issue 9.2: optimize on random programs over special values", () => {
  for (const dtype of ["float64", "float32", "int32"] as const) {
    it(`issue 9.2: random elementwise programs with -0, NaN, +-Inf, subnormal and extreme literals keep every bit (${dtype})`, () => {
      const pool = dtype === "int32" ? INTS : SPECIAL;
      const n = pool.length;
      const t = (xs: number[]) => tensor(xs, [n], dtype);
      fc.assert(
        fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 12 }), fc.nat(), (nodes, rot) => {
          const p = randomProgram(nodes, dtype, n);
          const xs = t(pool);
          const ys = t(pool.map((_, i) => pool[(i + rot) % n]!));
          expectOptimizedExact(p, [xs, ys], `random ${dtype} program`);
        }),
        { numRuns: 300 },
      );
    });
  }
});
