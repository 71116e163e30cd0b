/**
 * The transformer-block and large-elementwise workloads (issue 12), shared by every peer, with
 * float64 references for verify().
 *
 * Transformer block (pre-LayerNorm, float32): B=8, T=128, d=256, 4 heads (dh=64), MLP 256-1024-256
 * with GELU (tanh approximation), no attention mask, no dropout:
 *   h  = LN(x; g1, c1);  q,k,v = h Wq, h Wk, h Wv (per head)
 *   x1 = x + softmax(q k^T / sqrt(dh)) v Wo
 *   y  = x1 + gelu(LN(x1; g2, c2) W1 + b1) W2 + b2
 *   loss = mean((y - target)^2)
 * "transformer-fwd" computes the loss, "transformer-step" the loss and the gradients of all 12
 * parameters (read back). Parameters are seeded uniform (Glorot for the matrices).
 *
 * Large elementwise: x = 4M float32 uniform in [-3, 3]; f(x) = sum(tanh(x) * exp(-x*x)); "ew-4m-fwd"
 * computes f, "ew-4m-grad" its gradient (4M values read back).
 */
import { rng, uniform } from "./data.js";

export const TF = { B: 8, T: 128, d: 256, heads: 4, ff: 1024 } as const;
export const EW_N = 4 * 1024 * 1024;

export const TF_PARAM_NAMES = ["g1", "c1", "wq", "wk", "wv", "wo", "g2", "c2", "w1", "b1", "w2", "b2"] as const;
export type TfParamName = (typeof TF_PARAM_NAMES)[number];
export type TfParams = Record<TfParamName, Float32Array>;

export interface TfData {
  x: Float32Array;
  target: Float32Array;
  p: TfParams;
}

/** Shapes of the parameters (row-major). */
export function tfShapes(): Record<TfParamName, number[]> {
  const { d, ff } = TF;
  return { g1: [d], c1: [d], wq: [d, d], wk: [d, d], wv: [d, d], wo: [d, d], g2: [d], c2: [d], w1: [d, ff], b1: [ff], w2: [ff, d], b2: [d] };
}

let cached: TfData | undefined;
export function tfData(): TfData {
  if (cached) return cached;
  const { B, T, d, ff } = TF;
  const r = rng(4242);
  const glorot = (a: number, b: number) => uniform(a * b, -Math.sqrt(6 / (a + b)), Math.sqrt(6 / (a + b)), r);
  const p: TfParams = {
    g1: uniform(d, 0.9, 1.1, r),
    c1: uniform(d, -0.1, 0.1, r),
    wq: glorot(d, d),
    wk: glorot(d, d),
    wv: glorot(d, d),
    wo: glorot(d, d),
    g2: uniform(d, 0.9, 1.1, r),
    c2: uniform(d, -0.1, 0.1, r),
    w1: glorot(d, ff),
    b1: uniform(ff, -0.1, 0.1, r),
    w2: glorot(ff, d),
    b2: uniform(d, -0.1, 0.1, r),
  };
  cached = { x: uniform(B * T * d, -1, 1, r), target: uniform(B * T * d, -1, 1, r), p };
  return cached;
}

// ---------------------------------------------------------------------------------------------
// float64 reference (straightforward loops; used once per peer by verify())

function layerNorm(x: Float64Array, rows: number, d: number, g: ArrayLike<number>, c: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < rows; i++) {
    let m = 0;
    for (let j = 0; j < d; j++) m += x[i * d + j]!;
    m /= d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[i * d + j]! - m) ** 2;
    const s = 1 / Math.sqrt(v / d + 1e-5);
    for (let j = 0; j < d; j++) out[i * d + j] = (x[i * d + j]! - m) * s * g[j]! + c[j]!;
  }
  return out;
}
function matmul(a: Float64Array, rows: number, k: number, w: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(rows * n);
  for (let i = 0; i < rows; i++)
    for (let t = 0; t < k; t++) {
      const av = a[i * k + t]!;
      if (av === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += av * w[t * n + j]!;
    }
  return out;
}
const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));

