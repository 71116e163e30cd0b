// np.linalg: values against NumPy (hard-coded, computed with NumPy 1.24) and reconstruction
// identities, batched and in both float dtypes; closed-form derivatives in float64 against central
// differences and the dot-product identity; jit on the wasm and js backends and vmap against eager
// results; the documented degenerate cases; typed errors.

import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { DTypeError, GradError, ArgumentError, ShapeError, Tensor, config, exportFunction, exportVjp, grad, jit, np, spec, vmap } from "../src/index.js";
import { assertClose, checkGradients, rand } from "./util/check.js";
import { loadExported as load } from "./util/load-exported.js";

const f64 = (x: unknown) => np.array(x as number[][], { dtype: "float64" });
const A = f64([[4, 2, 0.6], [2, 5, 1], [0.6, 1, 3]]);
const B = f64([[1, 2], [3, 4], [5, 6]]);
const M = f64([[0, 2, 1], [1, 1, 1], [3, 0, 2]]);
const T = f64([[0, 2, 1], [1, -1, 1], [3, 0, 2], [1, -1, 2]]);
const flat = (x: unknown) => (x as number[][]).flat(3) as number[];

/** Random well-conditioned matrices: general (m + n I), symmetric, and symmetric positive definite. */
const general = (shape: number[], seed: number) => np.add(rand(shape, seed), np.multiply(np.eye(shape.at(-1)!, null, { dtype: "float64" }), shape.at(-1)!));
const symmetric = (shape: number[], seed: number) => {
  const r = rand(shape, seed);
  return np.multiply(np.add(r, np.swapaxes(r, -1, -2)), 0.5);
};
const spd = (shape: number[], seed: number) => {
  const r = rand(shape, seed);
  return np.add(np.matmul(r, np.swapaxes(r, -1, -2)), np.eye(shape.at(-1)!, null, { dtype: "float64" }));
};
const mT = (x: Tensor) => np.swapaxes(x, -1, -2);
const triu = (x: Tensor) => np.where(np.lessEqual(np.arange(x.shape.at(-2)!).reshape([-1, 1]), np.arange(x.shape.at(-1)!).reshape([1, -1])), x, 0);
const maxAbs = (x: Tensor) => np.max(np.abs(x)).item();
const eyeOf = (n: number, dtype: "float32" | "float64" = "float64") => np.eye(n, null, { dtype });

