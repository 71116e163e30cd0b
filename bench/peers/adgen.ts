/**
 * adgen peer (this workspace's library, imported from src/ through tsx).
 *
 * Row semantics (bench/workloads/index.ts): plain rows use jit (`jit(valueAndGrad(loss))`,
 * `jit(grad(chain))`, `jit(np.matmul)`), "-eager" rows call the same functions without jit
 * (eager evaluation, one primitive at a time), "mlp-step-tape" uses the PyTorch-style tape
 * (variable() leaves, loss.backward(), .grad). adgen tensors are garbage collected (no dispose)
 * and evaluated eagerly/synchronously; every timed call still reads its results back
 * (`dataSync()` / `item()`), except the eager-op rows, which measure the op alone (adgen is not
 * lazy: the result's data exists when the op returns).
 *
 * Rows that run plain node in a child process (jit-first-call-mlp, rss-import) use the BUILT
 * library in dist/: ./adgen-dist.ts rebuilds it (`npm run build`) when src/ is newer.
 *
 * Defaults are measured as a user gets them (config untouched: tiering, cache size, source lines).
 * adgen's jit has no symbolic dimensions yet, so jit-new-batch-mlp measures a full retrace +
 * recompile per new batch size.
 */
import { EXPORT_IMPLS } from "./adgen-export.js";
import { MEMORY_IMPLS } from "./adgen-memory.js";
import { MEMORY_DEEP_IMPLS } from "./adgen-memory-deep.js";
import { grad, jit, np, valueAndGrad, variable, type Tensor } from "../../src/index.js";
import * as adgen from "../../src/index.js";
import type { SetupFactory, TimedSetup } from "../harness.js";
import { unavailable } from "../harness.js";
import { chainInput, chainReference, checkChainGrad } from "../workloads/chain.js";
import {
  checkEagerOp,
  checkMatmul,
  checkMlpGrads,
  checkMlpLoss,
  checkTiny,
  eagerOpInputs,
  matmulInputs,
  MLP,
  mlpData,
  sink,
  TINY_INPUT,
  type EagerOp,
} from "../workloads/data.js";
import { flatGmmGradient, gmmGradJit, gmmObjectiveJit, gmmTensors } from "../../examples/adbench/gmm.js";
import { flatLstmGradient, lstmGradScanJit, lstmObjectiveScanJit, lstmTensors } from "../../examples/adbench/lstm.js";
import {
  ADBENCH_TOL_F64,
  checkGmmGradient,
  checkGmmObjective,
  checkLstmGradient,
  checkLstmObjective,
  gmmInstance,
  lstmInstance,
} from "../workloads/adbench.js";
import { ADGEN_DIST_URL, ensureDist } from "./adgen-dist.js";
import { ewSetup, transformerSetup } from "./adgen-transformer.js";
import { cnnStepSetup } from "./adgen-cnn.js";
import { compileSetup } from "./adgen-compile-setup.js";
import { hybridImpls } from "./adgen-hybrid.js";
import { arr, chainFn, mlpLoss, mlpTensors, readStep, type Lib, type MlpTensors, type Params, type StepFn } from "./adgen-model.js";
import { childSampleSetup, mlpStepRssSetup, rssSetup } from "./child.js";
import type { Peer } from "./types.js";

const lib = adgen as Lib;
const f32 = (data: Float32Array, shape: number[]) => arr(lib, data, shape);

function matmulSetup(n: number, useJit: boolean): SetupFactory {
  return (): TimedSetup => {
    const { a: ad, b: bd } = matmulInputs(n);
    const a = f32(ad, [n, n]);
    const b = f32(bd, [n, n]);
    const mm = useJit ? jit((x: Tensor, y: Tensor) => np.matmul(x, y), { name: "matmul" }) : np.matmul;
    const run = () => (mm(a, b) as Tensor).dataSync();
    return { fn: run, verify: () => checkMatmul(ad, bd, n, run()) };
  };
}

function mlpFwdSetup(useJit: boolean): SetupFactory {
  return (): TimedSetup => {
    const m = mlpTensors(lib, mlpData());
    const loss = mlpLoss(lib);
    const f = useJit ? jit(loss, { name: "mlp_loss" }) : loss;
    const run = () => (f(m.p, m.x, m.y) as Tensor).item();
    return { fn: run, verify: () => checkMlpLoss(m.d, run()) };
  };
}

