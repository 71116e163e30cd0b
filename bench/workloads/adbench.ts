/**
 * ADBench rows (gmm-obj, gmm-grad, lstm-obj, lstm-grad): instances, float64 references and checks.
 *
 * Instances (examples/adbench/data, formats in /work/shared/adbench/README.md):
 *   GMM  gmm/10k/gmm_d10_K25.txt   d=10, K=25, n=10000; gradient w.r.t. (alphas, means, icf):
 *        25 + 250 + 1375 = 1650 values
 *   LSTM lstm/lstm_l2_c1024.txt    l=2 layers, c=1024 characters, b=14; gradient w.r.t. (main,
 *        extra) parameters: 8*2*14 + 3*14 = 266 values
 * Timed calls compute the objective (a scalar) or the full gradient and read it back; parsing and
 * tensor creation happen outside the timed region.
 *
 * References: the hand-written float64 objective/gradient of examples/adbench/hand (computed once
 * per process and cached). Agreement uses ADBench's metric
 *   err = max_i |x_i - y_i| / max(1, |x_i| + |y_i|)
 * with tolerance 1e-8 for float64 (the ADBench criterion). Peers that compute in float32 (tfjs,
 * and jax-js, whose wasm backend evaluates exp/log/tanh of float64 arrays in float32) are checked
 * with a float32-level tolerance, ADBENCH_TOL_F32; their observed error is printed in a note.
 *
 * The hand peer is the reference itself: its gradient is checked against central finite
 * differences of its own objective along one random direction (FD_TOL relative).
 */
import { adbenchErr, dataPath, readGmm, readLstm, type GmmData, type LstmData } from "../../examples/adbench/io.js";

export { adbenchErr };
import { gmmGradient, gmmObjective, logGammaD, lstmGradient, lstmObjective } from "../../examples/adbench/hand.js";
import { rng } from "./data.js";

export const GMM_FILE = "gmm/10k/gmm_d10_K25.txt";
export const LSTM_FILE = "lstm/lstm_l2_c1024.txt";

/** ADBench's agreement threshold for float64 (shared/adbench/README.md). */
export const ADBENCH_TOL_F64 = 1e-8;
/**
 * Float32-level threshold. The ADBench metric is per element, so a gradient entry that is a small
 * difference of large sums (e.g. a GMM d/dq of -7.6 accumulated from 10^4 terms, with |grad| up
 * to 5.5e3) carries the rounding of the large terms: float32 (unit roundoff 6e-8) over 10^4
 * terms gives up to ~6e-4 there (tfjs-wasm measures 1.6e-4, i.e. 4e-7 of max |grad|). A wrong
 * derivative rule gives errors of order 1e-2..1.
 */
export const ADBENCH_TOL_F32 = 1e-3;
/** Finite-difference check of the hand gradient (directional derivative, relative). */
const FD_TOL = 1e-6;

/** Published gradient/objective time ratios, GMM d10 K25, 10k points (shared/adbench/README.md). */
export const GMM_PUBLISHED =
  "published GMM d10K25 10k grad/obj ratios (Srajer et al. 2018): manual C++ 3.1, Tapenade 9.1";

let gmmCache: GmmData | undefined;
let lstmCache: LstmData | undefined;

/** The parsed GMM instance (cached; treat as read-only). */
export function gmmInstance(): GmmData {
  return (gmmCache ??= readGmm(dataPath(GMM_FILE)));
}

/** The parsed LSTM instance (cached; treat as read-only). */
export function lstmInstance(): LstmData {
  return (lstmCache ??= readLstm(dataPath(LSTM_FILE)));
}

export interface Reference {
  f: number;
  grad: Float64Array;
}

let gmmRef: Reference | undefined;
let lstmRef: Reference | undefined;

/** Hand-written float64 objective and gradient of the GMM instance (cached). */
export function gmmReference(): Reference {
  const g = gmmInstance();
  return (gmmRef ??= { f: gmmObjective(g), grad: gmmGradient(g) });
}

/** Hand-written float64 objective and gradient of the LSTM instance (cached). */
export function lstmReference(): Reference {
  const d = lstmInstance();
  return (lstmRef ??= { f: lstmObjective(d), grad: lstmGradient(d) });
}

/** Records the worst error seen by a check, for the cell's note. */
export interface ErrTracker {
  worst: number;
}

function check(
  what: string,
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  tol: number,
  track?: ErrTracker,
): string | undefined {
  if (got.length !== ref.length) return `${what}: ${got.length} values, expected ${ref.length}`;
  const e = adbenchErr(got, ref);
  if (track) track.worst = Math.max(track.worst, e);
  return e <= tol ? undefined : `${what}: ADBench error ${e.toExponential(2)} > ${tol} vs hand`;
}

export const checkGmmObjective = (f: number, tol: number, track?: ErrTracker) =>
  check("gmm objective", [f], [gmmReference().f], tol, track);
export const checkGmmGradient = (g: ArrayLike<number>, tol: number, track?: ErrTracker) =>
  check("gmm gradient", g, gmmReference().grad, tol, track);
export const checkLstmObjective = (f: number, tol: number, track?: ErrTracker) =>
  check("lstm objective", [f], [lstmReference().f], tol, track);
export const checkLstmGradient = (g: ArrayLike<number>, tol: number, track?: ErrTracker) =>
  check("lstm gradient", g, lstmReference().grad, tol, track);

