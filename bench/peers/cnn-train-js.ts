/**
 * The JavaScript peers of bench/cnn-train.ts: the same CNN (conv 3x3x8 SAME + relu -> maxPool 2
 * -> conv 3x3x16 SAME + relu -> maxPool 2 -> dense 10), initial parameters, batches and plain SGD
 * as adgen and PyTorch there, in TensorFlow.js (cpu or wasm backend) and jax-js (wasm device).
 * Each returns the mean training loss per epoch, the test accuracy and the median step time (the
 * step: forward, gradients, the parameter update and reading the loss back).
 *
 * tfjs: its convolutions are NHWC / HWIO, so the kernels are transposed once and the pooled map
 * transposed back to NCHW before the dense layer (the same flattening as the other peers); with
 * one input channel the images' NCHW and NHWC layouts are the same bytes. The step is
 * tf.variableGrads plus one assign per parameter inside tf.tidy.
 * jax-js: lax.convGeneralDilated (NCHW / OIHW, as adgen) and maxPool as lax.reduceWindow with
 * np.max; the step is one jit(valueAndGrad + update), its arguments passed as `.ref` (jax-js
 * functions consume their arguments).
 */
import path from "node:path";
import { createRequire } from "node:module";
import type * as TF from "@tensorflow/tfjs";
import { CNN, CNN_PARAM_NAMES, type CnnParamName, type ImageSet, cnnData, cnnShapes } from "../workloads/cnn.js";

export interface TrainResult {
  steps: number;
  stepMs: number;
  losses: number[];
  accuracy: number;
  note?: string;
}
export interface TrainOpts {
  epochs: number;
  lr: number;
  data: ImageSet;
}

export const median = (a: number[]) => [...a].sort((u, v) => u - v)[a.length >> 1]!;
const B = CNN.B;

/** The training loop shared by the peers: `step(s)` runs batch s and returns its loss. */
function train(epochs: number, nBatches: number, step: (s: number) => number): { times: number[]; losses: number[] } {
  const times: number[] = [];
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let tot = 0;
    for (let s = 0; s < nBatches; s++) {
      const t0 = performance.now();
      tot += step(s);
      times.push(performance.now() - t0);
    }
    losses.push(tot / nBatches);
  }
  return { times, losses };
}

const accuracy = (pred: ArrayLike<number>, want: Int32Array) => {
  let right = 0;
  for (let i = 0; i < want.length; i++) right += pred[i] === want[i] ? 1 : 0;
  return right / want.length;
};

