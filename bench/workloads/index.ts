/**
 * The workload list: ids, units and what each row measures. Peers implement them by id
 * (see bench/peers/*.ts); a peer without an implementation shows "n/a".
 *
 * "-eager" rows exist for libraries that have both a jit and an eager mode (jax-js, adgen): the
 * plain row uses jit where the library has one; the "-eager" row uses no jit. Libraries without jit
 * (tfjs, hand-written JS) only fill the plain row.
 */
import type { MeasureOptions, Unit } from "../harness.js";
import { ADBENCH_ROWS_NOTE, GMM_FILE, GMM_PUBLISHED, LSTM_FILE } from "./adbench.js";
import { CHAIN_LENGTH } from "./chain.js";
import { HYBRID_WORKLOADS, type HybridWorkloadId } from "./hybrid.js";
import { MLP } from "./data.js";
import { TF } from "./transformer.js";
import { COMPILE_WORKLOADS, type CompileWorkloadId } from "./compile.js";
import { EXPORT_WORKLOADS } from "./export.js";
import { MEMORY_DEEP_WORKLOADS, MEMORY_WORKLOADS } from "./memory.js";

export type WorkloadId =
  | "matmul-512"
  | "matmul-1024"
  | "matmul-512-eager"
  | "matmul-1024-eager"
  | "mlp-fwd"
  | "mlp-step"
  | "mlp-step-xposed"
  | "mlp-grad/fwd"
  | "mlp-fwd-eager"
  | "mlp-step-eager"
  | "mlp-step-tape"
  | "mlp-step-tape-capture"
  | "mlp-grad/fwd-eager"
  | "chain-10"
  | "chain-1000"
  | "chain-10-eager"
  | "chain-1000-eager"
  | "chain-1000-eager-capture"
  | "tiny-call"
  | "eager-op-add"
  | "eager-op-add-capture"
  | "eager-op-exp"
  | "eager-op-1k-add"
  | "eager-op-1k-exp"
  | "jit-first-call-mlp"
  | "jit-first-call-mlp-warm"
  | "jit-new-batch-mlp"
  | "rss-import"
  | "rss-peak"
  | "gmm-obj"
  | "gmm-grad"
  | "gmm-grad/obj"
  | "lstm-obj"
  | "lstm-grad"
  | "lstm-grad/obj"
  | "transformer-fwd"
  | "transformer-step"
  | "transformer-step/fwd"
  | "ew-4m-fwd"
  | "ew-4m-grad"
  | "cnn-step"
  | CompileWorkloadId

  | HybridWorkloadId;

export interface WorkloadSpec {
  id: WorkloadId;
  description: string;
  unit: Unit;
  flops?: number;
  measure?: Partial<MeasureOptions>;
  /** Extra overrides in --quick mode (applied after `measure`), e.g. fewer runs for slow rows. */
  quick?: Partial<MeasureOptions>;
  /**
   * --quick only: for setups with `check` and `firstCallRepresentative`, a checked first call
   * slower than this (ms) is the cell's only sample (saves the separate verify call).
   */
  quickSingleCallMs?: number;
  derived?: { num: WorkloadId; den: WorkloadId };
  /** Printed under the table (e.g. published reference values of a ratio row). */
  footnote?: string;
  /**
   * Every sample runs in a fresh child process: such rows run before all in-process rows, while
   * the harness process is still quiet (peers loaded and exercised in the parent leave background
   * work, e.g. garbage collection, that competes with the child for the 2 cores).
   */
  freshProcess?: boolean;
}

const mm = (n: number, eager = false): WorkloadSpec => ({
  id: `matmul-${n}${eager ? "-eager" : ""}` as WorkloadId,
  description: eager
    ? `matmul-${n} without jit (eager np.matmul; jit libraries only)`
    : `float32 [${n},${n}] @ [${n},${n}], result read back; GFLOP/s = 2n^3/time; jit where available`,
  unit: "GFLOP/s",
  flops: 2 * n ** 3,
});

const eagerOp = (op: "add" | "exp", n: number): WorkloadSpec => ({
  id: `eager-op${n === 16 ? "" : "-1k"}-${op}` as WorkloadId,
  description:
    `per-op overhead of eager execution: one ${op === "add" ? "add of two" : "exp of one"} float32 [${n}] ` +
    "tensor(s), no jit, no readback unless the library is lazy (see the notes); hand = typed-array loop",
  unit: "us",
});

/**
 * ADBench rows: one call takes 3 ms - 3 s depending on the peer (tfjs's eager LSTM gradient
 * records ~46k ops). Full mode: 2 warm-up calls (the verify call is one), samples for up to 6 s.
 * --quick: at least 2 samples, stopping after 400 ms (so one sample for calls over 400 ms).
 */
