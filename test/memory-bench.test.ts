// Issue 14 bench rows (bench/workloads/memory.ts): the planner's peak bytes of one SGD step are
// deterministic, so the bench's figures are asserted here against closed forms. The MLP step's
// peak without donation is its last parameter update: inputs (parameters P, batch X, labels Y),
// the new parameters (P) and W1's gradient still live; with the parameters donated the new ones
// take the old ones' memory, so the peak falls to the largest live set elsewhere, below that.

import { describe, expect, it } from "vitest";
import { memoryFigures } from "../bench/peers/adgen-memory.js";
import { MLP } from "../bench/workloads/data.js";

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