describe("values against NumPy", () => {
  it("cholesky, solve, inv, det, slogdet, triangularSolve", () => {
    assertClose(np.linalg.cholesky(A).data, [2, 0, 0, 1, 2, 0, 0.3, 0.35, 1.6695807857064], { rtol: 1e-13 });
    assertClose(np.linalg.solve(M, B).data, [5, 6, 3, 4, -5, -6], { rtol: 1e-13 });
    assertClose(np.linalg.solve(M, f64([1, 3, 5])).data, [5, 3, -5], { rtol: 1e-13 });
    assertClose(np.linalg.inv(M).data, [-2, 4, -1, -1, 3, -1, 3, -6, 2], { rtol: 1e-13 });
    assertClose([np.linalg.det(M).item()], [-1], { rtol: 1e-13 });
    const [s, l] = np.linalg.slogdet(A);
    assertClose([s.item(), l.item()], [1, 3.7977338590260183], { rtol: 1e-13 });
    const L = np.linalg.cholesky(A);
    assertClose(np.linalg.triangularSolve(L, B, { lower: true }).data, [0.5, 1, 1.25, 1.5, 2.642879001589054, 3.099580472118608], { rtol: 1e-13 });
    const lt = [-0.437172733823587, -0.224607280588305, 0.975916345293955, 1.371099614352746, 2.9947637411774, 3.593716489412879];
    assertClose(np.linalg.triangularSolve(mT(L), B).data, lt, { rtol: 1e-12 });
    assertClose(np.linalg.triangularSolve(L, B, { lower: true, trans: "T" }).data, lt, { rtol: 1e-12 });
  });
  it("qr (LAPACK's signs), eigenvalues, singular values", () => {
    const [q, r] = np.linalg.qr(T);
    const qRef = [
      [0.0, 0.842423539174232, 0.483444730098752],
      [-0.301511344577764, -0.344627811480368, 0.171220008576641],
      [-0.904534033733291, 0.229751874320245, -0.322296486732502],
      [-0.301511344577764, -0.344627811480368, 0.795669451620864],
    ];
    const rRef = [[-3.3166247903554, 0.603022689155527, -2.713602101199872], [0, 2.374102701309199, 0.268043853373619], [0, 0, 1.601410668452118]];
    assertClose(q!.data, flat(qRef), { rtol: 1e-12, atol: 1e-14 });
    assertClose(r!.data, flat(rRef), { rtol: 1e-12, atol: 1e-14 });
    assertClose(np.linalg.eigh(A)[0].data, [2.372468984808981, 2.722508207322903, 6.905022807868114], { rtol: 1e-13 });
    assertClose(np.linalg.svd(T, { computeUv: false }).data, [4.454799025985516, 2.401041430990144, 1.178883236265277], { rtol: 1e-13 });
    assertClose(np.linalg.svdvals(mT(T)).data, [4.454799025985516, 2.401041430990144, 1.178883236265277], { rtol: 1e-13 });
  });
  it("norm: every vector and matrix ord, axis pairs, keepdims (NumPy values)", () => {
    const X = f64([[0, 2, 1], [1, -1, 1], [3, 0, 2], [1, -1, 2]]);
    const mat: [unknown, number][] = [
      [null, 5.196152422706632], ["fro", 5.196152422706632], ["nuc", 8.034723693240938], [1, 6], [-1, 4],
      [2, 4.454799025985516], [-2, 1.1788832362652772], [Infinity, 5], [-Infinity, 3],
    ];
    for (const [ord, v] of mat) assertClose([np.linalg.norm(X, { ord: ord as never }).item()], [v], { rtol: 1e-13, what: `ord ${ord}` });
    const x = f64([3, -4, 0, 1]);
    const vec: [unknown, number][] = [[null, 5.0990195135927845], [1, 8], [2, 5.0990195135927845], [3, 4.514357435474001], [0, 3], [Infinity, 4], [-Infinity, 0], [0.5, 22.392304845413257]];
    for (const [ord, v] of vec) assertClose([np.linalg.norm(x, { ord: ord as never }).item()], [v], { rtol: 1e-13, what: `ord ${ord}` });
    const X3 = np.reshape(np.arange(24, { dtype: "float64" }), [2, 3, 4]);
    assertClose(np.linalg.norm(X3, { axis: [2, 0], ord: 2 }).data, [27.278740934924468, 36.7950101113172, 47.10309908823583], { rtol: 1e-13 });
    const k = np.linalg.norm(X3, { axis: [0, 2], ord: 1, keepdims: true });
    expect(k.shape).toEqual([1, 3, 1]);
    assertClose(k.data, [18, 26, 34]);
    expect(np.linalg.norm(X3, { axis: 1, keepdims: true }).shape).toEqual([2, 1, 4]);
    assertClose(np.linalg.norm(X3, { axis: [1, 2], ord: -Infinity }).data, [6, 54]);
    expect(np.linalg.norm(X3, { keepdims: true }).shape).toEqual([1, 1, 1]);
  });
});

