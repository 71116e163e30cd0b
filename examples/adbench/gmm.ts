// ADBench GMM objective written as ordinary adgen array code (float64), to be differentiated by
// adgen (grad / jit(grad)). Definition: /work/shared/adbench/README.md, section GMM.
//
// Vectorized over points and components: Q_k^T is built for all k at once by ONE gather from
// [0, exp(q_k), l_k] with a constant index map (no per-component JS loop), then
// y[k, i, :] = Q_k (x_i - mu_k) is one batched matmul over k, and logsumexp over k is
// nn.logsumexp. The parameter-independent constant (log 2pi and Wishart normaliser, which needs
// lgamma) is computed in plain JS.

import { Tensor, grad, jit, nn, np } from "../../src/index.js";
import type { GmmData } from "./io.js";

export interface Wishart {
  gamma: number;
  m: number;
}

/** Adgen float64 tensors for one GMM instance. */
export interface GmmTensors {
  alphas: Tensor; // [K]
  means: Tensor; // [K, D]
  icf: Tensor; // [K, D(D+1)/2]
  x: Tensor; // [N, D]
  wishart: Wishart;
}

export function gmmTensors(g: GmmData): GmmTensors {
  const icfSize = (g.d * (g.d + 1)) / 2;
  return {
    alphas: Tensor.fromData(g.alphas.slice(), [g.k]),
    means: Tensor.fromData(g.means.slice(), [g.k, g.d]),
    icf: Tensor.fromData(g.icf.slice(), [g.k, icfSize]),
    x: Tensor.fromData(g.x.slice(), [g.n, g.d]),
    wishart: { gamma: g.gamma, m: g.m },
  };
}

// log Gamma by upward recurrence to x >= 12 and the Stirling series to x^-9 (error < 1e-14);
// deliberately a different method from the Lanczos lgamma of the hand-written oracle.
function lgammaStirling(x: number): number {
  let shift = 0;
  while (x < 12) {
    shift -= Math.log(x);
    x += 1;
  }
  const x2 = x * x;
  const series = (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * x2)) / x2) / x2) / x2) / x;
  return shift + (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series;
}

/** -(n d/2) log(2 pi) - k C (see the README); independent of the parameters. */
export function gmmConstant(n: number, d: number, k: number, w: Wishart): number {
  const N = d + w.m + 1;
  let logGammaD = ((d * (d - 1)) / 4) * Math.log(Math.PI);
  for (let j = 1; j <= d; j++) logGammaD += lgammaStirling(N / 2 + (1 - j) / 2);
  const C = N * d * (Math.log(w.gamma) - 0.5 * Math.log(2)) - logGammaD;
  return -((n * d) / 2) * Math.log(2 * Math.PI) - k * C;
}

// Index map, per d: entry (c, r) of Q^T (= Q[r][c]) as a column of [0, exp(q) (d), l (d(d-1)/2)]:
// 1 + r on the diagonal, 1 + d + (position of Q[r][c] in l, column by column) for r > c, else 0.
const qtIndexCache = new Map<number, Tensor>();
function qtIndex(d: number): Tensor {
  let t = qtIndexCache.get(d);
  if (!t) {
    const idx = new Int32Array(d * d);
    let next = 1 + d;
    for (let c = 0; c < d; c++) {
      idx[c * d + c] = 1 + c;
      for (let r = c + 1; r < d; r++) idx[c * d + r] = next++;
    }
    t = Tensor.fromData(idx, [d * d]);
    qtIndexCache.set(d, t);
  }
  return t;
}

/**
 * The ADBench GMM objective. alphas [K], means [K, D], icf [K, D(D+1)/2], x [N, D], all float64;
 * returns a float64 scalar.
 */
export function gmmObjective(alphas: Tensor, means: Tensor, icf: Tensor, x: Tensor, wishart: Wishart): Tensor {
  const [K, D] = means.shape as [number, number];
  const N = x.shape[0]!;
  const q = np.index(icf, [":", np.s(0, D)]); // [K, D]
  const l = np.index(icf, [":", np.s(D, null)]); // [K, D(D-1)/2]
  const expQ = np.exp(q);
  const padded = np.concatenate([np.zeros([K, 1], { dtype: "float64" }), expQ, l], { axis: 1 });
  const QT = np.reshape(np.take(padded, qtIndex(D), { axis: 1 }), [K, D, D]); // QT[k] = Q_k^T
  const diff = np.subtract(np.expandDims(x, 0), np.expandDims(means, 1)); // [K, N, D]
  const y = np.matmul(diff, QT); // y[k, i] = Q_k (x_i - mu_k)
  const sumQ = np.sum(q, { axis: 1 }); // [K]
  const z = np.subtract(np.expandDims(np.add(alphas, sumQ), 1), np.multiply(0.5, np.sum(np.square(y), { axis: 2 }))); // [K, N]
  const data = np.sum(nn.logsumexp(z, { axis: 0 }));
  const { gamma, m } = wishart;
  const frob = np.add(np.sum(np.square(expQ)), np.sum(np.square(l)));
  const prior = np.subtract(np.multiply(0.5 * gamma * gamma, frob), np.multiply(m, np.sum(sumQ)));
  const f = np.add(np.subtract(data, np.multiply(N, nn.logsumexp(alphas))), prior);
  return np.add(f, gmmConstant(N, D, K, wishart));
}

/** d f / d(alphas, means, icf), eager (op-by-op). */
export const gmmGrad = grad(gmmObjective, { argnums: [0, 1, 2] }) as (
  ...args: Parameters<typeof gmmObjective>
) => [Tensor, Tensor, Tensor];

/** The same gradient, jit-compiled; the Wishart constants are a static argument. */
export const gmmGradJit = jit(gmmGrad, { staticArgnums: [4], name: "gmmGrad" }) as unknown as typeof gmmGrad;

/** The objective, jit-compiled (for timing). */
export const gmmObjectiveJit = jit(gmmObjective, { staticArgnums: [4], name: "gmmObjective" }) as unknown as typeof gmmObjective;

/** Flatten (dalpha, dmu, dicf) in the hand-written layout (k + k d + k d(d+1)/2 values). */
export function flatGmmGradient(g: [Tensor, Tensor, Tensor]): Float64Array {
  const parts = g.map((t) => t.dataSync() as Float64Array);
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
