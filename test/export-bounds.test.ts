// Declared constraints that the shape rules use (issue 15, item 5, fourth pass): bounds
// (B >= 2, B <= 4096) decide slices along a symbolic axis (x[0], x[1], x[-1], x[1:], x[:-1]) under
// exportFunction / exportVjp / exportModule, the loaded module, importModule and jit's
// `constraints` option, against the same function traced at concrete sizes; inequalities between
// symbols (T <= S); relations in terms of each other (B == 2*C, C == 3*K) and with divisibility;
// quotient symbols printed as the user reads them (3*B/2, never B_div_2); and the error of each
// violated or missing constraint. dimLeq under declared facts is checked against enumeration.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArgumentError, ShapeError, type Tensor, exportFunction, exportModule, exportVjp, extendModule, grad, importModule, jit, np, spec, vjpOf } from "../src/index.js";
import { type Dim, SymDim, dimAdd, dimLeq, dimMul, evalDim, withDimFacts } from "../src/core/shape.js";
import { assertClose, rand } from "./util/check.js";
import { loadExported as load } from "./util/load-exported.js";

const exact = { rtol: 0, atol: 0 };
const f64 = { rtol: 1e-12, atol: 1e-12 };
const rows = (B: number, seed = 1) => rand([B, 3], seed);

// each slices axis 0 of a [B,3] argument; eager at a concrete B is the reference
const slicers: [string, (x: Tensor) => Tensor, string[], (string | number)[]][] = [
  ["x[0]", (x) => np.sin(np.index(x, [0])), [], [3]],
  ["x[1]", (x) => np.sin(np.index(x, [1])), ["B >= 2"], [3]],
  ["x[-1]", (x) => np.index(x, [-1]), [], [3]],
  ["x[1:]", (x) => np.index(x, [np.s(1, null)]), ["B >= 2"], ["-1+B", 3]],
  ["x[2:] - x[:-2]", (x) => np.subtract(np.index(x, [np.s(2, null)]), np.index(x, [np.s(null, -2)])), ["B >= 3", "B <= 4096"], ["-2+B", 3]],
  ["x.slice([1], [3])", (x) => np.slice(x, [1], [3]), ["B >= 3"], [2, 3]],
];