describe("reconstruction identities, batched, float64 and float32", () => {
  for (const dtype of ["float64", "float32"] as const) {
    const tol = dtype === "float64" ? 1e-11 : 2e-4;
    const cast = (x: Tensor) => np.astype(x, dtype);
    it(`${dtype}: L L^T = A, A x = b, A inv(A) = I, det = prod(eig) for n = 1..7 (batch [2, 3])`, () => {
      for (const n of [1, 2, 3, 4, 5, 7]) {
        const a = cast(spd([2, 3, n, n], n));
        const L = np.linalg.cholesky(a);
        expect(L.dtype).toBe(dtype);
        expect(maxAbs(np.subtract(np.matmul(L, mT(L)), a))).toBeLessThan(tol * n * 10);
        const g = cast(general([2, 3, n, n], 10 + n));
        const b = cast(rand([2, 3, n, 2], 20 + n));
        expect(maxAbs(np.subtract(np.matmul(g, np.linalg.solve(g, b)), b))).toBeLessThan(tol * n * 10);
        expect(maxAbs(np.subtract(np.matmul(g, np.linalg.inv(g)), eyeOf(n, dtype)))).toBeLessThan(tol * n * 10);
        const w = np.linalg.eigh(a)[0];
        assertClose(np.linalg.det(a).data, np.prod(w, { axis: -1 }).data, { rtol: tol * 100 });
        assertClose(np.linalg.slogdet(a)[1].data, np.sum(np.log(w), { axis: -1 }).data, { rtol: tol * 100, atol: tol * 10 });
      }
    });
    it(`${dtype}: Q R = A with Q orthonormal, U S V^T = A, A v = v w (n odd and even, tall and wide)`, () => {
      for (const [m, n] of [[1, 1], [3, 3], [4, 4], [5, 3], [3, 5], [6, 6], [7, 7]] as const) {
        const a = cast(rand([2, m, n], 100 * m + n));
        const k = Math.min(m, n);
        for (const mode of ["reduced", "complete"] as const) {
          const [q, r] = np.linalg.qr(a, { mode });
          expect(maxAbs(np.subtract(np.matmul(q!, r!), a))).toBeLessThan(tol * 10);
          const qq = np.matmul(mT(q!), q!);
          expect(maxAbs(np.subtract(qq, eyeOf(qq.shape.at(-1)!, dtype)))).toBeLessThan(tol * 10);
          expect(maxAbs(np.subtract(r!, triu(r!)))).toBe(0);
          if (mode === "reduced") assertClose(np.linalg.qr(a, { mode: "r" })[0]!.data, r!.data, { rtol: 0, atol: 0 });
        }
        for (const fullMatrices of [true, false]) {
          const [u, s, vh] = np.linalg.svd(a, { fullMatrices });
          expect(u.shape).toEqual([2, m, fullMatrices ? m : k]);
          expect(vh.shape).toEqual([2, fullMatrices ? n : k, n]);
          const uk = fullMatrices ? np.index(u, [":", ":", np.s(0, k)]) : u;
          const vk = fullMatrices ? np.index(vh, [":", np.s(0, k), ":"]) : vh;
          expect(maxAbs(np.subtract(np.matmul(np.multiply(uk, np.expandDims(s, -2)), vk), a))).toBeLessThan(tol * 10);
          expect(maxAbs(np.subtract(np.matmul(mT(u), u), eyeOf(u.shape.at(-1)!, dtype)))).toBeLessThan(tol * 10);
          expect(maxAbs(np.subtract(np.matmul(vh, mT(vh)), eyeOf(vh.shape.at(-2)!, dtype)))).toBeLessThan(tol * 10);
          const sd = s.dataSync();
          for (let i = 1; i < sd.length; i++) if (i % k !== 0) expect(sd[i - 1]!).toBeGreaterThanOrEqual(sd[i]!);
        }
        if (m === n) {
          const sa = cast(symmetric([2, n, n], 7 * n));
          const [w, v] = np.linalg.eigh(sa);
          expect(maxAbs(np.subtract(np.matmul(sa, v), np.multiply(v, np.expandDims(w, -2))))).toBeLessThan(tol * 10);
          expect(maxAbs(np.subtract(np.matmul(mT(v), v), eyeOf(n, dtype)))).toBeLessThan(tol * 10);
          const wd = w.dataSync();
          for (let i = 1; i < wd.length; i++) if (i % n !== 0) expect(wd[i - 1]!).toBeLessThanOrEqual(wd[i]!);
        }
      }
    });
  }
  it("random sizes and seeds (fast-check, fixed seed): svd and eigh reconstruct", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 1000 }), (m, n, seed) => {
        const a = rand([m, n], seed);
        const [u, s, vh] = np.linalg.svd(a, { fullMatrices: false });
        expect(maxAbs(np.subtract(np.matmul(np.multiply(u, np.expandDims(s, -2)), vh), a))).toBeLessThan(1e-12);
        const sa = symmetric([n, n], seed + 1);
        const [w, v] = np.linalg.eigh(sa);
        expect(maxAbs(np.subtract(np.matmul(sa, v), np.multiply(v, np.expandDims(w, -2))))).toBeLessThan(1e-12);
      }),
      { seed: 1818, numRuns: 12 },
    );
  });
});

