// np.einsum and np.tensordot: values against an independent reference (a loop over every index
// assignment, written here from the definition) and NumPy values, differentiation in float64,
// jit on both backends, vmap, and typed errors for bad subscripts and shapes.

import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ArgumentError, ShapeError, Tensor, config, jit, np, vmap } from "../src/index.js";
import { assertClose, checkGradients, rand } from "./util/check.js";

/** The definition: out[o] = sum over the other labels of prod_k x_k[labels_k] (letters only, explicit output). */
function reference(spec: string, xs: Tensor[]): { data: number[]; shape: number[] } {
  const [lhs, out] = spec.split("->") as [string, string];
  const terms = lhs.split(",");
  const size = new Map<string, number>();
  terms.forEach((t, k) => [...t].forEach((c, a) => size.set(c, Math.max(size.get(c) ?? 1, xs[k]!.shape[a]!))));
  const labels = [...size.keys()];
  const outShape = [...out].map((c) => size.get(c)!);
  const data = new Array(outShape.reduce((a, b) => a * b, 1)).fill(0);
  const vals = xs.map((x) => x.dataSync());
  const assign = new Map<string, number>();
  const at = (k: number) => {
    const shape = xs[k]!.shape;
    let off = 0;
    [...terms[k]!].forEach((c, a) => (off = off * shape[a]! + (shape[a] === 1 ? 0 : assign.get(c)!)));
    return vals[k]![off]!;
  };
  const rec = (i: number) => {
    if (i === labels.length) {
      let p = 1;
      for (let k = 0; k < xs.length; k++) p *= at(k);
      let o = 0;
      [...out].forEach((c, a) => (o = o * outShape[a]! + assign.get(c)!));
      data[o] += p;
      return;
    }
    for (let v = 0; v < size.get(labels[i]!)!; v++) {
      assign.set(labels[i]!, v);
      rec(i + 1);
    }
  };
  rec(0);
  return { data, shape: outShape };
}

function check(spec: string, shapes: number[][], seed = 1, explicit = spec): void {
  const xs = shapes.map((s, i) => rand(s, seed + i));
  const got = np.einsum(spec, ...xs);
  const ref = reference(explicit, xs);
  expect(got.shape, spec).toEqual(ref.shape);
  assertClose(got.data, ref.data, { rtol: 1e-12, atol: 1e-12, what: spec });
}

describe("einsum values", () => {
  it("explicit output: matmul, batch matmul, outer, transpose, trace, diagonal, sums, three operands", () => {
    check("ij,jk->ik", [[2, 3], [3, 4]]);
    check("bij,bjk->bik", [[2, 2, 3], [2, 3, 4]]);
    check("i,j->ij", [[3], [4]]);
    check("ij->ji", [[2, 3]]);
    check("ii->", [[3, 3]]);
    check("ii->i", [[3, 3]]);
    check("iij->j", [[2, 2, 3]]);
    check("ij->", [[2, 3]]);
    check("ij->j", [[2, 3]]);
    check("ij,ij->ij", [[2, 3], [2, 3]]);
    check("ij,jk,kl->il", [[2, 3], [3, 2], [2, 4]]);
    check("i,i,i->i", [[3], [3], [3]]);
    check("ij,kj->ikj", [[2, 3], [4, 3]]);
    check("bn,anm,bm->ba", [[2, 3], [4, 3, 3], [2, 3]]);
    check("ii,ij->j", [[3, 3], [3, 2]]);
  });
  it("implicit output: labels used once, in alphabetical order (uppercase first)", () => {
    check("ij,jk", [[2, 3], [3, 4]], 1, "ij,jk->ik");
    check("ba", [[2, 3]], 1, "ba->ab");
    check("ii", [[3, 3]], 1, "ii->");
    check("i,i", [[3], [3]], 1, "i,i->");
    check("Ba,ab", [[2, 2], [2, 2]], 1, "Ba,ab->Bb");
  });
  it("size-1 dimensions broadcast (as NumPy)", () => {
    check("ij,ij->ij", [[1, 3], [2, 3]]);
    check("ij,jk->ik", [[2, 1], [1, 4]]);
  });
  it("ellipsis: broadcasting batch dimensions, implicit and explicit (NumPy shapes)", () => {
    const a = rand([2, 1, 3, 4], 1);
    const b = rand([5, 4, 2], 2);
    const r = np.einsum("...ij,...jk", a, b);
    expect(r.shape).toEqual([2, 5, 3, 2]);
    assertClose(r.data, np.matmul(a, b).data, { rtol: 1e-12 });
    const x = rand([2, 3, 4], 3);
    assertClose(np.einsum("...i->...", x).data, np.sum(x, { axis: -1 }).data, { rtol: 1e-12 });
    assertClose(np.einsum("i...->...i", x).data, np.transpose(x, [1, 2, 0]).data);
    assertClose(np.einsum("...ii->...i", rand([2, 3, 3], 4)).data, reference("bii->bi", [rand([2, 3, 3], 4)]).data);
  });
  it("NumPy values and integer operands", () => {
    const m = np.reshape(np.arange(9, { dtype: "float64" }), [3, 3]);
    expect(np.einsum("ii", m).item()).toBe(12);
    expect(np.einsum("ij->", m).item()).toBe(36);
    const i = np.array([[1, 2], [3, 4]], { dtype: "int32" });
    const r = np.einsum("ij,jk->ik", i, i);
    expect(r.dtype).toBe("int32");
    expect(r.toArray()).toEqual([[7, 10], [15, 22]]);
  });
  it("random matmul-like specs against the reference (fast-check, fixed seed)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 99 }), (p, q, r, seed) => {
        check("pq,qr->rp", [[p, q], [q, r]], seed);
        check("pq,pr->qr", [[p, q], [p, r]], seed);
        check("pqr,r->pq", [[p, q, r], [r]], seed);
      }),
      { seed: 4242, numRuns: 15 },
    );
  });
});

