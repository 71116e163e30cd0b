// ADBench bundle adjustment written as ordinary adgen array code (float64): the per-observation
// projection `baProjection(cam, X, w, feat) -> [reprojErr (2), wErr]`, its residuals for all
// observations by vmap, and the sparse Jacobian assembled from vmap(jacfwd(baProjection)) over
// observations (camera and point rows gathered per observation) into the same CSR layout as the
// hand-written oracle. Definition: /work/shared/adbench/README.md, section BA.

import { Tensor, jacfwd, jit, np, vmap } from "../../src/index.js";
import type { BaData } from "./io.js";
import type { CsrMatrix } from "./hand/ba.js";

/** Adgen float64/int32 tensors for one BA instance (the observation index table included). */
export interface BaTensors {
  cams: Tensor; // [n, 11]
  X: Tensor; // [m, 3]
  w: Tensor; // [p]
  feats: Tensor; // [p, 2]
  camIdx: Tensor; // [p] int32
  ptIdx: Tensor; // [p] int32
}

export function baTensors(data: BaData): BaTensors {
  const { n, m, p, obs } = data;
  const camIdx = new Int32Array(p);
  const ptIdx = new Int32Array(p);
  for (let i = 0; i < p; i++) {
    camIdx[i] = obs[2 * i]!;
    ptIdx[i] = obs[2 * i + 1]!;
  }
  return {
    cams: Tensor.fromData(data.cams.slice(), [n, 11]),
    X: Tensor.fromData(data.X.slice(), [m, 3]),
    w: Tensor.fromData(data.w.slice(), [p]),
    feats: Tensor.fromData(data.feats.slice(), [p, 2]),
    camIdx: Tensor.fromData(camIdx, [p]),
    ptIdx: Tensor.fromData(ptIdx, [p]),
  };
}

/** a x b for 3-vectors (components by static slicing, which fuses into the consumers). */
function cross(a: Tensor, b: Tensor): Tensor {
  const [a0, a1, a2] = [0, 1, 2].map((i) => np.index(a, i)) as [Tensor, Tensor, Tensor];
  const [b0, b1, b2] = [0, 1, 2].map((i) => np.index(b, i)) as [Tensor, Tensor, Tensor];
  const d = (x: Tensor, y: Tensor, z: Tensor, w: Tensor) => np.subtract(np.multiply(x, y), np.multiply(z, w));
  return np.stack([d(a1, b2, a2, b1), d(a2, b0, a0, b2), d(a0, b1, a1, b0)]);
}

/**
 * Rodrigues rotation of v by the axis-angle vector r. For r = 0 ADBench uses v + r x v; the
 * branch is a `where` on both results, with theta computed from a safe (nonzero) square so that
 * neither value nor derivative of the unused branch can be NaN.
 */
function rodriguesRotate(r: Tensor, v: Tensor): Tensor {
  const sq = np.sum(np.square(r));
  const zero = np.equal(sq, 0);
  const theta = np.sqrt(np.where(zero, 1, sq));
  const n = np.divide(r, theta);
  const cs = np.cos(theta);
  const full = np.add(
    np.add(np.multiply(v, cs), np.multiply(cross(n, v), np.sin(theta))),
    np.multiply(n, np.multiply(np.sum(np.multiply(n, v)), np.subtract(1, cs))),
  );
  return np.where(zero, np.add(v, cross(r, v)), full);
}

/**
 * One observation: cam [11] = r(3), C(3), f, u0, v0, k1, k2; X [3]; w scalar; feat [2].
 * Returns [reprojErr [2], wErr scalar].
 */
export function baProjection(cam: Tensor, X: Tensor, w: Tensor, feat: Tensor): [Tensor, Tensor] {
  const part = (a: number, b: number) => np.index(cam, np.s(a, b));
  const xc = rodriguesRotate(part(0, 3), np.subtract(X, part(3, 6)));
  const p = np.divide(np.index(xc, np.s(0, 2)), np.index(xc, 2));
  const rho = np.sum(np.square(p));
  const k1 = np.index(cam, 9);
  const k2 = np.index(cam, 10);
  const L = np.add(1, np.add(np.multiply(k1, rho), np.multiply(k2, np.square(rho))));
  const proj = np.add(np.multiply(np.multiply(p, L), np.index(cam, 6)), part(7, 9));
  return [np.multiply(w, np.subtract(proj, feat)), np.subtract(1, np.square(w))];
}

