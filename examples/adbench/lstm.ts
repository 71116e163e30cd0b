// ADBench D-LSTM sequence loss written as ordinary adgen array code (float64), differentiated by
// adgen (grad / jit(grad)) w.r.t. the main and extra parameters. Definition:
// /work/shared/adbench/README.md, section LSTM.
//
// The time loop is written as a scan: `step(carry, x_t) -> [carry, loss_t]` with the carry the
// per-layer (hidden, cell) state and x_t = {cur: seq_t, next: seq_{t+1}}. It is run by
// `forLoopScan`, a plain JS for-loop with the lax.scan signature (the loop is unrolled when traced
// under jit). Switching to `lax.scan` is the one-line change marked SCAN below; since lax.scan
// has landed, the `*Scan` exports are that variant (same step function, loop not unrolled).

import { Tensor, grad, jit, lax, nn, np, tree } from "../../src/index.js";
import type { LstmData } from "./io.js";

/** Adgen float64 tensors for one D-LSTM instance. */
export interface LstmTensors {
  mainParams: Tensor; // [2l, 4b]: per layer a weight row then a bias row, blocks [f, i, o, c]
  extraParams: Tensor; // [3, b]: in_weight, out_weight, out_bias
  state: Tensor; // [2l, b]: per layer hidden then cell
  sequence: Tensor; // [c, b]
}

export function lstmTensors(data: LstmData): LstmTensors {
  const { l, c, b } = data;
  return {
    mainParams: Tensor.fromData(data.mainParams.slice(), [2 * l, 4 * b]),
    extraParams: Tensor.fromData(data.extraParams.slice(), [3, b]),
    state: Tensor.fromData(data.state.slice(), [2 * l, b]),
    sequence: Tensor.fromData(data.sequence.slice(), [c, b]),
  };
}

type Tree = Tensor | { [key: string]: Tree } | Tree[];

/**
 * lax.scan semantics with a JS for-loop: xs is a pytree of arrays with a leading time axis;
 * returns [final carry, ys stacked along a new leading axis].
 */
export function forLoopScan<C, X extends Tree>(
  fn: (carry: C, x: X) => [C, Tensor],
  init: C,
  xs: X,
): [C, Tensor] {
  const len = (tree.leaves(xs)[0] as Tensor).shape[0]!;
  let carry = init;
  const ys: Tensor[] = [];
  for (let t = 0; t < len; t++) {
    const xt = tree.map((a: Tensor) => np.index(a, t), xs) as X;
    const [next, y] = fn(carry, xt);
    carry = next;
    ys.push(y);
  }
  return [carry, np.stack(ys)];
}

interface LayerParams {
  wf: Tensor; wi: Tensor; wo: Tensor; wc: Tensor;
  bf: Tensor; bi: Tensor; bo: Tensor; bc: Tensor;
}
interface LayerState {
  h: Tensor;
  c: Tensor;
}

/** One D-LSTM cell: all weights are diagonal, so everything is elementwise over the b units. */
function cell(p: LayerParams, s: LayerState, input: Tensor): LayerState {
  const f = nn.sigmoid(np.add(np.multiply(input, p.wf), p.bf));
  const i = nn.sigmoid(np.add(np.multiply(s.h, p.wi), p.bi));
  const o = nn.sigmoid(np.add(np.multiply(input, p.wo), p.bo));
  const g = np.tanh(np.add(np.multiply(s.h, p.wc), p.bc));
  const c = np.add(np.multiply(s.c, f), np.multiply(i, g));
  return { h: np.multiply(o, np.tanh(c)), c };
}

type Scan = typeof forLoopScan;

/** The D-LSTM loss -(sum_t sum_j seq_{t+1,j} ynorm_{t,j}) / ((c-1) b); a float64 scalar. */
export function lstmObjective(mainParams: Tensor, extraParams: Tensor, state: Tensor, sequence: Tensor): Tensor {
  return lstmLoss(forLoopScan, mainParams, extraParams, state, sequence);
}

