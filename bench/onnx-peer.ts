/**
 * onnxruntime peers: adgen's derivative programs exported to ONNX (src/onnx) and run by ONNX
 * Runtime (onnxruntime-node, native kernels and threads). Two columns, same rows:
 *   onnxruntime       each row's function traced and compiled once to an InferenceSession
 *                     (src/onnx/session.ts compileOrt), called directly: the engine's own cost;
 *   adgen-jit-ort     the same function under jit with `config.backend = "onnxruntime"` (and
 *                     ortMinWork 0, so no row is tiered to wasm): what a user of the backend gets,
 *                     jit's key/lookup and the pytree handling included.
 * Both time synchronous calls including the copy of the inputs into ONNX Runtime tensors and the
 * readback. Provider and thread count come from ONNX_PROVIDER / ONNX_THREADS (bench/onnx.ts sets
 * them from --onnx-provider / --onnx-threads).
 */
import { type Tensor, grad, np, spec, valueAndGrad } from "../src/index.js";
import * as adgen from "../src/index.js";
import { type TreeDef, flatten, unflatten } from "../src/core/tree.js";
import { traceAtSpecs } from "../src/onnx/programs.js";
import { type OrtOptions, availableProviders, compileOrt } from "../src/onnx/session.js";
import type { SetupFactory, TimedSetup } from "./harness.js";
import { unavailable } from "./harness.js";
import { chainInput, chainReference, checkChainGrad } from "./workloads/chain.js";
import { checkMatmul, checkMlpGrads, checkMlpLoss, checkTiny, matmulInputs, mlpData, TINY_INPUT } from "./workloads/data.js";
import { ADBENCH_TOL_F64, checkGmmGradient, checkLstmGradient, gmmInstance, lstmInstance } from "./workloads/adbench.js";
import { flatGmmGradient, gmmGrad, gmmTensors } from "../examples/adbench/gmm.js";
import { flatLstmGradient, lstmGradScan, lstmTensors } from "../examples/adbench/lstm.js";
import { arr, chainFn, mlpLoss, mlpTensors, readStep, type Lib } from "./peers/adgen-model.js";
import type { Peer } from "./peers/types.js";
import { type P as TfP, ew, transformerLoss, transformerTensors } from "./peers/adgen-transformer.js";
import { checkEwGrad, checkEwValue, checkTfGrads, checkTfLoss, ewInput, TF_PARAM_NAMES } from "./workloads/transformer.js";

const lib = adgen as Lib;

export function ortOptions(): OrtOptions {
  const threads = process.env.ONNX_THREADS ? Number(process.env.ONNX_THREADS) : undefined;
  return { executionProvider: process.env.ONNX_PROVIDER ?? "cpu", ...(threads !== undefined ? { threads } : {}) };
}

/** Which column's compile `ortCompile` does (see the file comment). */
let viaJit = false;

/** The config of the jit column: backend onnxruntime on ortOptions()'s device, every program on ONNX Runtime. */
function jitConfig(): Partial<typeof adgen.config> {
  const o = ortOptions();
  return { backend: "onnxruntime", ortProvider: o.executionProvider!, ortThreads: o.threads ?? 0, ortMinWork: 0, interpretBelowWork: 0 };
}

/** `f` jitted with backend "onnxruntime": the config is set around each call (the adgen peer shares the process). */
function jitCompile(f: (...a: any[]) => unknown): (...a: unknown[]) => any {
  const jf = adgen.jit(f, { name: "bench_ort" });
  const cfg = jitConfig();
  const cur = adgen.config as unknown as Record<string, unknown>;
  return (...a: unknown[]) => {
    const saved = Object.fromEntries(Object.keys(cfg).map((k) => [k, cur[k]]));
    Object.assign(cur, cfg);
    try {
      return jf(...a);
    } finally {
      Object.assign(cur, saved);
    }
  };
}

/** f compiled for ONNX Runtime at the avals of `args` (a pytree); the callable returns f's pytree. */
export function ortCompile(f: (...a: any[]) => unknown, args: unknown[]): (...a: unknown[]) => any {
  if (viaJit) return jitCompile(f);
  const [leaves, def] = flatten(args);
  const specs = unflatten(def, leaves.map((l) => spec((l as Tensor).dtype, (l as Tensor).shape))) as unknown[];
  const t = traceAtSpecs(f, specs, "bench onnxruntime");
  const c = compileOrt(t.program, ortOptions());
  const outTree: TreeDef = t.outTree;
  return (...a: unknown[]) => unflatten(outTree, c.run(flatten(a)[0] as Tensor[]));
}

const f32 = (data: Float32Array, shape: number[]) => arr(lib, data, shape);

function matmulSetup(n: number): SetupFactory {
  return (): TimedSetup => {
    const { a: ad, b: bd } = matmulInputs(n);
    const a = f32(ad, [n, n]);
    const b = f32(bd, [n, n]);
    const mm = ortCompile((x: Tensor, y: Tensor) => np.matmul(x, y), [a, b]);
    const run = () => (mm(a, b) as Tensor).dataSync();
    return { fn: run, verify: () => checkMatmul(ad, bd, n, run()) };
  };
}

