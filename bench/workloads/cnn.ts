/**
 * CNN training-step workload ("cnn-step"): a small LeNet-style network on synthetic 28x28 images
 * (deterministic; no dataset download), all float32, NCHW / OIHW:
 *   x [32, 1, 28, 28] uniform [0, 1) (seed 7), labels 32 ints in 0..9
 *   conv 3x3, 1 -> 8, SAME, + bias, relu -> maxPool 2 -> [32, 8, 14, 14]
 *   conv 3x3, 8 -> 16, SAME, + bias, relu -> maxPool 2 -> [32, 16, 7, 7]
 *   dense 784 -> 10 (+ bias), mean softmax cross-entropy
 * A step is the loss and the gradients of all 6 parameters, read back. verify() checks the loss
 * and the dense bias gradient (mean over the batch of softmax - onehot) against a float64 loop.
 */
import { rng, uniform } from "./data.js";

export const CNN = { B: 32, H: 28, C1: 8, C2: 16, K: 3, classes: 10 } as const;
export const CNN_PARAM_NAMES = ["w1", "b1", "w2", "b2", "w3", "b3"] as const;
export type CnnParamName = (typeof CNN_PARAM_NAMES)[number];

export function cnnShapes(): Record<CnnParamName, number[]> {
  const { C1, C2, K, classes, H } = CNN;
  return { w1: [C1, 1, K, K], b1: [C1], w2: [C2, C1, K, K], b2: [C2], w3: [C2 * (H / 4) * (H / 4), classes], b3: [classes] };
}

export interface CnnData {
  x: Float32Array;
  labels: Int32Array;
  p: Record<CnnParamName, Float32Array>;
}

export function cnnData(): CnnData {
  const r = rng(7);
  const { B, H, classes } = CNN;
  const x = uniform(B * H * H, 0, 1, r);
  const labels = Int32Array.from({ length: B }, () => Math.floor(r() * classes));
  const shapes = cnnShapes();
  const p = {} as Record<CnnParamName, Float32Array>;
  for (const n of CNN_PARAM_NAMES) {
    const s = shapes[n];
    const size = s.reduce((a, b) => a * b, 1);
    const fanIn = n === "w3" ? s[0]! : s.slice(1).reduce((a, b) => a * b, 1);
    p[n] = n.startsWith("b") ? uniform(size, -0.1, 0.1, r) : uniform(size, -Math.sqrt(3 / fanIn), Math.sqrt(3 / fanIn), r);
  }
  return { x, labels, p };
}

/** float64 forward pass by loops: the loss and the logits' softmax - onehot, averaged over the batch. */
function reference(): { loss: number; db3: number[] } {
  const d = cnnData();
  const { B, H, C1, C2, K, classes } = CNN;
  const convReluPool = (inp: Float64Array, cin: number, n: number, w: Float32Array, b: Float32Array, cout: number) => {
    const conv = new Float64Array(B * cout * n * n);
    for (let s = 0; s < B; s++) for (let o = 0; o < cout; o++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let acc = b[o]!;
      for (let c = 0; c < cin; c++) for (let a = 0; a < K; a++) for (let e = 0; e < K; e++) {
        const u = i + a - 1, v = j + e - 1;
        if (u >= 0 && v >= 0 && u < n && v < n) acc += inp[((s * cin + c) * n + u) * n + v]! * w[((o * cin + c) * K + a) * K + e]!;
      }
      conv[((s * cout + o) * n + i) * n + j] = Math.max(acc, 0);
    }
    const m = n / 2;
    const out = new Float64Array(B * cout * m * m);
    for (let q = 0; q < B * cout; q++) for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) {
      const at = (u: number, v: number) => conv[(q * n + u) * n + v]!;
      out[(q * m + i) * m + j] = Math.max(at(2 * i, 2 * j), at(2 * i + 1, 2 * j), at(2 * i, 2 * j + 1), at(2 * i + 1, 2 * j + 1));
    }
    return out;
  };
  const h1 = convReluPool(Float64Array.from(d.x), 1, H, d.p.w1, d.p.b1, C1);
  const h2 = convReluPool(h1, C1, H / 2, d.p.w2, d.p.b2, C2);
  const F = C2 * (H / 4) * (H / 4);
  let loss = 0;
  const db3 = new Array<number>(classes).fill(0);
  for (let s = 0; s < B; s++) {
    const z = Array.from({ length: classes }, (_, k) => {
      let acc = d.p.b3[k]!;
      for (let f = 0; f < F; f++) acc += h2[s * F + f]! * d.p.w3[f * classes + k]!;
      return acc;
    });
    const mx = Math.max(...z);
    const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
    loss += (lse - z[d.labels[s]!]!) / B;
    z.forEach((v, k) => (db3[k] += (Math.exp(v - lse) - (k === d.labels[s] ? 1 : 0)) / B));
  }
  return { loss, db3 };
}

let cached: { loss: number; db3: number[] } | null = null;
const ref = () => (cached ??= reference());

export function checkCnnLoss(loss: number, tol = 1e-4): string | undefined {
  const want = ref().loss;
  return Math.abs(loss - want) <= tol * Math.max(1, Math.abs(want)) ? undefined : `cnn loss ${loss}, float64 reference ${want}`;
}

export function checkCnnBiasGrad(g: ArrayLike<number>, tol = 1e-4): string | undefined {
  const want = ref().db3;
  for (let k = 0; k < want.length; k++) {
    if (Math.abs(g[k]! - want[k]!) > tol) return `cnn d loss / d b3[${k}] = ${g[k]}, float64 reference ${want[k]}`;
  }
  return undefined;
}

/**
 * Real data for the CNN: a Fashion-MNIST subset shipped in bench/data (1024 training and 512
 * test images, 28x28 grayscale, 10 classes; Zalando Research, MIT licence; made by
 * scripts/make-fashion-subset.py). Pixels scaled to [0, 1], NCHW with one channel.
 */
export interface ImageSet {
  trainX: Float32Array;
  trainY: Int32Array;
  testX: Float32Array;
  testY: Int32Array;
}

export const FASHION_MNIST_FILE = new URL("../data/fashion-mnist-subset.bin.gz", import.meta.url);

export async function fashionMnist(): Promise<ImageSet> {
  const { readFileSync } = await import("node:fs");
  const { gunzipSync } = await import("node:zlib");
  const raw = gunzipSync(readFileSync(FASHION_MNIST_FILE));
  if (raw.subarray(0, 4).toString("latin1") !== "FMNS") throw new Error(`${FASHION_MNIST_FILE.pathname}: not a Fashion-MNIST subset file`);
  const nTrain = raw.readUInt32LE(4);
  const nTest = raw.readUInt32LE(8);
  let at = 12;
  const take = (n: number) => raw.subarray(at, (at += n));
  const pixels = (n: number) => Float32Array.from(take(n * 784), (v) => v / 255);
  const trainX = pixels(nTrain);
  const trainY = Int32Array.from(take(nTrain));
  const testX = pixels(nTest);
  const testY = Int32Array.from(take(nTest));
  return { trainX, trainY, testX, testY };
}
