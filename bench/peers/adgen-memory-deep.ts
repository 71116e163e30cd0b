/**
 * adgen implementations of the issue-14 loop and deep-network memory rows
 * (bench/workloads/memory.ts, MEMORY_DEEP_WORKLOADS): a 1000-step RNN gradient with full storage
 * vs Revolve at k = 10 snapshots, and a deep tanh MLP's gradient plain, under memoryBudget = 25% of
 * its full residuals, and with dotsSaveable (JAX's dots_saveable rule). deepFigures gives the
 * deterministic bytes (asserted in test/memory-bench.test.ts); the rest is wall time.
 */
import { checkpoint, checkpointPolicies as P, grad, jit, lax, np, planCheckpoint, type Tensor } from "../../src/index.js";
import type { SetupFactory } from "../harness.js";
import { DEEP, RNN, deepRowId, rnnRowId } from "../workloads/memory.js";

const det = (shape: number[], seed: number, scale: number) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(Float32Array.from({ length: n }, (_, i) => scale * Math.sin(seed * 7.3 + i * 1.618))).reshape(shape);
};

// ---- RNN: h_{t+1} = tanh(W h_t + U x_t), loss = sum(h_n). foriLoop runs Revolve natively (its
// reverse pass executes the schedule table; lax.scan's checkpoint option unrolls it under jit).
export const rnnInputs = () => ({ w: det([RNN.H, RNN.H], 1, 0.3 / Math.sqrt(RNN.H)), u: det([RNN.H, RNN.I], 2, 0.5), xs: det([RNN.N, RNN.I], 3, 1) });
const rnnLoss = (xs: Tensor, k: number | null) => (w: Tensor, u: Tensor) =>
  np.sum(
    lax.foriLoop(0, RNN.N, (i: Tensor, h: Tensor) => np.tanh(np.add(np.matmul(w, h), np.matmul(u, np.take(xs, i, { axis: 0 })))), np.zeros([RNN.H]), k === null ? undefined : { checkpoint: { snapshots: k } }),
  );

// ---- deep MLP: L layers of tanh(h W_l + b_l), loss = sum of squares of the output.
export const deepInputs = () => ({
  p: Object.fromEntries(Array.from({ length: DEEP.L }, (_, l) => [[`w${l}`, det([DEEP.D, DEEP.D], 10 + l, 1 / Math.sqrt(DEEP.D))], [`b${l}`, det([DEEP.D], 50 + l, 0.1)]]).flat()) as Record<string, Tensor>,
  x: det([DEEP.B, DEEP.D], 4, 1),
});
const deepLoss = (p: Record<string, Tensor>, x: Tensor) => {
  let h = x;
  for (let l = 0; l < DEEP.L; l++) h = np.tanh(np.add(np.matmul(h, p[`w${l}`]!), p[`b${l}`]!));
  return np.sum(np.square(h));
};

const resBytes = (f: (...a: any[]) => unknown, ...args: unknown[]) => jit(f).lower(...args).residuals().reduce((s, r) => s + (r.bytes as number), 0);

/** 25% of the full residual bytes, or the smallest feasible budget when that is more. */
function deepBudget(full: number, p: Record<string, Tensor>, x: Tensor): { budget: number; feasible25: boolean } {
  const want = Math.ceil(full * 0.25);
  try {
    planCheckpoint(deepLoss, { memoryBudget: want }, p, x);
    return { budget: want, feasible25: true };
  } catch (e) {
    const min = /smallest feasible budget is (\d+)/.exec((e as Error).message);
    if (!min) throw e;
    return { budget: Number(min[1]), feasible25: false };
  }
}

export interface DeepFigures {
  rnnFull: number; // residual bytes, full storage
  rnnK: number; // residual bytes + the k-slot snapshot buffer of the carry
  deepFull: number;
  deepBudget: number; // residual bytes of the budget plan
  budget: number;
  feasible25: boolean;
  deepDots: number; // residual bytes with checkpoint(loss, {policy: dotsSaveable})
}

let cached: DeepFigures | null = null;
export function deepFigures(): DeepFigures {
  if (cached) return cached;
  const r = rnnInputs();
  const rnnFull = resBytes(grad(rnnLoss(r.xs, null), { argnums: [0, 1] }), r.w, r.u);
  // the snapshot buffer lives inside the backward loop (not a residual): k carries of H float32
  const rnnK = resBytes(grad(rnnLoss(r.xs, RNN.K), { argnums: [0, 1] }), r.w, r.u) + RNN.K * RNN.H * 4;
  const d = deepInputs();
  const deepFull = resBytes(grad(deepLoss), d.p, d.x);
  const { budget, feasible25 } = deepBudget(deepFull, d.p, d.x);
  const deepBudgetBytes = resBytes(grad(deepLoss, { memoryBudget: budget }), d.p, d.x);
  const deepDots = resBytes(grad(checkpoint(deepLoss, { policy: P.dotsSaveable })), d.p, d.x);
  return (cached = { rnnFull, rnnK, deepFull, deepBudget: deepBudgetBytes, budget, feasible25, deepDots });
}

const bytesRow = (pick: (f: DeepFigures) => number): SetupFactory => () => ({ sample: () => pick(deepFigures()) / 1e6 });

function rnnTime(k: number | null): SetupFactory {
  return () => {
    const r = rnnInputs();
    const f = jit(grad(rnnLoss(r.xs, k), { argnums: [0, 1] }), { name: `rnn_grad_${k ?? "full"}` });
    return { fn: () => { const g = f(r.w, r.u) as Tensor[]; for (const t of g) t.dataSync(); return g; } };
  };
}
function deepTime(v: "full" | "budget25"): SetupFactory {
  return () => {
    const d = deepInputs();
    const g = v === "full" ? grad(deepLoss) : grad(deepLoss, { memoryBudget: deepFigures().budget });
    const f = jit(g, { name: `deep_grad_${v}` });
    return { fn: () => { const o = f(d.p, d.x) as Record<string, Tensor>; for (const t of Object.values(o)) t.dataSync(); return o; } };
  };
}

export const MEMORY_DEEP_IMPLS: Record<string, SetupFactory> = {
  [rnnRowId("bytes", "full")]: bytesRow((f) => f.rnnFull),
  [rnnRowId("bytes", "k10")]: bytesRow((f) => f.rnnK),
  [rnnRowId("time", "full")]: rnnTime(null),
  [rnnRowId("time", "k10")]: rnnTime(RNN.K),
  [deepRowId("bytes", "full")]: bytesRow((f) => f.deepFull),
  [deepRowId("bytes", "budget25")]: bytesRow((f) => f.deepBudget),
  [deepRowId("bytes", "dots")]: bytesRow((f) => f.deepDots),
  [deepRowId("time", "full")]: deepTime("full"),
  [deepRowId("time", "budget25")]: deepTime("budget25"),
};
