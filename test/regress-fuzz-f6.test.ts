// Regression tests for fuzz finding F6 (/work/notes/fuzz-findings.md): nn.relu and nn.relu6 must
// propagate NaN (NumPy maximum, JAX and PyTorch relu do) instead of mapping it to 0, in eager and
// jit, while keeping the JAX gradient convention (derivative 0 at x = 0, 1 for x > 0).

import { describe, expect, it } from "vitest";
import { Tensor, grad, jit, np } from "../src/index.js";
import * as nn from "../src/api/nn.js";

const f64 = (data: number[]) => np.array(data, { dtype: "float64" });
const INPUT = [NaN, -1, -0, 0, 2, 7, Infinity, -Infinity];
// reference: NumPy np.maximum(x, 0) and np.minimum(np.maximum(x, 0), 6); NaN in, NaN out
const reluRef = (v: number) => (Number.isNaN(v) ? NaN : v > 0 ? v : 0);
const relu6Ref = (v: number) => (Number.isNaN(v) ? NaN : Math.min(reluRef(v), 6));

describe("fuzz F6: nn.relu(NaN)", () => {
  it("F6: nn.relu and nn.relu6 propagate NaN (eager)", () => {
    expect(nn.relu(f64(INPUT)).toArray()).toEqual(INPUT.map(reluRef));
    expect(nn.relu6(f64(INPUT)).toArray()).toEqual(INPUT.map(relu6Ref));
    expect(nn.relu(np.array([NaN, -1, 2], { dtype: "float32" })).toArray()).toEqual([NaN, 0, 2]);
    // agrees with np.maximum, the finding's reference
    expect(nn.relu(f64(INPUT)).toArray()).toEqual(np.maximum(f64(INPUT), 0).toArray().map((v: unknown) => (Object.is(v, -0) ? 0 : v)));
  });

  it("F6: nn.relu and nn.relu6 propagate NaN (jit)", () => {
    expect(jit((x: Tensor) => nn.relu(x))(f64(INPUT)).toArray()).toEqual(INPUT.map(reluRef));
    expect(jit((x: Tensor) => nn.relu6(x))(f64(INPUT)).toArray()).toEqual(INPUT.map(relu6Ref));
  });

  it("F6: seed 77 program relu(stack([x, x]) - sqrt(x)) at x < 0 is NaN, not 0", () => {
    const f = (x: Tensor) => np.sum(np.take(nn.relu(np.subtract(np.stack([x, x]), np.sqrt(x))), [0], { axis: 0 }));
    expect(Number.isNaN(f(f64([-0.633])).item() as number)).toBe(true);
    expect(Number.isNaN(jit(f)(f64([-0.633])).item() as number)).toBe(true);
  });

  it("F6: gradient keeps the JAX convention (0 at x <= 0, 1 above, 0 above 6 for relu6)", () => {
    const g = grad((x: Tensor) => np.sum(nn.relu(x)))(f64([-1, 0, 2])) as Tensor;
    expect(g.toArray()).toEqual([0, 0, 1]);
    const g6 = grad((x: Tensor) => np.sum(nn.relu6(x)))(f64([-1, 0, 3, 6, 9])) as Tensor;
    expect(g6.toArray()).toEqual([0, 0, 1, 1, 0]);
    const gj = jit(grad((x: Tensor) => np.sum(nn.relu(x))))(f64([-1, 0, 2])) as Tensor;
    expect(gj.toArray()).toEqual([0, 0, 1]);
  });
});
