/**
 * A small CNN trained on real data, adgen, PyTorch, TensorFlow.js and jax-js side by side: the cnn-step network
 * (bench/workloads/cnn.ts: conv 3x3x8 SAME + relu -> maxPool 2 -> conv 3x3x16 -> maxPool 2 ->
 * dense 10) on the Fashion-MNIST subset in bench/data (1024 training, 512 test images), plain SGD,
 * batch 32, the same initial parameters and batch order for every peer. Prints the mean training
 * loss per epoch, the test accuracy and the median time of a training step (forward, gradients
 * and the parameter update; adgen: one jit-compiled function).
 *   npx tsx bench/cnn-train.ts [--epochs 3] [--lr 0.1] [--peers adgen,pytorch,tfjs-cpu,tfjs-wasm,jax-js]
 * PyTorch runs bench/peers/torch_cnn_train.py with the system python3 (torch installed); the
 * JavaScript peers are in bench/peers/cnn-train-js.ts (tfjs-cpu takes about a second per step on
 * this network; a peer whose backend lacks a kernel the network needs is reported unavailable).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { jit, nn, np, valueAndGrad, type Tensor } from "../src/index.js";
import { jaxjsTrain, median, tfjsTrain, type TrainResult } from "./peers/cnn-train-js.js";
import { CNN, CNN_PARAM_NAMES, type CnnParamName, FASHION_MNIST_FILE, cnnData, cnnShapes, fashionMnist } from "./workloads/cnn.js";

type P = Record<CnnParamName, Tensor>;
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const epochs = Number(opt("epochs", "3"));
const lr = Number(opt("lr", "0.1"));
const peers = opt("peers", "adgen,pytorch,tfjs-cpu,tfjs-wasm,jax-js").split(",");
const B = CNN.B;

function logits(p: P, x: Tensor): Tensor {
  const block = (h: Tensor, w: Tensor, b: Tensor) => nn.maxPool(nn.relu(nn.conv2d(h, w, { bias: b, padding: "SAME" })), 2);
  const h = block(block(x, p.w1, p.b1), p.w2, p.b2);
  return np.add(np.matmul(np.reshape(h, [x.shape[0] as number, -1]), p.w3), p.b3);
}
const loss = (p: P, x: Tensor, y: Tensor) => np.mean(nn.softmaxCrossEntropy(logits(p, x), y));

type Result = TrainResult;

async function adgen(): Promise<Result> {
  const data = await fashionMnist();
  const init = cnnData().p;
  const shapes = cnnShapes();
  let p = Object.fromEntries(CNN_PARAM_NAMES.map((n) => [n, np.reshape(np.array(init[n]), shapes[n])])) as P;
  const step = jit((p: P, x: Tensor, y: Tensor) => {
    const [l, g] = valueAndGrad(loss)(p, x, y) as [Tensor, P];
    return [l, Object.fromEntries(CNN_PARAM_NAMES.map((n) => [n, np.subtract(p[n], np.multiply(g[n], lr))])) as P];
  });
  const nTrain = data.trainY.length;
  const batches = Array.from({ length: Math.floor(nTrain / B) }, (_, s) => ({
    x: np.reshape(np.array(data.trainX.subarray(s * B * 784, (s + 1) * B * 784)), [B, 1, 28, 28]),
    y: nn.oneHot(np.array(data.trainY.subarray(s * B, (s + 1) * B), { dtype: "int32" }), CNN.classes),
  }));
  const times: number[] = [];
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let tot = 0;
    for (const b of batches) {
      const t0 = performance.now();
      const [l, next] = step(p, b.x, b.y) as [Tensor, P];
      tot += l.item();
      for (const n of CNN_PARAM_NAMES) next[n].dataSync();
      times.push(performance.now() - t0);
      p = next;
    }
    losses.push(tot / batches.length);
  }
  const predict = jit((p: P, x: Tensor) => np.argmax(logits(p, x), { axis: -1 }));
  const nTest = data.testY.length;
  const pred = predict(p, np.reshape(np.array(data.testX), [nTest, 1, 28, 28])) as Tensor;
  let right = 0;
  pred.dataSync().forEach((v, i) => (right += v === data.testY[i] ? 1 : 0));
  return { steps: times.length, stepMs: median(times.slice(1)), losses, accuracy: right / nTest };
}

function pytorch(): Result {
  const dir = mkdtempSync(path.join(tmpdir(), "adgen-cnn-train-"));
  const init = cnnData().p;
  for (const n of CNN_PARAM_NAMES) writeFileSync(path.join(dir, `${n}.f32`), Buffer.from(init[n].buffer, init[n].byteOffset, init[n].byteLength));
  writeFileSync(path.join(dir, "shapes.json"), JSON.stringify(cnnShapes()));
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "peers", "torch_cnn_train.py");
  const python = process.env.ADGEN_BENCH_PYTHON ?? "/usr/bin/python3";
  const out = execFileSync(python, [script, dir, fileURLToPath(FASHION_MNIST_FILE), String(epochs), String(B), String(lr)], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Result;
}

console.log(`cnn-train: Fashion-MNIST subset (${FASHION_MNIST_FILE.pathname.split("/").at(-1)}), ${epochs} epochs, batch ${B}, SGD lr ${lr}`);
const run: Record<string, () => Promise<Result> | Result> = {
  adgen,
  pytorch,
  "tfjs-cpu": async () => tfjsTrain("cpu", { epochs, lr, data: await fashionMnist() }),
  "tfjs-wasm": async () => tfjsTrain("wasm", { epochs, lr, data: await fashionMnist() }),
  "jax-js": async () => jaxjsTrain({ epochs, lr, data: await fashionMnist() }),
};
for (const peer of peers) {
  let r: Result;
  try {
    const f = run[peer];
    if (!f) throw new Error(`unknown peer (${Object.keys(run).join(", ")})`);
    r = await f();
  } catch (e) {
    console.log(`${peer.padEnd(9)} unavailable: ${(e as Error).message.split("\n")[0]}`);
    continue;
  }
  console.log(`${peer.padEnd(9)} test accuracy ${(100 * r.accuracy).toFixed(1)}%, epoch losses ${r.losses.map((l) => l.toFixed(3)).join(" ")}, step ${r.stepMs.toFixed(2)} ms (median of ${r.steps})`);
}
