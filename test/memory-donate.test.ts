// Buffer donation, jit(f, {donateArgnums}) (src/jit/donate.ts): an output with a donated argument's
// dtype and size lands in that argument's buffer, every donated argument is invalid after the call
// (reading it is an ArgumentError naming the function and the argument), on the JS and WebAssembly
// backends and on the interpreted tier; calls inside other transformations do not donate.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArgumentError, config, grad, jit, np, type Tensor } from "../src/index.js";
import { assertClose, rand } from "./util/check.js";

const step = (p: Tensor, g: Tensor) => np.subtract(p, np.multiply(g, 0.1));

for (const tier of ["wasm", "js", "interpreted"] as const) {
  describe(`donateArgnums (${tier})`, () => {
    beforeEach(() => config.update(tier === "interpreted" ? { backend: "interp" } : { backend: tier, interpretBelowWork: 0 }));
    afterEach(() => config.update({ backend: "wasm" }));

    it("the output lands in the donated argument's buffer, with the right values", () => {
      const p = rand([5, 3], 1);
      const g = rand([5, 3], 2);
      const want = jit(step)(p, g) as Tensor;
      const buf = p.data;
      const out = jit(step, { donateArgnums: [0] })(p, g) as Tensor;
      expect(out.data).toBe(buf); // the same typed array, not a copy
      assertClose(out.data, want.data, { rtol: 0, atol: 0 });
      expect(g.data.length).toBe(15); // not donated: still valid
    });

    it("a donated argument is invalid afterwards: reading it names the function and the argument", () => {
      const p = rand([4], 3);
      jit(step, { donateArgnums: [0], name: "sgd" })(p, rand([4], 4));
      expect(() => p.data).toThrow(ArgumentError);
      expect(() => p.toArray()).toThrow(/cannot call \.toArray\(\) on a donated tensor: it was donated to jit\(sgd\) as arg 0 \(donateArgnums\)/);
      expect(() => np.add(p, 1)).toThrow(/donated to jit\(sgd\)/);
      expect(() => jit(step)(p, rand([4], 4))).toThrow(/donated to jit\(sgd\)/);
    });
  });
}

describe("donateArgnums: pytrees, mismatches, identity, errors, nesting", () => {
  it("a pytree of parameters: each output leaf takes the buffer of a donated leaf of its size", () => {
    const params = { W: rand([3, 2], 5), b: rand([2], 6) };
    const grads = { W: rand([3, 2], 7), b: rand([2], 8) };
    const update = (p: typeof params, g: typeof grads) => ({ W: step(p.W, g.W), b: step(p.b, g.b) });
    const want = jit(update)(params, grads) as typeof params;
    const [bw, bb] = [params.W.data, params.b.data];
    const out = jit(update, { donateArgnums: [0] })(params, grads) as typeof params;
    expect(out.W.data).toBe(bw);
    expect(out.b.data).toBe(bb);
    assertClose(out.W.data, want.W.data, { rtol: 0, atol: 0 });
    assertClose(out.b.data, want.b.data, { rtol: 0, atol: 0 });
    expect(() => params.W.data).toThrow(/donated to jit\(update\) as arg 0\.W/);
  });

  it("without a matching output the argument is still invalidated; outputs are fresh", () => {
    const x = rand([6], 9);
    const buf = x.data;
    const out = jit((v: Tensor) => np.sum(v), { donateArgnums: [0] })(x) as Tensor;
    expect(out.data).not.toBe(buf);
    expect(() => x.data).toThrow(ArgumentError);
  });

  it("an argument returned unchanged stays readable through the output", () => {
    const x = rand([3], 10);
    const vals = Array.from(x.data);
    const out = jit((v: Tensor) => v, { donateArgnums: [0] })(x) as Tensor;
    expect(Array.from(out.data)).toEqual(vals);
    expect(() => x.data).toThrow(ArgumentError);
  });

  it("bad options are ArgumentErrors", () => {
    expect(() => jit(step, { donateArgnums: [-1] })).toThrow(/donateArgnums must be a list of argument indices/);
    expect(() => jit(step, { donateArgnums: [0], staticArgnums: [0] })).toThrow(/argument 0 is both static and donated/);
    expect(() => jit(step, { donateArgnums: [5] })(rand([2], 1), rand([2], 2))).toThrow(/donateArgnums names argument 5 but the call has 2 arguments/);
  });

  it("inside another transformation (grad) nothing is donated", () => {
    const inner = jit(step, { donateArgnums: [0] });
    const p = rand([3], 11);
    const g = grad((q: Tensor) => np.sum(np.square(inner(q, np.ones([3], { dtype: "float64" })) as Tensor)))(p);
    expect(g.shape).toEqual([3]);
    expect(p.data.length).toBe(3);
  });
});
