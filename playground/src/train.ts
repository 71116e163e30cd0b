// The playground's training demo: a tiny MLP (1 -> 16 -> 1, tanh) fitted to y = sin(3x) on 64
// points with adgen's optim.adam, one jitted step (valueAndGrad + update) per iteration, a few
// steps per animation frame, and the loss drawn live on a <canvas> (log scale, no chart library).

import { jit, np, optim, random, valueAndGrad, type Tensor } from "../../src/index.js";

type Params = { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };

const N = 64;
const HIDDEN = 16;

function init(): Params {
  const [k1, k2] = random.split(random.key(0));
  return {
    W1: np.multiply(random.normal(k1!, [1, HIDDEN]), 1.0),
    b1: np.zeros([HIDDEN]),
    W2: np.multiply(random.normal(k2!, [HIDDEN, 1]), 0.25),
    b2: np.zeros([1]),
  };
}

function loss(p: Params, x: Tensor, y: Tensor): Tensor {
  const h = np.tanh(np.add(np.matmul(x, p.W1), p.b1));
  return np.mean(np.square(np.subtract(np.add(np.matmul(h, p.W2), p.b2), y)));
}

export interface Training {
  losses: number[];
  done: boolean;
}

/** Runs `steps` Adam steps, calling `onLoss` after each frame's batch; resolves with all losses. */
export function train(canvas: HTMLCanvasElement, steps = 300, perFrame = 10, onLoss?: (t: Training) => void): Promise<Training> {
  const xs = Array.from({ length: N }, (_, i) => -1 + (2 * i) / (N - 1));
  const x = np.array(xs, { dtype: "float32" }).reshape([N, 1]);
  const y = np.array(xs.map((v) => Math.sin(3 * v)), { dtype: "float32" }).reshape([N, 1]);
  const opt = optim.adam(0.03);
  const step = jit((p: Params, s: optim.AdamState, xb: Tensor, yb: Tensor) => {
    const [l, g] = valueAndGrad(loss)(p, xb, yb);
    const [updates, s2] = opt.update(g, s, p);
    return [optim.applyUpdates(p, updates), s2, l];
  }, { name: "train_step" });
  let params = init();
  let state = opt.init(params);
  const t: Training = { losses: [], done: false };
  return new Promise((resolve, reject) => {
    const frame = () => {
      try {
        for (let i = 0; i < perFrame && t.losses.length < steps; i++) {
          const [p2, s2, l] = step(params, state, x, y) as [Params, optim.AdamState, Tensor];
          params = p2;
          state = s2;
          t.losses.push((l.data as Float32Array)[0]!);
        }
        t.done = t.losses.length >= steps;
        plot(canvas, t.losses, steps);
        onLoss?.(t);
        if (t.done) resolve(t);
        else requestAnimationFrame(frame);
      } catch (e) {
        reject(e);
      }
    };
    requestAnimationFrame(frame);
  });
}

function plot(canvas: HTMLCanvasElement, losses: number[], steps: number): void {
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const { width: w, height: h } = canvas;
  const pad = 28;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#ccc";
  ctx.strokeRect(pad, 6, w - pad - 6, h - pad - 6);
  if (!losses.length) return;
  const logs = losses.map((l) => Math.log10(Math.max(l, 1e-12)));
  const hi = Math.ceil(Math.max(...logs));
  const lo = Math.floor(Math.min(...logs, hi - 1));
  const X = (i: number) => pad + ((w - pad - 6) * i) / Math.max(1, steps - 1);
  const Y = (v: number) => 6 + ((h - pad - 6) * (hi - v)) / (hi - lo);
  ctx.fillStyle = "#555";
  ctx.font = "10px sans-serif";
  for (let e = lo; e <= hi; e++) ctx.fillText(`1e${e}`, 0, Y(e) + 3);
  ctx.fillText(`step ${losses.length}/${steps}   loss ${losses.at(-1)!.toExponential(2)}`, pad + 4, h - 8);
  ctx.strokeStyle = "#1565c0";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  logs.forEach((v, i) => (i ? ctx.lineTo(X(i), Y(v)) : ctx.moveTo(X(i), Y(v))));
  ctx.stroke();
}
