/**
 * The main bench rows in a form that runs unchanged in any JS runtime (no node: imports), for
 * `npm run bench -- --runtimes` (bench/runtimes.ts): bundled with adgen into one ES module, it is
 * run by Node 20, Node 24 and headless Chromium on the same machine, one after the other.
 *
 * Rows (the same workloads and checks as bench/run.ts's adgen column):
 *   matmul-1024  jit(np.matmul) float32 [1024,1024]^2, read back; GFLOP/s = 2n^3 / time
 *   mlp-step     jit(valueAndGrad(MLP loss)), batch 128, 784-256-10, loss + 4 gradients read back
 *   chain-1000   jit(grad(sum of 200 chained elementwise ops)) on 1000 floats, read back
 *   eager-add    one eager np.add of two float32 [16] tensors (per-op overhead), no jit
 * Each result is checked once against the float64 references before timing.
 */
import type * as Adgen from "../../src/index.js";
import { hasRelaxedSimd } from "../../src/runtime/wasm/gemm.js";
import { chainFn, mlpLoss, mlpTensors, readStep, type StepFn } from "../peers/adgen-model.js";
import { chainInput, chainReference, checkChainGrad } from "../workloads/chain.js";
import { checkMatmul, checkMlpGrads, matmulInputs, mlpData } from "../workloads/data.js";

export interface RowResult {
  unit: "GFLOP/s" | "ms" | "us";
  /** median, min, max in `unit` (for GFLOP/s: of the rates) */
  median: number;
  min: number;
  max: number;
  samples: number;
  /** a failed correctness check (then the row is not timed) */
  error?: string;
}

export interface RuntimeResult {
  runtime: string;
  relaxedSimd: boolean;
  crossOriginIsolated: boolean;
  rows: Record<string, RowResult>;
}

export interface RunOptions {
  quick?: boolean;
  /** substrings of the row ids to keep */
  only?: string[];
}

const now = () => performance.now();

/**
 * Median time of one call of `fn` in ms: warm-up for `warmMs` (at least 3 calls), then samples of
 * `batch` calls each (batch chosen so a sample lasts >= 10 ms), for about `timeMs`.
 */
function timeIt(fn: () => unknown, warmMs: number, timeMs: number): { median: number; min: number; max: number; samples: number } {
  let t0 = now();
  let calls = 0;
  while (calls < 3 || now() - t0 < warmMs) {
    fn();
    calls++;
  }
  const per = (now() - t0) / calls;
  const batch = Math.max(1, Math.ceil(10 / Math.max(per, 1e-4)));
  const samples: number[] = [];
  t0 = now();
  while (samples.length < 5 || (now() - t0 < timeMs && samples.length < 200)) {
    const s = now();
    for (let i = 0; i < batch; i++) fn();
    samples.push((now() - s) / batch);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[samples.length >> 1]!, min: samples[0]!, max: samples.at(-1)!, samples: samples.length };
}

export async function runRows(lib: typeof Adgen, runtime: string, opts: RunOptions = {}): Promise<RuntimeResult> {
  const { np, jit, grad, valueAndGrad } = lib;
  const warmMs = opts.quick ? 400 : 1500;
  const timeMs = opts.quick ? 1500 : 5000;
  const rows: Record<string, RowResult> = {};
  const keep = (id: string) => !opts.only?.length || opts.only.some((s) => id.includes(s));
  const row = (id: string, unit: RowResult["unit"], setup: () => { fn: () => unknown; check: () => string | undefined }, flops?: number) => {
    if (!keep(id)) return;
    try {
      const { fn, check } = setup();
      const error = check();
      if (error) {
        rows[id] = { unit, median: NaN, min: NaN, max: NaN, samples: 0, error };
        return;
      }
      const t = timeIt(fn, warmMs, timeMs);
      const scale = unit === "us" ? 1000 : 1;
      rows[id] = flops
        ? { unit, median: flops / t.median / 1e6, min: flops / t.max / 1e6, max: flops / t.min / 1e6, samples: t.samples }
        : { unit, median: t.median * scale, min: t.min * scale, max: t.max * scale, samples: t.samples };
    } catch (e) {
      rows[id] = { unit, median: NaN, min: NaN, max: NaN, samples: 0, error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  };

  row("matmul-1024", "GFLOP/s", () => {
    const n = 1024;
    const { a: ad, b: bd } = matmulInputs(n);
    const a = np.array(ad).reshape([n, n]);
    const b = np.array(bd).reshape([n, n]);
    const mm = jit((x: Adgen.Tensor, y: Adgen.Tensor) => np.matmul(x, y), { name: "matmul" });
    const fn = () => mm(a, b).dataSync();
    return { fn, check: () => checkMatmul(ad, bd, n, fn()) };
  }, 2 * 1024 ** 3);

  row("mlp-step", "ms", () => {
    const m = mlpTensors(lib, mlpData());
    const f = jit(valueAndGrad(mlpLoss(lib)), { name: "mlp_step" }) as StepFn;
    const fn = () => readStep(f(m.p, m.x, m.y));
    return { fn, check: () => checkMlpGrads(m.d, fn()) };
  });

  row("chain-1000", "ms", () => {
    const xd = chainInput(1000);
    const x = np.array(xd);
    const g = jit(grad(chainFn(lib)), { name: "chain_grad" });
    const fn = () => g(x).dataSync();
    return { fn, check: () => checkChainGrad(fn(), chainReference(xd).grad) };
  });

  row("eager-add", "us", () => {
    const a = np.array(Float32Array.from({ length: 16 }, (_, i) => i * 0.5));
    const b = np.array(Float32Array.from({ length: 16 }, (_, i) => 1 - i * 0.25));
    const fn = () => np.add(a, b);
    return { fn, check: () => (np.add(a, b).dataSync()[3] === 1.75 ? undefined : "eager add: a[3] + b[3] is not 1.75") };
  });

  const g = globalThis as { crossOriginIsolated?: boolean };
  return { runtime, relaxedSimd: hasRelaxedSimd(), crossOriginIsolated: g.crossOriginIsolated === true, rows };
}