/** The same loss with the time loop as one lax.scan. */
export function lstmObjectiveScan(mainParams: Tensor, extraParams: Tensor, state: Tensor, sequence: Tensor): Tensor {
  return lstmLoss(lax.scan as unknown as Scan, mainParams, extraParams, state, sequence);
}

function lstmLoss(scan: Scan, mainParams: Tensor, extraParams: Tensor, state: Tensor, sequence: Tensor): Tensor {
  const l = mainParams.shape[0]! / 2;
  const b = extraParams.shape[1]!;
  const c = sequence.shape[0]!;
  const row = (a: Tensor, r: number) => np.index(a, r);
  const layers: LayerParams[] = [];
  for (let L = 0; L < l; L++) {
    const [wf, wi, wo, wc] = np.split(row(mainParams, 2 * L), 4) as [Tensor, Tensor, Tensor, Tensor];
    const [bf, bi, bo, bc] = np.split(row(mainParams, 2 * L + 1), 4) as [Tensor, Tensor, Tensor, Tensor];
    layers.push({ wf, wi, wo, wc, bf, bi, bo, bc });
  }
  const wIn = row(extraParams, 0);
  const wOut = row(extraParams, 1);
  const bOut = row(extraParams, 2);
  const init: LayerState[] = layers.map((_, L) => ({ h: row(state, 2 * L), c: row(state, 2 * L + 1) }));

  const step = (carry: LayerState[], x: { cur: Tensor; next: Tensor }): [LayerState[], Tensor] => {
    let input = np.multiply(x.cur, wIn);
    const out: LayerState[] = [];
    for (let L = 0; L < l; L++) {
      const s = cell(layers[L]!, carry[L]!, input);
      out.push(s);
      input = s.h;
    }
    const yhat = np.add(np.multiply(input, wOut), bOut);
    const ynorm = np.subtract(yhat, np.log(np.add(np.sum(np.exp(yhat)), 2)));
    return [out, np.sum(np.multiply(x.next, ynorm))];
  };

  const xs = { cur: np.index(sequence, np.s(0, c - 1)), next: np.index(sequence, np.s(1, c)) };
  const [, losses] = scan(step, init, xs); // SCAN: forLoopScan(step, init, xs) or lax.scan(step, init, xs)
  return np.divide(np.negative(np.sum(losses)), (c - 1) * b);
}

/** d loss / d(mainParams, extraParams), eager (op-by-op). */
export const lstmGrad = grad(lstmObjective, { argnums: [0, 1] }) as (
  ...args: Parameters<typeof lstmObjective>
) => [Tensor, Tensor];

/** The same gradient, jit-compiled (the time loop is unrolled into the traced program). */
export const lstmGradJit = jit(lstmGrad, { name: "lstmGrad" }) as unknown as typeof lstmGrad;

/** The objective, jit-compiled (for timing). */
export const lstmObjectiveJit = jit(lstmObjective, { name: "lstmObjective" }) as unknown as typeof lstmObjective;

/** Gradient and objective of the lax.scan variant, eager and jitted. */
export const lstmGradScan = grad(lstmObjectiveScan, { argnums: [0, 1] }) as typeof lstmGrad;
export const lstmGradScanJit = jit(lstmGradScan, { name: "lstmGradScan" }) as unknown as typeof lstmGrad;
export const lstmObjectiveScanJit = jit(lstmObjectiveScan, { name: "lstmObjectiveScan" }) as unknown as typeof lstmObjective;

/** [dMain, dExtra] flattened in the hand-written layout (8 l b + 3 b values). */
export function flatLstmGradient(g: [Tensor, Tensor]): Float64Array {
  const a = g[0].dataSync() as Float64Array;
  const e = g[1].dataSync() as Float64Array;
  const out = new Float64Array(a.length + e.length);
  out.set(a, 0);
  out.set(e, a.length);
  return out;
}
