/**
 * jax-js peer (@jax-js/jax) on its "wasm" device.
 *
 * Selecting the wasm backend in Node: `await init("wasm")` then `defaultDevice("wasm")`.
 * Do NOT call `init()` without arguments on Node 20: it also probes WebGPU via the global
 * `navigator`, which Node 20 lacks (ReferenceError: navigator is not defined). "wasm" is already
 * the default device, but it must be initialised first. In Node there is no global `Worker`, so
 * jax-js's wasm backend runs single-threaded.
 *
 * jax-js arrays are reference counted: every function (including jitted ones) consumes its
 * arguments, so inputs that are reused across calls are passed as `x.ref`, and every output is
 * consumed by `dataSync()` (which realises the lazy computation, copies the data out and disposes
 * the array). Timed calls therefore include the real compute and the readback.
 */
import { defaultDevice, grad, init, jit, nn, numpy as np, valueAndGrad } from "@jax-js/jax";
import type { SetupFactory, TimedSetup } from "../harness.js";
import { unavailable } from "../harness.js";
import { CHAIN, chainInput, chainReference, checkChainGrad, type ChainOp } from "../workloads/chain.js";
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
  type MlpData,
} from "../workloads/data.js";
import {
  ADBENCH_TOL_F32,
  checkGmmGradient,
  checkGmmObjective,
  checkLstmObjective,
  concatF64,
  errNote,
  gmmInstance,
  lstmInstance,
  type ErrTracker,
} from "../workloads/adbench.js";
import { childSampleSetup, mlpStepRssSetup, pkgVersion, rssSetup } from "./child.js";
import { gmmArrays, gmmGradJit, gmmObjectiveJit, LSTM_CHUNK, lstmArrays, lstmObjectiveChunked } from "./jaxjs-adbench.js";
import type { Peer } from "./types.js";

type Params = { W1: np.Array; b1: np.Array; W2: np.Array; b2: np.Array };

const arr = (data: Float32Array, shape: number[]): np.Array => np.array(data, { shape, dtype: np.float32 });

function matmulSetup(n: number, useJit: boolean): SetupFactory {
  return (): TimedSetup => {
    const { a: ad, b: bd } = matmulInputs(n);
    const a = arr(ad, [n, n]);
    const b = arr(bd, [n, n]);
    const mj = useJit ? jit((x: np.Array, y: np.Array) => np.matmul(x, y)) : undefined;
    const mm = mj ?? np.matmul;
    const run = () => mm(a.ref, b.ref).dataSync() as Float32Array;
    return {
      fn: run,
      verify: () => checkMatmul(ad, bd, n, run()),
      teardown: () => {
        mj?.dispose();
        a.dispose();
        b.dispose();
      },
    };
  };
}

/**
 * Per-op overhead of eager execution. jax-js is lazy (ops are recorded and dispatched when a result
 * is needed), so the timed call must include dataSync() (realise + copy out of the [n] result).
 */
function eagerOpSetup(op: EagerOp, n: number): SetupFactory {
  return (): TimedSetup => {
    const { a: ad, b: bd } = eagerOpInputs(n);
    const a = arr(ad, [n]);
    const b = arr(bd, [n]);
    const run = () => (op === "add" ? np.add(a.ref, b.ref) : np.exp(a.ref)).dataSync() as Float32Array;
    return {
      fn: () => {
        sink.v = run();
      },
      verify: () => checkEagerOp(op, ad, bd, run()),
      teardown: () => {
        a.dispose();
        b.dispose();
      },
      note: "lazy: timed call includes dataSync() to force execution (plus a copy of the result)",
    };
  };
}

/** loss(params, x, y): each array is used exactly once (ownership rules), so no .ref needed. */
function makeLoss(batch: number) {
  return (p: Params, x: np.Array, y: np.Array): np.Array => {
    const h = nn.relu(np.matmul(x, p.W1).add(p.b1));
    const logits = np.matmul(h, p.W2).add(p.b2);
    return nn.logSoftmax(logits, -1).mul(y).sum().mul(-1 / batch);
  };
}

