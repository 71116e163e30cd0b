/**
 * TensorFlow.js peers: "tfjs-wasm" (XNNPACK, SIMD; single-threaded in Node) and "tfjs-cpu"
 * (plain JS kernels). Both use the same code; `activate()` switches the global backend before each
 * setup, and every timed call reads its results back with dataSync() and disposes them.
 *
 * Node specifics: @tensorflow/tfjs-backend-wasm must be told where its .wasm files are
 * (setWasmPaths(<node_modules/@tensorflow/tfjs-backend-wasm/dist/>)) before the backend is
 * initialised. tfjs has no jit: the jit rows are n/a, and its plain rows are eager.
 */
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
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
} from "../workloads/data.js";
import {
  ADBENCH_TOL_F32,
  checkGmmGradient,
  checkGmmObjective,
  checkLstmGradient,
  checkLstmObjective,
  concatF64,
  errNote,
  gmmInstance,
  lstmInstance,
  type ErrTracker,
} from "../workloads/adbench.js";
import { mlpStepRssSetup, pkgVersion, rssSetup } from "./child.js";
import { tfGmm, tfLstm } from "./tfjs-adbench.js";
import { CNN, checkCnnBiasGrad, checkCnnLoss, cnnData, cnnShapes } from "../workloads/cnn.js";
import type { Peer } from "./types.js";

const require = createRequire(import.meta.url);
export const TFJS_WASM_DIR =
  path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm")) + path.sep;

let wasmPathsSet = false;
function ensureWasmPaths(): void {
  if (!wasmPathsSet) {
    setWasmPaths(TFJS_WASM_DIR);
    wasmPathsSet = true;
  }
}

/** Wrap a setup so that the number of live tensors is checked after teardown (leak detector). */
function leakChecked(make: () => TimedSetup & { tensors: tf.Tensor[] }): TimedSetup {
  const before = tf.memory().numTensors;
  const s = make();
  return {
    ...s,
    // (notes may be getters filled in by verify(): read them late)
    get note() {
      return s.note;
    },
    teardown: () => {
      s.teardown?.();
      tf.dispose(s.tensors);
      const leaked = tf.memory().numTensors - before;
      if (leaked !== 0) console.error(`tfjs(${tf.getBackend()}): ${leaked} tensors leaked`);
    },
  };
}

function readAll(ts: tf.Tensor[]): Float32Array[] {
  const out = ts.map((t) => t.dataSync() as Float32Array);
  tf.dispose(ts);
  return out;
}

function matmulSetup(n: number): SetupFactory {
  return () =>
    leakChecked(() => {
      const { a: ad, b: bd } = matmulInputs(n);
      const a = tf.tensor2d(ad, [n, n]);
      const b = tf.tensor2d(bd, [n, n]);
      const run = () => readAll([tf.matMul(a, b)])[0]!;
      return { tensors: [a, b], fn: run, verify: () => checkMatmul(ad, bd, n, run()) };
    });
}

/**
 * MLP in tfjs. `explicitTranspose`: matmul gradients via tf.customGrad with tf.transpose + plain
 * matMul instead of matMul's transposeA/transposeB flags (the transposed-operand kernels of the
 * wasm backend are much slower than the plain one).
 */
function mlpModel(batch: number, explicitTranspose = false) {
  const d = mlpData(batch);
  const { nIn, nHidden: H, nOut: K } = MLP;
  const x = tf.tensor2d(d.x, [batch, nIn]);
  const y = tf.tensor2d(d.y, [batch, K]);
  const w1 = tf.tensor2d(d.w1, [nIn, H]);
  const b1 = tf.tensor1d(d.b1);
  const w2 = tf.tensor2d(d.w2, [H, K]);
  const b2 = tf.tensor1d(d.b2);
  const mm = explicitTranspose
    ? tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [a, b, save] = inputs as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
        save([a, b]);
        return {
          value: tf.matMul(a, b),
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
            return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
          },
        };
      })
    : (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
  const loss = (pw1: tf.Tensor, pb1: tf.Tensor, pw2: tf.Tensor, pb2: tf.Tensor): tf.Scalar => {
    const h = tf.relu(tf.add(mm(x, pw1), pb1));
    const logits = tf.add(mm(h, pw2), pb2);
    return tf.div(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)))), batch) as tf.Scalar;
  };
  const vg = tf.valueAndGrads(loss);
  const fwd = () => {
    const l = tf.tidy(() => loss(w1, b1, w2, b2));
    return readAll([l])[0]![0]!;
  };
  const step = () => {
    const outs = tf.tidy(() => {
      const { value, grads } = vg([w1, b1, w2, b2]);
      return [value, ...grads];
    });
    const [l, g1, gb1, g2, gb2] = readAll(outs);
    return { loss: l![0]!, w1: g1!, b1: gb1!, w2: g2!, b2: gb2! };
  };
  return { d, tensors: [x, y, w1, b1, w2, b2], fwd, step };
}

