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
import { revolveForwardSteps } from "../../src/transforms/remat-revolve.js";

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

// ---- Loop and deep-network rows (issue 14 "How it must be shown"), bench/peers/adgen-memory-deep.ts.
// "-bytes" rows: residual bytes grad keeps between its forward and backward halves (MB,
// deterministic, asserted in test/memory-bench.test.ts); for Revolve, plus its k-slot carry buffer.

/** 1000-step RNN h_{t+1} = tanh(W h_t + U x_t), hidden H, input I, Revolve snapshots K. */
export const RNN = { N: 1000, H: 16, I: 4, K: 10 } as const;
/** Deep tanh MLP: L layers of width D, batch B. */
export const DEEP = { L: 12, D: 64, B: 32 } as const;

export const rnnRowId = (kind: "bytes" | "time", v: "full" | "k10") => `mem-rnn1000-grad-${kind}-${v}` as WorkloadId;
export const deepRowId = (kind: "bytes" | "time", v: "full" | "budget25" | "dots") => `mem-deepmlp-grad-${kind}-${v}` as WorkloadId;

const rnnShape = `RNN tanh(W h + U x_t), n=${RNN.N} steps (foriLoop), H=${RNN.H}, I=${RNN.I}, float32`;
const deepShape = `${DEEP.L}-layer tanh MLP, width ${DEEP.D}, batch ${DEEP.B}, float32`;
const n = RNN.N;
const k = RNN.K;
const t = revolveForwardSteps(n, k);
// closed forms of test/memory-bench.test.ts: the inputs the backward reads, and the full residuals
const deepInputsRead = ((DEEP.L - 1) * DEEP.D * DEEP.D + DEEP.B * DEEP.D) * 4;
const deepFull = deepInputsRead + 2 * DEEP.L * DEEP.B * DEEP.D * 4;

export const MEMORY_DEEP_WORKLOADS: WorkloadSpec[] = [
  { id: rnnRowId("bytes", "full"), description: `residual bytes of grad (${rnnShape}; full storage)`, unit: "MB", measure: { warmup: 0, maxRuns: 1, minRuns: 1 } },
  { id: rnnRowId("bytes", "k10"), description: `residual bytes + ${k}-carry snapshot buffer of grad (${rnnShape}; checkpoint: {snapshots: ${k}})`, unit: "MB", measure: { warmup: 0, maxRuns: 1, minRuns: 1 } },
  {
    id: "mem-rnn1000-grad-bytes-ratio" as WorkloadId,
    description: `memory ratio k=${k} / full storage`,
    unit: "x",
    derived: { num: rnnRowId("bytes", "k10"), den: rnnRowId("bytes", "full") },
    footnote:
      `mem-rnn1000: theory: full storage keeps 2 H-vectors per step for ${n} steps, Revolve keeps ${k} carries: ` +
      `stored-state ratio ${k}/(2*${n}) = ${(k / (2 * n)).toFixed(4)} (the measured ratio also counts W, U, h0, which both keep); it recomputes t(${n}, ${k}) = ${t} forward steps ` +
      `(binomial formula, revolveForwardSteps), so with a backward step costing about one forward step the time ratio is ` +
      `(t + 2n) / 2n = ${((t + 2 * n) / (2 * n)).toFixed(2)}x (under grad alone Revolve's forward loop is dead code).`,
  },
  { id: rnnRowId("time", "full"), description: `grad wall time (${rnnShape}; full storage)`, unit: "ms" },
  { id: rnnRowId("time", "k10"), description: `grad wall time (${rnnShape}; checkpoint: {snapshots: ${k}})`, unit: "ms" },
  { id: "mem-rnn1000-grad-time-ratio" as WorkloadId, description: `time ratio k=${k} / full storage`, unit: "x", derived: { num: rnnRowId("time", "k10"), den: rnnRowId("time", "full") } },
  { id: deepRowId("bytes", "full"), description: `residual bytes of grad (${deepShape}; no checkpoint)`, unit: "MB", measure: { warmup: 0, maxRuns: 1, minRuns: 1 } },
  {
    id: deepRowId("bytes", "budget25"),
    description: `residual bytes of grad (${deepShape}; memoryBudget = 25% of full residuals, or the smallest feasible)`,
    unit: "MB",
    measure: { warmup: 0, maxRuns: 1, minRuns: 1 },
  },
  {
    id: deepRowId("bytes", "dots"),
    description: `residual bytes of grad (${deepShape}; checkpoint policy dotsSaveable = JAX's dots_saveable rule)`,
    unit: "MB",
    measure: { warmup: 0, maxRuns: 1, minRuns: 1 },
    footnote:
      `mem-deepmlp: 25% of the full residuals (${(0.25 * deepFull / 1e6).toFixed(4)} MB) is below what the backward must read anyway ` +
      `(W_1..W_${DEEP.L - 1} and x: ${(deepInputsRead / 1e6).toFixed(4)} MB), so the budget row uses the smallest feasible budget; ` +
      "the budget plan keeps no more bytes than dots_saveable would (asserted in test/memory-bench.test.ts).",
  },
  { id: deepRowId("time", "full"), description: `grad wall time (${deepShape}; no checkpoint)`, unit: "ms" },
  { id: deepRowId("time", "budget25"), description: `grad wall time (${deepShape}; memoryBudget 25%)`, unit: "ms" },
  { id: "mem-deepmlp-grad-time-ratio" as WorkloadId, description: "time overhead: budget25 / no checkpoint", unit: "x", derived: { num: deepRowId("time", "budget25"), den: deepRowId("time", "full") } },
];
