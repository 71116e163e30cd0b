/**
 * adgen versions of the shared workload functions (MLP loss, chain), written against a library
 * object `lib` so that the same code runs in-process against src/ (via tsx, bench/peers/adgen.ts)
 * and in a child process against the built dist/ (bench/peers/adgen-first-call.ts).
 * Only types are imported from src/ here (erased at run time).
 */
import type * as Adgen from "../../src/index.js";
import type { ChainOp } from "../workloads/chain.js";
import { CHAIN } from "../workloads/chain.js";
import { MLP, type MlpData, type MlpGrads } from "../workloads/data.js";

export type Lib = typeof Adgen;
export type Tensor = Adgen.Tensor;
export type Params = { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };
export type StepFn = (p: Params, x: Tensor, y: Tensor) => [Tensor, Params];

export const arr = (lib: Lib, data: Float32Array, shape: number[]): Tensor => lib.np.array(data).reshape(shape);

export interface MlpTensors {
  d: MlpData;
  p: Params;
  x: Tensor;
  y: Tensor;
}

export function mlpTensors(lib: Lib, d: MlpData): MlpTensors {
  const { nIn, nHidden: H, nOut: K } = MLP;
  return {
    d,
    p: {
      W1: arr(lib, d.w1, [nIn, H]),
      b1: arr(lib, d.b1, [H]),
      W2: arr(lib, d.w2, [H, K]),
      b2: arr(lib, d.b2, [K]),
    },
    x: arr(lib, d.x, [d.batch, nIn]),
    y: arr(lib, d.y, [d.batch, K]),
  };
}

/**
 * loss(p, x, y) = -mean_b sum_k y * logSoftmax(relu(x W1 + b1) W2 + b2): the same math as the
 * other peers. The batch size is x.shape[0], divided through np so it may be symbolic.
 */
export function mlpLoss(lib: Lib) {
  const { np, nn } = lib;
  return (p: Params, x: Tensor, y: Tensor): Tensor => {
    const h = nn.relu(np.matmul(x, p.W1).add(p.b1));
    const logits = np.matmul(h, p.W2).add(p.b2);
    // divide by the batch size through np, so a symbolic batch dimension stays symbolic
    return np.divide(nn.logSoftmax(logits, { axis: -1 }).mul(y).sum().mul(-1), x.shape[0]!);
  };
}

/** Reads back the loss and the 4 gradients of a step (5 arrays). */
export function readStep(out: [Tensor, Params]): MlpGrads {
  const [v, g] = out;
  return {
    loss: v.item(),
    w1: g.W1.dataSync(),
    b1: g.b1.dataSync(),
    w2: g.W2.dataSync(),
    b2: g.b2.dataSync(),
  };
}

function applyOp(lib: Lib, op: ChainOp, x: Tensor): Tensor {
  const { np } = lib;
  switch (op) {
    case "sin":
      return np.sin(x);
    case "tanh":
      return np.tanh(x);
    case "affine":
      return x.mul(1.001).add(0.1);
    case "xsinx":
      return x.mul(np.sin(x));
    case "exp":
      return np.exp(x);
    case "square":
      return x.mul(x);
    case "log1psq":
      return np.log1p(x.mul(x));
    case "cos":
      return np.cos(x);
  }
}

/** sum(chain(x)) with the primitives listed in bench/workloads/chain.ts. */
export function chainFn(lib: Lib) {
  return (x: Tensor): Tensor => {
    for (const op of CHAIN) x = applyOp(lib, op, x);
    return x.sum();
  };
}