/** cnn-step (bench/workloads/cnn.ts): tfjs convolutions are NHWC / HWIO, so inputs and kernels are transposed once at setup and the pooled map back to NCHW before the dense layer (same flattening as the other peers). */
function cnnModel() {
  const d = cnnData();
  const shapes = cnnShapes();
  const x = tf.tidy(() => tf.transpose(tf.tensor4d(d.x, [CNN.B, 1, CNN.H, CNN.H]), [0, 2, 3, 1]));
  const y = tf.oneHot(tf.tensor1d(d.labels, "int32"), CNN.classes);
  const hwio = (n: "w1" | "w2") => tf.tidy(() => tf.transpose(tf.tensor(d.p[n], shapes[n]), [2, 3, 1, 0]));
  const params = [hwio("w1"), tf.tensor1d(d.p.b1), hwio("w2"), tf.tensor1d(d.p.b2), tf.tensor2d(d.p.w3, shapes.w3 as [number, number]), tf.tensor1d(d.p.b3)];
  const loss = (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor, w3: tf.Tensor, b3: tf.Tensor): tf.Scalar => {
    const block = (h: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor) => tf.maxPool(tf.relu(tf.add(tf.conv2d(h, w as tf.Tensor4D, 1, "same"), b)) as tf.Tensor4D, 2, 2, "valid");
    const h = block(block(x as tf.Tensor4D, w1, b1), w2, b2);
    const flat = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [CNN.B, -1]) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(flat, w3 as tf.Tensor2D), b3);
    return tf.div(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)))), CNN.B) as tf.Scalar;
  };
  const vg = tf.valueAndGrads(loss);
  const step = () => {
    const outs = tf.tidy(() => {
      const { value, grads } = vg(params);
      return [value, ...grads];
    });
    const r = readAll(outs);
    return { loss: r[0]![0]!, b3: r[6]! };
  };
  return { tensors: [x, y, ...params], step };
}

const CHAIN_C = { a: 1.001, b: 0.1 };
function chainSetup(n: number): SetupFactory {
  return () =>
    leakChecked(() => {
      const x0d = chainInput(n);
      const x0 = tf.tensor1d(x0d);
      // Constants created once (idiomatic code would pass numbers, which allocates scalars per op).
      const ca = tf.scalar(CHAIN_C.a);
      const cb = tf.scalar(CHAIN_C.b);
      const apply = (op: ChainOp, x: tf.Tensor): tf.Tensor => {
        switch (op) {
          case "sin":
            return tf.sin(x);
          case "tanh":
            return tf.tanh(x);
          case "affine":
            return tf.add(tf.mul(x, ca), cb);
          case "xsinx":
            return tf.mul(x, tf.sin(x));
          case "exp":
            return tf.exp(x);
          case "square":
            return tf.mul(x, x);
          case "log1psq":
            return tf.log1p(tf.mul(x, x));
          case "cos":
            return tf.cos(x);
        }
      };
      const f = (x: tf.Tensor): tf.Scalar => {
        for (const op of CHAIN) x = apply(op, x);
        return tf.sum(x);
      };
      const g = tf.grad(f);
      const run = () => readAll([tf.tidy(() => g(x0))])[0]!;
      return {
        tensors: [x0, ca, cb],
        fn: run,
        verify: () => checkChainGrad(run(), chainReference(x0d).grad),
      };
    });
}

