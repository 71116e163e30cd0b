// np.linalg.qr (Householder, LAPACK geqrf's sign choices), eigh (cyclic two-sided Jacobi) and svd
// (one-sided Jacobi, then a Householder QR of the rotated columns for U), batched over leading
// dimensions. Jacobi sweeps visit all pairs in the round-robin order of the circle method: each
// round rotates n/2 disjoint pairs at once (elementwise work on a [..., n/2, 2] view), then a fixed
// permutation brings the next pairs together; after n-1 rounds the order is back to the start.
// A sweep repeats until no pair needs a rotation (at most MAX_SWEEPS). Derivatives are JAX's
// closed forms (jax/_src/lax/linalg.py: qr_jvp_rule, eigh_jvp_rule, svd_jvp_rule) via customJvp.

import { GradError, ArgumentError, ShapeError } from "../../core/errors.js";
import { shapeToString } from "../../core/shape.js";
import type { Tensor } from "../../core/tensor.js";
import { customJvp } from "../custom.js";
import { foriLoop, whileLoop } from "../lax.js";
import { eye, full, zeros } from "./creation.js";
import { abs, add, divide, equal, greater, greaterEqual, less, logicalAnd, maximum, multiply, negative, sqrt, square, subtract, where } from "./elementwise.js";
import { max, sum } from "./reductions.js";
import { concatenate } from "./join.js";
import { take } from "./indexing.js";
import { broadcastTo, reshape, expandDims, squeeze } from "./shape.js";
import { slice } from "../../prims/shape.js";
import { matmul } from "./linalg.js";
import { trsm } from "./linalg-solve.js";
import { type X, colAt, diagOf, entryAt, fname, floatArg, iota, mT, oneHot, sortPermutation, squareArg, tril, triu, vecmat } from "./linalg-util.js";

const MAX_SWEEPS = 40;
const eps = (t: Tensor) => (t.dtype === "float64" ? 2 ** -52 : 2 ** -23);

/**
 * A power-of-two factor per matrix ([..., 1, 1]) that brings max |a| into a range where sums of
 * squares (Householder and Frobenius norms, Jacobi's column products and thresholds) neither
 * overflow nor underflow: 1 for ordinary matrices (results unchanged, bit for bit); else 2^-600 /
 * 2^600 (float32: 2^-80 / 2^80). Scaling by a power of two is exact, so the factorization of the
 * scaled matrix is the exact scaling of the one computed in infinite range (fuzz finding F9:
 * entries beyond ~1e154 overflowed, and eigh returned the unrotated diagonal).
 */
function rangeScale(a: Tensor): Tensor {
  const [hi, down] = a.dtype === "float64" ? [2 ** 500, 2 ** -600] : [2 ** 60, 2 ** -80];
  const c = (v: number) => full([], v, { dtype: a.dtype });
  const m = max(abs(a), { axis: [-1, -2], keepdims: true });
  return where(greater(m, c(hi)), c(down), where(less(m, c(1 / hi)), c(1 / down), c(1)));
}
const lastTwo = (x: Tensor, r: number, c: number) => slice(x, x.shape.map(() => 0), [...x.shape.slice(0, -2), r, c]);
const firstCols = (x: Tensor, c: number) => lastTwo(x, x.shape.at(-2)!, c);
const firstRows = (x: Tensor, r: number) => lastTwo(x, r, x.shape.at(-1)!);

/** Householder QR: [Q (m x m), R (m x n, upper)] with LAPACK's reflector signs (NumPy's values). */
function qrRaw(a: Tensor): [Tensor, Tensor] {
  const [m, n] = a.shape.slice(-2) as [number, number];
  const k = Math.min(m, n);
  const io = iota(m);
  const q0 = broadcastTo(eye(m, null, { dtype: a.dtype }), [...a.shape.slice(0, -2), m, m]);
  const [q, r] = foriLoop(0, k, (j: Tensor, [q, r]: [Tensor, Tensor]) => {
    const e = oneHot(m, j);
    const x = where(greaterEqual(io, j), colAt(r, oneHot(n, j)), 0);
    const xk = entryAt(x, e);
    const tail = where(greater(io, j), x, 0);
    const tn2 = sum(square(tail), { axis: -1 });
    const norm = sqrt(add(square(xk), tn2));
    const alpha = where(greaterEqual(xk, 0), negative(norm), norm); // R_jj = -sign(x_j) |x|
    const v = where(e, expandDims(subtract(xk, alpha), -1), tail);
    const skip = equal(tn2, 0); // nothing below the diagonal: H = I (LAPACK's tau = 0)
    const tau = expandDims(where(skip, 0, divide(2, where(skip, 1, sum(square(v), { axis: -1 })))), [-1, -2]);
    const vc = expandDims(v, -1);
    r = subtract(r, multiply(tau, multiply(vc, expandDims(vecmat(v, r), -2))));
    q = subtract(q, multiply(tau, multiply(matmul(q, vc), expandDims(v, -2))));
    return [q, r];
  }, [q0, a]);
  return [q, triu(r)];
}