export async function tfjsTrain(backend: "cpu" | "wasm", o: TrainOpts): Promise<TrainResult> {
  const tf: typeof TF = await import("@tensorflow/tfjs");
  if (backend === "wasm") {
    const { setWasmPaths } = await import("@tensorflow/tfjs-backend-wasm");
    const require = createRequire(import.meta.url);
    setWasmPaths(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm")) + path.sep);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") failed`);
  await tf.ready();
  const init = cnnData().p;
  const shapes = cnnShapes();
  const hwio = (n: "w1" | "w2") => tf.tidy(() => tf.transpose(tf.tensor(init[n], shapes[n]), [2, 3, 1, 0]));
  const v = {
    w1: tf.variable(hwio("w1")),
    b1: tf.variable(tf.tensor1d(init.b1)),
    w2: tf.variable(hwio("w2")),
    b2: tf.variable(tf.tensor1d(init.b2)),
    w3: tf.variable(tf.tensor2d(init.w3, shapes.w3 as [number, number])),
    b3: tf.variable(tf.tensor1d(init.b3)),
  };
  const logits = (x: TF.Tensor4D) => {
    const block = (h: TF.Tensor4D, w: TF.Variable, b: TF.Variable) => tf.maxPool(tf.relu(tf.add(tf.conv2d(h, w as unknown as TF.Tensor4D, 1, "same"), b)) as TF.Tensor4D, 2, 2, "valid");
    const h = block(block(x, v.w1, v.b1), v.w2, v.b2);
    return tf.add(tf.matMul(tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [x.shape[0], -1]) as TF.Tensor2D, v.w3), v.b3) as TF.Tensor2D;
  };
  const nBatches = Math.floor(o.data.trainY.length / B);
  const xs = Array.from({ length: nBatches }, (_, s) => tf.tensor4d(o.data.trainX.subarray(s * B * 784, (s + 1) * B * 784), [B, 28, 28, 1]));
  const ys = Array.from({ length: nBatches }, (_, s) => tf.oneHot(tf.tensor1d(o.data.trainY.subarray(s * B, (s + 1) * B), "int32"), CNN.classes));
  const vars = CNN_PARAM_NAMES.map((n) => v[n]);
  const { times, losses } = train(o.epochs, nBatches, (s) => {
    const value = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.div(tf.neg(tf.sum(tf.mul(ys[s]!, tf.logSoftmax(logits(xs[s]!))))), B) as TF.Scalar, vars);
      for (const n of CNN_PARAM_NAMES) v[n].assign(tf.sub(v[n], tf.mul(grads[v[n].name]!, o.lr)));
      return value;
    });
    const l = value.dataSync()[0]!;
    value.dispose();
    return l;
  });
  const nTest = o.data.testY.length;
  const pred = tf.tidy(() => tf.argMax(logits(tf.tensor4d(o.data.testX, [nTest, 28, 28, 1])), -1));
  const acc = accuracy(pred.dataSync(), o.data.testY);
  tf.dispose([pred, ...xs, ...ys, ...vars]);
  return { steps: times.length, stepMs: median(times.slice(1)), losses, accuracy: acc };
}

export async function jaxjsTrain(o: TrainOpts): Promise<TrainResult> {
  const { init, defaultDevice, jit, lax, nn, numpy: np, valueAndGrad } = await import("@jax-js/jax");
  type A = InstanceType<typeof np.Array>;
  type P = Record<CnnParamName, A>;
  await init("wasm");
  defaultDevice("wasm");
  const initP = cnnData().p;
  const shapes = cnnShapes();
  let p = Object.fromEntries(CNN_PARAM_NAMES.map((n) => [n, np.array(initP[n]).reshape(shapes[n])])) as P;
  const refs = (q: P) => Object.fromEntries(CNN_PARAM_NAMES.map((n) => [n, q[n].ref])) as P;
  const logits = (q: P, x: A) => {
    const block = (h: A, w: A, b: A) => {
      const c = lax.convGeneralDilated(h, w, [1, 1], "SAME").add(b.reshape([1, -1, 1, 1]));
      return lax.reduceWindow(nn.relu(c), (win: A) => np.max(win), [2, 2], [2, 2]);
    };
    const h = block(block(x, q.w1, q.b1), q.w2, q.b2);
    return np.matmul(h.reshape([x.shape[0]!, -1]), q.w3).add(q.b3);
  };
  const loss = (q: P, x: A, y: A) => nn.logSoftmax(logits(q, x), -1).mul(y).sum().mul(-1 / B);
  const step = jit((q: P, x: A, y: A) => {
    const [l, g] = valueAndGrad(loss)(refs(q), x, y) as [A, P];
    return [l, Object.fromEntries(CNN_PARAM_NAMES.map((n) => [n, q[n].sub(g[n].mul(o.lr))])) as P];
  }) as unknown as ((q: P, x: A, y: A) => [A, P]) & { dispose(): void };
  const nBatches = Math.floor(o.data.trainY.length / B);
  const xs = Array.from({ length: nBatches }, (_, s) => np.array(o.data.trainX.subarray(s * B * 784, (s + 1) * B * 784)).reshape([B, 1, 28, 28]));
  const ys = Array.from({ length: nBatches }, (_, s) => nn.oneHot(np.array(o.data.trainY.subarray(s * B, (s + 1) * B), { dtype: np.int32 }), CNN.classes));
  const { times, losses } = train(o.epochs, nBatches, (s) => {
    const [l, next] = step(p, xs[s]!.ref, ys[s]!.ref);
    const v = (l.dataSync() as Float32Array)[0]!;
    p = next;
    return v;
  });
  const nTest = o.data.testY.length;
  const pred = np.argmax(logits(p, np.array(o.data.testX).reshape([nTest, 1, 28, 28])), -1);
  const acc = accuracy(pred.dataSync() as Int32Array, o.data.testY);
  step.dispose();
  for (const a of [...xs, ...ys]) a.dispose();
  return { steps: times.length, stepMs: median(times.slice(1)), losses, accuracy: acc };
}
