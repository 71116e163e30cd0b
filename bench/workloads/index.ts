/**
 * The workload list: ids, units and what each row measures. Peers implement them by id
 * (see bench/peers/*.ts); a peer without an implementation shows "n/a".
 *
 * "-eager" rows exist for libraries that have both a jit and an eager mode (jax-js, adgen): the
 * plain row uses jit where the library has one; the "-eager" row uses no jit. Libraries without jit
 * (tfjs, hand-written JS) only fill the plain row.
 */
import type { MeasureOptions, Unit } from "../harness.js";
import { CHAIN_LENGTH } from "./chain.js";
import { MLP } from "./data.js";

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
  | "mlp-grad/fwd-eager"
  | "chain-10"
  | "chain-1000"
  | "chain-10-eager"
  | "chain-1000-eager"
  | "tiny-call"
  | "eager-op-add"
  | "eager-op-exp"
  | "eager-op-1k-add"
  | "eager-op-1k-exp"
  | "jit-first-call-mlp"
  | "jit-first-call-mlp-warm"
  | "jit-new-batch-mlp"
  | "rss-import";

export interface WorkloadSpec {
  id: WorkloadId;
  description: string;
  unit: Unit;
  flops?: number;
  measure?: Partial<MeasureOptions>;
  derived?: { num: WorkloadId; den: WorkloadId };
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
    id: "tiny-call",
    description: "per-call time of f(x) = x*2+1 on 4 floats incl. readback (cached jit where available)",
    unit: "us",
  },
  eagerOp("add", 16),
  eagerOp("exp", 16),
  eagerOp("add", 1000),
  eagerOp("exp", 1000),
  {
    id: "jit-first-call-mlp",
    description:
      "cold: in a fresh process (library imported + initialised, inputs created), jit(mlp-step) + " +
      "first call incl. readback; one process per sample",
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
    unit: "MB",
    measure: { maxRuns: 5 },
  },
];
