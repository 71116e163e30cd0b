/**
 * ADBench GMM and D-LSTM objectives written in jax-js (float64 arrays, `grad` + `jit`), for the
 * gmm-* and lstm-* rows of the jax-js peer. Same math as examples/adbench/{gmm,lstm}.ts (see
 * /work/shared/adbench/README.md).
 *
 * jax-js specifics (0.1.25, wasm device, Node 20):
 * - Float64 arrays: `np.array(Float64Array, {dtype: float64})` checks `data instanceof
 *   Float16Array`, a global Node 20 does not have (ReferenceError). `ensureFloat16Global()`
 *   installs an empty placeholder class when it is missing (nothing here uses float16).
 * - The wasm backend stores float64 but evaluates exp/log/sin/cos/erf (and the functions built
 *   from them: tanh, sigmoid, logsumexp) by demoting to float32, calling its float32 routine and
 *   promoting back, so results are float32-accurate: checked with the float32 tolerance.
 * - There is no lax.scan / fori_loop. The LSTM objective is a JS loop over a jit-compiled chunk
 *   of 31 steps (a jit of the whole unrolled 1023-step loop compiles in ~10 s). The LSTM gradient
 *   is not implemented (n/a): jit(grad) of an unrolled loop overflows the stack from a few hundred
 *   steps (RangeError in PartialEvalTracer.dispose), and grad of a JS loop over a jitted chunk
 *   grows quadratically in time and memory with the number of chunk calls (33 calls: > 4 GB).
 * - Ownership: functions consume their array arguments; arrays that are used more than once are
 *   passed as `.ref` (also inside traced functions, as in jax-js's own examples).
 */
import { jit, grad, nn, numpy as np } from "@jax-js/jax";
import type { GmmData, LstmData } from "../../examples/adbench/io.js";
import { gmmConstant, qtSelection } from "../workloads/adbench.js";

/** Node 20 has no Float16Array; jax-js's array() references it (see the header). */
export function ensureFloat16Global(): void {
  const g = globalThis as { Float16Array?: unknown };
  if (typeof g.Float16Array === "undefined") g.Float16Array = class Float16Array {};
}

export const f64 = (data: ArrayLike<number>, shape: number[]): np.Array => {
  ensureFloat16Global();
  return np.array(Float64Array.from(data), { shape, dtype: np.float64 });
};

// ---------------------------------------------------------------------------------------------
// GMM

export interface GmmArrays {
  alphas: np.Array; // [K]
  means: np.Array; // [K, D]
  icf: np.Array; // [K, D(D+1)/2]
  x: np.Array; // [N, D]
  qtSel: np.Array; // [1 + D(D+1)/2, D*D] 0/1 selection matrix (see gmmObjective)
  /** Fresh references to the arguments, in the order of the objective's parameters. */
  args(): [np.Array, np.Array, np.Array, np.Array, np.Array];
  dispose(): void;
}

export function gmmArrays(g: GmmData): GmmArrays {
  const T = (g.d * (g.d + 1)) / 2;
  const a = {
    alphas: f64(g.alphas, [g.k]),
    means: f64(g.means, [g.k, g.d]),
    icf: f64(g.icf, [g.k, T]),
    x: f64(g.x, [g.n, g.d]),
    qtSel: f64(qtSelection(g.d), [1 + T, g.d * g.d]),
  };
  return {
    ...a,
    args: () => [a.alphas.ref, a.means.ref, a.icf.ref, a.x.ref, a.qtSel.ref],
    dispose: () => {
      for (const v of Object.values(a)) v.dispose();
    },
  };
}

export type GmmFn = (alphas: np.Array, means: np.Array, icf: np.Array, x: np.Array, qtSel: np.Array) => np.Array;


/**
 * The GMM objective, vectorised like the adgen version: Q_k^T for all k from [0, exp(q_k), l_k]
 * (a 0/1 selection matmul instead of adgen's gather: jit(grad(...)) of np.take fails in jax-js
 * 0.1.25 with "jit: routine primitive scatter input is not imm"), y = (x - mu_k) Q_k^T as one
 * batched matmul, logsumexp over k.
 */
export function gmmObjective(g: GmmData): GmmFn {
  const { d: D, k: K, n: N, gamma, m } = g;
  const constant = gmmConstant(g);
  return (alphas, means, icf, x, qtSel) => {
    const q = icf.ref.slice([], [0, D]); // [K, D]
    const l = icf.slice([], [D]); // [K, D(D-1)/2]
    const expQ = np.exp(q.ref);
    const padded = np.concatenate([np.zeros([K, 1], { dtype: np.float64 }), expQ.ref, l.ref], 1);
    const QT = np.matmul(padded, qtSel).reshape([K, D, D]); // QT[k] = Q_k^T
    const diff = np.subtract(x.reshape([1, N, D]), means.reshape([K, 1, D])); // [K, N, D]
    const y = np.matmul(diff, QT); // [K, N, D]: y[k, i] = Q_k (x_i - mu_k)
    const sumQ = q.sum(1); // [K]
    const z = np.subtract(np.add(alphas.ref, sumQ.ref).reshape([K, 1]), np.square(y).sum(2).mul(0.5)); // [K, N]
    const data = nn.logsumexp(z, 0).sum();
    const frob = np.add(np.square(expQ).sum(), np.square(l).sum());
    const prior = np.subtract(frob.mul(0.5 * gamma * gamma), sumQ.sum().mul(m));
    return np.subtract(data, nn.logsumexp(alphas).mul(N)).add(prior).add(constant);
  };
}

export type GmmGradFn = (...a: Parameters<GmmFn>) => [np.Array, np.Array, np.Array];