describe("declared bounds decide slices along a symbolic axis", () => {
  for (const [what, f, cons, outShape] of slicers) {
    it(`${what} with ${JSON.stringify(cons)}: the module, importModule and its grad equal the function at concrete sizes`, async () => {
      const e = exportFunction(f, [spec("float64", ["B", 3])], { name: "sl", constraints: cons });
      expect(e.manifest.functions[0]!.outputs[0]!.shape).toEqual(outShape);
      const m = await load(e);
      const back = importModule(e.manifest);
      const loss = (x: Tensor) => np.sum(np.square(f(x)));
      const backLoss = (x: Tensor) => np.sum(np.square(back(x) as Tensor));
      for (const B of [3, 4, 9]) {
        const x = rows(B, B);
        const ref = f(x);
        const got = m.sl(x);
        expect(got.shape).toEqual(ref.shape);
        assertClose(got.data, ref.data, exact);
        assertClose((back(x) as Tensor).data, ref.data, exact);
        assertClose((grad(backLoss)(x) as Tensor).data, (grad(loss)(x) as Tensor).data, f64);
      }
    });
  }

  it("exportVjp of finite differences x[1:] - x[:-1] (B >= 2): forward and backward equal the function and grad at B in {2, 5, 8}; B = 1 is refused naming the bound", async () => {
    const diff = (x: Tensor) => np.sum(np.square(np.subtract(np.index(x, [np.s(1, null)]), np.index(x, [np.s(null, -1)]))));
    const v = await load(exportVjp(diff, [spec("float64", ["B", 3])], { name: "fd", constraints: ["B >= 2"] }));
    for (const B of [2, 5, 8]) {
      const x = rows(B, B);
      const r = v.forward(x);
      assertClose(r.out.data, diff(x).data, f64);
      const [gx] = v.backward(r.residuals, 1);
      assertClose(gx.data, (grad(diff)(x) as Tensor).data, f64);
    }
    expect(() => v.forward(rows(1))).toThrow(/bind B = 1, which violates the declared constraint B >= 2/);
  });

  it("a module of loss + vjp with x[-1] and x[1:] runs at B in {2, 7} like separate eager calls", async () => {
    const loss = (x: Tensor) => np.sum(np.multiply(np.index(x, [np.s(1, null)]), np.index(x, [-1])));
    const m = await load(exportModule({ loss, step: vjpOf(loss) }, [spec("float64", ["B", 3])], { name: "mb", constraints: ["B >= 2"], bundle: true }));
    for (const B of [2, 7]) {
      const x = rows(B, B);
      assertClose(m.loss(x).data, loss(x).data, f64);
      const [gx] = m.step_backward(m.step_forward(x).residuals, 1);
      assertClose(gx.data, (grad(loss)(x) as Tensor).data, f64);
    }
  });

  it("errors: the bound a slice needs is named; a call or an import below the bound is refused", async () => {
    const second = (x: Tensor) => np.index(x, [1]);
    expect(() => exportFunction(second, [spec("float32", ["B", 3])])).toThrow(ShapeError);
    expect(() => exportFunction(second, [spec("float32", ["B", 3])])).toThrow(/whether 2 <= B depends on the value of B .*declare the constraint "B >= 2"/);
    // a bound that is not enough names the one that is
    expect(() => exportFunction((x: Tensor) => np.index(x, [4]), [spec("float32", ["B", 3])], { constraints: ["B >= 2"] })).toThrow(/declare the constraint "B >= 5"/);
    const e = exportFunction(second, [spec("float64", ["B", 3])], { name: "second", constraints: ["B >= 2"] });
    const m = await load(e);
    expect(() => m.second(rows(1))).toThrow(/second: the arguments bind B = 1, which violates the declared constraint B >= 2/);
    expect(() => importModule(e.manifest)(rows(1))).toThrow(/bind B = 1, which violates the declared constraint B >= 2/);
    expect(() => exportFunction(second, [spec("float32", ["B", 3])], { constraints: ["B >= two"] })).toThrow(ArgumentError);
  });

  it("jit(f, {shapes, constraints}): one trace serves B in {2, 5, 9}, equal to eager; grad too; B = 1 is a ShapeError naming the constraint; divisibility is refused", () => {
    const f = (x: Tensor) => np.sum(np.multiply(np.index(x, [np.s(1, null)]), np.index(x, [np.s(null, -1)])));
    const j = jit(f, { shapes: [["B", 3]], constraints: ["B >= 2"] });
    const g = jit(grad(f), { shapes: [["B", 3]], constraints: ["B >= 2"] });
    for (const B of [2, 5, 9]) {
      const x = rows(B, B);
      assertClose((j(x) as Tensor).data, f(x).data, exact);
      assertClose((g(x) as Tensor).data, (grad(f)(x) as Tensor).data, f64);
    }
    expect(j.cacheInfo().traces).toBe(1);
    expect(() => j(rows(1))).toThrow(ShapeError);
    expect(() => j(rows(1))).toThrow(/jit\(f\): arg 0 has shape \[1,3\], which binds B = 1 \(axis 0\) and violates the declared constraint B >= 2/);
    // without the bound the trace says which one to declare
    expect(() => jit(f, { shapes: [["B", 3]] })(rows(3))).toThrow(/declare the constraint "B >= 1"/);
    expect(() => jit(f, { shapes: [["B", 3]], constraints: ["B % 2 == 0"] })).toThrow(/divisibility constraint, which jit does not take/);
    expect(() => jit(f, { shapes: [["B", 3]], constraints: ["C >= 2"] })).toThrow(/names C, which is not a symbolic dimension/);
  });
});

