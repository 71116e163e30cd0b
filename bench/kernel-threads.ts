/**
 * Program kernels on 1 and 2 threads (issue 12 item 2, backends/wasm/threads.ts): jitted
 * elementwise and row programs on the wasm backend, each timed with config.matmulThreads 1 (rows
 * run on the calling thread) and 2 (the GEMM's worker pool), alternating in one process; medians.
 * Also the measurement behind kernelThreadLimits.minWork: run it on a quiet machine.
 *
 *   npx tsx bench/kernel-threads.ts [--reps 16]
 */
import { config, grad, jit, nn, np, type Tensor } from "../src/index.js";

const at = process.argv.indexOf("--reps");
const reps = at >= 0 ? Number(process.argv[at + 1]) : 16;
config.update({ matmulThreadsAfter: 0, interpretBelowWork: 0, backend: "wasm" });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const data = (n: number) => np.array(Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 2));
type F = (a: Tensor) => unknown;
const rows = (a: Tensor) => np.reshape(a, [4096, 128]);
const cases: [string, F, Tensor][] = [
  ["sum(tanh(x) exp(-x^2)) gradient, 4M", jit(grad((a: Tensor) => np.sum(np.multiply(np.tanh(a), np.exp(np.negative(np.multiply(a, a))))))), data(1 << 22)],
  ["softmax rows 4096x128", jit((a: Tensor) => nn.softmax(rows(a), { axis: -1 })), data(4096 * 128)],
  ["layernorm rows 4096x128", jit((a: Tensor) => { const d = np.subtract(rows(a), np.mean(rows(a), { axis: 1, keepdims: true })); return np.divide(d, np.sqrt(np.add(np.mean(np.multiply(d, d), { axis: 1, keepdims: true }), 1e-5))); }), data(4096 * 128)],
  ["tanh(x) exp(-x^2), 256K", jit((a: Tensor) => np.multiply(np.tanh(a), np.exp(np.negative(np.multiply(a, a))))), data(1 << 18)],
  ["x * 0.5 + 1, 1M", jit((a: Tensor) => np.add(np.multiply(a, 0.5), 1)), data(1 << 20)],
];
async function main() {
  // the workers start asynchronously: let them come up
  for (let i = 0; i < 30; i++) cases[0]![1](cases[0]![2]), await new Promise((r) => setTimeout(r, 5));
  for (const [name, f, x] of cases) {
    const t: number[][] = [[], []];
    for (let r = 0; r < reps; r++)
      for (const th of [1, 2]) {
        config.update({ matmulThreads: th });
        f(x);
        const t0 = performance.now();
        for (let i = 0; i < 3; i++) f(x);
        t[th - 1]!.push((performance.now() - t0) / 3);
      }
    console.log(`${name}: 1 thread ${median(t[0]!).toFixed(2)} ms, 2 threads ${median(t[1]!).toFixed(2)} ms`);
  }
}
void main();