describe("derivatives in float64: closed forms vs central differences and jvp vs vjp", () => {
  const a3 = general([3, 3], 1);
  const s3 = spd([3, 3], 2);
  const b32 = rand([3, 2], 3);
  it("solve, inv, det, slogdet", () => {
    checkGradients((a, b) => np.linalg.solve(a, b), [a3, b32]);
    checkGradients((a, b) => np.linalg.solve(a, b), [a3, rand([3], 4)]);
    checkGradients((a) => np.linalg.inv(a), [a3]);
    checkGradients((a) => np.linalg.det(a), [a3]);
    checkGradients((a) => np.linalg.slogdet(a)[1], [a3]);
    checkGradients((a) => np.linalg.det(a), [general([2, 2, 2], 5)]); // batched
  });
  it("cholesky and triangularSolve (lower, upper, transposed, unit diagonal)", () => {
    checkGradients((a) => np.linalg.cholesky(a), [s3]);
    checkGradients((a) => np.linalg.cholesky(a), [spd([2, 4, 4], 6)]);
    const t = np.add(np.multiply(rand([3, 3], 7), 0.5), np.multiply(eyeOf(3), 3));
    for (const opts of [{ lower: true }, { lower: false }, { lower: true, trans: "T" as const }, { unitDiagonal: true }]) {
      checkGradients((a, b) => np.linalg.triangularSolve(a, b, opts), [t, b32]);
    }
  });
  it("qr (tall and square; both factors)", () => {
    checkGradients((a) => np.linalg.qr(a)[0]!, [rand([5, 3], 8)]);
    checkGradients((a) => np.linalg.qr(a)[1]!, [rand([5, 3], 8)]);
    checkGradients((a) => np.linalg.qr(a, { mode: "complete" })[0]!, [rand([3, 3], 9)]);
    checkGradients((a) => np.linalg.qr(a, { mode: "r" })[0]!, [rand([4, 2], 10)]);
  });
  it("eigh (eigenvalues, eigenvectors up to sign: v v^T weighted by w, and v squared)", () => {
    const s = symmetric([4, 4], 11);
    checkGradients((a) => np.linalg.eigh(a)[0], [s]);
    checkGradients((a) => np.square(np.linalg.eigh(a)[1]), [s]);
    checkGradients((a) => {
      const [w, v] = np.linalg.eigh(a);
      return np.matmul(np.multiply(v, np.expandDims(np.sin(w), -2)), mT(v));
    }, [s]);
  });
  it("svd (singular values; u and vh up to a joint sign, tall and wide and square)", () => {
    for (const shape of [[4, 3], [3, 4], [3, 3]]) {
      const a = rand(shape, 12 + shape[0]!);
      checkGradients((x) => np.linalg.svd(x, { computeUv: false }), [a]);
      checkGradients((x) => {
        const [u, s, vh] = np.linalg.svd(x, { fullMatrices: false });
        return np.add(np.matmul(np.multiply(u, np.expandDims(np.square(s), -2)), vh), np.sum(np.square(u)));
      }, [a]);
      checkGradients((x) => np.square(np.linalg.svd(x, { fullMatrices: false })[2]), [a]);
    }
  });
  it("norm: vector and matrix orders", () => {
    const x = rand([2, 3, 4], 13);
    for (const ord of [null, 1, 2, 3, Infinity]) checkGradients((v) => np.linalg.norm(v, { ord: ord as never, axis: -1 }), [x]);
    for (const ord of ["fro", "nuc", 1, 2, -2, Infinity]) checkGradients((v) => np.linalg.norm(v, { ord: ord as never, axis: [1, 2] }), [x]);
  });
  it("second order: hessian-vector products through the rules (grad of grad of logdet)", () => {
    const f = (a: Tensor) => np.linalg.slogdet(a)[1];
    // d/dA logdet = A^-T, so grad(sum(grad f * C)) = d/dA tr(A^-1 C^T)... compared to central differences
    const C = rand([3, 3], 14);
    checkGradients((a) => np.sum(np.multiply(grad(f)(a) as Tensor, C)), [a3]);
    checkGradients((a) => grad((x: Tensor) => np.sum(np.linalg.cholesky(x)))(a) as Tensor, [s3], { rtol: 1e-4 });
  });
});

