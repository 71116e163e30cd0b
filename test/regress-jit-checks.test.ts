// Regression tests for two issue 9 gaps in jit:
//   9.jit-shapes: a call that contradicts jit's declared `{shapes}` (rank, or a declared size) is
//     a ShapeError naming the argument, the declared and the actual shape, before any program is
//     looked up or run; declared specs are resolved against each call's own argument structure.
//   9.jit-nans: under debugNans a NaN in a jitted output is located like JAX's debug_nans: the
//     traced program is re-run un-optimized and un-fused in the interpreter, naming the first
//     equation's primitive and the user's line, even when the optimizer folded it into a constant;
//     a NaN already in an argument names that argument.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NanError, ShapeError, type Tensor, config, grad, jit, np } from "../src/index.js";
import { assertClose, rand } from "./util/check.js";

/** The error `f` throws, of class `cls` (fails the test when it throws nothing or something else). */
function errorOf<E extends Error>(cls: new (...a: never[]) => E, f: () => unknown): E {
  try {
    f();
  } catch (e) {
    if (e instanceof cls) return e;
    throw e;
  }
  throw new Error(`expected a ${cls.name}, got a result`);
}

const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
const lineOf = (marker: string) => lines.findIndex((l) => l.includes(marker) && !l.includes("lineOf(")) + 1;

