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

describe("iteration", () => {
  it("a tensor iterates over its first axis; a scalar cannot be iterated", () => {
    const [a, b] = np.array([[1, 2], [3, 4]]);
    expect(a!.toArray()).toEqual([1, 2]);
    expect(b!.toArray()).toEqual([3, 4]);
    expect(() => [...np.array(1)]).toThrow(/cannot iterate over a 0-d tensor/);
  });
});
