// Hand-written float64 bundle-adjustment residuals and their sparse Jacobian with HAND-DERIVED
// (analytic, forward-mode style) derivatives: the ADBench "Manual" baseline and test oracle.
// Definition: /work/shared/adbench/README.md, section BA.
//
// Per observation (camera r, C, f, u0, v0, k1, k2; point X; weight w; feature u):
//   v = X - C;  xc = R(r) v with R = cos(th) I + sin(th) [n]_x + (1 - cos(th)) n n^T, n = r/th,
//   th = |r| (for r = 0: xc = v + r x v);  p = xc[0:2] / xc[2];  rho = |p|^2;
//   L = 1 + k1 rho + k2 rho^2;  dist = L p;  proj = f dist + (u0, v0);  err = w (proj - u).
// Derivatives (chain rule, 2x3 matrix A = w f ddist/dp dp/dxc):
//   ddist/dp = L I + 2 (k1 + 2 k2 rho) p p^T,   dp/dxc = [[1/z, 0, -p0/z], [0, 1/z, -p1/z]]
//   derr/dX = A R, derr/dC = -A R, derr/dr = A dxc/dr, derr/df = w dist, derr/du0 = (w, 0),
//   derr/dv0 = (0, w), derr/dk1 = w f rho p, derr/dk2 = w f rho^2 p, derr/dw = proj - u.
//   dxc/dr_m (th != 0), using dth/dr_m = n_m and dn/dr_m = (e_m - n n_m)/th:
//     (-sin v + cos (n x v) + sin (n.v) n) n_m + sin (dn_m x v) + (1 - cos)((dn_m.v) n + (n.v) dn_m)
//   dxc/dr (th = 0) = -[v]_x.
// Weight residual: w_err = 1 - w^2, d/dw = -2w.

import type { BaData } from "../io.js";

export interface BaResiduals {
  reprojErr: Float64Array; // 2p
  wErr: Float64Array; // p
}

/** Sparse matrix in compressed-sparse-row form (column indices ascending within a row). */
export interface CsrMatrix {
  rows: number;
  cols: number;
  rowPtr: Int32Array; // rows + 1
  colIdx: Int32Array; // nnz
  vals: Float64Array; // nnz
}

// Scratch for the rotation Jacobians (module-level so the per-observation loop never allocates).
const RM = new Float64Array(9); // dxc/dv, row-major
const JR = new Float64Array(9); // dxc/dr, row-major

/**
 * Reprojection error of one observation into err[eo], err[eo+1]. If J is given, also writes the
 * 2x15 Jacobian block (row-major, columns: camera 0..10, point 0..2, weight) at J[jo].
 */