/** Camera and point rows of every observation (a gather per observation). */
function gathered(cams: Tensor, X: Tensor, camIdx: Tensor, ptIdx: Tensor): [Tensor, Tensor] {
  return [np.take(cams, camIdx, { axis: 0 }), np.take(X, ptIdx, { axis: 0 })];
}

/** All residuals: [reprojErr [p, 2], wErr [p]] (vmap of baProjection over observations). */
export const baResiduals = jit(
  (cams: Tensor, X: Tensor, w: Tensor, feats: Tensor, camIdx: Tensor, ptIdx: Tensor): [Tensor, Tensor] =>
    vmap(baProjection)(...gathered(cams, X, camIdx, ptIdx), w, feats),
  { name: "baResiduals" },
);

type Blocks = [[Tensor, Tensor, Tensor], [Tensor, Tensor, Tensor]];

/**
 * Per-observation Jacobian blocks by vmap(jacfwd): [[dRe/dcam [p,2,11], dRe/dX [p,2,3],
 * dRe/dw [p,2]], [dWe/dcam [p,11], dWe/dX [p,3], dWe/dw [p]]].
 */
export function baJacobianBlocksRaw(cams: Tensor, X: Tensor, w: Tensor, feats: Tensor, camIdx: Tensor, ptIdx: Tensor): Blocks {
  const jac = jacfwd(baProjection, { argnums: [0, 1, 2] });
  return vmap(jac)(...gathered(cams, X, camIdx, ptIdx), w, feats) as Blocks;
}

export const baJacobianBlocks = jit(baJacobianBlocksRaw, { name: "baJacobianBlocks" }) as unknown as typeof baJacobianBlocksRaw;

/**
 * Sparse Jacobian of [reprojErr (2p), wErr (p)] w.r.t. [cams (11n), X (3m), w (p)] in the CSR
 * layout of hand/ba.ts: reprojection rows hold 11 camera, 3 point and 1 weight entry (columns
 * ascending), weight rows their single entry. `blocks` defaults to the jitted computation.
 */
export function baJacobianAd(data: BaData, t: BaTensors = baTensors(data), blocksFn = baJacobianBlocks): CsrMatrix {
  const { n, m, p, obs } = data;
  const [[dCam, dX, dW], [, , dWw]] = blocksFn(t.cams, t.X, t.w, t.feats, t.camIdx, t.ptIdx);
  const jc = dCam.dataSync(), jx = dX.dataSync(), jw = dW.dataSync(), jww = dWw.dataSync();
  const rows = 3 * p;
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(31 * p);
  const vals = new Float64Array(31 * p);
  for (let i = 0; i < p; i++) {
    const cam = obs[2 * i]!, pt = obs[2 * i + 1]!;
    for (let r = 0; r < 2; r++) {
      const o = 30 * i + 15 * r;
      rowPtr[2 * i + r + 1] = o + 15;
      for (let q = 0; q < 11; q++) {
        colIdx[o + q] = 11 * cam + q;
        vals[o + q] = jc[(2 * i + r) * 11 + q]!;
      }
      for (let q = 0; q < 3; q++) {
        colIdx[o + 11 + q] = 11 * n + 3 * pt + q;
        vals[o + 11 + q] = jx[(2 * i + r) * 3 + q]!;
      }
      colIdx[o + 14] = 11 * n + 3 * m + i;
      vals[o + 14] = jw[2 * i + r]!;
    }
  }
  for (let i = 0; i < p; i++) {
    const o = 30 * p + i;
    rowPtr[2 * p + i + 1] = o + 1;
    colIdx[o] = 11 * n + 3 * m + i;
    vals[o] = jww[i]!;
  }
  return { rows, cols: 11 * n + 3 * m + p, rowPtr, colIdx, vals };
}

/** Restrict an instance to its first `p` observations (cameras and points kept). */
export function firstObservations(data: BaData, p: number): BaData {
  return { ...data, p, w: data.w.slice(0, p), feats: data.feats.slice(0, 2 * p), obs: data.obs.slice(0, 2 * p) };
}