export type QrMode = "reduced" | "complete" | "r";

const qrCores = new Map<QrMode, (a: Tensor) => Tensor[]>();
function qrCore(mode: QrMode): (a: Tensor) => Tensor[] {
  let f = qrCores.get(mode);
  if (f) return f;
  const core: (a: Tensor) => Tensor[] = customJvp(
    (a: Tensor) => {
      const [m, n] = a.shape.slice(-2) as [number, number];
      const sc = rangeScale(a);
      const [q, rs] = qrRaw(multiply(a, sc));
      const r = divide(rs, sc);
      const k = Math.min(m, n);
      if (mode === "complete") return [q, r];
      return mode === "r" ? [firstRows(r, k)] : [firstCols(q, k), firstRows(r, k)];
    },
    {
      jvp: ([a]: Tensor[], [da]: Tensor[]) => {
        const [m, n] = a!.shape.slice(-2) as [number, number];
        if (m < n || (mode === "complete" && m !== n)) {
          throw new GradError(`${fname("qr")}: the derivative needs a tall or square matrix (m >= n) and mode "reduced" or "r" unless square; got ${a!.aval} with mode "${mode}"`);
        }
        const [q, r] = qrCore("reduced")(a!) as [Tensor, Tensor];
        // dA R^-1 (from R^T X^T = dA^T), then the skew part of Q^T dA R^-1
        const dxRinv = mT(trsm(mT(r), mT(da!), true, false));
        const qtDxRinv = matmul(mT(q), dxRinv);
        const low = tril(qtDxRinv, -1);
        const dO = subtract(low, mT(low));
        const dq = add(matmul(q, subtract(dO, qtDxRinv)), dxRinv);
        const dr = matmul(subtract(qtDxRinv, dO), r);
        const outs = mode === "r" ? [r] : [q, r];
        return [outs, mode === "r" ? [dr] : [dq, dr]];
      },
    },
  );
  qrCores.set(mode, (f = core));
  return f;
}

/**
 * QR decomposition of a [..., m, n]: mode "reduced" (default) gives [q (m x k), r (k x n)],
 * "complete" [q (m x m), r (m x n)], "r" [r] (NumPy returns r alone; here a one-element array), k =
 * min(m, n). Derivatives need m >= n (and mode "reduced"/"r" unless square), as JAX; r must be
 * invertible (full column rank) for them to be finite.
 */
export function qr(a: X, opts: { mode?: QrMode } = {}): Tensor[] {
  const mode = opts.mode ?? "reduced";
  if (!["reduced", "complete", "r"].includes(mode)) throw new ArgumentError(`${fname("qr")}: mode must be "reduced", "complete" or "r", got ${JSON.stringify(mode)}`);
  return qrCore(mode)(floatArg("qr", a, 2));
}

// ---- Jacobi sweeps ---------------------------------------------------------------------------

/** The circle method's move: position p takes the element at src[p] (a cycle over 1..n-1). */
function roundRobin(n: number): number[] {
  const h = n / 2;
  if (h === 1) return [0, 1];
  const src: number[] = [];
  for (let k = 0; k < h; k++) {
    src[2 * k] = k === 0 ? 0 : k === 1 ? 1 : 2 * (k - 1);
    src[2 * k + 1] = k === h - 1 ? 2 * (h - 1) : 2 * (k + 1) + 1;
  }
  return src;
}

/** Columns 2k and 2k+1 of x [..., r, n] as two [..., r, n/2] tensors. */
function pairs(x: Tensor): [Tensor, Tensor] {
  const s = x.shape;
  const v = reshape(x, [...s.slice(0, -1), s.at(-1)! / 2, 2]);
  const part = (i: number) => squeeze(slice(v, v.shape.map((_, a) => (a === v.ndim - 1 ? i : 0)), v.shape.map((d, a) => (a === v.ndim - 1 ? i + 1 : d))), -1);
  return [part(0), part(1)];
}

