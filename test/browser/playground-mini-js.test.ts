// The playground's function language (playground/src/mini-js.ts), in Node: arithmetic agrees with
// JavaScript itself on random expressions (the engine's own evaluation of the same text is the
// reference), tensor operators map to np, closures work inside lax control flow and under grad,
// and the interpreter refuses what the page must not offer (prototype access, unknown names) with
// a line and column.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as adgen from "../../src/index.js";
import { MiniJsError, compileFunction } from "../../playground/src/mini-js.js";

const { np, lax, nn } = adgen;
const NP = np as unknown as Record<string, (...a: unknown[]) => unknown>;
const run = (src: string, ...args: unknown[]) => compileFunction(src, { np, lax, nn, Math }, NP)(...args);

/** Random arithmetic over a, b and small literals, fully parenthesised or not. */
const exprArb: fc.Arbitrary<string> = fc.letrec((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("a", "b", "2", "0.5", "3", "1e-3"),
    fc.tuple(tie("e"), fc.constantFrom("+", "-", "*", "/", "**", "<", ">=", "===", "%"), tie("e")).map(([x, op, y]) => `${x} ${op} ${y}`),
    fc.tuple(tie("e"), tie("e")).map(([x, y]) => `(${x}) - (${y})`),
    tie("e").map((x) => `-(${x})`),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([c, x, y]) => `${c} ? ${x} : ${y}`),
    tie("e").map((x) => `Math.sin(${x})`),
  ),
})).e as fc.Arbitrary<string>;

describe("playground mini-js", () => {
  it("evaluates arithmetic, comparisons and ternaries exactly as JavaScript does", () => {
    fc.assert(
      fc.property(exprArb, fc.double({ min: -4, max: 4, noNaN: true }), fc.double({ min: -4, max: 4, noNaN: true }), (e, a, b) => {
        const src = `(a, b) => ${e}`;
        let want: unknown;
        try {
          // the reference: the engine's own reading of the same text
          want = new Function("Math", `return ${src}`)(Math)(a, b);
        } catch (jsError) {
          // what JavaScript refuses (e.g. -a ** b), mini-js refuses too
          expect(jsError).toBeInstanceOf(SyntaxError);
          expect(() => run(src, a, b)).toThrow(MiniJsError);
          return;
        }
        expect(Object.is(run(src, a, b), want)).toBe(true);
      }),
      { seed: 1717, numRuns: 300 },
    );
  });

  it("block bodies, const/let, array destructuring, object literals and closures", () => {
    expect(run("(x) => { const [p, [q, r]] = [x, [x * 2, 3]]; let o = { p, s: q + r }; return o.s - o.p; }", 5)).toBe(8);
    expect(run("x => [1, 2, 3].map((v) => v * x)", 2)).toEqual([2, 4, 6]);
    expect(run("() => { return; }")).toBeUndefined();
  });

  it("tensor operators are np's, and lax control flow with interpreted closures differentiates", () => {
    const x = np.array([0.5, -1, 2], { dtype: "float64" });
    const got = run("(x) => np.sum(x * x + 2 * x - x / 4)", x) as adgen.Tensor;
    expect(got.item()).toBeCloseTo(0.25 + 1 + 4 + 2 * 1.5 - 1.5 / 4, 12);
    const src = "(x) => lax.foriLoop(0, 3, (i, c) => c * 0.5 + np.sin(c), x).sum()";
    const f = compileFunction(src, { np, lax, nn, Math }, NP) as (t: adgen.Tensor) => adgen.Tensor;
    const ref = (t: adgen.Tensor) => lax.foriLoop(0, 3, (_i: unknown, c: adgen.Tensor) => np.add(np.multiply(c, 0.5), np.sin(c)), t).sum();
    expect(Array.from(adgen.grad(f)(x).data as Float64Array)).toEqual(Array.from(adgen.grad(ref)(x).data as Float64Array));
    expect(Array.from(adgen.jit(adgen.grad(f))(x).data as Float64Array)).toEqual(Array.from(adgen.grad(ref)(x).data as Float64Array));
  });

  it("refuses prototype plumbing and unknown names, and reports syntax errors with line and column", () => {
    expect(() => run("(x) => x.constructor", 1)).toThrow(/constructor is not accessible/);
    expect(() => run("(x) => np['__proto__']", 1)).toThrow(/__proto__ is not accessible/);
    expect(() => run("(x) => globalThis", 1)).toThrow(/globalThis is not defined/);
    expect(() => run("(x) => {\n  return np.sum(x\n}")).toThrow(/^line 3, column 1: expected ",", found "}"/);
    expect(() => run("(x) => new Foo()")).toThrow(MiniJsError);
    expect(() => run("1 + 2")).toThrow(/one arrow function/);
  });
});