function mlpStepSetup(useJit: boolean): SetupFactory {
  return (): TimedSetup => {
    const m = mlpTensors(lib, mlpData());
    const vg = valueAndGrad(mlpLoss(lib)) as StepFn;
    const f = (useJit ? jit(vg, { name: "mlp_step" }) : vg) as StepFn;
    const run = () => readStep(f(m.p, m.x, m.y));
    return { fn: run, verify: () => checkMlpGrads(m.d, run()) };
  };
}

/** Eager tape: parameters are variables (created once); each step zeroes their grads first. */
function mlpTapeSetup(): TimedSetup {
  const m = mlpTensors(lib, mlpData());
  const vp: Params = { W1: variable(m.p.W1), b1: variable(m.p.b1), W2: variable(m.p.W2), b2: variable(m.p.b2) };
  const vs = [vp.W1, vp.b1, vp.W2, vp.b2];
  const loss = mlpLoss(lib);
  const run = () => {
    for (const v of vs) v.zeroGrad();
    const l = loss(vp, m.x, m.y);
    l.backward();
    const g = (v: Tensor) => {
      if (!v.grad) throw new Error("variable has no .grad after backward()");
      return v.grad.dataSync();
    };
    return { loss: l.item(), w1: g(vp.W1), b1: g(vp.b1), w2: g(vp.W2), b2: g(vp.b2) };
  };
  return { fn: run, verify: () => checkMlpGrads(m.d, run()) };
}

/**
 * `setup` run with automatic capture on (config.capture) for its verify and timed calls: the
 * flag is set once the setup is built and cleared by the row's teardown (run.ts runs rows one
 * after another and always tears down), so other rows run as before and the timed calls measure
 * capture, not config.update.
 */
function withCapture(setup: SetupFactory): SetupFactory {
  return async (): Promise<TimedSetup> => {
    const s = (await setup()) as TimedSetup;
    adgen.config.update({ capture: true });
    return {
      ...s,
      teardown: async () => {
        adgen.config.update({ capture: false });
        await s.teardown?.();
      },
    };
  };
}

/** eager-op-add with capture: the op is deferred, so the timed call reads the result back. */
function eagerOpCaptureSetup(): TimedSetup {
  const { a: ad, b: bd } = eagerOpInputs(16);
  const a = f32(ad, [16]);
  const b = f32(bd, [16]);
  const run = () => np.add(a, b).dataSync();
  return { fn: run, verify: () => checkEagerOp("add", ad, bd, run()) };
}

/** In-process: a fresh jit of the MLP step + first call, per sample. */
function jitFirstCallWarmSetup(): TimedSetup {
  const m = mlpTensors(lib, mlpData());
  const loss = mlpLoss(lib);
  const run = () => readStep((jit(valueAndGrad(loss), { name: "mlp_step" }) as StepFn)(m.p, m.x, m.y));
  return { fn: run, verify: () => checkMlpGrads(m.d, run()) };
}

/** A jitted step warm at batch 128, then called at batch 129, 130, ... (one new size per sample). */
function jitNewBatchSetup(): TimedSetup {
  const base = mlpTensors(lib, mlpData());
  const jf = jit(valueAndGrad(mlpLoss(lib)), { name: "mlp_step" });
  const f = jf as StepFn;
  readStep(f(base.p, base.x, base.y));
  readStep(f(base.p, base.x, base.y));
  let next = MLP.batch + 1;
  const prepared = new Map<number, MlpTensors>();
  for (let b = next; b < next + 32; b++) prepared.set(b, mlpTensors(lib, mlpData(b)));
  const run = () => {
    const b = next++;
    const m = prepared.get(b) ?? mlpTensors(lib, mlpData(b));
    prepared.delete(b);
    // The parameters are the batch-128 tensors (same values for every batch size).
    return { m, out: readStep(f(base.p, m.x, m.y)) };
  };
  return {
    fn: run,
    verify: () => {
      const { m, out } = run();
      return checkMlpGrads(m.d, out);
    },
    // read after timing: after the first new size jit generalizes the batch dim to a symbol, so
    // later sizes hit the cache (no retrace, no recompile)
    get note() {
      const c = jf.cacheInfo();
      return (
        `symbolic batch dim learned on the first new size (cacheInfo after the row: ` +
        `${c.misses} misses, ${c.traces} traces, ${c.hits} hits; last miss: "${c.lastMiss?.reason}"); ` +
        "data prepared before timing"
      );
    },
  };
}