/** Rotates column pairs: (p, q) <- (c p - s q, s p + c q), c and s [..., n/2]. */
function rotateCols(x: Tensor, c: Tensor, s: Tensor): Tensor {
  const [p, q] = pairs(x);
  const c2 = expandDims(c, -2);
  const s2 = expandDims(s, -2);
  const np2 = subtract(multiply(c2, p), multiply(s2, q));
  const nq2 = add(multiply(s2, p), multiply(c2, q));
  return reshape(concatenate([expandDims(np2, -1), expandDims(nq2, -1)], { axis: -1 }), x.shape);
}

/** The rotation zeroing the off-diagonal of [[alpha, gamma], [gamma, beta]] (Golub & Van Loan 8.4.1). */
function jacobiRotation(alpha: Tensor, beta: Tensor, gamma: Tensor, rotate: Tensor): [Tensor, Tensor] {
  const g = where(rotate, gamma, 1);
  const zeta = divide(subtract(beta, alpha), multiply(g, 2));
  const t = divide(where(greaterEqual(zeta, 0), 1, -1), add(abs(zeta), sqrt(add(1, square(zeta)))));
  const c = divide(1, sqrt(add(1, square(t))));
  return [where(rotate, c, 1), where(rotate, multiply(c, t), 0)];
}

/**
 * Runs Jacobi sweeps until a sweep rotates nothing. `round` rotates the current pairs and moves
 * its state to the next pairing with `perm` (which permutes the last axis); it returns 1 when it
 * rotated a pair.
 */
function sweeps<S extends Tensor[]>(n: number, init: S, round: (state: S, perm: (x: Tensor) => Tensor) => [S, Tensor]): S {
  const src = roundRobin(n);
  const perm = (x: Tensor) => take(x, src, { axis: -1 });
  const [, , out] = whileLoop(
    ([i, more]: [Tensor, Tensor, S]) => logicalAnd(more, greater(MAX_SWEEPS, i)),
    ([i, , state]: [Tensor, Tensor, S]) => {
      const [s, worst] = foriLoop(0, n - 1, (_r: Tensor, [st, w]: [S, Tensor]) => {
        const [next, rotated] = round(st, perm);
        return [next, maximum(w, rotated)];
      }, [state, zeros([], { dtype: "int32" })]);
      return [add(i, 1), greater(worst, 0), s];
    },
    [zeros([], { dtype: "int32" }), equal(zeros([], { dtype: "int32" }), 0), init],
  );
  return out;
}

/** Pads the last n axes listed in `axes` of x with one zero row/column to an even size. */
function padEven(x: Tensor, axes: number[]): Tensor {
  let y = x;
  for (const a of axes) {
    const s = y.shape.slice();
    s[a] = 1;
    y = concatenate([y, zeros(s, { dtype: y.dtype })], { axis: a });
  }
  return y;
}

/** Symmetric eigendecomposition by two-sided Jacobi: [w ascending, v] with a = v diag(w) v^T. */
function eighRaw(a: Tensor): [Tensor, Tensor] {
  const sc = rangeScale(a);
  const [w, v] = eighInRange(multiply(a, sc));
  return [divide(w, squeeze(sc, -1)), v];
}

function eighInRange(a: Tensor): [Tensor, Tensor] {
  const n0 = a.shape.at(-1)!;
  const odd = n0 % 2 === 1;
  const s = multiply(add(a, mT(a)), 0.5);
  const a0 = odd ? padEven(s, [-1, -2]) : s;
  const n = a0.shape.at(-1)!;
  const v0 = broadcastTo(eye(n, null, { dtype: a.dtype }), a0.shape);
  // rotation threshold: |a_pq| <= eps ||A||_F (the Frobenius norm is invariant under the sweeps)
  const tol = expandDims(multiply(sqrt(sum(square(a0), { axis: [-1, -2] })), eps(a)), -1);
  const superDiag = equal(reshape(iota(n), [n, 1]), subtract(reshape(iota(n), [1, n]), 1));
  const [ar, vr] = sweeps(n, [a0, v0], ([m, v], perm) => {
    const d = reshape(diagOf(m), [...m.shape.slice(0, -2), n / 2, 2]);
    const alpha = squeeze(slice(d, d.shape.map(() => 0), [...d.shape.slice(0, -1), 1]), -1);
    const beta = squeeze(slice(d, [...d.shape.slice(0, -1).map(() => 0), 1], d.shape), -1);
    const off = reshape(sum(where(superDiag, m, 0), { axis: -1 }), [...m.shape.slice(0, -2), n / 2, 2]);
    const gamma = squeeze(slice(off, off.shape.map(() => 0), [...off.shape.slice(0, -1), 1]), -1);
    const rotate = greater(abs(gamma), tol);
    const [c, sn] = jacobiRotation(alpha, beta, gamma, rotate);
    const m1 = mT(perm(mT(perm(rotateCols(mT(rotateCols(m, c, sn)), c, sn))))); // J^T A J, rows and columns moved
    return [[m1, perm(rotateCols(v, c, sn))], max(rotate.astype("int32"), { axis: null })];
  });
  let w = diagOf(ar);
  let v = vr;
  if (odd) {
    w = slice(w, w.shape.map(() => 0), [...w.shape.slice(0, -1), n0]);
    v = lastTwo(v, n0, n0);
  }
  const p = sortPermutation(w, false);
  return [vecmat(w, p), matmul(v, p)];
}

