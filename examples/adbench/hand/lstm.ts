// Hand-written float64 D-LSTM objective and hand-derived reverse-mode gradient (backpropagation
// through time), the ADBench "Manual" baseline and test oracle. Definition:
// /work/shared/adbench/README.md, section LSTM.
//
// Parameter layout (as in the file). mainParams: for layer L, the weight row starts at 8bL and
// the bias row at 8bL + 4b; each row holds [forget, ingate, outgate, change] blocks of b values.
// extraParams: [in_weight (b), out_weight (b), out_bias (b)].
// All gates are elementwise ("diagonal" weights), so unit j of a layer only sees unit j of the
// layer below; the units are coupled only by the log-sum-exp of the output.
//
// Backward pass, per time step t (from c-2 down to 0), with g_j = dloss/dynorm_j = -seq_{t+1,j}/count:
//   dyhat_j = g_j - softmax2_j * sum_j g_j,   softmax2_j = exp(yhat_j) / (sum exp(yhat) + 2)
//   d out_weight_j += dyhat_j * h_top_j,  d out_bias_j += dyhat_j,  dh_top_j = dyhat_j * out_weight_j
// then for each layer from top to bottom, with dh = (from above) + (carried from step t+1) and
// dcell carried from step t+1:
//   do = dh*tanh(cell);  dcell += dh*o*(1 - tanh(cell)^2)
//   df = dcell*cell_prev; di = dcell*g; dg = dcell*i;  dcell_prev = dcell*f   (carried to t-1)
//   dz_f = df f(1-f), dz_i = di i(1-i), dz_o = do o(1-o), dz_g = dg (1-g^2)
//   dW_f += dz_f*in, dW_o += dz_o*in, dW_i += dz_i*h_prev, dW_c += dz_g*h_prev, db_* += dz_*
//   d in = dz_f W_f + dz_o W_o (to the layer below);  dh_prev = dz_i W_i + dz_g W_c (to t-1)
// and finally d in_weight_j += d in_j(layer 0) * seq_{t,j}.

import type { LstmData } from "../io.js";

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** The D-LSTM sequence loss: -(sum_t sum_j seq_{t+1,j} ynorm_{t,j}) / ((c-1) b). */
export function lstmObjective(data: LstmData): number {
  const { l, c, b, mainParams: mp, extraParams: ep, sequence: seq } = data;
  const state = data.state.slice(); // per layer: hidden (b) then cell (b); updated in place
  const x = new Float64Array(b); // input of the current layer
  const yhat = new Float64Array(b);
  let total = 0;
  let count = 0;
  for (let t = 0; t < c - 1; t++) {
    for (let j = 0; j < b; j++) x[j] = seq[t * b + j]! * ep[j]!;
    for (let layer = 0; layer < l; layer++) {
      const w = layer * 8 * b;
      const bias = w + 4 * b;
      const h = layer * 2 * b;
      const ce = h + b;
      for (let j = 0; j < b; j++) {
        const hp = state[h + j]!;
        const f = sigmoid(x[j]! * mp[w + j]! + mp[bias + j]!);
        const ig = sigmoid(hp * mp[w + b + j]! + mp[bias + b + j]!);
        const o = sigmoid(x[j]! * mp[w + 2 * b + j]! + mp[bias + 2 * b + j]!);
        const g = Math.tanh(hp * mp[w + 3 * b + j]! + mp[bias + 3 * b + j]!);
        const cell = state[ce + j]! * f + ig * g;
        const hn = o * Math.tanh(cell);
        state[ce + j] = cell;
        state[h + j] = hn;
        x[j] = hn;
      }
    }
    let sumExp = 0;
    for (let j = 0; j < b; j++) {
      yhat[j] = x[j]! * ep[b + j]! + ep[2 * b + j]!;
      sumExp += Math.exp(yhat[j]!);
    }
    const lse = Math.log(sumExp + 2);
    for (let j = 0; j < b; j++) total += seq[(t + 1) * b + j]! * (yhat[j]! - lse);
    count += b;
  }
  return -total / count;
}

// Per (t, layer) cache of 8 blocks of b values, in this order:
const IN = 0; // layer input
const HP = 1; // previous hidden of this layer
const CP = 2; // previous cell of this layer
const F = 3;
const I = 4;
const O = 5;
const G = 6;
const TC = 7; // tanh(new cell)

