// Regression tests for issue 9 case 7: vmap of slicing-based functions (np.index, cumsum, the
// gradients of stack / concatenate) under a symbolic batch (jit `shapes`, export), vmap over two
// arguments mapped along the same symbolic dim, and typed errors (never a raw TypeError) for
// slices whose bounds on a symbolic axis cannot be decided.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type Tensor, exportFunction, grad, jit, np, spec, vmap } from "../src/index.js";
import { ShapeError } from "../src/core/errors.js";
import { SymDim, dimLeq, parseDim } from "../src/core/shape.js";
import { assertClose, rand } from "./util/check.js";

const rowFns: Record<string, (r: Tensor) => Tensor> = {
  "np.index s(1,3)": (r) => np.index(r, [np.s(1, 3)]),
  "np.index ::2 and -1": (r) => np.add(np.index(r, [np.s(null, null, 2)]), np.index(r, -1)),
  "np.index ::-1": (r) => np.index(r, "::-1"),
  "np.cumsum": (r) => np.cumsum(r),
  "grad of stack": (r) => grad((v: Tensor) => np.sum(np.multiply(np.stack([v, np.sin(v)]), np.array([[1], [2]], "float64"))))(r),
  "grad of concatenate": (r) => grad((v: Tensor) => np.sum(np.square(np.concatenate([v, np.sin(v)]))))(r),
  "grad of a slice": (r) => grad((v: Tensor) => np.sum(np.square(np.index(v, [np.s(1, null, 2)]))))(r),
};

const BATCHES = [1, 3, 7];

describe("issue 9.7: vmap of slicing under a symbolic batch", () => {
  for (const [name, f] of Object.entries(rowFns)) {
    it(`issue 9.7: jit(vmap(${name}), {shapes: [["B", 4]]}) equals eager vmap for B in {1, 3, 7}`, () => {
      const jf = jit(vmap(f), { shapes: [["B", 4]] });
      for (const b of BATCHES) {
        const x = rand([b, 4], b);
        const want = vmap(f)(x) as Tensor;
        const got = jf(x) as Tensor;
        expect(got.shape).toEqual(want.shape);
        assertClose(got.data, want.data, { rtol: 1e-12, atol: 1e-15 });
        // the eager reference itself, row by row, against f on each row
        for (let i = 0; i < b; i++) {
          const row = np.index(x, i);
          assertClose((np.index(want, i) as Tensor).data, (f(row) as Tensor).data, { rtol: 0, atol: 0 });
        }
      }
      expect(jf.cacheInfo()).toMatchObject({ traces: 1 });
    });
  }

  it("issue 9.7: slicing a non-symbolic axis of a symbolic-batched array works directly (no vmap)", () => {
    const f = (x: Tensor) => np.multiply(np.index(x, [np.s(), np.s(1, 3)]), np.index(x, [":", "2:4"]));
    const jf = jit(f, { shapes: [["B", 4]] });
    for (const b of BATCHES) {
      const x = rand([b, 4], b);
      assertClose((jf(x) as Tensor).data, (f(x) as Tensor).data, { rtol: 0, atol: 0 });
    }
  });

  it("issue 9.7: vmap over two arguments mapped along the same symbolic dim", () => {
    const jf = jit(vmap((a: Tensor, b: Tensor) => np.dot(a, b)), { shapes: [["B", 4], ["B", 4]] });
    for (const n of BATCHES) {
      const [a, b] = [rand([n, 4], n), rand([n, 4], n + 50)];
      assertClose((jf(a, b) as Tensor).data, (vmap((p: Tensor, q: Tensor) => np.dot(p, q))(a, b) as Tensor).data, { rtol: 1e-12 });
    }
    // a genuinely different size still fails, naming both dims
    const bad = jit(vmap((a: Tensor, b: Tensor) => np.add(a, b)), { shapes: [["B", 4], ["C", 4]] });
    expect(() => bad(rand([2, 4], 1), rand([2, 4], 2))).toThrow(/vmap: inconsistent sizes for the mapped axis: B and C/);
  });

  it("issue 9.7: slicing a symbolic axis with bounds that depend on its size is a ShapeError naming the symbol", () => {
    const cases: [string, (x: Tensor) => unknown, RegExp][] = [
      ["x[1:3]", (x) => np.index(x, [np.s(1, 3)]), /index: cannot index .*\[B,4\].*whether 3 <= B depends on the value of B/],
      ["x[0]", (x) => np.index(x, 0), /whether 1 <= B depends on the value of B/],
      ["x[::2]", (x) => np.index(x, [np.s(null, null, 2)]), /a stride of 2 over B elements/],
      ["x[::-1]", (x) => np.index(x, [np.s(null, null, -1)]), /negative step on axis 0 .* symbolic/],
      ["split", (x) => np.split(x, 2), /split: axis 0 .* has symbolic size B/],
    ];
    for (const [what, f, msg] of cases) {
      let err: unknown;
      try {
        jit(f, { shapes: [["B", 4]] })(rand([4, 4], 1));
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(ShapeError);
      expect((err as Error).message, what).toMatch(msg);
    }
    // JS arithmetic on a declared symbolic dim: a ShapeError, not a raw TypeError
    expect(() => jit((x: Tensor) => np.multiply(x, (x.shape[0] as number) * 2), { shapes: [["B", 4]] })(rand([2, 4], 1))).toThrow(ShapeError);
  });

  it("issue 9.7: reshape with a symbolic entry and -1, tile and repeat along a symbolic axis", () => {
    const f = (x: Tensor) => np.add(np.sum(np.reshape(np.tile(x, [2, 1]), [x.shape[0] as number, -1]), { axis: 1 }), np.sum(np.reshape(np.repeat(x, 3, { axis: 0 }), [-1, 4])));
    const jf = jit(f, { shapes: [["B", 4]] });
    for (const b of BATCHES) {
      const x = rand([b, 4], b);
      assertClose((jf(x) as Tensor).data, (f(x) as Tensor).data, { rtol: 1e-12 });
    }
  });

  it("issue 9.7: dimLeq decides bounds for every size (symbols >= 0) or says it cannot", () => {
    const B = SymDim.symbol("B");
    expect([dimLeq(0, B), dimLeq(B, parseDim("B+1")), dimLeq(parseDim("2*B"), B), dimLeq(1, B), dimLeq(parseDim("B+1"), B)]).toEqual([true, true, null, null, false]);
  });
});

describe("issue 9.7: export with a symbolic batch", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  for (const [name, f] of Object.entries(rowFns)) {
    it(`issue 9.7: exportFunction(vmap(${name}), [spec("float64", ["B", 4])]) runs for B in {1, 3, 7}`, async () => {
      const e = exportFunction(vmap(f), [spec("float64", ["B", 4])], { name: "rows" });
      const dir = mkdtempSync(join(tmpdir(), "adgen-a3-"));
      dirs.push(dir);
      await e.write(dir);
      const m = await import(/* @vite-ignore */ pathToFileURL(join(dir, e.manifest.files.module)).href);
      for (const b of BATCHES) {
        const x = rand([b, 4], b);
        const want = vmap(f)(x) as Tensor;
        const got = m.default(x);
        expect(got.shape).toEqual(want.shape);
        assertClose(got.data, want.data, { rtol: 1e-12, atol: 1e-15 });
      }
    });
  }
});