const eighCore: (a: Tensor) => [Tensor, Tensor] = customJvp((a: Tensor) => eighRaw(a), {
  // dw = diag(V^T dA V); dV = V (F o V^T dA V), F_ij = 1/(w_j - w_i) off the diagonal
  jvp: ([a]: Tensor[], [da]: Tensor[]) => {
    const [w, v] = eighCore(a!);
    const n = w.shape.at(-1)!;
    const vdv = matmul(matmul(mT(v), multiply(add(da!, mT(da!)), 0.5)), v);
    const I = eye(n, null, { dtype: w.dtype });
    const f = subtract(divide(1, add(I, subtract(expandDims(w, -2), expandDims(w, -1)))), I);
    return [[w, v], [diagOf(vdv), matmul(v, multiply(f, vdv))]];
  },
});

/**
 * Eigenvalues (ascending) and eigenvectors of a symmetric a [..., n, n]: [w, v], a v = v diag(w).
 * As JAX, a is symmetrized, (a + a^T)/2 (NumPy reads the lower triangle: the same for symmetric
 * input). The eigenvector derivative has 1/(w_j - w_i): repeated eigenvalues give Inf/NaN there
 * (as JAX); eigenvalue derivatives stay finite.
 */
export function eigh(a: X): [Tensor, Tensor] {
  return eighCore(squareArg("eigh", a)[0]);
}

/** eigvalsh: the eigenvalues of eigh. */
export function eigvalsh(a: X): Tensor {
  return eigh(a)[0];
}

/** One-sided Jacobi SVD of a tall a (m >= n): [u (m x m), s (n, descending), v (n x n)]. */
function svdTall(a: Tensor): [Tensor, Tensor, Tensor] {
  const [m, n0] = a.shape.slice(-2) as [number, number];
  const odd = n0 % 2 === 1;
  const w0 = odd ? padEven(a, [-1]) : a;
  const n = w0.shape.at(-1)!;
  const v0 = broadcastTo(eye(n, null, { dtype: a.dtype }), [...a.shape.slice(0, -2), n, n]);
  const e = eps(a);
  const [wr, vr] = sweeps(n, [w0, v0], ([w, v], perm) => {
    const [p, q] = pairs(w);
    const alpha = sum(square(p), { axis: -2 });
    const beta = sum(square(q), { axis: -2 });
    const gamma = sum(multiply(p, q), { axis: -2 });
    const rotate = greater(abs(gamma), multiply(sqrt(multiply(alpha, beta)), e));
    const [c, sn] = jacobiRotation(alpha, beta, gamma, rotate);
    return [[perm(rotateCols(w, c, sn)), perm(rotateCols(v, c, sn))], max(rotate.astype("int32"), { axis: null })];
  });
  let w = wr;
  let v = vr;
  if (odd) {
    w = firstCols(w, n0);
    v = lastTwo(v, n0, n0);
  }
  const s0 = sqrt(sum(square(w), { axis: -2 }));
  const perm = sortPermutation(s0, true);
  const ws = matmul(w, perm);
  // the rotated columns are orthogonal: their QR is Q diag(+-s), Q completing the basis
  const [q, r] = qrRaw(ws);
  const signs = where(greaterEqual(diagOf(lastTwo(r, n0, n0)), 0), 1, -1);
  const fullSigns = m > n0 ? concatenate([signs, full([...signs.shape.slice(0, -1), m - n0], 1, { dtype: a.dtype })], { axis: -1 }) : signs;
  return [multiply(q, expandDims(fullSigns, -2)), vecmat(s0, perm), matmul(v, perm)];
}

function svdRaw(a0: Tensor): [Tensor, Tensor, Tensor] {
  const [m, n] = a0.shape.slice(-2) as [number, number];
  const sc = rangeScale(a0);
  const a = multiply(a0, sc);
  const unscale = (s: Tensor) => divide(s, squeeze(sc, -1));
  if (m >= n) {
    const [u, s, v] = svdTall(a);
    return [u, unscale(s), mT(v)];
  }
  const [u, s, v] = svdTall(mT(a));
  return [v, unscale(s), mT(u)];
}

