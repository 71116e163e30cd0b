// Issue 14 item 2: a memory-budget plan made at the dims given says for which sizes it is known
// to fit (transforms/remat-sizes.ts): every size (bytes independent of the dims), every size up
// to a bound (a number budget; bytes nondecreasing in the dims: for one symbol the largest value
// that fits, checked here by evaluating the printed formula independently), or only at the dims
// given (a budget function), and nothing for concrete shapes.

import { describe, expect, it } from "vitest";
import { type Tensor, checkpoint, grad, jit, np, planCheckpoint } from "../src/index.js";
import { rematPlanObservers } from "../src/higher-order/checkpoint.js";
import type { RematPlan } from "../src/transforms/remat.js";
import { rand } from "./util/check.js";

const mlp = (x: Tensor, w: Tensor) => np.sum(np.tanh(np.matmul(np.tanh(np.matmul(np.tanh(np.matmul(x, w)), w)), w)));
const w = rand([3, 3], 1);

/** The plans made while lowering grad of the checkpointed f with x of shape [B, 3]. */
function plansFor(f: (x: Tensor, w: Tensor) => Tensor, opts: Parameters<typeof checkpoint>[1], symbolic = true): RematPlan[] {
  const plans: RematPlan[] = [];
  const obs = (p: RematPlan) => plans.push(p);
  rematPlanObservers.add(obs);
  try {
    jit(grad(checkpoint(f, opts), { argnums: [0, 1] }), symbolic ? { shapes: [["B", 3], null] } : {}).lower(rand([4, 3], 2), w);
  } finally {
    rematPlanObservers.delete(obs);
  }
  return plans;
}
/** The printed formula evaluated as JS text (independent of the planner's evaluation). */
const formula = (text: string) => new Function("B", `return ${text.replace(/\^/g, "**")};`) as (B: number) => number;

describe("memoryBudget over symbolic sizes", () => {
  it("a number budget: fits for every B up to the largest value whose bytes fit", () => {
    const [p] = plansFor(mlp, { memoryBudget: 1000, dims: { B: 4 } });
    expect(p!.sizes!.scope).toBe("bounded");
    const bytes = formula(p!.sizes!.bytes);
    expect(bytes(4)).toBe(p!.bytesAfter);
    const n = p!.sizes!.upTo!.B!;
    expect(n).toBeGreaterThanOrEqual(4);
    expect(bytes(n)).toBeLessThanOrEqual(1000);
    expect(bytes(n + 1)).toBeGreaterThan(1000);
    expect(String(p)).toContain(`sizes: fits for every B <= ${n} (residual bytes ${p!.sizes!.bytes} are nondecreasing in each dim; planned at B=4)`);
  });

  it("a budget function of the dims: checked at the dims given only", () => {
    const [p] = plansFor(mlp, { memoryBudget: (d) => 60 * d.B! + 200, dims: { B: 4 } });
    expect(p!.sizes!.scope).toBe("at-dims");
    expect(p!.bytesAfter).toBeLessThanOrEqual(60 * 4 + 200);
    expect(String(p)).toContain("sizes: checked at B=4 only (the budget is a function of the dims");
  });

  it("residual bytes that do not depend on B: every size", () => {
    const f = (x: Tensor, v: Tensor) => np.multiply(np.sum(np.tanh(np.matmul(v, v))), np.sum(np.exp(np.sum(x))));
    const [p] = plansFor(f, { memoryBudget: 10000, dims: { B: 4 } });
    expect(p!.sizes!.scope).toBe("all");
    expect(Number(p!.sizes!.bytes)).toBe(p!.bytesAfter);
    expect(String(p)).toContain("sizes: every value of the dims");
  });

  it("concrete shapes: no sizes line", () => {
    const p = planCheckpoint(mlp, { memoryBudget: 1000 }, rand([4, 3], 2), w);
    expect(p.sizes!.scope).toBe("concrete");
    expect(String(p)).not.toContain("sizes:");
  });
});