describe("divisibility prints in the user's symbols", () => {
  it("B % 2 == 0: x[::2] is [B/2, 3] and reshape([-1, 2]) of [B,3] is [3*B/2, 2]; no B_div_ anywhere in the manifest, module or errors", async () => {
    const f = (x: Tensor) => np.add(np.index(x, [np.s(null, null, 2)]), np.index(x, [np.s(1, null, 2)]));
    const e = exportFunction(f, [spec("float64", ["B", 3])], { name: "ev", constraints: ["B % 2 == 0"] });
    expect(e.manifest.functions[0]!.outputs[0]!.shape).toEqual(["B/2", 3]);
    expect(JSON.stringify(e.manifest) + e.source + e.dts).not.toMatch(/_div_/);
    const m = await load(e);
    for (const B of [2, 6]) assertClose(m.ev(rows(B, B)).data, f(rows(B, B)).data, exact);
    const err = (() => {
      try {
        m.ev(rows(3));
      } catch (x) {
        return (x as Error).message;
      }
      return "";
    })();
    expect(err).toMatch(/B = 3, which violates the declared constraint B % 2 == 0/);
    expect(err).not.toMatch(/_div_/);
    // a reshape that needs more divisibility names it in B, and the traced shape in B/4
    expect(() => exportFunction((x: Tensor) => x.reshape([-1, 8]), [spec("float32", ["B", 3])], { constraints: ["B % 4 == 0"] })).toThrow(/3\*B\/4\b.*declare the constraint "B % 8 == 0"|declare the constraint "B % 8 == 0"/);
    // spec strings take the symbol whole
    expect(() => spec("float32", ["B/2"])).toThrow(/write the symbol whole \(B\) and declare its divisibility/);
  });
});

describe("extendModule keeps every declared constraint", () => {
  it("an artifact traced at [2*B/2, 3] (B % 2 == 0, B >= 4, B <= 64): the extended module still checks B <= 64 and its grad equals adgen's at B in {4, 10}", async () => {
    const f = (x: Tensor) => np.sum(np.sin(np.index(x.reshape([-1, 2]), [5])));
    const e = exportFunction(f, [spec("float64", ["B", 3])], { name: "q", constraints: ["B % 2 == 0", "B >= 4", "B <= 64"] });
    const e2 = extendModule(e.manifest, (fns) => ({ g: grad(fns.q!) }), { bundle: true });
    expect(e2.manifest.symbolicDims[0]).toEqual({ name: "B", constraints: ["B >= 1", "B % 2 == 0", "B >= 4", "B <= 64"] });
    const m = await load(e2);
    for (const B of [4, 10]) assertClose(m.g(rows(B, B)).data, (grad(f)(rows(B, B)) as Tensor).data, f64);
    expect(() => m.g(rows(66))).toThrow(/bind B = 66, which violates the declared constraint B <= 64/);
    expect(() => m.g(rows(2))).toThrow(/bind B = 2, which violates the declared constraint B >= 4/);
    expect(() => m.g(rows(5))).toThrow(/axis 0 is 2\*B\/2, which needs B\/2 = size \/ 2 to be an integer >= 1/);
  });
});