export interface SvdOptions {
  /** u is m x m and vh n x n (default true, as NumPy); false: m x k and k x n, k = min(m, n) */
  fullMatrices?: boolean;
  /** return [u, s, vh] (default true); false: s alone */
  computeUv?: boolean;
}

const svdReduced: (a: Tensor) => [Tensor, Tensor, Tensor] = customJvp(
  (a: Tensor) => {
    const [m, n] = a.shape.slice(-2) as [number, number];
    const k = Math.min(m, n);
    const [u, s, vh] = svdRaw(a);
    return [firstCols(u, k), s, firstRows(vh, k)];
  },
  {
    jvp: ([a]: Tensor[], [da]: Tensor[]) => {
      const [u, s, vh] = svdReduced(a!);
      const [m, n] = a!.shape.slice(-2) as [number, number];
      const v = mT(vh);
      const ut = mT(u);
      const sRow = expandDims(s, -2);
      const sCol = expandDims(s, -1);
      const dS = matmul(matmul(ut, da!), v);
      const ds = diagOf(dS);
      // F_ij = 1/(s_j^2 - s_i^2) off the diagonal: Inf where two singular values are equal, so the
      // u/vh derivative is Inf/NaN there rather than a finite wrong value (JAX puts 0 there). The
      // antisymmetric diagonal term of JAX's rule is zero for real matrices.
      const k = s.shape.at(-1)!;
      const I = eye(k, null, { dtype: s.dtype });
      const f = subtract(divide(1, add(multiply(add(sRow, sCol), subtract(sRow, sCol)), I)), I);
      const dSS = multiply(sRow, dS);
      const SdS = multiply(sCol, dS);
      let du = matmul(u, multiply(f, add(dSS, mT(dSS))));
      let dv = matmul(v, multiply(f, add(SdS, mT(SdS))));
      if (m > n) {
        const dAV = matmul(da!, v);
        du = add(du, divide(subtract(dAV, matmul(u, matmul(ut, dAV))), sRow));
      }
      if (n > m) {
        const dAHU = matmul(mT(da!), u);
        dv = add(dv, divide(subtract(dAHU, matmul(v, matmul(vh, dAHU))), sRow));
      }
      return [[u, s, vh], [du, ds, mT(dv)]];
    },
  },
);

const svdValsCore: (a: Tensor) => Tensor = customJvp((a: Tensor) => svdRaw(a)[1], {
  // ds = diag(U^T dA V): finite for any singular values
  jvp: ([a]: Tensor[], [da]: Tensor[]) => {
    const [u, s, vh] = svdReduced(a!);
    return [s, diagOf(matmul(matmul(mT(u), da!), mT(vh)))];
  },
});

const svdFull: (a: Tensor) => [Tensor, Tensor, Tensor] = customJvp((a: Tensor) => svdRaw(a), {
  jvp: ([a]: Tensor[]) => {
    throw new GradError(
      `${fname("svd")}: the derivative of u and vh with fullMatrices: true is not defined for a non-square ${a!.aval} (as JAX); pass {fullMatrices: false}, or {computeUv: false} for singular values only`,
    );
  },
});

/**
 * Singular value decomposition a = u diag(s) vh of a [..., m, n] with s descending: [u, s, vh], or
 * s alone with {computeUv: false}. Derivatives: singular values always; u and vh with
 * fullMatrices false (or square a). Equal singular values, and a zero singular value of a
 * non-square a, make the u/vh derivative Inf/NaN (JAX: 0 for the former, a finite wrong value).
 */
export function svd(a: X, opts: SvdOptions & { computeUv: false }): Tensor;
export function svd(a: X, opts?: SvdOptions & { computeUv?: true }): [Tensor, Tensor, Tensor];
export function svd(a: X, opts: SvdOptions = {}): [Tensor, Tensor, Tensor] | Tensor {
  const t = floatArg("svd", a, 2);
  const [m, n] = t.shape.slice(-2);
  if (typeof m !== "number" || typeof n !== "number") throw new ShapeError(`${fname("svd")}: the matrix dimensions must be concrete, got ${shapeToString(t.shape)}`);
  if (opts.computeUv === false) return svdValsCore(t);
  return opts.fullMatrices === false || m === n ? svdReduced(t) : svdFull(t);
}

/** The singular values of a, descending (svd with computeUv false). */
export function svdvals(a: X): Tensor {
  return svd(a, { computeUv: false });
}

