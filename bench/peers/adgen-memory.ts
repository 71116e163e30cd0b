/**
 * adgen implementations of the memory rows (bench/workloads/memory.ts): an SGD step of the MLP
 * and of the transformer block in four variants, its planner peak bytes (callPeak of the jitted
 * step's lowered program, with the donation plan for the donated variant) and its wall time.
 * memoryFigures is also what test/memory-bench.test.ts asserts (bytes are deterministic).
 */
import { checkpoint, grad, jit, np, planCheckpoint, type Tensor } from "../../src/index.js";
import { callPeak, donationFor } from "../../src/lower/memory-donate.js";
import type { SetupFactory } from "../harness.js";
import { MLP, mlpData } from "../workloads/data.js";
import { MEMORY_VARIANTS, type MemoryModel, type MemoryVariant, memoryRowId } from "../workloads/memory.js";
import { mlpLoss, mlpTensors } from "./adgen-model.js";
import * as adgen from "../../src/index.js";
import { transformerLoss, transformerTensors } from "./adgen-transformer.js";

type Loss = (p: any, x: Tensor, y: Tensor) => Tensor;
interface Model {
  loss: Loss;
  p: Record<string, Tensor>;
  x: Tensor;
  y: Tensor;
}

function model(m: MemoryModel): Model {
  if (m === "mlp") {
    const t = mlpTensors(adgen, mlpData(MLP.batch));
    return { loss: mlpLoss(adgen) as Loss, p: t.p, x: t.x, y: t.y };
  }
  const t = transformerTensors();
  return { loss: transformerLoss as Loss, p: t.p, x: t.x, y: t.target };
}

/** Residual bytes grad(loss) keeps between its forward and backward halves. */
const residualBytes = (md: Model) => jit(grad(md.loss)).lower(md.p, md.x, md.y).residuals().reduce((s, r) => s + (r.bytes as number), 0);

/**
 * 25% of the full residual bytes, or the smallest feasible budget when that is more (the inputs
 * the backward reads count: for the MLP, x and W1 alone are more than 25%).
 */
function budget25(md: Model): number {
  const want = Math.ceil(residualBytes(md) * 0.25);
  try {
    planCheckpoint(md.loss, { memoryBudget: want }, md.p, md.x, md.y);
    return want;
  } catch (e) {
    const min = /smallest feasible budget is (\d+)/.exec((e as Error).message);
    if (!min) throw e;
    return Number(min[1]);
  }
}

/** The step of a variant: SGD on grad of the (checkpointed) loss. */
function step(md: Model, v: MemoryVariant): (p: Record<string, Tensor>, x: Tensor, y: Tensor) => Record<string, Tensor> {
  const loss =
    v === "remat" ? checkpoint(md.loss) : v === "budget25" ? checkpoint(md.loss, { memoryBudget: budget25(md) }) : md.loss;
  return (p, x, y) => {
    const g = grad(loss)(p, x, y) as Record<string, Tensor>;
    return Object.fromEntries(Object.entries(p).map(([k, w]) => [k, np.subtract(w, np.multiply(g[k]!, 0.01))]));
  };
}

/** Peak bytes of one call of each variant's jitted step (the planner's, deterministic). */
export function memoryFigures(m: MemoryModel): Record<MemoryVariant, number> {
  const md = model(m);
  const out = {} as Record<MemoryVariant, number>;
  for (const v of MEMORY_VARIANTS) {
    const lp = jit(step(md, v)).lower(md.p, md.x, md.y).lowered;
    // the parameters are the first leaves (argument 0)
    const nParams = Object.keys(md.p).length;
    out[v] = callPeak(lp, v === "donate" ? donationFor(lp, [...Array(nParams).keys()]) : null).at({});
  }
  return out;
}

function timeSetup(m: MemoryModel, v: MemoryVariant): SetupFactory {
  return () => {
    const md = model(m);
    const f = jit(step(md, v), { name: `${m}_step_${v}`, ...(v === "donate" ? { donateArgnums: [0] } : {}) });
    // a donated step consumes its parameters: each call continues from the last one's
    let p = Object.fromEntries(Object.entries(md.p).map(([k, w]) => [k, np.array(w.dataSync()).reshape(w.shape as number[])]));
    const run = () => {
      const next = f(p, md.x, md.y) as Record<string, Tensor>;
      for (const w of Object.values(next)) w.dataSync();
      if (v === "donate") p = next;
      return next;
    };
    return { fn: run };
  };
}

export const MEMORY_IMPLS: Record<string, SetupFactory> = Object.fromEntries(
  (["mlp", "transformer"] as const).flatMap((m) => {
    let figures: Record<MemoryVariant, number> | null = null;
    return MEMORY_VARIANTS.flatMap((v) => [
      [memoryRowId(m, "peak", v), () => ({ sample: () => (figures ??= memoryFigures(m))[v] / 1e6 })],
      [memoryRowId(m, "time", v), timeSetup(m, v)],
    ]);
  }),
);