describe("jit (wasm and js backends) and vmap agree with eager", () => {
  const saved = { backend: config.backend, interpretBelowWork: config.interpretBelowWork };
  afterEach(() => config.update(saved));
  const cases: [string, (a: Tensor) => Tensor][] = [
    ["cholesky", (a) => np.linalg.cholesky(a)],
    ["solve", (a) => np.linalg.solve(a, np.ones([3, 2], { dtype: a.dtype }))],
    ["inv", (a) => np.linalg.inv(a)],
    ["det", (a) => np.linalg.det(a)],
    ["slogdet", (a) => np.linalg.slogdet(a)[1]],
    ["qr", (a) => np.linalg.qr(a)[1]!],
    ["eigh", (a) => np.linalg.eigh(a)[0]],
    ["svd", (a) => np.linalg.svd(a, { computeUv: false })],
    ["norm nuc", (a) => np.linalg.norm(a, { ord: "nuc" })],
    ["grad logdet", (a) => grad((x: Tensor) => np.linalg.slogdet(x)[1])(a) as Tensor],
    ["grad eigh", (a) => grad((x: Tensor) => np.sum(np.linalg.eigh(x)[0].mul(f64([1, 2, 3]))))(a) as Tensor],
    ["grad svd", (a) => grad((x: Tensor) => np.sum(np.linalg.svd(x, { computeUv: false })))(a) as Tensor],
  ];
  const batch = np.stack([spd([3, 3], 21), spd([3, 3], 22)]);
  for (const backend of ["wasm", "js"] as const) {
    it(`jit on ${backend}`, () => {
      config.update({ backend, interpretBelowWork: 0 }); // compile even these small programs
      for (const [name, f] of cases) assertClose(jit(f)(batch.index(0)).data, f(batch.index(0)).data, { rtol: 1e-12, atol: 1e-13, what: name });
    });
  }
  it("vmap equals a loop over the batch", () => {
    for (const [name, f] of cases) {
      const out = vmap(f)(batch);
      const loop = np.stack([f(batch.index(0)), f(batch.index(1))]);
      assertClose(out.data, loop.data, { rtol: 1e-12, atol: 1e-13, what: name });
    }
  });
});

describe("AOT export (custom rules inlined: the exported program is final)", () => {
  it("exportFunction and exportVjp of linalg functions run and match eager values and gradients", async () => {
    const a = spd([3, 3], 40);
    const f = (x: Tensor) => np.add(np.linalg.solve(x, np.linalg.cholesky(x)), np.expandDims(np.linalg.eigh(x)[0], 0));
    const m = await load(exportFunction(f, [spec("float64", [3, 3])], { name: "linalgFn" }));
    assertClose(m.default(a).data, f(a).data, { rtol: 1e-12, atol: 1e-14 });
    const g = (x: Tensor) => np.linalg.slogdet(x)[1];
    const v = await load(exportVjp(g, [spec("float64", [3, 3])], { name: "logdetVjp" }));
    const { out, residuals } = v.forward(a);
    assertClose(out.data, [g(a).item()], { rtol: 1e-12 });
    const [bar] = v.backward(residuals, { data: Float64Array.of(1), shape: [] });
    assertClose(bar.data, (grad(g)(a) as Tensor).data, { rtol: 1e-12 });
  });
});

