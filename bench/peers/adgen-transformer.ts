/**
 * adgen versions of the transformer-block and large-elementwise workloads
 * (bench/workloads/transformer.ts): jit(valueAndGrad(loss)) for the step, jit(loss) for the
 * forward row, jit(f) / jit(grad(f)) for the elementwise rows; every call reads its results back.
 */
import { grad, jit, nn, np, valueAndGrad, type Tensor } from "../../src/index.js";
import type { SetupFactory, TimedSetup } from "../harness.js";
import { checkEwGrad, checkEwValue, checkTfGrads, checkTfLoss, ewInput, TF, TF_PARAM_NAMES, type TfParamName, tfData, tfShapes } from "../workloads/transformer.js";

export type P = Record<TfParamName, Tensor>;

export function transformerLoss(p: P, x: Tensor, target: Tensor): Tensor {
  const { B, T, d, heads } = TF;
  const dh = d / heads;
  const ln = (v: Tensor, g: Tensor, c: Tensor) => np.add(np.multiply(nn.standardize(v, { axis: -1, eps: 1e-5 }), g), c);
  const split = (t: Tensor) => np.transpose(np.reshape(t, [B, T, heads, dh]), [0, 2, 1, 3]);
  const h = ln(x, p.g1, p.c1);
  const q = split(np.matmul(h, p.wq));
  const k = split(np.matmul(h, p.wk));
  const v = split(np.matmul(h, p.wv));
  const att = nn.softmax(np.divide(np.matmul(q, np.transpose(k, [0, 1, 3, 2])), Math.sqrt(dh)), { axis: -1 });
  const a = np.reshape(np.transpose(np.matmul(att, v), [0, 2, 1, 3]), [B, T, d]);
  const x1 = np.add(x, np.matmul(a, p.wo));
  const h2 = ln(x1, p.g2, p.c2);
  const y = np.add(x1, np.add(np.matmul(nn.gelu(np.add(np.matmul(h2, p.w1), p.b1)), p.w2), p.b2));
  return np.mean(np.square(np.subtract(y, target)));
}

export function transformerTensors(): { p: P; x: Tensor; target: Tensor } {
  const d = tfData();
  const shapes = tfShapes();
  const p = Object.fromEntries(TF_PARAM_NAMES.map((n) => [n, np.reshape(np.array(d.p[n]), shapes[n])])) as P;
  return { p, x: np.reshape(np.array(d.x), [TF.B, TF.T, TF.d]), target: np.reshape(np.array(d.target), [TF.B, TF.T, TF.d]) };
}

export function transformerSetup(step: boolean): SetupFactory {
  return (): TimedSetup => {
    const { p, x, target } = transformerTensors();
    if (!step) {
      const f = jit(transformerLoss, { name: "transformer_loss" });
      const run = () => (f(p, x, target) as Tensor).item();
      return { fn: run, verify: () => checkTfLoss(run()) };
    }
    const f = jit(valueAndGrad(transformerLoss), { name: "transformer_step" });
    const run = () => {
      const [l, g] = f(p, x, target) as [Tensor, P];
      return { loss: l.item(), grads: Object.fromEntries(TF_PARAM_NAMES.map((n) => [n, g[n].dataSync()])) as unknown as Record<TfParamName, ArrayLike<number>> };
    };
    return {
      fn: run,
      verify: () => {
        const r = run();
        return checkTfLoss(r.loss) ?? checkTfGrads(r.grads);
      },
    };
  };
}

export const ew = (x: Tensor) => np.sum(np.multiply(np.tanh(x), np.exp(np.negative(np.multiply(x, x)))));

export function ewSetup(withGrad: boolean): SetupFactory {
  return (): TimedSetup => {
    const x = np.array(ewInput());
    if (!withGrad) {
      const f = jit(ew, { name: "ew_fwd" });
      const run = () => (f(x) as Tensor).item();
      return { fn: run, verify: () => checkEwValue(run()) };
    }
    const g = jit(grad(ew), { name: "ew_grad" });
    const run = () => (g(x) as Tensor).dataSync();
    return { fn: run, verify: () => checkEwGrad(run()) };
  };
}
