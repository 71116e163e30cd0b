// Symbolic shapes in exports (issue 15, items 1-2 of the third pass): declared constraints that
// the shape rules use (B % 2 == 0, the relation B == 2*K) so that reshape([-1, 2]) of [B,3]
// exports; the ShapeError naming the constraint a reshape would need; and jacfwd / jacrev /
// hessian / vmap running over symbolic dimensions in exported modules, against closed forms and
// jit at several sizes, with typed errors where a derivative truly needs a concrete size.

import { describe, expect, it } from "vitest";
import { ArgumentError, ShapeError, type Tensor, exportFunction, exportVjp, grad, hessian, importModule, jacfwd, jacrev, jit, np, spec, vmap } from "../src/index.js";
import { assertClose, rand } from "./util/check.js";
import { loadExported as load } from "./util/load-exported.js";

const exact = { rtol: 0, atol: 0 };
const f64 = { rtol: 1e-12, atol: 1e-12 };
const rows = (B: number, cols: number, seed = 1) => rand([B, cols], seed);

describe("declared constraints the shape rules use", () => {
  const half = (x: Tensor) => np.sin(x.reshape([-1, 2]));

  it("B % 2 == 0: reshape([-1, 2]) of [B,3] exports, equals eager and jit for B in {2, 4, 10}, and an odd B is refused naming the constraint", async () => {
    const e = exportFunction(half, [spec("float64", ["B", 3])], { name: "half", constraints: ["B % 2 == 0", "B <= 64"] });
    expect(e.manifest.functions[0]!.inputs[0]!.shape).toEqual(["B", 3]);
    expect(e.manifest.functions[0]!.outputs[0]!.shape).toEqual(["3*B/2", 2]);
    expect(e.manifest.symbolicDims).toEqual([{ name: "B", constraints: ["B >= 1", "B % 2 == 0", "B <= 64"] }]);
    expect(e.manifest.derivedDims).toEqual([{ name: "B/2", definition: "B / 2 (from B % 2 == 0)" }]);
    const m = await load(e);
    const j = jit(half);
    for (const B of [2, 4, 10]) {
      const x = rows(B, 3, B);
      const got = m.half(x);
      expect(got.shape).toEqual([(3 * B) / 2, 2]);
      assertClose(got.data, half(x).data, exact);
      assertClose(got.data, (j(x) as Tensor).data, exact);
    }
    expect(() => m.half(rows(5, 3))).toThrow(/half: the arguments bind B = 5, which violates the declared constraint B % 2 == 0/);
    expect(() => m.half(rows(66, 3))).toThrow(/bind B = 66, which violates the declared constraint B <= 64/);
    // the artifact loads back: B/2 is solved from the axis (2*B/2), an odd B refused ...
    const back = importModule(e.manifest);
    assertClose((back(rows(6, 3)) as Tensor).data, half(rows(6, 3)).data, exact);
    expect(() => back(rows(5, 3))).toThrow(ShapeError);
    // ... and checks the declared bounds (B from B/2)
    expect(() => back(rows(66, 3))).toThrow(/half\.half: the arguments bind B = 66, which violates the declared constraint B <= 64/);
  });

  it("a relation B == 2*K: the output is [3*K, 2]; K's own constraints are checked; B = 5 is refused naming the relation", async () => {
    const e = exportFunction(half, [spec("float64", ["B", 3])], { name: "rel", constraints: ["B == 2*K", "K <= 10"] });
    expect(e.manifest.functions[0]!.outputs[0]!.shape).toEqual(["3*K", 2]);
    expect(e.manifest.symbolicDims).toEqual([
      { name: "B", constraints: ["B >= 1", "B == 2*K"] },
      { name: "K", constraints: ["K >= 1", "K <= 10"] },
    ]);
    const m = await load(e);
    for (const B of [2, 8, 20]) assertClose(m.rel(rows(B, 3, B)).data, half(rows(B, 3, B)).data, exact);
    expect(() => m.rel(rows(5, 3))).toThrow(/rel: the arguments bind B = 5, which violates the declared constraint B == 2\*K/);
    expect(() => m.rel(rows(22, 3))).toThrow(/bind K = 11, which violates the declared constraint K <= 10/);
  });

  it("a relation between two arguments' symbols (T == S + 1) is checked, and the shape rules see it", async () => {
    // x: [S, 2], y: [T, 2] with T = S + 1: concatenating x with y's first S rows needs T - 1 = S
    const f = (x: Tensor, y: Tensor) => np.add(x, np.index(y, [np.s(1, null)]));
    expect(() => exportFunction(f, [spec("float64", ["S", 2]), spec("float64", ["T", 2])])).toThrow(ShapeError);
    const m = await load(exportFunction(f, [spec("float64", ["S", 2]), spec("float64", ["T", 2])], { name: "st", constraints: ["T == S + 1"] }));
    for (const S of [1, 4]) assertClose(m.st(rows(S, 2, 1), rows(S + 1, 2, 2)).data, f(rows(S, 2, 1), rows(S + 1, 2, 2)).data, exact);
    expect(() => m.st(rows(3, 2), rows(3, 2))).toThrow(/st: the arguments bind T = 3, which violates the declared constraint T == S \+ 1/);
  });

  it("two divisibility constraints combine (B % 2, B % 3: B = 6*(B/6)); a vjp export with a constraint matches grad", async () => {
    const six = (x: Tensor) => np.sum(np.tanh(x.reshape([-1, 6])), { axis: 1 });
    const m = await load(exportFunction(six, [spec("float64", ["B"])], { name: "six", constraints: ["B % 2 == 0", "B % 3 == 0"] }));
    for (const B of [6, 18]) assertClose(m.six(rand([B], B)).data, six(rand([B], B)).data, exact);
    expect(() => m.six(rand([4], 1))).toThrow(/bind B = 4, which violates the declared constraint B % 3 == 0/);
    const loss = (x: Tensor) => np.sum(np.square(np.sin(x.reshape([-1, 2]))));
    const v = await load(exportVjp(loss, [spec("float64", ["B", 3])], { name: "lv", constraints: ["B % 2 == 0"] }));
    for (const B of [2, 6]) {
      const x = rows(B, 3, B);
      const r = v.forward(x);
      assertClose(r.out.data, loss(x).data, f64);
      const [gx] = v.backward(r.residuals, 1);
      expect(gx.shape).toEqual([B, 3]);
      assertClose(gx.data, (grad(loss)(x) as Tensor).data, f64);
    }
  });

  it("a reshape that cannot hold for every allowed size names the constraint it needs", () => {
    expect(() => exportFunction(half, [spec("float32", ["B", 3])])).toThrow(/3\*B elements are not a multiple of 2 for every size; declare the constraint "B % 2 == 0"/);
    // with B % 4 declared, a [-1, 8] of [B,3] needs B % 8 == 0 (said in the user's symbol)
    expect(() => exportFunction((x: Tensor) => x.reshape([-1, 8]), [spec("float32", ["B", 3])], { constraints: ["B % 4 == 0"] })).toThrow(/declare the constraint "B % 8 == 0"/);
    expect(() => exportFunction((x: Tensor) => x.reshape([-1, 8]), [spec("float32", ["B", 3])], { constraints: ["B % 4 == 0"] })).toThrow(ShapeError);
    // without a constraint, [B,4] -> [-1, 2] is [2*B, 2]
    expect(exportFunction((x: Tensor) => x.reshape([-1, 2]), [spec("float32", ["B", 4])]).manifest.functions[0]!.outputs[0]!.shape).toEqual(["2*B", 2]);
  });

  it("bad relations are ArgumentErrors saying what to write", () => {
    const s = [spec("float32", ["B", "C"])];
    const f = (x: Tensor) => np.sum(x);
    expect(() => exportFunction(f, s, { constraints: ["B == 2*B"] })).toThrow(/defines B by itself/);
    expect(() => exportFunction(f, s, { constraints: ["D == 2*K"] })).toThrow(/names D, which is not a symbolic dimension/);
    // (relations in terms of each other, and a relation with divisibility, resolve: test/export-bounds.test.ts)
    expect(() => exportFunction(f, s, { constraints: ["B == C + 1", "C == B - 1"] })).toThrow(/a cycle/);
    expect(() => exportFunction(f, s, { constraints: ["B == K + 1", "B % 4 == 0"] })).toThrow(/put the factor in the relation \(e\.g\. B == 4\*K\)/);
    expect(() => exportFunction(f, s, { constraints: ["B == 2*"] })).toThrow(ArgumentError);
    // a symbol that no axis and no relation determines is refused at export
    expect(() => exportFunction(f, s, { constraints: ["B == K*K"] })).toThrow(/K cannot be determined/);
  });
});

