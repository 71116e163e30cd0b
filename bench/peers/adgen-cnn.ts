/**
 * adgen version of the cnn-step workload (bench/workloads/cnn.ts): jit(valueAndGrad(loss)) over
 * lax.conv / nn.maxPool (im2col onto GEMM); every call reads the loss and all gradients back.
 */
import { jit, nn, np, valueAndGrad, type Tensor } from "../../src/index.js";
import type { SetupFactory, TimedSetup } from "../harness.js";
import { CNN, CNN_PARAM_NAMES, type CnnParamName, checkCnnBiasGrad, checkCnnLoss, cnnData, cnnShapes } from "../workloads/cnn.js";

type P = Record<CnnParamName, Tensor>;

export function cnnLoss(p: P, x: Tensor, y: Tensor): Tensor {
  const block = (h: Tensor, w: Tensor, b: Tensor) => nn.maxPool(nn.relu(nn.conv2d(h, w, { bias: b, padding: "SAME" })), 2);
  const h = block(block(x, p.w1, p.b1), p.w2, p.b2);
  const logits = np.add(np.matmul(np.reshape(h, [CNN.B, -1]), p.w3), p.b3);
  return np.mean(nn.softmaxCrossEntropy(logits, y));
}

/** The workload's parameters, images and one-hot labels as tensors. */
export function cnnTensors(): { p: P; x: Tensor; target: Tensor } {
  const d = cnnData();
  const shapes = cnnShapes();
  const p = Object.fromEntries(CNN_PARAM_NAMES.map((n) => [n, np.reshape(np.array(d.p[n]), shapes[n])])) as P;
  const x = np.reshape(np.array(d.x), [CNN.B, 1, CNN.H, CNN.H]);
  const target = nn.oneHot(np.array(d.labels, { dtype: "int32" }), CNN.classes);
  return { p, x, target };
}

export function cnnStepSetup(): SetupFactory {
  return (): TimedSetup => {
    const { p, x, target: y } = cnnTensors();
    const f = jit(valueAndGrad(cnnLoss), { name: "cnn_step" });
    const run = () => {
      const [l, g] = f(p, x, y) as [Tensor, P];
      const grads = Object.fromEntries(CNN_PARAM_NAMES.map((n) => [n, g[n].dataSync()])) as unknown as Record<CnnParamName, ArrayLike<number>>;
      return { loss: l.item(), grads };
    };
    return {
      fn: run,
      verify: () => {
        const r = run();
        return checkCnnLoss(r.loss) ?? checkCnnBiasGrad(r.grads.b3);
      },
    };
  };
}