export class MlpArrays {
  readonly p: Params;
  readonly x: np.Array;
  readonly y: np.Array;
  constructor(readonly d: MlpData) {
    const { nIn, nHidden: H, nOut: K } = MLP;
    this.p = { W1: arr(d.w1, [nIn, H]), b1: arr(d.b1, [H]), W2: arr(d.w2, [H, K]), b2: arr(d.b2, [K]) };
    this.x = arr(d.x, [d.batch, nIn]);
    this.y = arr(d.y, [d.batch, K]);
  }
  /** Fresh references to the arguments (the callee consumes them). */
  args(): [Params, np.Array, np.Array] {
    return [this.params(), this.x.ref, this.y.ref];
  }
  params(): Params {
    const { W1, b1, W2, b2 } = this.p;
    return { W1: W1.ref, b1: b1.ref, W2: W2.ref, b2: b2.ref };
  }
  dispose(): void {
    for (const a of [this.p.W1, this.p.b1, this.p.W2, this.p.b2, this.x, this.y]) a.dispose();
  }
}

export type StepFn = (p: Params, x: np.Array, y: np.Array) => [np.Array, Params];

export function readStep(out: [np.Array, Params]) {
  const [v, g] = out;
  return {
    loss: (v.dataSync() as Float32Array)[0]!,
    w1: g.W1.dataSync() as Float32Array,
    b1: g.b1.dataSync() as Float32Array,
    w2: g.W2.dataSync() as Float32Array,
    b2: g.b2.dataSync() as Float32Array,
  };
}

function mlpFwdSetup(useJit: boolean): SetupFactory {
  return (): TimedSetup => {
    const m = new MlpArrays(mlpData());
    const loss = makeLoss(m.d.batch);
    const f = useJit ? jit(loss) : loss;
    const run = () => (f(...m.args()).dataSync() as Float32Array)[0]!;
    return {
      fn: run,
      verify: () => checkMlpLoss(m.d, run()),
      teardown: () => {
        if (useJit) (f as ReturnType<typeof jit>).dispose();
        m.dispose();
      },
    };
  };
}

function mlpStepSetup(useJit: boolean): SetupFactory {
  return (): TimedSetup => {
    const m = new MlpArrays(mlpData());
    const vg = valueAndGrad(makeLoss(m.d.batch)) as StepFn;
    const f = useJit ? (jit(vg) as unknown as StepFn & { dispose(): void }) : vg;
    const run = () => readStep(f(...m.args()));
    return {
      fn: run,
      verify: () => checkMlpGrads(m.d, run()),
      teardown: () => {
        if (useJit) (f as StepFn & { dispose(): void }).dispose();
        m.dispose();
      },
    };
  };
}

/** A fresh jit of the MLP step (nothing traced or compiled yet for this function object). */
export function freshJitStep(batch: number): StepFn & { dispose(): void } {
  return jit(valueAndGrad(makeLoss(batch)) as StepFn) as unknown as StepFn & { dispose(): void };
}

/** In-process: fresh jit of the MLP step + first call, per sample (kernel caches may be warm). */
function jitFirstCallWarmSetup(): TimedSetup {
  const m = new MlpArrays(mlpData());
  const run = () => {
    const f = freshJitStep(m.d.batch);
    const out = readStep(f(...m.args()));
    f.dispose();
    return out;
  };
  return {
    fn: run,
    verify: () => checkMlpGrads(m.d, run()),
    teardown: () => m.dispose(),
  };
}

/** A jitted step warm at batch 128, then called at batch 129, 130, ... (one new size per sample). */
function jitNewBatchSetup(): TimedSetup {
  const base = new MlpArrays(mlpData());
  // The loss divides by the batch size read from the traced shape, so one function serves all.
  const loss = (p: Params, x: np.Array, y: np.Array): np.Array => {
    const b = x.shape[0]!;
    const h = nn.relu(np.matmul(x, p.W1).add(p.b1));
    const logits = np.matmul(h, p.W2).add(p.b2);
    return nn.logSoftmax(logits, -1).mul(y).sum().mul(-1 / b);
  };
  const f = jit(valueAndGrad(loss) as StepFn) as unknown as StepFn & { dispose(): void };
  readStep(f(...base.args()));
  const pool: MlpArrays[] = [];
  let next = MLP.batch + 1;
  const prepared = new Map<number, MlpArrays>();
  const prepare = (count: number) => {
    for (let i = 0; i < count; i++) {
      const b = next + i;
      if (!prepared.has(b)) {
        const m = new MlpArrays(mlpData(b));
        prepared.set(b, m);
        pool.push(m);
      }
    }
  };
  prepare(40);
  const run = () => {
    const b = next++;
    let m = prepared.get(b);
    if (!m) {
      m = new MlpArrays(mlpData(b));
      pool.push(m);
    }
    const out = readStep(f(base.params(), m.x.ref, m.y.ref));
    return { m, out };
  };
  return {
    fn: run,
    verify: () => {
      const { m, out } = run();
      return checkMlpGrads(m.d, out);
    },
    teardown: () => {
      f.dispose();
      base.dispose();
      for (const m of pool) m.dispose();
    },
    note: "data for each new batch size is prepared before timing",
  };
}

