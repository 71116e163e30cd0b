/**
 * Deterministic inputs shared by every peer, and float64 references used by verify().
 *
 * MLP workload (all float32, row-major):
 *   X  [128, 784]  uniform [0, 1)            (seed 1)
 *   labels 128 ints in 0..9 -> Y [128, 10] one-hot
 *   W1 [784, 256]  uniform +-sqrt(6/(784+256)) (Glorot)
 *   b1 [256]       uniform +-0.1
 *   W2 [256, 10]   uniform +-sqrt(6/(256+10))
 *   b2 [10]        uniform +-0.1
 *   loss(W1,b1,W2,b2) = -mean_b sum_k Y[b,k] * logSoftmax(relu(X W1 + b1) W2 + b2)[b,k]
 * "mlp-fwd" computes the loss only; "mlp-step" computes the loss and the gradients of all four
 * parameters (5 arrays read back).
 */

/** mulberry32: small, fast, deterministic PRNG returning floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(n: number, lo: number, hi: number, r: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

// ---------------------------------------------------------------------------------------------
// matmul

export function matmulInputs(n: number): { a: Float32Array; b: Float32Array } {
  const r = rng(1000 + n);
  return { a: uniform(n * n, -1, 1, r), b: uniform(n * n, -1, 1, r) };
}

/** A few entries of a @ b in float64, to check peers cheaply. */
export function checkMatmul(a: Float32Array, b: Float32Array, n: number, c: ArrayLike<number>): string | undefined {
  const r = rng(7);
  for (let t = 0; t < 16; t++) {
    const i = Math.floor(r() * n);
    const j = Math.floor(r() * n);
    let s = 0;
    let sa = 0;
    for (let k = 0; k < n; k++) {
      s += a[i * n + k]! * b[k * n + j]!;
      sa += Math.abs(a[i * n + k]! * b[k * n + j]!);
    }
    const got = c[i * n + j]!;
    if (!(Math.abs(got - s) <= 1e-4 * sa + 1e-6)) return `matmul C[${i},${j}] = ${got}, expected ${s}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// MLP

export const MLP = { batch: 128, nIn: 784, nHidden: 256, nOut: 10 } as const;

export interface MlpData {
  batch: number;
  x: Float32Array; // [batch, 784]
  labels: Int32Array; // [batch]
  y: Float32Array; // [batch, 10] one-hot
  w1: Float32Array; // [784, 256]
  b1: Float32Array; // [256]
  w2: Float32Array; // [256, 10]
  b2: Float32Array; // [10]
}

const cache = new Map<number, MlpData>();

/** The MLP inputs (the parameters do not depend on the batch size; X and labels are prefixes). */
export function mlpData(batch: number = MLP.batch): MlpData {
  const hit = cache.get(batch);
  if (hit) return hit;
  const { nIn, nHidden, nOut } = MLP;
  const maxBatch = Math.max(batch, 1024);
  const rp = rng(42);
  const g1 = Math.sqrt(6 / (nIn + nHidden));
  const g2 = Math.sqrt(6 / (nHidden + nOut));
  const w1 = uniform(nIn * nHidden, -g1, g1, rp);
  const b1 = uniform(nHidden, -0.1, 0.1, rp);
  const w2 = uniform(nHidden * nOut, -g2, g2, rp);
  const b2 = uniform(nOut, -0.1, 0.1, rp);
  const rx = rng(1);
  const xAll = uniform(maxBatch * nIn, 0, 1, rx);
  const rl = rng(2);
  const labelsAll = new Int32Array(maxBatch);
  for (let i = 0; i < maxBatch; i++) labelsAll[i] = Math.floor(rl() * nOut);
  const x = xAll.slice(0, batch * nIn);
  const labels = labelsAll.slice(0, batch);
  const y = new Float32Array(batch * nOut);
  for (let i = 0; i < batch; i++) y[i * nOut + labels[i]!] = 1;
  const d: MlpData = { batch, x, labels, y, w1, b1, w2, b2 };
  cache.set(batch, d);
  return d;
}

export interface MlpGrads {
  loss: number;
  w1: ArrayLike<number>;
  b1: ArrayLike<number>;
  w2: ArrayLike<number>;
  b2: ArrayLike<number>;
}

/** Float64 reference loss and gradients (slow, straightforward loops). */
export function mlpReference(d: MlpData): MlpGrads {
  const { nIn, nHidden: H, nOut: K } = MLP;
  const B = d.batch;
  const z1 = new Float64Array(B * H);
  for (let i = 0; i < B; i++)
    for (let j = 0; j < H; j++) {
      let s = d.b1[j]!;
      for (let k = 0; k < nIn; k++) s += d.x[i * nIn + k]! * d.w1[k * H + j]!;
      z1[i * H + j] = s;
    }
  const h = z1.map((v) => (v > 0 ? v : 0));
  const dz2 = new Float64Array(B * K);
  let loss = 0;
  for (let i = 0; i < B; i++) {
    const z = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let s = d.b2[k]!;
      for (let j = 0; j < H; j++) s += h[i * H + j]! * d.w2[j * K + k]!;
      z[k] = s;
    }
    const m = Math.max(...z);
    let se = 0;
    for (let k = 0; k < K; k++) se += Math.exp(z[k]! - m);
    const lse = m + Math.log(se);
    for (let k = 0; k < K; k++) {
      loss -= (d.y[i * K + k]! * (z[k]! - lse)) / B;
      dz2[i * K + k] = (Math.exp(z[k]! - lse) - d.y[i * K + k]!) / B;
    }
  }
  const gw2 = new Float64Array(H * K);
  const gb2 = new Float64Array(K);
  const dz1 = new Float64Array(B * H);
  for (let i = 0; i < B; i++)
    for (let k = 0; k < K; k++) {
      const g = dz2[i * K + k]!;
      gb2[k]! += g;
      for (let j = 0; j < H; j++) {
        gw2[j * K + k]! += h[i * H + j]! * g;
        dz1[i * H + j]! += g * d.w2[j * K + k]!;
      }
    }
  for (let t = 0; t < B * H; t++) if (z1[t]! <= 0) dz1[t] = 0;
  const gw1 = new Float64Array(nIn * H);
  const gb1 = new Float64Array(H);
  for (let i = 0; i < B; i++)
    for (let k = 0; k < nIn; k++) {
      const xv = d.x[i * nIn + k]!;
      if (xv === 0) continue;
      for (let j = 0; j < H; j++) gw1[k * H + j]! += xv * dz1[i * H + j]!;
    }
  for (let i = 0; i < B; i++) for (let j = 0; j < H; j++) gb1[j]! += dz1[i * H + j]!;
  return { loss, w1: gw1, b1: gb1, w2: gw2, b2: gb2 };
}

const refCache = new Map<number, MlpGrads>();
export function mlpReferenceCached(d: MlpData): MlpGrads {
  let r = refCache.get(d.batch);
  if (!r) refCache.set(d.batch, (r = mlpReference(d)));
  return r;
}

function relErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let maxRef = 0;
  let maxErr = 0;
  for (let i = 0; i < ref.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref[i]!));
    maxErr = Math.max(maxErr, Math.abs(got[i]! - ref[i]!));
  }
  return maxErr / (maxRef || 1);
}

export function checkMlpLoss(d: MlpData, loss: number, tol = 1e-4): string | undefined {
  const ref = mlpReferenceCached(d).loss;
  const e = Math.abs(loss - ref) / Math.abs(ref);
  return e <= tol ? undefined : `loss ${loss}, expected ${ref}`;
}

export function checkMlpGrads(d: MlpData, got: MlpGrads, tol = 1e-3): string | undefined {
  const lossErr = checkMlpLoss(d, got.loss);
  if (lossErr) return lossErr;
  const ref = mlpReferenceCached(d);
  for (const k of ["w1", "b1", "w2", "b2"] as const) {
    if (got[k].length !== ref[k].length) return `grad ${k} has length ${got[k].length}, expected ${ref[k].length}`;
    const e = relErr(got[k], ref[k]);
    if (!(e <= tol)) return `grad ${k} max rel error ${e.toExponential(2)} > ${tol}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// tiny function

/** f(x) = x * 2 + 1 on this 4-element float32 input. */
export const TINY_INPUT = new Float32Array([1, 2, 3, 4]);
export function checkTiny(out: ArrayLike<number>): string | undefined {
  const want = [3, 5, 7, 9];
  for (let i = 0; i < 4; i++) if (out[i] !== want[i]) return `tiny f(x) = [${Array.from(out)}], expected [${want}]`;
  return out.length === 4 ? undefined : `tiny f(x) has length ${out.length}`;
}

// ---------------------------------------------------------------------------------------------
// eager per-op overhead

export type EagerOp = "add" | "exp";

/** Inputs of the eager-op rows: two float32 vectors of n values, uniform in [-1, 1). */
export function eagerOpInputs(n: number): { a: Float32Array; b: Float32Array } {
  const r = rng(3000 + n);
  return { a: uniform(n, -1, 1, r), b: uniform(n, -1, 1, r) };
}

/** add must be exact in float32; exp within 1e-5 relative (jax-js's wasm exp is approximate). */
export function checkEagerOp(op: EagerOp, a: Float32Array, b: Float32Array, out: ArrayLike<number>): string | undefined {
  if (out.length !== a.length) return `${op}: length ${out.length}, expected ${a.length}`;
  for (let i = 0; i < a.length; i++) {
    const want = op === "add" ? Math.fround(a[i]! + b[i]!) : Math.exp(a[i]!);
    const ok = op === "add" ? out[i] === want : Math.abs(out[i]! - want) <= 1e-5 * Math.abs(want);
    if (!ok) return `${op}: out[${i}] = ${out[i]}, expected ${want}`;
  }
  return undefined;
}

/** Results of timed calls are stored here so that no JS engine can drop the work as dead code. */
export const sink: { v: unknown } = { v: undefined };
