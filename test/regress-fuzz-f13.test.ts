// Regression tests for fuzz finding F13 (test/fuzz/FINDINGS.md): where a weak value (computed
// from JS numbers only) is rounded when it passes through lax.cond or a loop carry. The rule
// (JAX's): arithmetic on weak values alone is weak float32; a cond's result has the join of its
// branches' dtypes, a weak branch result being converted to it once at the branch output (so a
// weak float32 product stays the float32-rounded value, then is float64); a JS number as a loop's
// initial carry is traced as float32 and becomes float64 (its exact value) when the body gives
// float64. adgen followed this rule on every path; the fuzzer's reference did not (it kept the
// taken branch's weak type), and now does. References: plain JS arithmetic with Math.fround.

import { describe, expect, it } from "vitest";
import { type Tensor, config, exportFunction, grad, jit, lax, np, spec } from "../src/index.js";
import { loadExported } from "./util/load-exported.js";

const fr = Math.fround;

function everyPath(f: (x: Tensor) => Tensor, x: Tensor, want: number, dtype: string): Promise<void> {
  const check = (t: Tensor) => {
    expect(t.dtype).toBe(dtype);
    expect(t.toArray()).toBe(want);
  };
  check(f(x));
  const saved = config.backend;
  try {
    for (const backend of ["interp", "js", "wasm"] as const) {
      config.update({ backend });
      check(jit(f)(x));
    }
  } finally {
    config.update({ backend: saved });
  }
  return (async () => {
    const mod = await loadExported(exportFunction(f, [spec(x.dtype, [])]));
    expect(mod.default({ data: x.dataSync(), shape: [] }).data[0]).toBe(want);
  })();
}

describe("F13: weak values through lax.cond take the joined dtype once", () => {
  // the fuzzer's program (replay [[0,0,158,56,79,198,131,66,167,255,194,152,107,72,41,166,243], 19])
  const f = (x0: Tensor) =>
    np.negative(np.square(lax.cond(np.greater(np.sum(x0), 0), (v0: Tensor) => np.add(v0, x0), (v0: Tensor) => np.multiply(v0, v0), 0.1)));

  it("false branch: the weak product is rounded in float32, then squared in float64", async () => {
    const v = fr(fr(0.1) * fr(0.1)); // weak float32 arithmetic, converted to float64 exactly
    await everyPath(f, np.array(-1.359710732428357, { dtype: "float64" }), -(v * v), "float64");
  });

  it("true branch: the JS number meets the float64 operand with its exact value", async () => {
    const x = 0.25;
    await everyPath(f, np.array(x, { dtype: "float64" }), -((0.1 + x) * (0.1 + x)), "float64");
  });

  it("a float32 program: everything is float32", async () => {
    const v = fr(fr(0.1) * fr(0.1));
    await everyPath(f, np.array(-2, { dtype: "float32" }), -fr(v * v), "float32");
  });

  it("both branches weak: the result stays weak float32 and joins a later float64 operand unrounded", () => {
    const g = (x: Tensor) => np.add(lax.cond(np.greater(x, 0), (v: Tensor) => np.multiply(v, v), (v: Tensor) => np.add(v, v), 0.1), x);
    const x = np.array(1, { dtype: "float64" });
    expect(g(x).toArray()).toBe(fr(fr(0.1) * fr(0.1)) + 1);
    expect(jit(g)(x).toArray()).toBe(fr(fr(0.1) * fr(0.1)) + 1);
    // the derivative does not see the branch at all
    expect(grad(g)(x).toArray()).toBe(1);
  });

  it("a JS number as a loop's initial carry: float64 (exact) when the body gives float64, float32 otherwise", async () => {
    const h = (x: Tensor) => lax.foriLoop(0, 2, (_i: unknown, c: Tensor) => np.add(np.multiply(c, c), x), 0.1);
    let c = 0.1;
    for (let i = 0; i < 2; i++) c = c * c + 0.5;
    await everyPath(h, np.array(0.5, { dtype: "float64" }), c, "float64");
    let c32 = fr(0.1);
    for (let i = 0; i < 2; i++) c32 = fr(fr(c32 * c32) + 0.5);
    await everyPath(h, np.array(0.5, { dtype: "float32" }), c32, "float32");
  });
});