describe("jacfwd / jacrev / hessian / vmap over symbolic dimensions in exports", () => {
  // f(x) = (sum x^2)^2: grad 4 s x, hessian 8 x x^T + 4 s I (s = sum x^2)
  const quartic = (x: Tensor) => np.square(np.sum(np.square(x)));
  const hessRef = (x: Float64Array) => {
    const n = x.length;
    const s = x.reduce((a, v) => a + v * v, 0);
    return Float64Array.from({ length: n * n }, (_, k) => 8 * x[Math.floor(k / n)]! * x[k % n]! + (Math.floor(k / n) === k % n ? 4 * s : 0));
  };

  it("export hessian(f) at [N] and run it at N = 3 and N = 5: the closed form and jit", async () => {
    const m = await load(exportFunction(hessian(quartic), [spec("float64", ["N"])], { name: "hess" }));
    const j = jit(hessian(quartic));
    for (const N of [3, 5]) {
      const x = rand([N], N);
      const got = m.hess(x);
      expect(got.shape).toEqual([N, N]);
      assertClose(got.data, hessRef(x.data as Float64Array), f64);
      assertClose(got.data, (j(x) as Tensor).data, f64);
    }
  });

  it("jacfwd and jacrev of a coupled map at [N], and with a second concrete leaf (basis rows at a symbolic offset)", async () => {
    // g(x) = sin(x * sum x): J = diag(cos(u) * S) + cos(u) x^T, u = x * S, S = sum x
    const g = (x: Tensor) => np.sin(np.multiply(x, np.sum(x)));
    const ref = (x: Float64Array) => {
      const n = x.length;
      const S = x.reduce((a, v) => a + v, 0);
      return Float64Array.from({ length: n * n }, (_, k) => {
        const [i, j] = [Math.floor(k / n), k % n];
        return Math.cos(x[i]! * S) * ((i === j ? S : 0) + x[i]!);
      });
    };
    const mf = await load(exportFunction(jacfwd(g), [spec("float64", ["N"])], { name: "jf" }));
    const mr = await load(exportFunction(jacrev(g), [spec("float64", ["N"])], { name: "jr" }));
    for (const N of [1, 4, 7]) {
      const x = rand([N], 10 + N);
      assertClose(mf.jf(x).data, ref(x.data as Float64Array), f64);
      assertClose(mr.jr(x).data, ref(x.data as Float64Array), f64);
    }
    // two inputs, one symbolic and one concrete: the basis of the second starts at row N
    const h = (x: Tensor, y: Tensor) => np.multiply(np.sum(np.sin(x)), y);
    const jh = jacfwd(h, { argnums: [0, 1] });
    const m2 = await load(exportFunction(jh, [spec("float64", ["N"]), spec("float64", [2])], { name: "j2" }));
    for (const N of [2, 5]) {
      const [x, y] = [rand([N], N), rand([2], 99)];
      const [gotX, gotY] = m2.j2(x, y);
      const [wantX, wantY] = jh(x, y) as Tensor[];
      expect(gotX.shape).toEqual([2, N]);
      assertClose(gotX.data, wantX!.data, f64);
      assertClose(gotY.data, wantY!.data, f64);
    }
  });

  it("vmap(hessian(f)) at [B, N]: per-row Hessians for (B, N) in {(2, 3), (4, 5)}", async () => {
    const m = await load(exportFunction(vmap(hessian(quartic)), [spec("float64", ["B", "N"])], { name: "vh" }));
    for (const [B, N] of [[2, 3], [4, 5]] as const) {
      const x = rand([B, N], B * N);
      const got = m.vh(x);
      expect(got.shape).toEqual([B, N, N]);
      const xs = x.data as Float64Array;
      for (let b = 0; b < B; b++) assertClose(got.data.subarray(b * N * N, (b + 1) * N * N), hessRef(xs.subarray(b * N, (b + 1) * N)), f64);
    }
  });

  it("where a derivative truly needs a concrete size: a typed ShapeError naming the operation and the dimension", () => {
    expect(() => exportFunction(hessian((x: Tensor) => np.sum(np.cumprod(x))), [spec("float64", ["N"])])).toThrow(/cumprod: the derivative needs a concrete length along axis 0, got N/);
    expect(() => exportFunction(hessian((x: Tensor) => np.sum(np.sort(x))), [spec("float64", ["N"])])).toThrow(ShapeError);
  });
});