/**
 * Per-op overhead of eager execution. tfjs executes kernels synchronously when the op is called
 * (both the wasm and cpu backends), so no dataSync() is needed; the timed call includes dispose()
 * of the result (manual memory management is part of using tfjs).
 */
function eagerOpSetup(op: EagerOp, n: number): SetupFactory {
  return () =>
    leakChecked(() => {
      const { a: ad, b: bd } = eagerOpInputs(n);
      const a = tf.tensor1d(ad);
      const b = tf.tensor1d(bd);
      const apply = () => (op === "add" ? tf.add(a, b) : tf.exp(a));
      return {
        tensors: [a, b],
        fn: () => {
          const r = apply();
          sink.v = r;
          r.dispose();
        },
        verify: () => checkEagerOp(op, ad, bd, readAll([apply()])[0]!),
        note: "synchronous kernels: op + dispose(), no readback",
      };
    });
}

// ---------------------------------------------------------------------------------------------
// ADBench (./tfjs-adbench.ts): float32 (tfjs has no float64), tf.grads

const F32_NOTE = "float32 (tfjs has no float64)";

function adbenchSetup(which: "gmm" | "lstm", kind: "obj" | "grad"): SetupFactory {
  return () => {
    const track: ErrTracker = { worst: 0 };
    let note = F32_NOTE;
    if (which === "gmm" && kind === "grad") {
      note += "; Q^T by a 0/1 matmul (tfjs-wasm lacks UnsortedSegmentSum, the gradient of tf.gather)";
    }
    if (which === "lstm") note += "; eager JS loop of 1023 steps (no jit/scan)";
    return leakChecked(() => {
      const m = which === "gmm" ? tfGmm(gmmInstance()) : tfLstm(lstmInstance());
      const checkObj = which === "gmm" ? checkGmmObjective : checkLstmObjective;
      const checkGrad = which === "gmm" ? checkGmmGradient : checkLstmGradient;
      const check =
        kind === "obj"
          ? (out: unknown) => checkObj(out as number, ADBENCH_TOL_F32, track)
          : (out: unknown) => checkGrad(concatF64(out as Float32Array[]), ADBENCH_TOL_F32, track);
      const fn = kind === "obj" ? m.objective : m.gradient;
      return {
        tensors: m.tensors,
        fn,
        check,
        verify: () => check(fn()),
        // eager: no compile on the first call (quick mode may time the checked first call)
        firstCallRepresentative: true,
        get note() {
          return errNote(note, track);
        },
      };
    });
  };
}

/** The peak-RSS child's MLP steps (same code as mlpModel's step); `prelude` sets the backend. */
const rssPeakCode = (prelude: string) => `
${prelude}
const x = tf.tensor2d(D.x, [B, NIN]), y = tf.tensor2d(D.y, [B, K]);
const w1 = tf.tensor2d(D.w1, [NIN, H]), b1 = tf.tensor1d(D.b1), w2 = tf.tensor2d(D.w2, [H, K]), b2 = tf.tensor1d(D.b2);
const loss = (pw1, pb1, pw2, pb2) => {
  const h = tf.relu(tf.add(tf.matMul(x, pw1), pb1));
  const logits = tf.add(tf.matMul(h, pw2), pb2);
  return tf.div(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)))), B);
};
const vg = tf.valueAndGrads(loss);
let out;
for (let i = 0; i < 20; i++) {
  const outs = tf.tidy(() => {
    const { value, grads } = vg([w1, b1, w2, b2]);
    return [value, ...grads];
  });
  const r = outs.map((t) => t.dataSync());
  tf.dispose(outs);
  out = { loss: r[0][0], w1: r[1], b1: r[2], w2: r[3], b2: r[4] };
}
report(out);
`;

const NO_JIT = "tfjs has no jit";
const EAGER_ONLY = "tfjs is eager-only: see the row without -eager";