/** The loss in float64, with the parameters perturbed by eps * dir (for a directional check). */
export function tfLossReference(data: TfData, dir?: TfParams, eps = 0): number {
  const { B, T, d, heads, ff } = TF;
  const dh = d / heads;
  const rows = B * T;
  const p = Object.fromEntries(TF_PARAM_NAMES.map((n) => [n, Float64Array.from(data.p[n], (v, i) => v + (dir ? eps * dir[n][i]! : 0))])) as Record<TfParamName, Float64Array>;
  const x = Float64Array.from(data.x);
  const h = layerNorm(x, rows, d, p.g1, p.c1);
  const q = matmul(h, rows, d, p.wq, d);
  const k = matmul(h, rows, d, p.wk, d);
  const v = matmul(h, rows, d, p.wv, d);
  const att = new Float64Array(rows * d);
  const s = new Float64Array(T);
  for (let b = 0; b < B; b++)
    for (let hd = 0; hd < heads; hd++)
      for (let i = 0; i < T; i++) {
        let mx = -Infinity;
        for (let j = 0; j < T; j++) {
          let dot = 0;
          for (let t = 0; t < dh; t++) dot += q[(b * T + i) * d + hd * dh + t]! * k[(b * T + j) * d + hd * dh + t]!;
          s[j] = dot / Math.sqrt(dh);
          mx = Math.max(mx, s[j]!);
        }
        let z = 0;
        for (let j = 0; j < T; j++) z += (s[j] = Math.exp(s[j]! - mx));
        for (let j = 0; j < T; j++) {
          const w = s[j]! / z;
          for (let t = 0; t < dh; t++) att[(b * T + i) * d + hd * dh + t] += w * v[(b * T + j) * d + hd * dh + t]!;
        }
      }
  const o = matmul(att, rows, d, p.wo, d);
  const x1 = x.map((xv, i) => xv + o[i]!);
  const h2 = layerNorm(x1, rows, d, p.g2, p.c2);
  const m1 = matmul(h2, rows, d, p.w1, ff).map((zv, i) => gelu(zv + p.b1[i % ff]!));
  const m2 = matmul(m1, rows, ff, p.w2, d);
  let loss = 0;
  for (let i = 0; i < rows * d; i++) loss += (x1[i]! + m2[i]! + p.b2[i % d]! - data.target[i]!) ** 2;
  return loss / (rows * d);
}

let refLoss: number | undefined;
export function checkTfLoss(loss: number, tol = 2e-4): string | undefined {
  refLoss ??= tfLossReference(tfData());
  const rel = Math.abs(loss - refLoss) / Math.abs(refLoss);
  return rel <= tol ? undefined : `loss ${loss} vs float64 ${refLoss} (relative error ${rel.toExponential(2)})`;
}

let refDirectional: { dir: TfParams; value: number } | undefined;
/** Checks the gradients along one seeded direction against a central difference of the float64 loss. */
export function checkTfGrads(grads: Record<TfParamName, ArrayLike<number>>, tol = 2e-3): string | undefined {
  if (!refDirectional) {
    const r = rng(99);
    const shapes = tfShapes();
    const dir = Object.fromEntries(TF_PARAM_NAMES.map((n) => [n, uniform(shapes[n].reduce((a, b) => a * b, 1), -1, 1, r)])) as TfParams;
    const eps = 1e-4;
    const value = (tfLossReference(tfData(), dir, eps) - tfLossReference(tfData(), dir, -eps)) / (2 * eps);
    refDirectional = { dir, value };
  }
  let got = 0;
  for (const n of TF_PARAM_NAMES) for (let i = 0; i < grads[n].length; i++) got += grads[n][i]! * refDirectional.dir[n][i]!;
  const rel = Math.abs(got - refDirectional.value) / Math.abs(refDirectional.value);
  return rel <= tol ? undefined : `directional derivative ${got} vs float64 central difference ${refDirectional.value} (relative error ${rel.toExponential(2)})`;
}

// ---------------------------------------------------------------------------------------------
// large elementwise

let ewCached: Float32Array | undefined;
export function ewInput(): Float32Array {
  ewCached ??= uniform(EW_N, -3, 3, rng(77));
  return ewCached;
}
export function checkEwValue(v: number): string | undefined {
  let ref = 0;
  for (const x of ewInput()) ref += Math.tanh(x) * Math.exp(-x * x);
  const tol = 1e-3 * Math.max(1, Math.abs(ref)) + 1e-6 * EW_N ** 0.5;
  return Math.abs(v - ref) <= tol ? undefined : `value ${v} vs float64 ${ref}`;
}
export function checkEwGrad(g: ArrayLike<number>): string | undefined {
  const x = ewInput();
  if (g.length !== x.length) return `gradient length ${g.length}, expected ${x.length}`;
  for (let i = 0; i < x.length; i += 4099) {
    const t = Math.tanh(x[i]!);
    const e = Math.exp(-x[i]! * x[i]!);
    const want = (1 - t * t) * e - 2 * x[i]! * t * e;
    if (Math.abs(g[i]! - want) > 1e-5 + 1e-4 * Math.abs(want)) return `gradient[${i}] = ${g[i]}, float64 ${want}`;
  }
  return undefined;
}
