/**
 * Memory rows (issue 14): one training step (SGD: p - 0.01 * grad(loss)) of the MLP and of the
 * transformer block, jitted, in four variants: plain; the parameters donated (donateArgnums:
 * results written in place of the old parameters during the call); the loss checkpointed
 * (nothingSaveable: the backward recomputes the forward); the loss under a memoryBudget of 25% of
 * its full residual bytes (the planner picks what to save), or the smallest feasible budget when
 * that is more (the inputs the backward reads count as residuals).
 * "-peak" rows: the planner's peak bytes of one call (inputs + intermediates + outputs,
 * lower/memory-donate.ts callPeak; deterministic, asserted in test/memory-bench.test.ts), in MB.
 * "-time" rows: the step's wall time, results read back. adgen only (the other peers: n/a).
 */
import type { WorkloadId, WorkloadSpec } from "./index.js";
import { MLP } from "./data.js";
import { TF } from "./transformer.js";

export const MEMORY_VARIANTS = ["plain", "donate", "remat", "budget25"] as const;
export type MemoryVariant = (typeof MEMORY_VARIANTS)[number];
export type MemoryModel = "mlp" | "transformer";

const what: Record<MemoryVariant, string> = {
  plain: "no checkpoint, no donation",
  donate: "parameters donated (donateArgnums: [0])",
  remat: "loss checkpointed (nothingSaveable)",
  budget25: "loss under memoryBudget = 25% of its full residuals, or the smallest feasible budget if more",
};
const shapes: Record<MemoryModel, string> = {
  mlp: `MLP batch ${MLP.batch}, ${MLP.nIn}-${MLP.nHidden}-${MLP.nOut}`,
  transformer: `transformer block B=${TF.B}, T=${TF.T}, d=${TF.d}`,
};

export const memoryRowId = (model: MemoryModel, kind: "peak" | "time", v: MemoryVariant) => `mem-${model}-step-${kind}-${v}` as WorkloadId;

export const MEMORY_WORKLOADS: WorkloadSpec[] = (["mlp", "transformer"] as const).flatMap((model) => [
  ...MEMORY_VARIANTS.map(
    (v): WorkloadSpec => ({
      id: memoryRowId(model, "peak", v),
      description: `planner's peak bytes of one SGD step call (${shapes[model]}; ${what[v]}), inputs + intermediates + outputs`,
      unit: "MB",
      measure: { warmup: 0, maxRuns: 1, minRuns: 1 },
    }),
  ),
  ...MEMORY_VARIANTS.map(
    (v): WorkloadSpec => ({
      id: memoryRowId(model, "time", v),
      description: `SGD step wall time, results read back (${shapes[model]}; ${what[v]})`,
      unit: "ms",
    }),
  ),
]);
