// Issue 14 bench rows (bench/workloads/memory.ts): the planner's peak bytes of one SGD step are
// deterministic, so the bench's figures are asserted here against closed forms. The MLP step's
// peak without donation is its last parameter update: inputs (parameters P, batch X, labels Y),
// the new parameters (P) and W1's gradient still live; with the parameters donated the new ones
// take the old ones' memory, so the peak falls to the largest live set elsewhere, below that.

import { describe, expect, it } from "vitest";
import { memoryFigures } from "../bench/peers/adgen-memory.js";
import { MLP } from "../bench/workloads/data.js";
import { deepFigures } from "../bench/peers/adgen-memory-deep.js";
import { DEEP, RNN } from "../bench/workloads/memory.js";

describe("memory bench figures (planner peak bytes of one SGD step)", () => {
  it("MLP: the closed form without donation; donation lowers it; checkpointing leaves the end-of-step peak", () => {
    const { batch: B, nIn: I, nHidden: H, nOut: K } = MLP;
    const P = (I * H + H + H * K + K) * 4;
    const [X, Y, GW1] = [B * I * 4, B * K * 4, I * H * 4];
    const f = memoryFigures("mlp");
    expect(f.plain).toBe(2 * P + X + Y + GW1);
    // checkpointing changes what lives between forward and backward, not the last update
    expect(f.remat).toBe(f.plain);
    expect(f.budget25).toBe(f.plain);
    // donated: below the plain peak; at least the inputs and W1's gradient (live together at the end)
    expect(f.donate).toBeLessThan(f.plain);
    expect(f.donate).toBeGreaterThanOrEqual(P + X + Y + GW1);
  });
});

// The loop and deep-network rows (bench/peers/adgen-memory-deep.ts): residual bytes in closed form.

describe("memory bench figures (residual bytes of the RNN and deep-MLP gradients)", () => {
  const f = deepFigures();
  it("RNN, 1000 steps: full storage keeps two H-vectors per step; Revolve k=10 keeps k carries and the inputs", () => {
    const { N, H, I, K } = RNN;
    const f32 = 4;
    // per step: the stacked carries h_t and tanh's outputs; plus xs, W and h0
    expect(f.rnnFull).toBe(2 * N * H * f32 + N * I * f32 + H * H * f32 + H * f32);
    // the k-slot buffer, W, U, h0 (twice: the constant and its broadcast) and the int32 trip count
    expect(f.rnnK).toBe(K * H * f32 + H * H * f32 + H * I * f32 + 2 * H * f32 + 4);
    expect(f.rnnK / f.rnnFull).toBeLessThan(0.02);
  });
  it("deep MLP: 25% is below the inputs the backward reads, so the smallest feasible budget is used; it keeps no more than dotsSaveable", () => {
    const { L, D, B } = DEEP;
    const f32 = 4;
    const weightsRead = (L - 1) * D * D * f32 + B * D * f32; // W_1..W_{L-1} and x (W_0 only meets x)
    expect(f.deepFull).toBe(weightsRead + 2 * L * B * D * f32);
    // dotsSaveable: the inputs, each layer's product and its bias
    expect(f.deepDots).toBe(weightsRead + L * B * D * f32 + L * D * f32);
    expect(f.feasible25).toBe(false);
    expect(f.budget).toBeGreaterThan(Math.ceil(0.25 * f.deepFull));
    expect(f.deepBudget).toBeLessThanOrEqual(f.budget);
    expect(f.deepBudget).toBeGreaterThanOrEqual(weightsRead);
    expect(f.deepBudget).toBeLessThanOrEqual(f.deepDots);
  });
});