const ADBENCH_FULL: Partial<MeasureOptions> = { warmup: 2, maxTimeMs: 6000 };
const ADBENCH_QUICK: Partial<MeasureOptions> = { warmup: 1, minRuns: 2, minTimeMs: 100, maxTimeMs: 400 };

const tfShape = `pre-LN, B=${TF.B}, T=${TF.T}, d=${TF.d}, ${TF.heads} heads, MLP ${TF.d}-${TF.ff}-${TF.d} GELU(tanh), float32, MSE loss`;
const mlpShape = `batch ${MLP.batch}, ${MLP.nIn}-${MLP.nHidden}-${MLP.nOut}, relu, softmax cross-entropy`;

export const WORKLOADS: WorkloadSpec[] = [
  mm(512),
  mm(1024),
  mm(512, true),
  mm(1024, true),
  { id: "mlp-fwd", description: `MLP loss only (${mlpShape}); jit where available`, unit: "ms" },
  {
    id: "mlp-step",
    description: `MLP loss + gradients of W1,b1,W2,b2 (${mlpShape}); jit where available`,
    unit: "ms",
  },
  {
    id: "mlp-step-xposed",
    description:
      "mlp-step with matmul gradients via a custom gradient using explicit transposes " +
      "(a workaround for slow transposed-operand matmul kernels; tfjs only)",
    unit: "ms",
  },
  {
    id: "mlp-grad/fwd",
    description: "mlp-step median / mlp-fwd median (cheap-gradient ratio)",
    unit: "x",
    derived: { num: "mlp-step", den: "mlp-fwd" },
  },
  { id: "mlp-fwd-eager", description: "mlp-fwd without jit (jit libraries only)", unit: "ms" },
  { id: "mlp-step-eager", description: "mlp-step without jit (jit libraries only)", unit: "ms" },
  {
    id: "mlp-step-tape",
    description:
      "mlp-step with a PyTorch-style eager tape (variable() params, zero grads, loss.backward(), read .grad)",
    unit: "ms",
  },
  {
    id: "mlp-step-tape-capture",
    description:
      "mlp-step-tape with automatic capture on (config.capture, src/hybrid/capture.ts), after warm-up: eager ops deferred, " +
      "regions compiled once their structure repeats; no annotation (adgen only)",
    unit: "ms",
  },
  {
    id: "mlp-grad/fwd-eager",
    description: "mlp-step-eager median / mlp-fwd-eager median",
    unit: "x",
    derived: { num: "mlp-step-eager", den: "mlp-fwd-eager" },
  },
  {
    id: "chain-10",
    description: `grad of sum(${CHAIN_LENGTH} chained elementwise ops) on 10 floats (bench/workloads/chain.ts)`,
    unit: "ms",
  },
  {
    id: "chain-1000",
    description: `grad of sum(${CHAIN_LENGTH} chained elementwise ops) on 1000 floats`,
    unit: "ms",
  },
  { id: "chain-10-eager", description: "chain-10 without jit (jit libraries only)", unit: "ms" },
  { id: "chain-1000-eager", description: "chain-1000 without jit (jit libraries only)", unit: "ms" },
  {
    id: "chain-1000-eager-capture",
    description: "chain-1000-eager (grad without jit) with automatic capture on, after warm-up (adgen only)",
    unit: "ms",
  },
  {
    id: "tiny-call",
    description: "per-call time of f(x) = x*2+1 on 4 floats incl. readback (cached jit where available)",
    unit: "us",
  },
  eagerOp("add", 16),
  {
    id: "eager-op-add-capture",
    description:
      "eager-op-add with automatic capture on: the op is deferred, so the result is read back (dataSync) as for the lazy " +
      "libraries; compare with eager-op-add (adgen only)",
    unit: "us",
  },
  eagerOp("exp", 16),
  eagerOp("add", 1000),
  eagerOp("exp", 1000),
  {
    id: "jit-first-call-mlp",
    description:
      "cold: in a fresh process (library imported + initialised, inputs created), jit(mlp-step) + " +
      "first call incl. readback; one process per sample",
    freshProcess: true,
    unit: "ms",
    measure: { maxRuns: 5 },
  },
  {
    id: "jit-first-call-mlp-warm",
    description:
      "in-process: a fresh jit(mlp-step) + first call, after the same step was already compiled " +
      "by earlier rows (measures trace + cache lookups; kernel caches warm)",
    unit: "ms",
    measure: { warmup: 0, targetSampleMs: 0 },
  },
  {
    id: "jit-new-batch-mlp",
    description: "jitted mlp-step, warm at batch 128, called at a never-seen batch size (129, 130, ...)",
    unit: "ms",
    measure: { warmup: 0, targetSampleMs: 0, maxRuns: 30 },
  },
  {
    id: "rss-import",
    description: "RSS of a child node process after importing the peer + backend ready, minus bare node",
    freshProcess: true,
    unit: "MB",
    measure: { maxRuns: 5 },
  },
  {
    id: "rss-peak",
    description:
      "peak RSS (VmHWM of /proc/self/status) of a fresh node process that imports the peer and runs " +
      "20 mlp-step calls (loss + 4 gradients read back; jit where available), minus bare node's peak RSS",
    freshProcess: true,
    unit: "MB",
    measure: { maxRuns: 3 },
    quick: { maxRuns: 1 },
  },
  {
    id: "gmm-obj",
    description: `ADBench GMM objective, ${GMM_FILE} (d=10, K=25, n=10000), float64, scalar read back; jit where available`,
    unit: "ms",
    footnote: ADBENCH_ROWS_NOTE,
    measure: ADBENCH_FULL,
    quick: ADBENCH_QUICK,
    quickSingleCallMs: 400,
  },
  {
    id: "gmm-grad",
    description: "ADBench GMM gradient w.r.t. (alphas, means, icf) = 1650 values read back; jit(grad) where available",
    unit: "ms",
    measure: ADBENCH_FULL,
    quick: ADBENCH_QUICK,
    quickSingleCallMs: 400,
  },
  {
    id: "gmm-grad/obj",
    description: `gmm-grad median / gmm-obj median; ${GMM_PUBLISHED}`,
    unit: "x",
    derived: { num: "gmm-grad", den: "gmm-obj" },
    footnote: `${GMM_PUBLISHED}; target (PERFORMANCE.md) <= 3 in float64`,
  },
  {
    id: "lstm-obj",
    description: `ADBench D-LSTM loss, ${LSTM_FILE} (l=2, c=1024, b=14), float64, scalar read back; jit where available`,
    unit: "ms",
    measure: ADBENCH_FULL,
    quick: ADBENCH_QUICK,
    quickSingleCallMs: 400,
  },
  {
    id: "lstm-grad",
    description: "ADBench D-LSTM gradient w.r.t. (main, extra) parameters = 266 values read back; jit(grad) where available",
    unit: "ms",
    measure: ADBENCH_FULL,
    quick: ADBENCH_QUICK,
    quickSingleCallMs: 400,
  },
  {
    id: "lstm-grad/obj",
    description: "lstm-grad median / lstm-obj median",
    unit: "x",
    derived: { num: "lstm-grad", den: "lstm-obj" },
    footnote: "target (PERFORMANCE.md) <= 4 in float64; the cheap-gradient principle bounds reverse mode at ~3-5x",
  },
  {
    id: "transformer-fwd",
    description: `transformer block loss (${tfShape}); jit where available`,
    unit: "ms",
    quick: { maxRuns: 5, maxTimeMs: 3000 },
  },
  {
    id: "transformer-step",
    description: `transformer block loss + gradients of all 12 parameters, read back (${tfShape}); jit where available`,
    unit: "ms",
    quick: { maxRuns: 5, maxTimeMs: 3000 },
  },
  {
    id: "transformer-step/fwd",
    description: "transformer-step median / transformer-fwd median",
    unit: "x",
    derived: { num: "transformer-step", den: "transformer-fwd" },
  },
  {
    id: "ew-4m-fwd",
    description: "sum(tanh(x) * exp(-x*x)) over 4M float32 (transcendental-bound elementwise + reduction); jit where available",
    unit: "ms",
    quick: { maxRuns: 5, maxTimeMs: 3000 },
  },
  {
    id: "ew-4m-grad",
    description: "gradient of ew-4m-fwd (4M values read back); jit(grad) where available",
    unit: "ms",
    quick: { maxRuns: 5, maxTimeMs: 3000 },
  },
  {
    id: "cnn-step",
    description:
      "CNN loss + gradients of all 6 parameters, read back: 32x1x28x28 -> conv3x3x8 SAME + relu -> maxpool2 -> conv3x3x16 -> maxpool2 -> dense 10, softmax CE (bench/workloads/cnn.ts); jit where available",
    unit: "ms",
    quick: { maxRuns: 5, maxTimeMs: 3000 },
  },
  ...COMPILE_WORKLOADS,
  ...EXPORT_WORKLOADS,
  ...MEMORY_WORKLOADS,
  ...MEMORY_DEEP_WORKLOADS,
  ...HYBRID_WORKLOADS,
];