/** Note text for peers checked with the float32 tolerance (the error is filled in lazily). */
export function errNote(prefix: string, track: ErrTracker): string {
  const e = Number.isFinite(track.worst) ? track.worst.toExponential(1) : String(track.worst);
  return `${prefix}; err ${e} vs hand`;
}

/** Footnote of the ADBench rows: precision per peer, verification, variants. */
export const ADBENCH_ROWS_NOTE =
  "ADBench rows (gmm-*, lstm-*): adgen and hand in float64; jax-js float64 arrays, but its wasm backend " +
  "computes exp/log in float32; tfjs float32 (no float64). Every result is checked against " +
  "examples/adbench/hand with ADBench's metric max|x-y|/max(1,|x|+|y|): " +
  `<= ${ADBENCH_TOL_F64} for float64, <= ${ADBENCH_TOL_F32} for float32-accurate peers ("err" in their notes). ` +
  "adgen's LSTM is the lax.scan variant; jax-js has no scan (LSTM objective: a loop over a jitted " +
  "31-step chunk; gradient n/a)";

/** Concatenate arrays (gradient parts) into one Float64Array, in order. */
export function concatF64(parts: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) out[off + i] = p[i]!;
    off += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Finite-difference checks of the hand gradients (the hand peer is its own reference).

function randomDirection(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = 2 * r() - 1;
  return v;
}

function fdCheck(
  what: string,
  grad: ArrayLike<number>,
  params: Float64Array[],
  objective: () => number,
  h: number,
): string | undefined {
  const n = params.reduce((s, p) => s + p.length, 0);
  const v = randomDirection(n, 12345);
  const saved = params.map((p) => p.slice());
  const shift = (s: number) => {
    let o = 0;
    params.forEach((p, k) => {
      for (let i = 0; i < p.length; i++) p[i] = saved[k]![i]! + s * h * v[o + i]!;
      o += p.length;
    });
  };
  let fp: number;
  let fm: number;
  try {
    shift(1);
    fp = objective();
    shift(-1);
    fm = objective();
  } finally {
    params.forEach((p, k) => p.set(saved[k]!));
  }
  const fd = (fp - fm) / (2 * h);
  let gv = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    gv += grad[i]! * v[i]!;
    scale += Math.abs(grad[i]! * v[i]!);
  }
  const e = Math.abs(fd - gv) / Math.max(1e-300, scale);
  return e <= FD_TOL ? undefined : `${what}: directional derivative ${gv} vs central difference ${fd} (rel ${e.toExponential(2)})`;
}

/** Checks the hand GMM gradient against a central difference of the hand objective. */
export function fdCheckGmm(grad: ArrayLike<number>): string | undefined {
  const g = gmmInstance();
  // copies: the cached instance is shared by every peer
  const d: GmmData = { ...g, alphas: g.alphas.slice(), means: g.means.slice(), icf: g.icf.slice() };
  return fdCheck("hand gmm gradient", grad, [d.alphas, d.means, d.icf], () => gmmObjective(d), 1e-6);
}

/** Checks the hand LSTM gradient against a central difference of the hand objective. */
export function fdCheckLstm(grad: ArrayLike<number>): string | undefined {
  const l = lstmInstance();
  const d: LstmData = { ...l, mainParams: l.mainParams.slice(), extraParams: l.extraParams.slice() };
  return fdCheck("hand lstm gradient", grad, [d.mainParams, d.extraParams], () => lstmObjective(d), 1e-5);
}

/** The parameter-independent part of the GMM objective, -(n d/2) log(2 pi) - k C, for peers. */
export function gmmConstant(g: GmmData): number {
  const { d, k, n, gamma, m } = g;
  const N = d + m + 1;
  const C = N * d * (Math.log(gamma) - 0.5 * Math.log(2)) - logGammaD(N / 2, d);
  return -((n * d) / 2) * Math.log(2 * Math.PI) - k * C;
}

/**
 * Index map of Q_k^T (row-major [d, d]) into the row [0, exp(q_k) (d values), l_k]: entry (c, r)
 * = Q[r][c] is 1 + r on the diagonal, 1 + d + (position of Q[r][c] in l_k, filled column by
 * column) for r > c, and 0 (the zero column) above the diagonal.
 */
export function gmmQtIndex(d: number): Int32Array {
  const idx = new Int32Array(d * d);
  let next = 1 + d;
  for (let c = 0; c < d; c++) {
    idx[c * d + c] = 1 + c;
    for (let r = c + 1; r < d; r++) idx[c * d + r] = next++;
  }
  return idx;
}

/**
 * S[j, e] = 1 when entry e of Q^T (row-major [d, d]) is element j of [0, exp(q), l]: the gather
 * of gmmQtIndex as a matmul [K, 1 + T] @ [1 + T, d*d], for peers whose gather has no usable
 * gradient (jax-js: jit(grad) of np.take fails; tfjs-wasm: no UnsortedSegmentSum kernel).
 */
export function qtSelection(d: number): Float64Array {
  const idx = gmmQtIndex(d);
  const T = (d * (d + 1)) / 2;
  const s = new Float64Array((1 + T) * d * d);
  idx.forEach((j, e) => {
    if (j > 0) s[j * d * d + e] = 1;
  });
  return s;
}