describe("relations between symbols", () => {
  const sumRows = (x: Tensor, y: Tensor) => np.add(np.index(x, [np.s(null, y.shape[0])]), y);

  it("T <= S: x[:T] + y exports, runs and loads back for (S, T) in {(3, 3), (5, 2)}; T > S is refused at call and import; undeclared, the error names the inequality", async () => {
    const specs = [spec("float64", ["S", 2]), spec("float64", ["T", 2])];
    expect(() => exportFunction(sumRows, specs)).toThrow(/whether T <= S depends .*declare the constraint "T <= S"/);
    const e = exportFunction(sumRows, specs, { name: "st", constraints: ["T <= S"] });
    expect(e.manifest.functions[0]!.outputs[0]!.shape).toEqual(["T", 2]);
    expect(e.manifest.symbolicDims).toEqual([
      { name: "S", constraints: ["S >= 1", "T <= S"] },
      { name: "T", constraints: ["T >= 1", "T <= S"] },
    ]);
    const m = await load(e);
    const back = importModule(e.manifest);
    for (const [S, T] of [[3, 3], [5, 2]] as const) {
      const [x, y] = [rand([S, 2], S), rand([T, 2], T)];
      const ref = sumRows(x, y);
      assertClose(m.st(x, y).data, ref.data, exact);
      assertClose((back(x, y) as Tensor).data, ref.data, exact);
    }
    expect(() => m.st(rand([2, 2], 1), rand([3, 2], 2))).toThrow(/st: the arguments bind S = 2, T = 3, which violates the declared constraint T <= S/);
    expect(() => back(rand([2, 2], 1), rand([3, 2], 2))).toThrow(/bind S = 2, T = 3, which violates the declared constraint T <= S/);
    expect(() => exportFunction(sumRows, specs, { constraints: ["T <= Q"] })).toThrow(/names Q, which is not a symbolic dimension/);
  });

  it("relations in terms of each other (B == 2*C, C == 3*K) and with divisibility (B == 2*K, B % 8 == 0) resolve; a cycle is an ArgumentError", async () => {
    const half = (x: Tensor) => np.sin(x.reshape([-1, 2]));
    const ch = exportFunction((x: Tensor, _c: Tensor) => half(x), [spec("float64", ["B", 3]), spec("float64", ["C"])], { name: "ch", constraints: ["B == 2*C", "C == 3*K"] });
    expect(ch.manifest.functions[0]!.outputs[0]!.shape).toEqual(["9*K", 2]);
    const m = await load(ch);
    for (const K of [1, 2]) assertClose(m.ch(rows(6 * K, K), rand([3 * K], 2)).data, half(rows(6 * K, K)).data, exact);
    expect(() => m.ch(rows(6), rand([4], 2))).toThrow(/bind C = 4, which violates the declared constraint C == 3\*K/);
    const dv = exportFunction(half, [spec("float64", ["B", 3])], { name: "dv", constraints: ["B == 2*K", "B % 8 == 0"] });
    expect(dv.manifest.functions[0]!.outputs[0]!.shape).toEqual(["3*K", 2]);
    expect(dv.manifest.derivedDims).toEqual([{ name: "K/4", definition: "K / 4 (from B == 2*K and B % 8 == 0)" }]);
    const d = await load(dv);
    for (const B of [8, 16]) assertClose(d.dv(rows(B, B)).data, half(rows(B, B)).data, exact);
    expect(() => d.dv(rows(6))).toThrow(/bind B = 6, which violates the declared constraint B % 8 == 0/);
    const s = [spec("float32", ["B", "C"])];
    expect(() => exportFunction(np.sum, s, { constraints: ["B == C + 1", "C == B - 1"] })).toThrow(/define their symbols in terms of each other \(a cycle\)/);
    expect(() => exportFunction(np.sum, s, { constraints: ["B == K + 1", "B % 4 == 0"] })).toThrow(/combines only for a relation of the form B == c\*K/);
  });
});

describe("dimLeq under declared facts agrees with enumeration", () => {
  const B = SymDim.symbol("B");
  const T = SymDim.symbol("T");
  it("linear and quadratic polynomials in B, T with bounds: true only when every allowed size satisfies it, false only when none does (fast-check, fixed seed)", () => {
    const coef = fc.integer({ min: -3, max: 3 });
    const poly = fc.tuple(coef, coef, coef, coef).map(([c, b, t, bt]): Dim => dimAdd(dimAdd(c, dimMul(b, B)), dimAdd(dimMul(t, T), dimMul(bt, dimMul(B, T)))));
    const bounds = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 }));
    fc.assert(
      fc.property(poly, poly, bounds, (a, b, [bMin, bSpan, tMin]) => {
        const facts = { bounds: { B: { min: bMin, max: bMin + bSpan }, T: { min: tMin } } };
        const got = withDimFacts(facts, () => dimLeq(a, b));
        const all: boolean[] = [];
        for (let vb = bMin; vb <= bMin + bSpan; vb++) for (let vt = tMin; vt <= tMin + 12; vt++) all.push(evalDim(a, { B: vb, T: vt }) <= evalDim(b, { B: vb, T: vt }));
        if (got === true) expect(all.every(Boolean)).toBe(true);
        if (got === false) expect(all.some(Boolean)).toBe(false);
      }),
      { seed: 15, numRuns: 400 },
    );
    // and it decides what the bounds decide: 2 <= B under B >= 2, B <= 8 under B <= 4, not T <= B
    expect(withDimFacts({ bounds: { B: { min: 2, max: 4 } } }, () => [dimLeq(2, B), dimLeq(B, 8), dimLeq(B, 1), dimLeq(T, B)])).toEqual([true, true, false, null]);
    expect(withDimFacts({ bounds: {}, nonneg: [SymDim.fromTerms(new Map([["B", 1], ["T", -1]]))] }, () => dimLeq(T, B))).toBe(true);
    expect(dimLeq(2, B)).toBe(null); // outside any scope: only B >= 0
  });
});