function applyOp(op: ChainOp, x: np.Array): np.Array {
  switch (op) {
    case "sin":
      return np.sin(x);
    case "tanh":
      return np.tanh(x);
    case "affine":
      return x.mul(1.001).add(0.1);
    case "xsinx":
      return x.ref.mul(np.sin(x));
    case "exp":
      return np.exp(x);
    case "square":
      return x.ref.mul(x);
    case "log1psq":
      return np.log1p(x.ref.mul(x));
    case "cos":
      return np.cos(x);
  }
}

function chainSetup(n: number, useJit: boolean): SetupFactory {
  return (): TimedSetup => {
    const x0d = chainInput(n);
    const x0 = arr(x0d, [n]);
    const f = (x: np.Array): np.Array => {
      for (const op of CHAIN) x = applyOp(op, x);
      return x.sum();
    };
    const g = grad(f) as (x: np.Array) => np.Array;
    const gj = useJit ? (jit(g) as unknown as ((x: np.Array) => np.Array) & { dispose(): void }) : undefined;
    const run = () => ((gj ?? g)(x0.ref).dataSync() as Float32Array);
    return {
      fn: run,
      verify: () => checkChainGrad(run(), chainReference(x0d).grad),
      teardown: () => {
        gj?.dispose();
        x0.dispose();
      },
    };
  };
}

// ---------------------------------------------------------------------------------------------
// ADBench (./jaxjs-adbench.ts): float64 arrays, float32-accurate transcendentals on wasm

const F64_NOTE = "float64 arrays, but wasm computes exp/log of float64 in float32";

function gmmSetup(kind: "obj" | "grad"): SetupFactory {
  return (): TimedSetup => {
    const g = gmmInstance();
    const a = gmmArrays(g);
    const track: ErrTracker = { worst: 0 };
    if (kind === "obj") {
      const f = gmmObjectiveJit(g);
      const run = () => (f(...a.args()).dataSync() as Float64Array)[0]!;
      return {
        fn: run,
        verify: () => checkGmmObjective(run(), ADBENCH_TOL_F32, track),
        teardown: () => {
          f.dispose();
          a.dispose();
        },
        get note() {
          return errNote(F64_NOTE + "; Float16Array placeholder installed (Node 20 lacks it)", track);
        },
      };
    }
    const df = gmmGradJit(g);
    const run = () => concatF64(df(...a.args()).map((t) => t.dataSync() as Float64Array));
    return {
      fn: run,
      verify: () => checkGmmGradient(run(), ADBENCH_TOL_F32, track),
      teardown: () => {
        df.dispose();
        a.dispose();
      },
      get note() {
        return errNote(F64_NOTE + "; Q^T by a 0/1 matmul (jit(grad(np.take)) fails)", track);
      },
    };
  };
}

const lstmObjSetup: SetupFactory = (): TimedSetup => {
  const d = lstmInstance();
  const a = lstmArrays(d);
  const obj = lstmObjectiveChunked(d);
  const track: ErrTracker = { worst: 0 };
  const run = () => (obj.f(...a.args()).dataSync() as Float64Array)[0]!;
  return {
    fn: run,
    verify: () => checkLstmObjective(run(), ADBENCH_TOL_F32, track),
    teardown: () => {
      obj.dispose();
      a.dispose();
    },
    get note() {
      return errNote(
        `no lax.scan: JS loop over a jitted ${LSTM_CHUNK}-step chunk (jit of the whole unrolled loop: ` +
          `~10 s compile, ~95 ms/call); ${F64_NOTE}`,
        track,
      );
    },
  };
};

const LSTM_GRAD_NA =
  "no lax.scan; jit(grad) of the unrolled loop overflows the stack (>= 400 steps), grad of a JS loop " +
  "over jitted chunks exhausts the heap, jit of that loop compiles ~270 s";

