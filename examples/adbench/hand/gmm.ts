// Hand-written float64 GMM objective and closed-form gradient (ADBench "Manual" baseline and the
// independent test oracle). Definitions: /work/shared/adbench/README.md, section GMM.
//
// Notation. For component k: Q_k is lower triangular, diag(Q_k) = exp(q_k), strictly lower part
// L_k filled column by column from l_k. For point i: v_ik = x_i - mu_k, y_ik = Q_k v_ik and
//   z_ik = alpha_k + sum_j q_kj - 0.5*||y_ik||^2,
//   f = -(n d/2) log(2 pi) + sum_i lse_k(z_ik) - n lse(alpha) + sum_k P_k - k C,
//   P_k = 0.5 gamma^2 (||exp(q_k)||^2 + ||l_k||^2) - m sum_j q_kj.
//
// Gradient (derived by hand). Let r_ik = softmax_k(z_ik) = exp(z_ik - lse_k(z_ik)) (the
// responsibilities), so d lse_k(z_ik) / d theta = sum_k r_ik dz_ik/d theta. Then
//   df/dalpha_k = sum_i r_ik - n softmax(alpha)_k                  (dz_ik/dalpha_k = 1)
//   df/dmu_k    = sum_i r_ik Q_k^T y_ik                            (d(-0.5||Q(x-mu)||^2)/dmu = Q^T Q (x-mu))
//   d(-0.5||Q v||^2)/dQ_rc = -(Q v)_r v_c = -y_r v_c   for r >= c (Q lower triangular), hence
//   df/dq_kj    = sum_i r_ik (1 - y_ikj v_ikj exp(q_kj)) + gamma^2 exp(2 q_kj) - m
//                 (chain rule through Q_jj = exp(q_kj); the 1 comes from sum_j q_kj in z_ik)
//   df/dL_k,rc  = -sum_i r_ik y_ikr v_ikc + gamma^2 L_k,rc         (r > c, same order as l_k)
// The constants (log 2 pi term and k*C) do not depend on the parameters.

import type { GmmData } from "../io.js";

// Lanczos approximation (g = 7, 9 coefficients); relative error ~1e-15 for x >= 0.5.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log|Gamma(x)| for real x > 0 (reflection formula for x < 0.5). */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Multivariate log-gamma: log Gamma_d(a) = d(d-1)/4 log(pi) + sum_{j=1..d} lgamma(a + (1-j)/2). */
export function logGammaD(a: number, d: number): number {
  let s = ((d * (d - 1)) / 4) * Math.log(Math.PI);
  for (let j = 1; j <= d; j++) s += lgamma(a + (1 - j) / 2);
  return s;
}

/** Parameter-independent part of f: -(n d/2) log(2 pi) - k C. */
function gmmConstant(data: GmmData): number {
  const { d, k, n, gamma, m } = data;
  const N = d + m + 1;
  const C = N * d * (Math.log(gamma) - 0.5 * Math.log(2)) - logGammaD(N / 2, d);
  return -((n * d) / 2) * Math.log(2 * Math.PI) - k * C;
}

/** log(sum_j exp(a[off + j])) for j < len, with max subtraction. */
function logsumexp(a: Float64Array, off: number, len: number): number {
  let mx = -Infinity;
  for (let j = 0; j < len; j++) if (a[off + j]! > mx) mx = a[off + j]!;
  let s = 0;
  for (let j = 0; j < len; j++) s += Math.exp(a[off + j]! - mx);
  return mx + Math.log(s);
}

/** Precompute exp(q_k) (k*d) and sum_j q_kj (k). */
function diagTerms(data: GmmData): { expQ: Float64Array; sumQ: Float64Array } {
  const { d, k, icf } = data;
  const icfSize = (d * (d + 1)) / 2;
  const expQ = new Float64Array(k * d);
  const sumQ = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const q = icf[c * icfSize + j]!;
      expQ[c * d + j] = Math.exp(q);
      s += q;
    }
    sumQ[c] = s;
  }
  return { expQ, sumQ };
}

/**
 * y = Q_c v for component c, v = x_i - mu_c; also writes v. Returns ||y||^2.
 * Q_c = diag(expQ_c) + L_c with L_c filled column by column from l_c.
 */
