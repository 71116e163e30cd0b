// The demo's model: a small multi-layer perceptron whose parameters are a plain pytree (an array
// of {w, b} layers), initialised from an adgen random key, with its cross-entropy loss and
// accuracy. The same functions serve jit(valueAndGrad(loss)) and the eager tape.

import { nn, np, random, type Tensor } from "../../src/index.js";

export interface Layer {
  w: Tensor;
  b: Tensor;
}
export type Params = Layer[];

/** He-normal weights and zero biases for layer sizes e.g. [4, 16, 16, 3]. */
export function initMlp(key: Tensor, sizes: number[]): Params {
  const keys = random.split(key, sizes.length - 1);
  return sizes.slice(1).map((out, i) => {
    const fanIn = sizes[i]!;
    const k = np.take(keys, i, { axis: 0 });
    return {
      w: np.multiply(random.normal(k, [fanIn, out]), Math.sqrt(2 / fanIn)),
      b: np.zeros([out]),
    };
  });
}

/** Logits [n, classes] for features x [n, features]: relu between layers, linear last layer. */
export function forward(params: Params, x: Tensor): Tensor {
  let h = x;
  params.forEach(({ w, b }, i) => {
    h = np.add(np.matmul(h, w), b);
    if (i < params.length - 1) h = nn.relu(h);
  });
  return h;
}

/** Mean softmax cross-entropy of the predicted logits against integer labels y [n]. */
export function loss(params: Params, x: Tensor, y: Tensor): Tensor {
  return np.mean(nn.softmaxCrossEntropyWithIntegerLabels(forward(params, x), y));
}

/** Fraction of rows whose highest logit is the true class. */
export function accuracy(params: Params, x: Tensor, y: Tensor): number {
  const pred = np.argmax(forward(params, x), { axis: -1 });
  return np.mean(np.astype(np.equal(pred, y), "float32")).item();
}

/** Number of scalar parameters. */
export function countParams(params: Params): number {
  return params.reduce((n, l) => n + l.w.size + l.b.size, 0);
}