describe("tensordot", () => {
  it("axes as an integer and as a pair (NumPy semantics)", () => {
    const a = rand([3, 4, 5], 1);
    const b = rand([4, 5, 2], 2);
    const r = np.tensordot(a, b);
    expect(r.shape).toEqual([3, 2]);
    assertClose(r.data, reference("ijk,jkl->il", [a, b]).data, { rtol: 1e-12 });
    const r1 = np.tensordot(a, rand([5, 3], 3), [[2, 0], [0, 1]]);
    expect(r1.shape).toEqual([4]);
    assertClose(r1.data, reference("ijk,ki->j", [a, rand([5, 3], 3)]).data, { rtol: 1e-12 });
    expect(np.tensordot(rand([2], 4), rand([3], 5), 0).shape).toEqual([2, 3]);
    const n = np.tensordot(np.arange(60, { dtype: "float64" }).reshape([3, 4, 5]), np.arange(24, { dtype: "float64" }).reshape([4, 3, 2]), [[1, 0], [0, 1]]);
    // NumPy's documented example: c.shape == (5, 2), c[0, 0] == 4400
    expect(n.shape).toEqual([5, 2]);
    expect(n.toArray()).toEqual([[4400, 4730], [4532, 4874], [4664, 5018], [4796, 5162], [4928, 5306]]);
  });
});

describe("einsum derivatives, jit and vmap", () => {
  const saved = { backend: config.backend, interpretBelowWork: config.interpretBelowWork };
  afterEach(() => config.update(saved));
  it("gradients in float64 (contractions, diagonal, ellipsis, broadcast)", () => {
    checkGradients((a, b) => np.einsum("ij,jk->ik", a, b), [rand([2, 3], 1), rand([3, 4], 2)]);
    checkGradients((a) => np.einsum("ii->i", a), [rand([3, 3], 3)]);
    checkGradients((a, b, c) => np.einsum("ij,jk,ki->", a, b, c), [rand([2, 3], 4), rand([3, 2], 5), rand([2, 2], 6)]);
    checkGradients((a, b) => np.einsum("...ij,...j->...i", a, b), [rand([2, 3, 4], 7), rand([4], 8)]);
    checkGradients((a, b) => np.einsum("ij,ij->ij", a, b), [rand([1, 3], 9), rand([2, 3], 10)]);
    checkGradients((a, b) => np.tensordot(a, b, [[1], [0]]), [rand([2, 3], 11), rand([3, 2], 12)]);
  });
  for (const backend of ["wasm", "js"] as const) {
    it(`jit on ${backend} and vmap equal eager`, () => {
      config.update({ backend, interpretBelowWork: 0 }); // compile even these small programs
      const f = (a: Tensor, b: Tensor) => np.einsum("bij,jk,bkk->bi", a, b, np.einsum("bi,bj->bij", a.index([":", 0, ":"]), a.index([":", 0, ":"])));
      const a = rand([2, 3, 3], 1);
      const b = rand([3, 3], 2);
      assertClose(jit(f)(a, b).data, f(a, b).data, { rtol: 1e-12 });
      const g = (x: Tensor) => np.einsum("ij,j->i", x, np.einsum("ii->i", x));
      const xs = rand([4, 3, 3], 3);
      assertClose(vmap(g)(xs).data, np.stack([0, 1, 2, 3].map((i) => g(xs.index(i)))).data, { rtol: 1e-12 });
    });
  }
});

describe("errors", () => {
  it("bad subscripts and shapes are typed errors naming einsum / tensordot", () => {
    const a = rand([2, 3], 1);
    expect(() => np.einsum("ij,jk", a)).toThrow(/einsum: "ij,jk" names 2 operands but 1 were given/);
    expect(() => np.einsum("ijk", a)).toThrow(ShapeError);
    expect(() => np.einsum("i1", a)).toThrow(ArgumentError);
    expect(() => np.einsum("ij,jk->ik", a, rand([4, 2], 2))).toThrow(/einsum: subscript 'j' has incompatible sizes 3 and 4/);
    expect(() => np.einsum("ij->ii", a)).toThrow(/appears more than once/);
    expect(() => np.einsum("ij->k", a)).toThrow(/does not appear in any operand/);
    expect(() => np.einsum("...i->i", rand([2, 3], 1))).toThrow(/no '\.\.\.'/);
    expect(() => np.einsum("ii", a)).toThrow(/einsum: subscript .i. has incompatible sizes 2 and 3/);
    expect(() => np.tensordot(a, rand([4], 1), 1)).toThrow(/tensordot: shape mismatch/);
    expect(() => np.tensordot(a, a, 3)).toThrow(ArgumentError);
    expect(() => np.tensordot(a, a, [[0, 1], [0]])).toThrow(/different lengths/);
  });
});