function applyQ(
  data: GmmData,
  expQ: Float64Array,
  i: number,
  c: number,
  v: Float64Array,
  y: Float64Array,
  vo: number,
): number {
  const { d, means, icf, x } = data;
  const lOff = c * ((d * (d + 1)) / 2) + d;
  for (let j = 0; j < d; j++) {
    const vj = x[i * d + j]! - means[c * d + j]!;
    v[vo + j] = vj;
    y[vo + j] = expQ[c * d + j]! * vj;
  }
  let li = lOff;
  for (let col = 0; col < d; col++) {
    const vc = v[vo + col]!;
    for (let row = col + 1; row < d; row++) y[vo + row] += icf[li++]! * vc;
  }
  let sq = 0;
  for (let j = 0; j < d; j++) sq += y[vo + j]! * y[vo + j]!;
  return sq;
}

/** Wishart prior sum_k P_k (see header). */
function wishartPrior(data: GmmData, expQ: Float64Array, sumQ: Float64Array): number {
  const { d, k, icf, gamma, m } = data;
  const icfSize = (d * (d + 1)) / 2;
  let out = 0;
  for (let c = 0; c < k; c++) {
    let frob = 0;
    for (let j = 0; j < d; j++) frob += expQ[c * d + j]! * expQ[c * d + j]!;
    for (let j = d; j < icfSize; j++) frob += icf[c * icfSize + j]! * icf[c * icfSize + j]!;
    out += 0.5 * gamma * gamma * frob - m * sumQ[c]!;
  }
  return out;
}

/** The ADBench GMM objective f(alpha, mu, icf), including the Wishart prior and constants. */
export function gmmObjective(data: GmmData): number {
  const { d, k, n, alphas } = data;
  const { expQ, sumQ } = diagTerms(data);
  const v = new Float64Array(d);
  const y = new Float64Array(d);
  const z = new Float64Array(k);
  let slse = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      z[c] = alphas[c]! + sumQ[c]! - 0.5 * applyQ(data, expQ, i, c, v, y, 0);
    }
    slse += logsumexp(z, 0, k);
  }
  return gmmConstant(data) + slse - n * logsumexp(alphas, 0, k) + wishartPrior(data, expQ, sumQ);
}

/**
 * Closed-form gradient of gmmObjective with respect to (alphas, means, icf), concatenated in
 * that order (k + k*d + k*d(d+1)/2 values, row after row as in the file).
 */
export function gmmGradient(data: GmmData): Float64Array {
  const { d, k, n, alphas, icf, gamma, m } = data;
  const icfSize = (d * (d + 1)) / 2;
  const { expQ, sumQ } = diagTerms(data);
  const grad = new Float64Array(k + k * d + k * icfSize);
  const gMu = k; // offset of d/dmu in grad
  const gIcf = k + k * d; // offset of d/dicf in grad
  const V = new Float64Array(k * d); // v_ik for the current point, all components
  const Y = new Float64Array(k * d); // y_ik
  const z = new Float64Array(k);

  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      z[c] = alphas[c]! + sumQ[c]! - 0.5 * applyQ(data, expQ, i, c, V, Y, c * d);
    }
    const lse = logsumexp(z, 0, k);
    for (let c = 0; c < k; c++) {
      const r = Math.exp(z[c]! - lse); // responsibility r_ic
      grad[c] += r;
      const vo = c * d;
      const muO = gMu + c * d;
      const qO = gIcf + c * icfSize;
      // diagonal: d/dq_cj += r (1 - y_j v_j exp(q_cj)); d/dmu diagonal part: r exp(q_cj) y_j
      for (let j = 0; j < d; j++) {
        const eq = expQ[c * d + j]!;
        grad[qO + j] += r * (1 - Y[vo + j]! * V[vo + j]! * eq);
        grad[muO + j] += r * eq * Y[vo + j]!;
      }
      // strictly lower part, column by column: d/dL_rc -= r y_r v_c; d/dmu_c += r L_rc y_r
      let li = d;
      for (let col = 0; col < d; col++) {
        const vc = V[vo + col]!;
        let acc = 0;
        for (let row = col + 1; row < d; row++) {
          const yr = Y[vo + row]!;
          grad[qO + li] -= r * yr * vc;
          acc += icf[c * icfSize + li]! * yr;
          li++;
        }
        grad[muO + col] += r * acc;
      }
    }
  }

  // -n lse(alpha) term and Wishart prior.
  const lseA = logsumexp(alphas, 0, k);
  const g2 = gamma * gamma;
  for (let c = 0; c < k; c++) {
    grad[c] -= n * Math.exp(alphas[c]! - lseA);
    const qO = gIcf + c * icfSize;
    for (let j = 0; j < d; j++) {
      const eq = expQ[c * d + j]!;
      grad[qO + j] += g2 * eq * eq - m;
    }
    for (let j = d; j < icfSize; j++) grad[qO + j] += g2 * icf[c * icfSize + j]!;
  }
  return grad;
}
