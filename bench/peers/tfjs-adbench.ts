/**
 * ADBench GMM and D-LSTM objectives in TensorFlow.js, for the gmm-* and lstm-* rows of the
 * tfjs-wasm and tfjs-cpu peers. Same math as examples/adbench/{gmm,lstm}.ts.
 *
 * tfjs has no float64 dtype (tf.tensor(Float64Array) is stored as float32), so these run in
 * float32 and are checked against the hand-written float64 results with the float32 tolerance.
 * Gradients: tf.grads (tape-based reverse mode, eager). tfjs has no jit and no scan: the LSTM
 * time loop is a JS loop of eager ops (1023 steps x ~45 ops, recorded on the tape for tf.grads).
 * Every call runs inside tf.tidy and reads its results back with dataSync().
 */
import * as tf from "@tensorflow/tfjs";
import type { GmmData, LstmData } from "../../examples/adbench/io.js";
import { gmmConstant, qtSelection } from "../workloads/adbench.js";

/** tfjs takes no Float64Array: the float64 inputs are rounded to float32. */
const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);

// ---------------------------------------------------------------------------------------------
// GMM

export interface TfGmm {
  /** Inputs (float32): alphas [K], means [K, D], icf [K, T], and the constants. */
  tensors: tf.Tensor[];
  objective(): number;
  gradient(): Float32Array[];
}

export function tfGmm(g: GmmData): TfGmm {
  const { d: D, k: K, n: N, gamma, m } = g;
  const T = (D * (D + 1)) / 2;
  const alphas = tf.tensor1d(f32(g.alphas), "float32");
  const means = tf.tensor2d(f32(g.means), [K, D], "float32");
  const icf = tf.tensor2d(f32(g.icf), [K, T], "float32");
  const x3 = tf.tensor3d(f32(g.x), [1, N, D], "float32");
  // Q^T by a 0/1 selection matmul: the gradient of tf.gather needs UnsortedSegmentSum, which the
  // wasm backend does not register ("Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'").
  const qtSel = tf.tensor2d(f32(qtSelection(D)), [1 + T, D * D], "float32");
  const zeroCol = tf.zeros([K, 1]);
  const constant = gmmConstant(g);
  const f = (al: tf.Tensor, mu: tf.Tensor, ic: tf.Tensor): tf.Scalar => {
    const q = tf.slice(ic, [0, 0], [K, D]);
    const l = tf.slice(ic, [0, D], [K, T - D]);
    const expQ = tf.exp(q);
    const padded = tf.concat([zeroCol, expQ, l], 1); // [K, 1 + T]
    const QT = tf.reshape(tf.matMul(padded, qtSel), [K, D, D]); // QT[k] = Q_k^T
    const diff = tf.sub(x3, tf.reshape(mu, [K, 1, D])); // [K, N, D]
    const y = tf.matMul(diff as tf.Tensor3D, QT as tf.Tensor3D); // [K, N, D]
    const sumQ = tf.sum(q, 1); // [K]
    const z = tf.sub(tf.reshape(tf.add(al, sumQ), [K, 1]), tf.mul(0.5, tf.sum(tf.square(y), 2))); // [K, N]
    const data = tf.sum(tf.logSumExp(z, 0));
    const frob = tf.add(tf.sum(tf.square(expQ)), tf.sum(tf.square(l)));
    const prior = tf.sub(tf.mul(0.5 * gamma * gamma, frob), tf.mul(m, tf.sum(sumQ)));
    return tf.add(tf.add(tf.sub(data, tf.mul(N, tf.logSumExp(al))), prior), constant) as tf.Scalar;
  };
  const df = tf.grads(f);
  return {
    tensors: [alphas, means, icf, x3, qtSel, zeroCol],
    objective: () => {
      const v = tf.tidy(() => f(alphas, means, icf));
      const out = v.dataSync()[0]!;
      v.dispose();
      return out;
    },
    gradient: () => {
      const gs = tf.tidy(() => df([alphas, means, icf]));
      const out = gs.map((t) => t.dataSync() as Float32Array);
      tf.dispose(gs);
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// LSTM

export interface TfLstm {
  tensors: tf.Tensor[];
  objective(): number;
  gradient(): Float32Array[];
}

export function tfLstm(d: LstmData): TfLstm {
  const { l, c, b } = d;
  const main = tf.tensor2d(f32(d.mainParams), [2 * l, 4 * b], "float32");
  const extra = tf.tensor2d(f32(d.extraParams), [3, b], "float32");
  const state = tf.tensor2d(f32(d.state), [2 * l, b], "float32");
  const seqT = tf.tensor2d(f32(d.sequence), [c, b], "float32");
  // rows of the sequence and of the state, created once (inputs, not differentiated)
  const seq = tf.unstack(seqT);
  const st = tf.unstack(state);
  const f = (mp: tf.Tensor, ep: tf.Tensor): tf.Scalar => {
    const rows = tf.unstack(mp);
    const W = [];
    const B = [];
    for (let L = 0; L < l; L++) {
      W.push(tf.split(rows[2 * L]!, 4));
      B.push(tf.split(rows[2 * L + 1]!, 4));
    }
    const [wIn, wOut, bOut] = tf.unstack(ep) as [tf.Tensor, tf.Tensor, tf.Tensor];
    let h = Array.from({ length: l }, (_, L) => st[2 * L]!);
    let cs = Array.from({ length: l }, (_, L) => st[2 * L + 1]!);
    let total: tf.Tensor = tf.scalar(0);
    for (let t = 0; t < c - 1; t++) {
      let input = tf.mul(seq[t]!, wIn);
      const nh: tf.Tensor[] = [];
      const nc: tf.Tensor[] = [];
      for (let L = 0; L < l; L++) {
        const [wf, wi, wo, wc] = W[L]!;
        const [bf, bi, bo, bc] = B[L]!;
        const fg = tf.sigmoid(tf.add(tf.mul(input, wf!), bf!));
        const ig = tf.sigmoid(tf.add(tf.mul(h[L]!, wi!), bi!));
        const og = tf.sigmoid(tf.add(tf.mul(input, wo!), bo!));
        const gg = tf.tanh(tf.add(tf.mul(h[L]!, wc!), bc!));
        const cell = tf.add(tf.mul(cs[L]!, fg), tf.mul(ig, gg));
        const hn = tf.mul(og, tf.tanh(cell));
        nh.push(hn);
        nc.push(cell);
        input = hn;
      }
      h = nh;
      cs = nc;
      const yhat = tf.add(tf.mul(input, wOut), bOut);
      const ynorm = tf.sub(yhat, tf.log(tf.add(tf.sum(tf.exp(yhat)), 2)));
      total = tf.add(total, tf.sum(tf.mul(seq[t + 1]!, ynorm)));
    }
    return tf.div(tf.neg(total), (c - 1) * b) as tf.Scalar;
  };
  const df = tf.grads(f);
  return {
    tensors: [main, extra, state, seqT, ...seq, ...st],
    objective: () => {
      const v = tf.tidy(() => f(main, extra));
      const out = v.dataSync()[0]!;
      v.dispose();
      return out;
    },
    gradient: () => {
      const gs = tf.tidy(() => df([main, extra]));
      const out = gs.map((t) => t.dataSync() as Float32Array);
      tf.dispose(gs);
      return out;
    },
  };
}