const mlpFwd: SetupFactory = (): TimedSetup => {
  const m = mlpTensors(lib, mlpData());
  const f = ortCompile(mlpLoss(lib), [m.p, m.x, m.y]);
  const run = () => (f(m.p, m.x, m.y) as Tensor).item();
  return { fn: run, verify: () => checkMlpLoss(m.d, run()) };
};

const mlpStep: SetupFactory = (): TimedSetup => {
  const m = mlpTensors(lib, mlpData());
  const f = ortCompile(valueAndGrad(mlpLoss(lib)), [m.p, m.x, m.y]);
  const run = () => readStep(f(m.p, m.x, m.y));
  return { fn: run, verify: () => checkMlpGrads(m.d, run()) };
};

function chainSetup(n: number): SetupFactory {
  return (): TimedSetup => {
    const x0d = chainInput(n);
    const x0 = f32(x0d, [n]);
    const f = ortCompile(grad(chainFn(lib)), [x0]);
    const run = () => (f(x0) as Tensor).dataSync();
    return { fn: run, verify: () => checkChainGrad(run(), chainReference(x0d).grad) };
  };
}

const tiny: SetupFactory = (): TimedSetup => {
  const x = f32(TINY_INPUT, [4]);
  const f = ortCompile((v: Tensor) => v.mul(2).add(1), [x]);
  const run = () => (f(x) as Tensor).dataSync();
  return { fn: run, verify: () => checkTiny(run()) };
};

const gmmGradSetup: SetupFactory = (): TimedSetup => {
  const t = gmmTensors(gmmInstance());
  const g = (al: Tensor, me: Tensor, ic: Tensor, x: Tensor) => gmmGrad(al, me, ic, x, t.wishart);
  const f = ortCompile(g, [t.alphas, t.means, t.icf, t.x]);
  const run = () => flatGmmGradient(f(t.alphas, t.means, t.icf, t.x));
  return { fn: run, verify: () => checkGmmGradient(run(), ADBENCH_TOL_F64) };
};

const lstmGradSetup: SetupFactory = (): TimedSetup => {
  const t = lstmTensors(lstmInstance());
  const a = [t.mainParams, t.extraParams, t.state, t.sequence];
  const f = ortCompile(lstmGradScan, a);
  const run = () => flatLstmGradient(f(...a));
  return { fn: run, verify: () => checkLstmGradient(run(), ADBENCH_TOL_F64), note: "lax.scan variant as an ONNX Loop" };
};

function transformerSetup(step: boolean): SetupFactory {
  return (): TimedSetup => {
    const { p, x, target } = transformerTensors();
    if (!step) {
      const f = ortCompile(transformerLoss, [p, x, target]);
      const run = () => (f(p, x, target) as Tensor).item();
      return { fn: run, verify: () => checkTfLoss(run()) };
    }
    const f = ortCompile(valueAndGrad(transformerLoss), [p, x, target]);
    const run = () => {
      const [l, g] = f(p, x, target) as [Tensor, TfP];
      return { loss: l.item(), grads: Object.fromEntries(TF_PARAM_NAMES.map((n) => [n, g[n].dataSync()])) as unknown as Parameters<typeof checkTfGrads>[0] };
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

function ewSetup(withGrad: boolean): SetupFactory {
  return (): TimedSetup => {
    const x = np.array(ewInput());
    if (!withGrad) {
      const f = ortCompile(ew, [x]);
      const run = () => (f(x) as Tensor).item();
      return { fn: run, verify: () => checkEwValue(run()) };
    }
    const f = ortCompile(grad(ew), [x]);
    const run = () => (f(x) as Tensor).dataSync();
    return { fn: run, verify: () => checkEwGrad(run()) };
  };
}

function guarded(make: SetupFactory, jitted: boolean): SetupFactory {
  return async () => {
    viaJit = jitted;
    try {
      return await make();
    } catch (e) {
      const msg = (e as Error).message.split("\n")[0]!;
      return unavailable(msg.startsWith("onnxruntime") ? msg : `onnxruntime: ${msg}`);
    }
  };
}

const ROWS: Record<string, SetupFactory> = {
  "matmul-512": matmulSetup(512),
  "matmul-1024": matmulSetup(1024),
  "mlp-fwd": mlpFwd,
  "mlp-step": mlpStep,
  "chain-10": chainSetup(10),
  "chain-1000": chainSetup(1000),
  "tiny-call": tiny,
  "gmm-grad": gmmGradSetup,
  "lstm-grad": lstmGradSetup,
  "transformer-fwd": transformerSetup(false),
  "transformer-step": transformerSetup(true),
  "ew-4m-fwd": ewSetup(false),
  "ew-4m-grad": ewSetup(true),
};

export const onnxPeer: Peer = {
  name: "onnxruntime",
  version: "onnxruntime-node (devDependency) via src/onnx",
  info: () => ({ ...ortOptions(), providers: availableProviders() }),
  impls: Object.fromEntries(Object.entries(ROWS).map(([k, v]) => [k, guarded(v, false)])),
};

/** The same rows through jit with config.backend "onnxruntime". */
export const ortJitPeer: Peer = {
  name: "adgen-jit-ort",
  version: "adgen jit, config.backend onnxruntime",
  info: () => jitConfig() as Record<string, unknown>,
  impls: Object.fromEntries(Object.entries(ROWS).map(([k, v]) => [k, guarded(v, true)])),
};