function chainSetup(n: number, useJit: boolean): SetupFactory {
  return (): TimedSetup => {
    const x0d = chainInput(n);
    const x0 = f32(x0d, [n]);
    const g = grad(chainFn(lib));
    const f = useJit ? jit(g, { name: "chain_grad" }) : g;
    const run = () => (f(x0) as Tensor).dataSync();
    return { fn: run, verify: () => checkChainGrad(run(), chainReference(x0d).grad) };
  };
}

function eagerOpSetup(op: EagerOp, n: number): SetupFactory {
  return (): TimedSetup => {
    const { a: ad, b: bd } = eagerOpInputs(n);
    const a = f32(ad, [n]);
    const b = f32(bd, [n]);
    const apply = op === "add" ? () => np.add(a, b) : () => np.exp(a);
    return {
      fn: () => {
        sink.v = apply();
      },
      verify: () => checkEagerOp(op, ad, bd, apply().dataSync()),
    };
  };
}

// ---------------------------------------------------------------------------------------------
// ADBench (examples/adbench/{gmm,lstm}.ts: float64, jitted objective and gradient)

function gmmArgs() {
  const t = gmmTensors(gmmInstance());
  return [t.alphas, t.means, t.icf, t.x, t.wishart] as const;
}

const gmmObjSetup: SetupFactory = (): TimedSetup => {
  const a = gmmArgs();
  const run = () => gmmObjectiveJit(...a).item();
  return { fn: run, verify: () => checkGmmObjective(run(), ADBENCH_TOL_F64) };
};

const gmmGradSetup: SetupFactory = (): TimedSetup => {
  const a = gmmArgs();
  const run = () => flatGmmGradient(gmmGradJit(...a));
  return { fn: run, verify: () => checkGmmGradient(run(), ADBENCH_TOL_F64) };
};

const LSTM_SCAN_NOTE = "lax.scan variant (lstmObjectiveScan, lstmGradScanJit): compiles in ~0.2 s";

function lstmArgs() {
  const t = lstmTensors(lstmInstance());
  return [t.mainParams, t.extraParams, t.state, t.sequence] as const;
}

const lstmObjSetup: SetupFactory = (): TimedSetup => {
  const a = lstmArgs();
  const run = () => lstmObjectiveScanJit(...a).item();
  return { fn: run, verify: () => checkLstmObjective(run(), ADBENCH_TOL_F64), note: LSTM_SCAN_NOTE };
};

const lstmGradSetup: SetupFactory = (): TimedSetup => {
  const a = lstmArgs();
  const run = () => flatLstmGradient(lstmGradScanJit(...a));
  return { fn: run, verify: () => checkLstmGradient(run(), ADBENCH_TOL_F64), note: LSTM_SCAN_NOTE };
};

/** The peak-RSS child: 20 jitted MLP steps with the built library (same math as adgen-model.ts). */
const RSS_PEAK_CODE = `
const lib = await import(${JSON.stringify(ADGEN_DIST_URL)});
const { np, nn } = lib;
const arr = (d, s) => np.array(d).reshape(s);
const p = { W1: arr(D.w1, [NIN, H]), b1: arr(D.b1, [H]), W2: arr(D.w2, [H, K]), b2: arr(D.b2, [K]) };
const x = arr(D.x, [B, NIN]), y = arr(D.y, [B, K]);
const loss = (p, x, y) => {
  const h = nn.relu(np.matmul(x, p.W1).add(p.b1));
  const logits = np.matmul(h, p.W2).add(p.b2);
  return nn.logSoftmax(logits, { axis: -1 }).mul(y).sum().mul(-1 / x.shape[0]);
};
const step = lib.jit(lib.valueAndGrad(loss), { name: "mlp_step" });
let out;
for (let i = 0; i < 20; i++) {
  const [v, g] = step(p, x, y);
  out = { loss: v.item(), w1: g.W1.dataSync(), b1: g.b1.dataSync(), w2: g.W2.dataSync(), b2: g.b2.dataSync() };
}
report(out);
`;

