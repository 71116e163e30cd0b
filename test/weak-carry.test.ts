// JAX's weak-type rule for control flow (issue 18 / fuzz seed 2026): a JS number as a loop's
// initial carry or as a branch's result is weakly typed and takes the strong dtype it meets
// (0 as the carry of a float64 loop is float64), keeping its exact value; a strong mismatch
// (float32 carry, float64 body) and a join that is not the strong dtype (a fractional number
// against int32) stay DTypeErrors. The fuzz programs that were rejected are checked against the
// same programs written with an explicit float64 init.

import { describe, expect, it } from "vitest";
import { grad, jit, lax, np, type Tensor, vmap } from "../src/index.js";
import { DTypeError } from "../src/core/errors.js";

const f64 = (v: number | number[]) => np.array(v, { dtype: "float64" });

describe("weak carries take the loop body's dtype", () => {
  it("whileLoop, scan and foriLoop: a number carry in a float64 loop is float64 with its exact value", () => {
    const w = lax.whileLoop((c: [Tensor, Tensor]) => c[1].less(3), (c: [Tensor, Tensor]) => [np.add(c[0], f64(1.5)), c[1].add(1)], [0.1, np.array(0, { dtype: "int32" })]);
    expect(w[0].dtype).toBe("float64");
    expect(w[0].item()).toBe(0.1 + 1.5 + 1.5 + 1.5);
    const [c, ys] = lax.scan((c: Tensor, x: Tensor) => [np.add(c, x), c], 0.1, f64([1, 2, 3]));
    expect(c.dtype).toBe("float64");
    expect(c.item()).toBe(0.1 + 1 + 2 + 3);
    expect(ys.toArray()).toEqual([0.1, 0.1 + 1, 0.1 + 1 + 2]);
    const fo = lax.foriLoop(0, 4, (i: Tensor, c: Tensor) => np.multiply(c, f64(3)), 0.1);
    expect(fo.dtype).toBe("float64");
    expect(fo.item()).toBe(0.1 * 3 * 3 * 3 * 3);
    const fw = lax.foriLoop(np.array(0, { dtype: "int32" }), np.array(2, { dtype: "int32" }).add(np.array(0, { dtype: "int32" })), (i: Tensor, c: Tensor) => np.add(c, f64(0.25)), 1);
    expect(fw.dtype).toBe("float64");
  });
  it("under jit, vmap and grad", () => {
    const f = (x: Tensor) => lax.scan((c: Tensor, r: Tensor) => [np.multiply(c, r), c], 2, x)[0] as Tensor;
    const x = f64([1.5, -2, 0.5]);
    expect((jit(f)(x) as Tensor).dtype).toBe("float64");
    expect((jit(f)(x) as Tensor).item()).toBe(2 * 1.5 * -2 * 0.5);
    expect((vmap(f)(np.stack([x, x])) as Tensor).toArray()).toEqual([-3, -3]);
    expect((grad(f)(x) as Tensor).toArray()).toEqual([2 * -2 * 0.5, 2 * 1.5 * 0.5, 2 * 1.5 * -2]);
  });
  it("a strong carry of another dtype, or a number against an int32 body, is still a DTypeError", () => {
    expect(() => lax.scan((c: Tensor, x: Tensor) => [np.add(c, x), c], np.array(0, { dtype: "float32" }), f64([1, 2]))).toThrow(DTypeError);
    // the join of a JS number (f*) and int32 is f*, not int32: not adopted
    expect(() => lax.foriLoop(0, 3, (i: Tensor) => i, 0)).toThrow(/carry returned by f 0 is i32\[\] but init carry 0 is f32\[\]/);
  });
});

describe("weak branch outputs take the other branches' dtype", () => {
  it("cond and switch: a number result meets a float64 result", () => {
    const r = lax.cond(np.array(false), () => f64(1.5), () => 0.1);
    expect(r.dtype).toBe("float64");
    expect(r.item()).toBe(0.1);
    const s = lax.switch(np.array(2, { dtype: "int32" }), [() => -1, () => f64(2), (x: Tensor) => np.subtract(x, x)], 7);
    expect(s.dtype).toBe("float64");
    expect(s.item()).toBe(0);
    const j = jit((p: Tensor, x: Tensor) => lax.cond(p, (v: Tensor) => np.add(v, x), () => 0.1, x))(np.array(false), f64(3));
    expect(j.dtype).toBe("float64");
    expect(j.item()).toBe(0.1);
  });
  it("int32 against a fractional number, or float32 against float64, still raise", () => {
    expect(() => lax.cond(np.array(false), () => np.array(1, { dtype: "int32" }), () => 0.5)).toThrow(DTypeError);
    expect(() => lax.cond(np.array(false), () => np.array(1, { dtype: "float32" }), () => f64(1))).toThrow(DTypeError);
  });
});

describe("the programs fuzz seed 2026 rejected, against an explicit float64 init", () => {
  const x0 = f64([0.5, -1.25, 2]);
  it("#1070: scan with the carry 2", () => {
    const prog = (init: unknown) => (x: Tensor) => np.negative(np.sum(np.where(np.less(np.cumsum(x, { axis: 0 }), lax.scan((c: Tensor, r: Tensor) => { const n = np.multiply(c, r); return [n, n]; }, init, x)[0]), x, x)));
    expect(prog(2)(x0).toArray()).toEqual(prog(f64(2))(x0).toArray());
    expect((grad(prog(2))(x0) as Tensor).toArray()).toEqual((grad(prog(f64(2)))(x0) as Tensor).toArray());
  });
  it("#1867: cond with a number operand, branches number - number and number + a float64 scalar", () => {
    const prog = (op: unknown) => (x: Tensor) =>
      np.sum(np.where(np.less(np.negative(np.sum(lax.cond(np.greater(np.sum(x), 0), (v: Tensor) => np.subtract(v, v), (v: Tensor) => np.add(v, x), op))), x), x, x));
    for (const x of [f64(0.75), f64(-2)]) expect(prog(-1)(x).item()).toBe(prog(f64(-1))(x).item());
  });
  it("#3418: scan with the carry Infinity", () => {
    const prog = (init: unknown) => (x: Tensor) => lax.scan((c: Tensor) => { const n = np.subtract(c, np.sum(x)); return [n, n]; }, init, x)[1] as Tensor;
    const r = prog(Infinity)(x0);
    expect(r.dtype).toBe("float64");
    expect(r.toArray()).toEqual(prog(f64(Infinity))(x0).toArray());
  });
});