function makePeer(backend: "wasm" | "cpu"): Peer {
  const name = `tfjs-${backend}`;
  const rssCode =
    backend === "wasm"
      ? `import * as tf from "@tensorflow/tfjs"; import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
         setWasmPaths(${JSON.stringify(TFJS_WASM_DIR)}); await tf.setBackend("wasm"); await tf.ready();`
      : `import * as tf from "@tensorflow/tfjs"; await tf.setBackend("cpu"); await tf.ready();`;
  return {
    name,
    version: `@tensorflow/tfjs ${pkgVersion("@tensorflow/tfjs")}` +
      (backend === "wasm" ? `, tfjs-backend-wasm ${pkgVersion("@tensorflow/tfjs-backend-wasm")}` : ""),
    init: async () => {
      if (backend === "wasm") ensureWasmPaths();
      if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") failed`);
      await tf.ready();
    },
    activate: async () => {
      if (tf.getBackend() !== backend) {
        if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") failed`);
        await tf.ready();
      }
    },
    info: () => {
      const i: Record<string, unknown> = { backend };
      if (backend === "wasm") {
        i.simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
        i.multithread = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT");
      }
      return i;
    },
    impls: {
      "matmul-512": matmulSetup(512),
      "matmul-1024": matmulSetup(1024),
      "matmul-512-eager": () => unavailable(EAGER_ONLY),
      "matmul-1024-eager": () => unavailable(EAGER_ONLY),
      "mlp-fwd": () =>
        leakChecked(() => {
          const m = mlpModel(MLP.batch);
          return { tensors: m.tensors, fn: m.fwd, verify: () => checkMlpLoss(m.d, m.fwd()) };
        }),
      "mlp-step": () =>
        leakChecked(() => {
          const m = mlpModel(MLP.batch);
          return { tensors: m.tensors, fn: m.step, verify: () => checkMlpGrads(m.d, m.step()) };
        }),
      "mlp-step-xposed": () =>
        leakChecked(() => {
          const m = mlpModel(MLP.batch, true);
          return { tensors: m.tensors, fn: m.step, verify: () => checkMlpGrads(m.d, m.step()) };
        }),
      "mlp-fwd-eager": () => unavailable(EAGER_ONLY),
      "mlp-step-eager": () => unavailable(EAGER_ONLY),
      "mlp-step-tape": () => unavailable("tfjs gradients are tape-based already: see mlp-step"),
      "chain-10": chainSetup(10),
      "chain-1000": chainSetup(1000),
      "chain-10-eager": () => unavailable(EAGER_ONLY),
      "chain-1000-eager": () => unavailable(EAGER_ONLY),
      "tiny-call": () =>
        leakChecked(() => {
          const x = tf.tensor1d(TINY_INPUT);
          const two = tf.scalar(2);
          const one = tf.scalar(1);
          const run = () => readAll([tf.tidy(() => tf.add(tf.mul(x, two), one))])[0]!;
          return {
            tensors: [x, two, one],
            fn: run,
            verify: () => checkTiny(run()),
            note: "no jit: eager x.mul(2).add(1) + dataSync",
          };
        }),
      "eager-op-add": eagerOpSetup("add", 16),
      "eager-op-exp": eagerOpSetup("exp", 16),
      "eager-op-1k-add": eagerOpSetup("add", 1000),
      "eager-op-1k-exp": eagerOpSetup("exp", 1000),
      "jit-first-call-mlp": () => unavailable(NO_JIT),
      "jit-first-call-mlp-warm": () => unavailable(NO_JIT),
      "jit-new-batch-mlp": () => unavailable(NO_JIT),
      "rss-import": rssSetup(rssCode, 'import "@tensorflow/tfjs" (whole package) + backend ready'),
      "rss-peak": mlpStepRssSetup(rssPeakCode(rssCode), "valueAndGrads + tidy + dispose (no jit)"),
      "gmm-obj": adbenchSetup("gmm", "obj"),
      "gmm-grad": adbenchSetup("gmm", "grad"),
      "lstm-obj": adbenchSetup("lstm", "obj"),
      "lstm-grad": adbenchSetup("lstm", "grad"),
      "cnn-step": () =>
        backend === "wasm" ? unavailable("tfjs-backend-wasm has no Conv2DBackpropFilter kernel") : leakChecked(() => {
          const m = cnnModel();
          return { tensors: m.tensors, fn: m.step, verify: () => { const r = m.step(); return checkCnnLoss(r.loss) ?? checkCnnBiasGrad(r.b3); } };
        }),
    },
  };
}

export const tfjsWasmPeer = makePeer("wasm");
export const tfjsCpuPeer = makePeer("cpu");