/** Rows that need dist/: build it first if stale, then defer to the child-process setup. */
function withDist(make: (note?: string) => SetupFactory): SetupFactory {
  return async () => {
    const note = await ensureDist();
    return make(note)();
  };
}

export const adgenPeer: Peer = {
  name: "adgen",
  version: "workspace (src/ via tsx; child-process rows: dist/)",
  info: () => ({ backend: adgen.config.backend, interpretBelowWork: adgen.config.interpretBelowWork, hotCalls: adgen.config.hotCalls }),
  impls: {
    "matmul-512": matmulSetup(512, true),
    "matmul-1024": matmulSetup(1024, true),
    "matmul-512-eager": matmulSetup(512, false),
    "matmul-1024-eager": matmulSetup(1024, false),
    "mlp-fwd": mlpFwdSetup(true),
    "mlp-step": mlpStepSetup(true),
    "mlp-step-xposed": () => unavailable("tfjs-specific workaround row"),
    "mlp-fwd-eager": mlpFwdSetup(false),
    "mlp-step-eager": mlpStepSetup(false),
    "mlp-step-tape": mlpTapeSetup,
    "mlp-step-tape-capture": withCapture(mlpTapeSetup),
    "chain-10": chainSetup(10, true),
    "chain-1000": chainSetup(1000, true),
    "chain-10-eager": chainSetup(10, false),
    "chain-1000-eager": chainSetup(1000, false),
    "chain-1000-eager-capture": withCapture(chainSetup(1000, false)),
    "tiny-call": (): TimedSetup => {
      const x = f32(TINY_INPUT, [4]);
      const f = jit((v: Tensor) => v.mul(2).add(1), { name: "tiny" });
      const run = () => (f(x) as Tensor).dataSync();
      return { fn: run, verify: () => checkTiny(run()) };
    },
    "eager-op-add": eagerOpSetup("add", 16),
    "eager-op-add-capture": withCapture(eagerOpCaptureSetup),
    "eager-op-exp": eagerOpSetup("exp", 16),
    "eager-op-1k-add": eagerOpSetup("add", 1000),
    "eager-op-1k-exp": eagerOpSetup("exp", 1000),
    "jit-first-call-mlp": withDist((note) =>
      childSampleSetup("bench/peers/adgen-first-call.ts", [], note ? `built dist/: ${note}` : undefined),
    ),
    "jit-first-call-mlp-warm": jitFirstCallWarmSetup,
    "jit-new-batch-mlp": jitNewBatchSetup,
    "rss-import": withDist((note) =>
      rssSetup(
        `const a = await import(${JSON.stringify(ADGEN_DIST_URL)}); a.np.ones([4]).add(1).dataSync();`,
        "import dist/adgen.mjs + one tiny eager op" + (note ? `; ${note}` : ""),
      ),
    ),
    "rss-peak": withDist((note) =>
      mlpStepRssSetup(RSS_PEAK_CODE, "built dist/adgen.mjs, jit(valueAndGrad)" + (note ? `; ${note}` : "")),
    ),
    "transformer-fwd": transformerSetup(false),
    "transformer-step": transformerSetup(true),
    "ew-4m-fwd": ewSetup(false),
    "ew-4m-grad": ewSetup(true),
    "cnn-step": cnnStepSetup(),
    "compile-mlp-step": compileSetup("mlp-step"),
    "compile-transformer-step": compileSetup("transformer-step"),
    "compile-gen-30": compileSetup("gen-30"),
    "compile-gen-300": compileSetup("gen-300"),
    "compile-gen-3000": compileSetup("gen-3000"),
    ...hybridImpls,
    "gmm-obj": gmmObjSetup,
    "gmm-grad": gmmGradSetup,
    "lstm-obj": lstmObjSetup,
    "lstm-grad": lstmGradSetup,
    ...EXPORT_IMPLS,
    ...MEMORY_IMPLS,
    ...MEMORY_DEEP_IMPLS,
  },
};