describe("degenerate cases (documented in docs/linalg.md)", () => {
  const sing = f64([[1, 2], [2, 4]]);
  it("singular matrices: solve/inv give Inf or NaN, det 0, slogdet [0, -Infinity]", () => {
    expect(np.all(np.isfinite(np.linalg.solve(sing, f64([1, 1])))).item()).toBe(0);
    expect(np.all(np.isfinite(np.linalg.inv(sing))).item()).toBe(0);
    expect(Math.abs(np.linalg.det(sing).item())).toBe(0);
    const [s, l] = np.linalg.slogdet(sing);
    expect([s.item(), l.item()]).toEqual([0, -Infinity]);
  });
  it("cholesky of a matrix that is not positive definite is all NaN", () => {
    const c = np.linalg.cholesky(f64([[1, 2], [2, 1]]));
    expect(Array.from(c.data).every(Number.isNaN)).toBe(true);
  });
  it("repeated eigenvalues: finite eigenvalue gradient, non-finite eigenvector gradient", () => {
    const I = eyeOf(3);
    const [w] = np.linalg.eigh(I);
    assertClose(w.data, [1, 1, 1]);
    expect(np.all(np.isfinite(grad((a: Tensor) => np.sum(np.linalg.eigh(a)[0]))(I) as Tensor)).item()).toBe(1);
    expect(np.all(np.isfinite(grad((a: Tensor) => np.sum(np.linalg.eigh(a)[1]))(I) as Tensor)).item()).toBe(0);
  });
  it("repeated singular values: finite singular-value gradient, non-finite u/vh gradient", () => {
    const I = eyeOf(3);
    expect(np.all(np.isfinite(grad((a: Tensor) => np.sum(np.linalg.svdvals(a)))(I) as Tensor)).item()).toBe(1);
    // only s used from the full decomposition: still finite in reverse mode
    expect(np.all(np.isfinite(grad((a: Tensor) => np.sum(np.linalg.svd(a)[1]))(I) as Tensor)).item()).toBe(1);
    const recon = (a: Tensor) => {
      const [u, s, vh] = np.linalg.svd(a);
      return np.sum(np.matmul(np.multiply(u, np.expandDims(s, -2)), vh));
    };
    expect(np.all(np.isfinite(grad(recon)(I) as Tensor)).item()).toBe(0);
    // distinct singular values: the reconstruction's gradient is exactly that of sum(a)
    assertClose((grad(recon)(general([3, 3], 30)) as Tensor).data, new Array(9).fill(1), { rtol: 1e-10 });
  });
  it("zero matrix: svd gives zero singular values and orthonormal u, vh", () => {
    const [u, s, vh] = np.linalg.svd(np.zeros([3, 2], { dtype: "float64" }));
    assertClose(s.data, [0, 0]);
    expect(maxAbs(np.subtract(np.matmul(mT(u), u), eyeOf(3)))).toBeLessThan(1e-14);
    expect(maxAbs(np.subtract(np.matmul(vh, mT(vh)), eyeOf(2)))).toBeLessThan(1e-14);
  });
});

describe("errors", () => {
  it("non-square, wrong rank, wrong dtype, mismatched b: typed errors naming the function and shapes", () => {
    expect(() => np.linalg.cholesky(T)).toThrow(ShapeError);
    expect(() => np.linalg.inv(T)).toThrow(/np\.linalg\.inv: a must be a \(stack of\) square matrices, got shape \[4,3\]/);
    expect(() => np.linalg.det(f64([1, 2] as never))).toThrow(/np\.linalg\.det: a must have at least 2 dimensions/);
    expect(() => np.linalg.eigh(np.eye(3, null, { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => np.linalg.svd(np.eye(3, null, { dtype: "int32" }))).toThrow(/np\.linalg\.svd: a must be float32 or float64, got i32\[3,3\]/);
    expect(() => np.linalg.solve(M, f64([1, 2]))).toThrow(/np\.linalg\.solve: a has shape \[3,3\] but b has shape \[2\]/);
    expect(() => np.linalg.solve(M, np.ones([3], { dtype: "float32" }))).toThrow(/np\.linalg\.solve: a is f64\[3,3\] but b is f32\[3\]/);
    expect(() => np.linalg.qr(M, { mode: "full" as never })).toThrow(ArgumentError);
    expect(() => np.linalg.norm(M, { ord: "nuc", axis: 0 })).toThrow(ArgumentError);
    expect(() => np.linalg.norm(np.ones([2, 2, 2], { dtype: "float64" }), { ord: 1 })).toThrow(ShapeError);
    expect(() => np.linalg.norm(M, { ord: 3 })).toThrow(/invalid ord 3/);
    expect(() => np.linalg.triangularSolve(M, B, { trans: 2 as never })).toThrow(ArgumentError);
  });
  it("derivatives that are not defined say so (GradError)", () => {
    expect(() => grad((a: Tensor) => np.sum(np.linalg.qr(a)[0]!))(rand([2, 4], 1))).toThrow(GradError);
    expect(() => grad((a: Tensor) => np.sum(np.linalg.svd(a)[0]))(rand([4, 2], 1))).toThrow(/fullMatrices: false/);
  });
});