/** Gradient of lstmObjective w.r.t. [mainParams, extraParams] (8*l*b + 3*b values). */
export function lstmGradient(data: LstmData): Float64Array {
  const { l, c, b, mainParams: mp, extraParams: ep, sequence: seq } = data;
  const steps = c - 1;
  const count = steps * b;
  const slot = 8 * b; // cache size per (t, layer)
  const cache = new Float64Array(Math.max(steps, 0) * l * slot);
  const soft = new Float64Array(Math.max(steps, 0) * b); // exp(yhat_j) / (sum exp(yhat) + 2)
  const state = data.state.slice();
  const x = new Float64Array(b);

  // Forward pass, recording everything the backward pass needs.
  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < b; j++) x[j] = seq[t * b + j]! * ep[j]!;
    for (let layer = 0; layer < l; layer++) {
      const w = layer * 8 * b;
      const bias = w + 4 * b;
      const h = layer * 2 * b;
      const ce = h + b;
      const cs = (t * l + layer) * slot;
      for (let j = 0; j < b; j++) {
        const hp = state[h + j]!;
        const cp = state[ce + j]!;
        const f = sigmoid(x[j]! * mp[w + j]! + mp[bias + j]!);
        const ig = sigmoid(hp * mp[w + b + j]! + mp[bias + b + j]!);
        const o = sigmoid(x[j]! * mp[w + 2 * b + j]! + mp[bias + 2 * b + j]!);
        const g = Math.tanh(hp * mp[w + 3 * b + j]! + mp[bias + 3 * b + j]!);
        const cell = cp * f + ig * g;
        const tc = Math.tanh(cell);
        cache[cs + IN * b + j] = x[j]!;
        cache[cs + HP * b + j] = hp;
        cache[cs + CP * b + j] = cp;
        cache[cs + F * b + j] = f;
        cache[cs + I * b + j] = ig;
        cache[cs + O * b + j] = o;
        cache[cs + G * b + j] = g;
        cache[cs + TC * b + j] = tc;
        state[ce + j] = cell;
        state[h + j] = o * tc;
        x[j] = o * tc;
      }
    }
    let sumExp = 0;
    for (let j = 0; j < b; j++) {
      const e = Math.exp(x[j]! * ep[b + j]! + ep[2 * b + j]!);
      soft[t * b + j] = e;
      sumExp += e;
    }
    for (let j = 0; j < b; j++) soft[t * b + j] /= sumExp + 2;
  }

  // Backward pass.
  const grad = new Float64Array(8 * l * b + 3 * b);
  const ge = 8 * l * b; // offset of the extra-parameter gradient
  const dhNext = new Float64Array(l * b); // dloss/d hidden_{t} of each layer, from step t+1
  const dcNext = new Float64Array(l * b); // dloss/d cell_{t} of each layer, from step t+1
  const dx = new Float64Array(b); // dloss/d (output of the current layer)
  for (let t = steps - 1; t >= 0; t--) {
    let sumG = 0;
    for (let j = 0; j < b; j++) sumG -= seq[(t + 1) * b + j]! / count;
    const top = ((t * l + l - 1) * 8 + O) * b; // o and tanh(cell) of the top layer
    for (let j = 0; j < b; j++) {
      const dy = -seq[(t + 1) * b + j]! / count - soft[t * b + j]! * sumG;
      const hTop = cache[top + j]! * cache[top + (TC - O) * b + j]!;
      grad[ge + b + j] += dy * hTop;
      grad[ge + 2 * b + j] += dy;
      dx[j] = dy * ep[b + j]!;
    }
    for (let layer = l - 1; layer >= 0; layer--) {
      const w = layer * 8 * b;
      const bias = w + 4 * b;
      const cs = (t * l + layer) * slot;
      const so = layer * b;
      for (let j = 0; j < b; j++) {
        const inp = cache[cs + IN * b + j]!;
        const hp = cache[cs + HP * b + j]!;
        const f = cache[cs + F * b + j]!;
        const ig = cache[cs + I * b + j]!;
        const o = cache[cs + O * b + j]!;
        const g = cache[cs + G * b + j]!;
        const tc = cache[cs + TC * b + j]!;
        const dh = dx[j]! + dhNext[so + j]!;
        const dcell = dcNext[so + j]! + dh * o * (1 - tc * tc);
        const dzf = dcell * cache[cs + CP * b + j]! * f * (1 - f);
        const dzi = dcell * g * ig * (1 - ig);
        const dzo = dh * tc * o * (1 - o);
        const dzg = dcell * ig * (1 - g * g);
        grad[w + j] += dzf * inp;
        grad[w + b + j] += dzi * hp;
        grad[w + 2 * b + j] += dzo * inp;
        grad[w + 3 * b + j] += dzg * hp;
        grad[bias + j] += dzf;
        grad[bias + b + j] += dzi;
        grad[bias + 2 * b + j] += dzo;
        grad[bias + 3 * b + j] += dzg;
        dcNext[so + j] = dcell * f;
        dhNext[so + j] = dzi * mp[w + b + j]! + dzg * mp[w + 3 * b + j]!;
        dx[j] = dzf * mp[w + j]! + dzo * mp[w + 2 * b + j]!;
      }
    }
    for (let j = 0; j < b; j++) grad[ge + j] += dx[j]! * seq[t * b + j]!;
  }
  return grad;
}
