/**
 * Export load rows (issue 15): the MLP's loss + gradient + split VJP exported ahead of time
 * (bench/peers/adgen-export.ts writes the artifacts once per run), then in a fresh process per
 * sample: importing the module, and importing it + the first gradient call incl. readback; the
 * same for three separate bundled modules (loss, grad, vjp). Compare with jit-first-call-mlp
 * (jit(valueAndGrad) + first call in a fresh process): what an export saves at start-up.
 */
import type { WorkloadId, WorkloadSpec } from "./index.js";
import { MLP } from "./data.js";

const shape = `batch ${MLP.batch}, ${MLP.nIn}-${MLP.nHidden}-${MLP.nOut} MLP, symbolic batch B`;

export const EXPORT_WORKLOADS: WorkloadSpec[] = [
  {
    id: "export-import-mlp" as WorkloadId,
    description: `cold: import of one exported module holding loss, grad and vjp (shared runtime file beside it; ${shape}); one process per sample`,
    freshProcess: true,
    unit: "ms",
    measure: { maxRuns: 5 },
  },
  {
    id: "export-first-call-mlp" as WorkloadId,
    description: "cold: import of that module + its first gradient call incl. readback of the 4 gradients (compare jit-first-call-mlp)",
    freshProcess: true,
    unit: "ms",
    measure: { maxRuns: 5 },
  },
  {
    id: "export-first-call-mlp-3" as WorkloadId,
    description: "cold: the same with three separate bundled modules (loss, grad, vjp; each embeds its runtime): import all three + first gradient call",
    freshProcess: true,
    unit: "ms",
    measure: { maxRuns: 5 },
  },
];
