// Composed transformations exported to ONNX and run on onnxruntime-node agree with adgen: the
// Hessian (forward over reverse), vmap of grad with a symbolic batch, jacrev, grad through
// checkpoint and through customVjp / customJvp rules, all in float64.

import { describe, expect, it } from "vitest";
import { type Tensor, checkpoint, customJvp, customVjp, exportOnnx, grad, hessian, jacrev, np, spec, vmap } from "../src/index.js";
import { assertClose, rand } from "./util/check.js";
import { runOnnx } from "./onnx-run.js";

const f = (x: Tensor) => np.sum(np.multiply(np.sin(x), np.tanh(np.multiply(x, x))));

async function agree(fn: (...a: Tensor[]) => unknown, args: Tensor[], specs = args.map((a) => spec("float64", a.shape as number[]))): Promise<void> {
  const e = exportOnnx(fn, specs, { name: "composed" });
  const got = await runOnnx(e.bytes, args);
  const out = fn(...args);
  const want = (Array.isArray(out) ? out : [out]) as Tensor[];
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.shape).toEqual(want[i]!.shape);
    assertClose(g.data, want[i]!.dataSync(), { rtol: 1e-11, atol: 1e-13, what: `output ${i}` });
  });
}

describe("ONNX export of composed transformations", () => {
  it("hessian (forward over reverse)", () => agree((x) => hessian(f)(x) as Tensor, [rand([4], 1)]));

  it("vmap(grad) with a symbolic batch dimension", async () => {
    const g = vmap(grad(f));
    const x = rand([6, 3], 2);
    await agree((v) => g(v) as Tensor, [x], [spec("float64", ["B", 3])]);
  });

  it("jacrev of a vector function", () => agree((x) => jacrev((v: Tensor) => np.tanh(np.multiply(v, np.sum(v))))(x) as Tensor, [rand([3], 3)]));

  it("grad through checkpoint", () =>
    agree((x) => grad((v: Tensor) => np.sum(checkpoint((u: Tensor) => np.sin(np.multiply(np.sin(u), u)))(v)))(x) as Tensor, [rand([5], 4)]));

  it("grad through customVjp and customJvp rules", async () => {
    const softplus = customJvp((x: Tensor) => np.log1p(np.exp(x)), {
      jvp: ([x], [t]) => [np.log1p(np.exp(x)), np.multiply(t, np.divide(1, np.add(1, np.exp(np.negative(x)))))],
    });
    const clipGrad = customVjp((x: Tensor) => np.sin(x), {
      fwd: (x: Tensor) => [np.sin(x), [x]],
      bwd: ([x]: Tensor[], g: Tensor) => [np.clip(np.multiply(g, np.cos(x!)), -0.5, 0.5)],
    });
    await agree((x) => grad((v: Tensor) => np.sum(np.multiply(softplus(v), clipGrad(v))))(x) as Tensor, [rand([6], 5, -2, 2)]);
  });
});