/** The peak-RSS child: 20 jitted MLP steps (same code as mlpStepSetup). */
const RSS_PEAK_CODE = `
import { init, defaultDevice, jit, valueAndGrad, nn, numpy as np } from "@jax-js/jax";
await init("wasm");
defaultDevice("wasm");
const arr = (d, s) => np.array(d, { shape: s, dtype: np.float32 });
const P = { W1: arr(D.w1, [NIN, H]), b1: arr(D.b1, [H]), W2: arr(D.w2, [H, K]), b2: arr(D.b2, [K]) };
const x = arr(D.x, [B, NIN]), y = arr(D.y, [B, K]);
const loss = (p, x, y) => {
  const h = nn.relu(np.matmul(x, p.W1).add(p.b1));
  const logits = np.matmul(h, p.W2).add(p.b2);
  return nn.logSoftmax(logits, -1).mul(y).sum().mul(-1 / B);
};
const step = jit(valueAndGrad(loss));
let out;
for (let i = 0; i < 20; i++) {
  const [v, g] = step({ W1: P.W1.ref, b1: P.b1.ref, W2: P.W2.ref, b2: P.b2.ref }, x.ref, y.ref);
  out = { loss: v.dataSync()[0], w1: g.W1.dataSync(), b1: g.b1.dataSync(), w2: g.W2.dataSync(), b2: g.b2.dataSync() };
}
report(out);
`;

export const jaxjsPeer: Peer = {
  name: "jax-js",
  version: `@jax-js/jax ${pkgVersion("@jax-js/jax")}`,
  init: async () => {
    const got = await init("wasm");
    if (!got.includes("wasm")) throw new Error(`jax-js init("wasm") returned [${got}]`);
    defaultDevice("wasm");
  },
  info: () => ({ device: defaultDevice(), threads: typeof (globalThis as { Worker?: unknown }).Worker === "undefined" ? 1 : "workers" }),
  impls: {
    "matmul-512": matmulSetup(512, true),
    "matmul-1024": matmulSetup(1024, true),
    "matmul-512-eager": matmulSetup(512, false),
    "matmul-1024-eager": matmulSetup(1024, false),
    "mlp-fwd": mlpFwdSetup(true),
    "mlp-step": mlpStepSetup(true),
    "mlp-fwd-eager": mlpFwdSetup(false),
    "mlp-step-eager": mlpStepSetup(false),
    "mlp-step-tape": () => unavailable("no eager tape API (jax-js is functional: see mlp-step-eager)"),
    "chain-10": chainSetup(10, true),
    "chain-1000": chainSetup(1000, true),
    "chain-10-eager": chainSetup(10, false),
    "chain-1000-eager": chainSetup(1000, false),
    "tiny-call": (): TimedSetup => {
      const x = arr(TINY_INPUT, [4]);
      const f = jit((v: np.Array) => v.mul(2).add(1));
      const run = () => f(x.ref).dataSync() as Float32Array;
      return {
        fn: run,
        verify: () => checkTiny(run()),
        teardown: () => {
          f.dispose();
          x.dispose();
        },
      };
    },
    "eager-op-add": eagerOpSetup("add", 16),
    "eager-op-exp": eagerOpSetup("exp", 16),
    "eager-op-1k-add": eagerOpSetup("add", 1000),
    "eager-op-1k-exp": eagerOpSetup("exp", 1000),
    "jit-first-call-mlp": childSampleSetup("bench/peers/jaxjs-first-call.ts"),
    "jit-first-call-mlp-warm": jitFirstCallWarmSetup,
    "jit-new-batch-mlp": jitNewBatchSetup,
    "mlp-step-xposed": () => unavailable("tfjs-specific workaround row"),
    "rss-import": rssSetup(
      `import { init, defaultDevice } from "@jax-js/jax"; await init("wasm"); defaultDevice("wasm");`,
    ),
    "rss-peak": mlpStepRssSetup(RSS_PEAK_CODE, 'wasm device, jit(valueAndGrad)'),
    "gmm-obj": gmmSetup("obj"),
    "gmm-grad": gmmSetup("grad"),
    "lstm-obj": lstmObjSetup,
    "lstm-grad": () => unavailable(LSTM_GRAD_NA),
  },
};
