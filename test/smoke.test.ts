import { describe, it, expect } from "vitest";
import { np, grad, Tensor } from "../src/index.js";
import { checkGradients, rand } from "./util/check.js";

describe("smoke", () => {
  it("grad of a small expression", () => {
    const f = (x: Tensor) => np.sum(np.multiply(np.sin(x), np.exp(x)));
    const x = rand([3], 1);
    checkGradients(f, [x]);
    const g = grad(f)(x) as Tensor;
    expect(g.shape).toEqual([3]);
  });
  it("matmul gradients", () => {
    const f = (a: Tensor, b: Tensor) => np.tanh(np.matmul(a, b));
    checkGradients(f, [rand([2, 3], 1), rand([3, 4], 2)]);
  });
});
