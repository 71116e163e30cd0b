// Composition stress test: many different routes to the same second derivative must agree, and
// transformations nest in every order (grad of vmap, vmap of grad, jvp of vjp, ...).

import { describe, expect, it } from "vitest";
import {
  Tensor,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jvp,
  linearize,
  linearTranspose,
  makeProgram,
  np,
  vjp,
  vmap,
} from "../src/index.js";
import { evalProgram } from "../src/trace/make-program.js";
import { assertClose, rand } from "./util/check.js";

// A non-trivial scalar function of a vector: couples entries through a matmul and a reduction.
const A = rand([4, 4], 42);
function f(x: Tensor): Tensor {
  const y = np.tanh(np.matmul(A, x));
  return np.add(np.sum(np.multiply(np.sin(x), y)), np.multiply(0.5, np.sum(np.exp(np.multiply(x, y)))));
}

const x0 = rand([4], 7);
const n = 4;
const eye = (i: number) => {
  const d = new Float64Array(n);
  d[i] = 1;
  return Tensor.fromData(d, [n]);
};
const basis = Tensor.fromData(
  Float64Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1 : 0)),
  [n, n],
);

function hessianWays(): Record<string, Float64Array> {
  const ways: Record<string, Float64Array> = {};
  const gradF = grad(f) as (x: Tensor) => Tensor;
  ways["hessian (jacfwd of jacrev)"] = (hessian(f)(x0) as Tensor).data as Float64Array;
  ways["jacrev of jacrev"] = (jacrev(jacrev(f))(x0) as Tensor).data as Float64Array;
  ways["jacfwd of jacfwd"] = (jacfwd(jacfwd(f))(x0) as Tensor).data as Float64Array;
  ways["jacrev of jacfwd"] = (jacrev(jacfwd(f))(x0) as Tensor).data as Float64Array;
  ways["jacfwd of grad"] = (jacfwd(gradF)(x0) as Tensor).data as Float64Array;
  // forward-over-reverse Hessian-vector products, batched over the basis with vmap
  ways["vmap of jvp of grad"] = (vmap((v: Tensor) => jvp(gradF, [x0], [v])[1])(basis) as Tensor).data as Float64Array;
  // reverse-over-reverse: gradient of <grad f(x), v>, batched with vmap
  ways["vmap of grad of <grad f, v>"] = (
    vmap((v: Tensor) => grad((x: Tensor) => np.sum(np.multiply(gradF(x), v)))(x0))(basis) as Tensor
  ).data as Float64Array;
  // forward-over-forward, one entry at a time
  const fof = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const [, t] = jvp((x: Tensor) => jvp(f, [x], [eye(j)])[1], [x0], [eye(i)]);
      fof[i * n + j] = (t as Tensor).item();
    }
  }
  ways["jvp of jvp, entrywise"] = fof;
  // reverse-over-forward through vjp's pullback
  const rof = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const [, pb] = vjp((x: Tensor) => jvp(f, [x], [eye(j)])[1], x0);
    rof.set((pb(Tensor.fromData(Float64Array.of(1), [])) as Tensor[])[0]!.data, j * n);
  }
  ways["vjp of jvp"] = rof;
  // the linear map of the gradient, applied to each basis vector
  const [, gLin] = linearize(gradF, x0);
  ways["linearize of grad"] = Float64Array.from({ length: n * n }, (_, k) => (gLin(eye(Math.floor(k / n))) as Tensor).data[k % n]!);
  // jacfwd of a re-evaluated staged gradient program
  const program = makeProgram(gradF)(x0);
  ways["jacfwd of the staged grad program"] = (jacfwd((x: Tensor) => evalProgram(program, [x])[0]!)(x0) as Tensor)
    .data as Float64Array;
  return ways;
}

describe("composition", () => {
  it("eleven ways to compute a Hessian agree", () => {
    const ways = hessianWays();
    const names = Object.keys(ways);
    expect(names.length).toBeGreaterThanOrEqual(7);
    const ref = ways[names[0]!]!;
    // symmetric, as a Hessian must be
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(ref[i * n + j]).toBeCloseTo(ref[j * n + i]!, 12);
    for (const name of names) assertClose(ways[name]!, ref, { rtol: 1e-10, atol: 1e-12, what: name });
  });

  it("vmap of grad equals a loop of grads; grad of vmap equals grad of the loop", () => {
    const xs = rand([3, 4], 9);
    const batched = vmap(grad(f))(xs) as Tensor;
    for (let b = 0; b < 3; b++) {
      const g = grad(f)(Tensor.fromData(xs.data.slice(b * 4, b * 4 + 4) as Float64Array, [4])) as Tensor;
      assertClose(batched.data.slice(b * 4, b * 4 + 4), g.data, { rtol: 1e-14, what: `row ${b}` });
    }
    const viaVmap = grad((xs: Tensor) => np.sum(vmap(f)(xs) as Tensor))(xs) as Tensor;
    assertClose(viaVmap.data, batched.data, { rtol: 1e-14, what: "grad of vmap" });
  });

  it("third derivative: grad of grad of grad of a scalar function", () => {
    const g = (x: Tensor) => np.multiply(np.sin(x), np.exp(x));
    const d3 = grad(grad(grad(g)))(Tensor.fromData(Float64Array.of(0.3), [])) as Tensor;
    // (sin x e^x)''' = 2 e^x (cos x - sin x)
    expect(d3.item()).toBeCloseTo(2 * Math.exp(0.3) * (Math.cos(0.3) - Math.sin(0.3)), 12);
  });

  it("vmap of vmap equals a double loop; in/out axes are honoured", () => {
    const xs = rand([2, 3, 5], 11);
    const mm = vmap(vmap((x: Tensor) => np.multiply(np.sum(np.sin(x)), x)), { inAxes: 1, outAxes: 1 })(xs) as Tensor;
    expect(mm.shape).toEqual([2, 3, 5]);
    const d = xs.data;
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 5; k++) s += Math.sin(d[(i * 3 + j) * 5 + k]!);
        for (let k = 0; k < 5; k++) expect(mm.data[(i * 3 + j) * 5 + k]).toBeCloseTo(s * d[(i * 3 + j) * 5 + k]!, 12);
      }
  });

  it("linearTranspose of a linear map is its adjoint", () => {
    const M = rand([3, 4], 5);
    const lin = (v: Tensor) => np.multiply(2, np.matmul(M, v));
    const [ct] = linearTranspose(lin, rand([4], 1))(Tensor.fromData(Float64Array.of(1, 2, 3), [3])) as Tensor[];
    const m = M.data;
    const expected = [0, 1, 2, 3].map((j) => 2 * (m[j]! * 1 + m[4 + j]! * 2 + m[8 + j]! * 3));
    assertClose(ct!.data, expected, { rtol: 1e-14 });
  });

  it("perturbations do not get confused across nested derivatives", () => {
    // d/dx [x * d/dy (x + y)] at y = 1 is 1, not 2 (Siskind & Pearlmutter's classic test)
    const outer = grad((x: Tensor) => np.multiply(x, grad((y: Tensor) => np.add(x, y))(Tensor.fromData(Float64Array.of(1), []))));
    expect((outer(Tensor.fromData(Float64Array.of(3), [])) as Tensor).item()).toBe(1);
  });
});