function reprojBlock(
  cams: Float64Array,
  co: number,
  X: Float64Array,
  xo: number,
  w: number,
  u0f: number,
  u1f: number,
  err: Float64Array,
  eo: number,
  J: Float64Array | null,
  jo: number,
): void {
  const r0 = cams[co]!, r1 = cams[co + 1]!, r2 = cams[co + 2]!;
  const v0 = X[xo]! - cams[co + 3]!, v1 = X[xo + 1]! - cams[co + 4]!, v2 = X[xo + 2]! - cams[co + 5]!;
  const f = cams[co + 6]!, k1 = cams[co + 9]!, k2 = cams[co + 10]!;

  // Rotation: xc = R v; Rm = dxc/dv (row-major 3x3), Jr = dxc/dr (row-major 3x3).
  const sq = r0 * r0 + r1 * r1 + r2 * r2;
  let x0: number, x1: number, x2: number;
  const Rm = RM, Jr = JR, withJ = J !== null;
  if (sq !== 0) {
    const th = Math.sqrt(sq), cs = Math.cos(th), sn = Math.sin(th);
    const n0 = r0 / th, n1 = r1 / th, n2 = r2 / th;
    const c0 = n1 * v2 - n2 * v1, c1 = n2 * v0 - n0 * v2, c2 = n0 * v1 - n1 * v0; // n x v
    const dot = n0 * v0 + n1 * v1 + n2 * v2;
    const tmp = dot * (1 - cs);
    x0 = v0 * cs + c0 * sn + n0 * tmp;
    x1 = v1 * cs + c1 * sn + n1 * tmp;
    x2 = v2 * cs + c2 * sn + n2 * tmp;
    if (withJ) {
      const oc = 1 - cs;
      Rm[0] = cs + oc * n0 * n0; Rm[1] = -sn * n2 + oc * n0 * n1; Rm[2] = sn * n1 + oc * n0 * n2;
      Rm[3] = sn * n2 + oc * n1 * n0; Rm[4] = cs + oc * n1 * n1; Rm[5] = -sn * n0 + oc * n1 * n2;
      Rm[6] = -sn * n1 + oc * n2 * n0; Rm[7] = sn * n0 + oc * n2 * n1; Rm[8] = cs + oc * n2 * n2;
      // common factor multiplying n_m: -sin v + cos (n x v) + sin (n.v) n
      const a0 = -sn * v0 + cs * c0 + sn * dot * n0;
      const a1 = -sn * v1 + cs * c1 + sn * dot * n1;
      const a2 = -sn * v2 + cs * c2 + sn * dot * n2;
      for (let mi = 0; mi < 3; mi++) {
        const nm = mi === 0 ? n0 : mi === 1 ? n1 : n2;
        const d0 = ((mi === 0 ? 1 : 0) - n0 * nm) / th;
        const d1 = ((mi === 1 ? 1 : 0) - n1 * nm) / th;
        const d2 = ((mi === 2 ? 1 : 0) - n2 * nm) / th;
        const dDot = d0 * v0 + d1 * v1 + d2 * v2;
        Jr[mi] = a0 * nm + sn * (d1 * v2 - d2 * v1) + oc * (dDot * n0 + dot * d0);
        Jr[3 + mi] = a1 * nm + sn * (d2 * v0 - d0 * v2) + oc * (dDot * n1 + dot * d1);
        Jr[6 + mi] = a2 * nm + sn * (d0 * v1 - d1 * v0) + oc * (dDot * n2 + dot * d2);
      }
    }
  } else {
    x0 = v0 + (r1 * v2 - r2 * v1);
    x1 = v1 + (r2 * v0 - r0 * v2);
    x2 = v2 + (r0 * v1 - r1 * v0);
    if (withJ) {
      Rm[0] = 1; Rm[1] = -r2; Rm[2] = r1; Rm[3] = r2; Rm[4] = 1; Rm[5] = -r0; // I + [r]_x
      Rm[6] = -r1; Rm[7] = r0; Rm[8] = 1;
      Jr[0] = 0; Jr[1] = v2; Jr[2] = -v1; Jr[3] = -v2; Jr[4] = 0; Jr[5] = v0; // -[v]_x
      Jr[6] = v1; Jr[7] = -v0; Jr[8] = 0;
    }
  }

  // Projection and radial distortion.
  const iz = 1 / x2;
  const p0 = x0 * iz, p1 = x1 * iz;
  const rho = p0 * p0 + p1 * p1;
  const L = 1 + k1 * rho + k2 * rho * rho;
  const dist0 = p0 * L, dist1 = p1 * L;
  const e0 = f * dist0 + cams[co + 7]! - u0f;
  const e1 = f * dist1 + cams[co + 8]! - u1f;
  err[eo] = w * e0;
  err[eo + 1] = w * e1;
  if (J === null) return;

  // A = w f ddist/dp dp/dxc (2x3).
  const Lp2 = 2 * (k1 + 2 * k2 * rho);
  const wf = w * f;
  const D00 = wf * (L + Lp2 * p0 * p0), D01 = wf * Lp2 * p0 * p1, D11 = wf * (L + Lp2 * p1 * p1);
  for (let row = 0; row < 2; row++) {
    const o = jo + row * 15;
    const da = row === 0 ? D00 : D01, db = row === 0 ? D01 : D11;
    const a0 = da * iz, a1 = db * iz, a2 = -(da * p0 + db * p1) * iz; // row of A
    for (let col = 0; col < 3; col++) {
      J[o + col] = a0 * Jr[col]! + a1 * Jr[3 + col]! + a2 * Jr[6 + col]!;
      const ar = a0 * Rm[col]! + a1 * Rm[3 + col]! + a2 * Rm[6 + col]!;
      J[o + 3 + col] = -ar; // centre C
      J[o + 11 + col] = ar; // point X
    }
    const p = row === 0 ? p0 : p1;
    J[o + 6] = w * (row === 0 ? dist0 : dist1); // f
    J[o + 7] = row === 0 ? w : 0; // u0
    J[o + 8] = row === 0 ? 0 : w; // v0
    J[o + 9] = wf * rho * p; // k1
    J[o + 10] = wf * rho * rho * p; // k2
    J[o + 14] = row === 0 ? e0 : e1; // w
  }
}

/** Residuals: reprojection errors (2 per observation) and weight errors (1 per observation). */
export function baObjective(data: BaData): BaResiduals {
  const { p, cams, X, w, feats, obs } = data;
  const reprojErr = new Float64Array(2 * p);
  const wErr = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    const co = obs[2 * i]! * 11, xo = obs[2 * i + 1]! * 3;
    reprojBlock(cams, co, X, xo, w[i]!, feats[2 * i]!, feats[2 * i + 1]!, reprojErr, 2 * i, null, 0);
    wErr[i] = 1 - w[i]! * w[i]!;
  }
  return { reprojErr, wErr };
}

/**
 * Sparse Jacobian of [reprojErr (2p), wErr (p)] w.r.t. [cams (11n), X (3m), w (p)]:
 * 3p rows by 11n + 3m + p columns; reprojection rows have 15 nonzeros, weight rows 1.
 */
export function baJacobian(data: BaData): CsrMatrix {
  const { n, m, p, cams, X, w, feats, obs } = data;
  const rows = 3 * p;
  const cols = 11 * n + 3 * m + p;
  const nnz = 31 * p;
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(nnz);
  const vals = new Float64Array(nnz);
  const err = new Float64Array(2);
  for (let i = 0; i < p; i++) {
    const cam = obs[2 * i]!, pt = obs[2 * i + 1]!;
    const jo = 30 * i;
    reprojBlock(cams, cam * 11, X, pt * 3, w[i]!, feats[2 * i]!, feats[2 * i + 1]!, err, 0, vals, jo);
    for (let row = 0; row < 2; row++) {
      const o = jo + 15 * row;
      rowPtr[2 * i + row + 1] = o + 15;
      for (let q = 0; q < 11; q++) colIdx[o + q] = 11 * cam + q;
      for (let q = 0; q < 3; q++) colIdx[o + 11 + q] = 11 * n + 3 * pt + q;
      colIdx[o + 14] = 11 * n + 3 * m + i;
    }
  }
  for (let i = 0; i < p; i++) {
    const o = 30 * p + i;
    rowPtr[2 * p + i + 1] = o + 1;
    colIdx[o] = 11 * n + 3 * m + i;
    vals[o] = -2 * w[i]!;
  }
  return { rows, cols, rowPtr, colIdx, vals };
}