describe("issue 9.jit-shapes: calls are checked against the declared shapes", () => {
  const f = (x: Tensor, y: Tensor) => np.add(np.sum(x), np.sum(y));

  it("issue 9.jit-shapes: a declared size that differs is a ShapeError naming the argument, declared and actual shape", () => {
    const j = jit(f, { shapes: [["B", 4], ["B", 3]] });
    expect((j(rand([2, 4], 1), rand([2, 3], 2)) as Tensor).item()).toBeCloseTo((f(rand([2, 4], 1), rand([2, 3], 2)) as Tensor).item(), 12);
    const e = errorOf(ShapeError, () => j(rand([2, 4], 1), rand([2, 5], 2)));
    expect(e.message).toMatch(/jit\(f\): arg 1 has shape \[2,5\] but its declared shape \(jit's shapes option\) is \[B,3\]: axis 1 has size 5, declared 3/);
    // the failed call compiled nothing, and a valid call still runs on the one program
    expect(j.cacheInfo()).toMatchObject({ misses: 1, traces: 1 });
    expect((j(rand([7, 4], 3), rand([7, 3], 4)) as Tensor).shape).toEqual([]);
    expect(j.cacheInfo()).toMatchObject({ misses: 1, traces: 1, hits: 1 });
  });

  it("issue 9.jit-shapes: another rank is a ShapeError, on the first call and in lower()", () => {
    const j = jit(f, { shapes: [["B", 4], null] });
    const e = errorOf(ShapeError, () => j(rand([2, 4, 1], 1), rand([3], 2)));
    expect(e.message).toMatch(/arg 0 has shape \[2,4,1\] but its declared shape .* is \[B,4\]: rank 3, declared rank 2/);
    expect(() => j.lower(rand([4], 1), rand([3], 2))).toThrow(ShapeError);
    expect(j.cacheInfo().traces).toBe(0);
  });

  it("issue 9.jit-shapes: pytree arguments name the leaf; null axes accept any size", () => {
    const g = (p: { W: Tensor; b: Tensor }, x: Tensor) => np.sum(np.add(np.matmul(x, p.W), p.b));
    const j = jit(g, { shapes: [{ W: [4, null], b: null }, ["B", 4]] });
    const p = { W: rand([4, 2], 1), b: rand([2], 2) };
    assertClose((j(p, rand([3, 4], 3)) as Tensor).data, (g(p, rand([3, 4], 3)) as Tensor).data, { rtol: 1e-12 });
    const q = { W: rand([4, 5], 1), b: rand([5], 2) }; // W's null axis: any size
    assertClose((j(q, rand([3, 4], 3)) as Tensor).data, (g(q, rand([3, 4], 3)) as Tensor).data, { rtol: 1e-12 });
    const e = errorOf(ShapeError, () => j({ W: rand([3, 2], 1), b: rand([2], 2) }, rand([3, 3], 3)));
    expect(e.message).toMatch(/arg 0\.W has shape \[3,2\] but its declared shape .* is \[4,\*\]: axis 0 has size 3, declared 4/);
  });

  it("issue 9.jit-shapes: declared specs follow each call's argument structure (no leaf shifted onto another's spec)", () => {
    // the first call's arg 0 is one leaf, the second's two: x is still checked against ["B", 3]
    const h = (a: Tensor | Tensor[], x: Tensor) => np.add(np.sum(Array.isArray(a) ? np.add(np.sum(a[0]!), np.sum(a[1]!)) : a), np.sum(x));
    const j = jit(h, { shapes: [null, ["B", 3]] });
    expect((j(rand([2], 1), rand([5, 3], 2)) as Tensor).item()).toBeCloseTo((h(rand([2], 1), rand([5, 3], 2)) as Tensor).item(), 12);
    const two = [rand([2], 1), rand([4], 3)];
    expect((j(two, rand([6, 3], 2)) as Tensor).item()).toBeCloseTo((h(two, rand([6, 3], 2)) as Tensor).item(), 12);
    expect(() => j(two, rand([6, 4], 2))).toThrow(/arg 1 has shape \[6,4\] but its declared shape .* is \[B,3\]/);
  });

  it("issue 9.jit-shapes: under grad the jitted function checks its arguments too", () => {
    const loss = (w: Tensor, x: Tensor) => np.sum(np.matmul(x, w));
    const j = jit(loss, { shapes: [[3, 1], ["B", 3]] });
    expect(() => grad(j)(rand([2, 1], 1), rand([4, 3], 2))).toThrow(/arg 0 has shape \[2,1\] but its declared shape .* is \[3,1\]/);
  });
});

describe("issue 9.jit-nans: debugNans under jit names the first NaN-producing equation", () => {
  const below = config.interpretBelowWork;
  beforeEach(() => config.update({ debugNans: true }));
  afterEach(() => config.update({ debugNans: false, interpretBelowWork: below }));

  it("issue 9.jit-nans: an op the optimizer folds into a NaN constant is still named, at the user's line (compiled and cold tiers)", () => {
    for (const work of [0, 1e9]) {
      config.update({ interpretBelowWork: work });
      const f = jit((x: Tensor) => np.multiply(x, np.log(np.array(-1)))); // MARK-fold
      const e = errorOf(NanError, () => f(np.array([1, 2])));
      expect(e.message).toMatch(/debugNans: log produced a NaN from NaN-free inputs/);
      expect(e.sourceLine).toMatch(new RegExp(`regress-jit-checks\\.test\\.ts:${lineOf("MARK-fold")}:`));
    }
  });

  it("issue 9.jit-nans: a NaN inside a fused kernel names the inner op, not the kernel", () => {
    config.update({ interpretBelowWork: 0 });
    const f = jit((x: Tensor) => np.sum(np.exp(np.sqrt(np.subtract(np.multiply(x, 2), 3))))); // MARK-fused
    expect(f.lower(np.array([1, 2])).fusion()).toHaveLength(1); // one kernel computes all of it
    const e = errorOf(NanError, () => f(np.array([1, 2])));
    expect(e.message).toMatch(/debugNans: sqrt produced a NaN/);
    expect(e.sourceLine).toMatch(new RegExp(`regress-jit-checks\\.test\\.ts:${lineOf("MARK-fused")}:`));
  });

  it("issue 9.jit-nans: a NaN in an argument names the argument, not an op", () => {
    const f = jit((p: { a: Tensor }, x: Tensor) => np.add(p.a, x));
    const e = errorOf(NanError, () => f({ a: np.array([1, 2]) }, np.array([NaN, 1])));
    expect(e.message).toMatch(/debugNans: an input already contains NaN: jit\(anonymous\) argument arg 1 \(f32\[2\]\)/);
  });

  it("issue 9.jit-nans: NaN-free outputs are returned unchanged, and debugNans off computes NaN silently", () => {
    const f = jit((x: Tensor) => np.log(np.add(x, 1)));
    assertClose((f(np.array([1, 2])) as Tensor).data, [Math.log(2), Math.log(3)], { rtol: 1e-6 });
    config.update({ debugNans: false });
    expect(Number.isNaN((f(np.array([-3, 2])) as Tensor).data[0]!)).toBe(true);
  });
});
