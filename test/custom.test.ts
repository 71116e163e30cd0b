// customJvp / customVjp / checkpoint: user rules are used by every transformation, errors are
// clear where a rule cannot apply, and checkpoint really saves only its inputs.

import { describe, expect, it } from "vitest";
import { GradError, Tensor, checkpoint, customJvp, customVjp, grad, jit, jvp, np, vmap } from "../src/index.js";
import { assertClose } from "./util/check.js";

const x = np.array([0.5, -0.3, 0.8], { dtype: "float64" });

describe("customJvp", () => {
  // a JVP rule that differs from the true derivative, so we can tell it is used
  const f = customJvp((x: Tensor) => np.sin(x), { jvp: ([x], [t]) => [np.sin(x), np.multiply(t, 100)] });
  it("is used by grad, jit(grad), vmap(grad) and jvp", () => {
    const g = (x: Tensor) => np.sum(f(x));
    assertClose((grad(g)(x) as Tensor).data, [100, 100, 100]);
    assertClose((jit(grad(g))(x) as Tensor).data, [100, 100, 100]);
    assertClose((vmap(grad((v: Tensor) => f(v)))(x) as Tensor).data, [100, 100, 100]);
    assertClose((jvp(f, [x], [np.onesLike(x)])[1] as Tensor).data, [100, 100, 100]);
  });
  it("rejects closing over a differentiated value", () => {
    const h = (y: Tensor) => np.sum(customJvp((v: Tensor) => np.multiply(v, y), { jvp: ([v], [t]) => [np.multiply(v, y), t] })(x));
    expect(() => grad(h)(x)).toThrow(GradError);
  });
});

describe("customVjp", () => {
  const clip = customVjp((x: Tensor) => x, { fwd: (x: Tensor) => [x, null], bwd: (_r: null, g: Tensor) => [np.clip(g, -0.1, 0.1)] });
  it("is used by grad, jit(grad) and vmap(grad)", () => {
    const g = (x: Tensor) => np.sum(np.multiply(clip(x), 3));
    assertClose((grad(g)(x) as Tensor).data, [0.1, 0.1, 0.1]);
    assertClose((jit(grad(g))(x) as Tensor).data, [0.1, 0.1, 0.1]);
    assertClose((vmap(grad((v: Tensor) => np.multiply(clip(v), 3)))(x) as Tensor).data, [0.1, 0.1, 0.1]);
  });
  it("forward mode gives a clear error", () => {
    expect(() => jvp(clip, [x], [x])).toThrow(/cannot be differentiated in forward mode/);
  });
  it("bwd results are checked against the arguments", () => {
    const bad = customVjp((x: Tensor) => np.sin(x), { fwd: (x: Tensor) => [np.sin(x), x], bwd: (_r: Tensor, g: Tensor) => [np.sum(g)] });
    expect(() => grad((v: Tensor) => np.sum(bad(v)))(x)).toThrow(/bwd cotangent 0 is f64\[\], the argument is f64\[3\]/);
  });
});

describe("checkpoint", () => {
  const body = (x: Tensor) => np.sin(np.sin(np.sin(x)));
  const plain = (x: Tensor) => np.sum(body(x));
  const remat = (x: Tensor) => np.sum(checkpoint(body)(x));
  it("gives the same gradient, eagerly and under jit", () => {
    assertClose((grad(remat)(x) as Tensor).data, (grad(plain)(x) as Tensor).data, { rtol: 1e-15 });
    assertClose((jit(grad(remat))(x) as Tensor).data, (grad(plain)(x) as Tensor).data, { rtol: 1e-15 });
  });
  it("saves only its inputs as residuals; everythingSaveable saves the intermediates", () => {
    expect(jit(grad(remat)).lower(x).residuals().map((r) => r.producedBy)).toEqual(["input arg 0"]);
    expect(jit(grad(plain)).lower(x).residuals().length).toBe(3);
    const saveAll = (x: Tensor) => np.sum(checkpoint(body, { policy: "everythingSaveable" })(x));
    expect(jit(grad(saveAll)).lower(x).residuals().length).toBe(3);
    expect(() => checkpoint(body, { policy: "bogus" as never })).toThrow(/unknown policy/);
  });
});