export function gmmGradJit(g: GmmData): GmmGradFn & { dispose(): void } {
  const dg = grad(gmmObjective(g), { argnums: [0, 1, 2] }) as unknown as GmmGradFn;
  return jit(dg) as unknown as GmmGradFn & { dispose(): void };
}

export function gmmObjectiveJit(g: GmmData): GmmFn & { dispose(): void } {
  return jit(gmmObjective(g)) as unknown as GmmFn & { dispose(): void };
}

// ---------------------------------------------------------------------------------------------
// LSTM

export interface LstmArrays {
  main: np.Array; // [2l, 4b]
  extra: np.Array; // [3, b]
  state: np.Array; // [2l, b]
  seq: np.Array; // [c, b]
  args(): [np.Array, np.Array, np.Array, np.Array];
  dispose(): void;
}

export function lstmArrays(d: LstmData): LstmArrays {
  const { l, c, b } = d;
  const a = {
    main: f64(d.mainParams, [2 * l, 4 * b]),
    extra: f64(d.extraParams, [3, b]),
    state: f64(d.state, [2 * l, b]),
    seq: f64(d.sequence, [c, b]),
  };
  return {
    ...a,
    args: () => [a.main.ref, a.extra.ref, a.state.ref, a.seq.ref],
    dispose: () => {
      for (const v of Object.values(a)) v.dispose();
    },
  };
}

export type LstmFn = (main: np.Array, extra: np.Array, state: np.Array, seq: np.Array) => np.Array;
type ChunkFn = (main: np.Array, extra: np.Array, carry: np.Array, seqChunk: np.Array) => [np.Array, np.Array];

/**
 * `S` time steps of the D-LSTM, unrolled: (main [2l, 4b], extra [3, b], carry [2l, b] = per layer
 * hidden then cell, seqChunk [S + 1, b]) -> [carry after S steps, sum_t sum_j seq_{t+1,j} ynorm_{t,j}].
 */
export function lstmChunk(d: LstmData): ChunkFn {
  const { l } = d;
  return (main, extra, carry, sc) => {
    const n = sc.shape[0]! - 1;
    const W: np.Array[][] = [];
    const B: np.Array[][] = [];
    for (let L = 0; L < l; L++) {
      W.push(np.split(main.ref.slice(2 * L), 4));
      B.push(np.split(main.ref.slice(2 * L + 1), 4));
    }
    main.dispose();
    const wIn = extra.ref.slice(0);
    const wOut = extra.ref.slice(1);
    const bOut = extra.slice(2);
    let h: np.Array[] = [];
    let cs: np.Array[] = [];
    for (let L = 0; L < l; L++) {
      h.push(carry.ref.slice(2 * L));
      cs.push(carry.ref.slice(2 * L + 1));
    }
    carry.dispose();
    let total: np.Array | undefined;
    for (let t = 0; t < n; t++) {
      let input = np.multiply(sc.ref.slice(t), wIn.ref);
      const nh: np.Array[] = [];
      const nc: np.Array[] = [];
      for (let L = 0; L < l; L++) {
        const [wf, wi, wo, wc] = W[L]!.map((a) => a.ref) as [np.Array, np.Array, np.Array, np.Array];
        const [bf, bi, bo, bc] = B[L]!.map((a) => a.ref) as [np.Array, np.Array, np.Array, np.Array];
        const hp = h[L]!;
        const f = nn.sigmoid(np.multiply(input.ref, wf).add(bf));
        const i = nn.sigmoid(np.multiply(hp.ref, wi).add(bi));
        const o = nn.sigmoid(np.multiply(input, wo).add(bo));
        const g = np.tanh(np.multiply(hp, wc).add(bc));
        const cell = np.add(np.multiply(cs[L]!, f), np.multiply(i, g));
        const hn = np.multiply(o, np.tanh(cell.ref));
        nh.push(hn.ref);
        nc.push(cell);
        input = hn;
      }
      h = nh;
      cs = nc;
      const yhat = np.multiply(input, wOut.ref).add(bOut.ref);
      const ynorm = np.subtract(yhat.ref, np.log(np.exp(yhat).sum().add(2)));
      const term = np.multiply(sc.ref.slice(t + 1), ynorm).sum();
      total = total ? total.add(term) : term;
    }
    for (const a of [wIn, wOut, bOut, sc, ...W.flat(), ...B.flat()]) a.dispose();
    const st: np.Array[] = [];
    for (let L = 0; L < l; L++) st.push(h[L]!, cs[L]!);
    return [np.stack(st), total!];
  };
}

/** Steps per jitted chunk: 1023 = 33 x 31, so one chunk shape (one compile). */
export const LSTM_CHUNK = 31;

/**
 * The D-LSTM loss as a JS loop over a jit-compiled chunk of LSTM_CHUNK steps (jax-js has no
 * lax.scan). Returns the function and the jitted chunk (to dispose).
 */
export function lstmObjectiveChunked(d: LstmData): { f: LstmFn; dispose(): void } {
  const { c, b } = d;
  const chunk = jit(lstmChunk(d)) as unknown as ChunkFn & { dispose(): void };
  const f: LstmFn = (main, extra, state, seq) => {
    let carry = state;
    let total: np.Array | undefined;
    for (let s = 0; s < c - 1; s += LSTM_CHUNK) {
      const e = Math.min(s + LSTM_CHUNK, c - 1);
      const [next, term] = chunk(main.ref, extra.ref, carry, seq.ref.slice([s, e + 1]));
      carry = next;
      total = total ? total.add(term) : term;
    }
    for (const a of [carry, main, extra, seq]) a.dispose();
    return total!.mul(-1 / ((c - 1) * b));
  };
  return { f, dispose: () => chunk.dispose() };
}
