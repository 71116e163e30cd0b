/**
 * Hand-written JavaScript baseline: Float32Array loops and hand-derived gradients, no library.
 *
 * - matmul: i-k-j loop order (contiguous inner loop over B and C rows), k unrolled by 4 so each
 *   pass over a C row does 4 multiply-adds per load/store of C.
 * - MLP: forward + backward written out with three matmul shapes (A@B, A^T@B, A@B^T).
 * - chain: op-by-op over whole vectors, like a tape would: the forward pass keeps every op's input
 *   (200 Float32Arrays), the backward pass walks the ops in reverse and multiplies the cotangent by
 *   the hand-derived local derivative. (A fused scalar loop that multiplies derivatives on the fly
 *   would be faster still; this baseline is the "forward + backward in typed arrays" one.)
 */
import type { SetupFactory } from "../harness.js";
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
import { gmmGradient, gmmObjective, lstmGradient, lstmObjective } from "../../examples/adbench/hand.js";
import {
  ADBENCH_TOL_F64,
  checkGmmGradient,
  checkGmmObjective,
  checkLstmGradient,
  checkLstmObjective,
  fdCheckGmm,
  fdCheckLstm,
  gmmInstance,
  lstmInstance,
} from "../workloads/adbench.js";
import type { Peer } from "./types.js";

/** C[m,n] = A[m,k] @ B[k,n] (C is overwritten). */
export function matmul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): void {
  c.fill(0);
  const k4 = k - (k % 4);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    const ai = i * k;
    let p = 0;
    for (; p < k4; p += 4) {
      const a0 = a[ai + p]!;
      const a1 = a[ai + p + 1]!;
      const a2 = a[ai + p + 2]!;
      const a3 = a[ai + p + 3]!;
      const b0 = p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        c[ci + j] = c[ci + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
      }
    }
    for (; p < k; p++) {
      const a0 = a[ai + p]!;
      const b0 = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + a0 * b[b0 + j]!;
    }
  }
}

/** C[k,n] = A[m,k]^T @ B[m,n] (C is overwritten). Loop over m outermost, rows of C contiguous. */
export function matmulTA(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): void {
  c.fill(0);
  const m4 = m - (m % 4);
  let i = 0;
  for (; i < m4; i += 4) {
    const a0r = i * k;
    const b0 = i * n;
    for (let p = 0; p < k; p++) {
      const a0 = a[a0r + p]!;
      const a1 = a[a0r + k + p]!;
      const a2 = a[a0r + 2 * k + p]!;
      const a3 = a[a0r + 3 * k + p]!;
      const cp = p * n;
      for (let j = 0; j < n; j++) {
        c[cp + j] = c[cp + j]! + a0 * b[b0 + j]! + a1 * b[b0 + n + j]! + a2 * b[b0 + 2 * n + j]! + a3 * b[b0 + 3 * n + j]!;
      }
    }
  }
  for (; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const a0 = a[i * k + p]!;
      const cp = p * n;
      for (let j = 0; j < n; j++) c[cp + j] = c[cp + j]! + a0 * b[i * n + j]!;
    }
  }
}

/** C[m,n] = A[m,k] @ B[n,k]^T (C is overwritten): dot products of rows. */
export function matmulTB(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[j * k + p]!;
      c[i * n + j] = s;
    }
  }
}

interface MlpBuffers {
  z1: Float32Array;
  h: Float32Array;
  z2: Float32Array;
  dz2: Float32Array;
  dh: Float32Array;
  gw1: Float32Array;
  gb1: Float32Array;
  gw2: Float32Array;
  gb2: Float32Array;
}

function mlpBuffers(batch: number): MlpBuffers {
  const { nIn, nHidden: H, nOut: K } = MLP;
  return {
    z1: new Float32Array(batch * H),
    h: new Float32Array(batch * H),
    z2: new Float32Array(batch * K),
    dz2: new Float32Array(batch * K),
    dh: new Float32Array(batch * H),
    gw1: new Float32Array(nIn * H),
    gb1: new Float32Array(H),
    gw2: new Float32Array(H * K),
    gb2: new Float32Array(K),
  };
}

/** Forward: returns the loss; leaves z1, h, z2 (logits) in the buffers. With `grad`, dz2 = dL/dz2. */
function mlpForward(d: MlpData, buf: MlpBuffers, grad: boolean): number {
  const { nIn, nHidden: H, nOut: K } = MLP;
  const B = d.batch;
  const { z1, h, z2, dz2 } = buf;
  matmul(d.x, d.w1, z1, B, nIn, H);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < H; j++) {
      const v = z1[i * H + j]! + d.b1[j]!;
      z1[i * H + j] = v;
      h[i * H + j] = v > 0 ? v : 0;
    }
  }
  matmul(h, d.w2, z2, B, H, K);
  let loss = 0;
  for (let i = 0; i < B; i++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) {
      const v = z2[i * K + k]! + d.b2[k]!;
      z2[i * K + k] = v;
      if (v > m) m = v;
    }
    let se = 0;
    for (let k = 0; k < K; k++) se += Math.exp(z2[i * K + k]! - m);
    const lse = m + Math.log(se);
    for (let k = 0; k < K; k++) {
      const yk = d.y[i * K + k]!;
      const zk = z2[i * K + k]!;
      loss -= yk * (zk - lse);
      if (grad) dz2[i * K + k] = (Math.exp(zk - lse) - yk) / B;
    }
  }
  return loss / B;
}

function mlpStep(d: MlpData, buf: MlpBuffers): number {
  const { nIn, nHidden: H, nOut: K } = MLP;
  const B = d.batch;
  const loss = mlpForward(d, buf, true);
  const { z1, h, dz2, dh, gw1, gb1, gw2, gb2 } = buf;
  matmulTA(h, dz2, gw2, B, H, K); // gW2 = h^T dz2
  gb2.fill(0);
  for (let i = 0; i < B; i++) for (let k = 0; k < K; k++) gb2[k] = gb2[k]! + dz2[i * K + k]!;
  matmulTB(dz2, d.w2, dh, B, K, H); // dh = dz2 W2^T
  gb1.fill(0);
  for (let t = 0; t < B * H; t++) {
    const g = z1[t]! > 0 ? dh[t]! : 0;
    dh[t] = g; // now dz1
    gb1[t % H] = gb1[t % H]! + g;
  }
  matmulTA(d.x, dh, gw1, B, nIn, H); // gW1 = x^T dz1
  return loss;
}

// ---------------------------------------------------------------------------------------------
// chain

type Vec = Float32Array;
function chainForwardOp(op: ChainOp, x: Vec, out: Vec): void {
  const n = x.length;
  switch (op) {
    case "sin":
      for (let j = 0; j < n; j++) out[j] = Math.sin(x[j]!);
      break;
    case "tanh":
      for (let j = 0; j < n; j++) out[j] = Math.tanh(x[j]!);
      break;
    case "affine":
      for (let j = 0; j < n; j++) out[j] = x[j]! * 1.001 + 0.1;
      break;
    case "xsinx":
      for (let j = 0; j < n; j++) out[j] = x[j]! * Math.sin(x[j]!);
      break;
    case "exp":
      for (let j = 0; j < n; j++) out[j] = Math.exp(x[j]!);
      break;
    case "square":
      for (let j = 0; j < n; j++) out[j] = x[j]! * x[j]!;
      break;
    case "log1psq":
      for (let j = 0; j < n; j++) out[j] = Math.log1p(x[j]! * x[j]!);
      break;
    case "cos":
      for (let j = 0; j < n; j++) out[j] = Math.cos(x[j]!);
      break;
  }
}

/** g *= d op(x)/dx, elementwise (x = the op's saved input, y = its saved output). */
function chainBackwardOp(op: ChainOp, x: Vec, y: Vec, g: Vec): void {
  const n = x.length;
  switch (op) {
    case "sin":
      for (let j = 0; j < n; j++) g[j] = g[j]! * Math.cos(x[j]!);
      break;
    case "tanh":
      for (let j = 0; j < n; j++) g[j] = g[j]! * (1 - y[j]! * y[j]!);
      break;
    case "affine":
      for (let j = 0; j < n; j++) g[j] = g[j]! * 1.001;
      break;
    case "xsinx":
      for (let j = 0; j < n; j++) g[j] = g[j]! * (Math.sin(x[j]!) + x[j]! * Math.cos(x[j]!));
      break;
    case "exp":
      for (let j = 0; j < n; j++) g[j] = g[j]! * y[j]!;
      break;
    case "square":
      for (let j = 0; j < n; j++) g[j] = g[j]! * 2 * x[j]!;
      break;
    case "log1psq":
      for (let j = 0; j < n; j++) g[j] = (g[j]! * 2 * x[j]!) / (1 + x[j]! * x[j]!);
      break;
    case "cos":
      for (let j = 0; j < n; j++) g[j] = -g[j]! * Math.sin(x[j]!);
      break;
  }
}

function chainSetup(n: number): SetupFactory {
  return () => {
    const x0 = chainInput(n);
    const run = (): Float32Array => {
      // Forward: vals[i] is the input of op i; vals[200] the output. Fresh arrays per call, like a tape.
      const vals: Vec[] = [x0];
      for (let i = 0; i < CHAIN.length; i++) {
        const out = new Float32Array(n);
        chainForwardOp(CHAIN[i]!, vals[i]!, out);
        vals.push(out);
      }
      const g = new Float32Array(n).fill(1); // d sum / d out
      for (let i = CHAIN.length - 1; i >= 0; i--) chainBackwardOp(CHAIN[i]!, vals[i]!, vals[i + 1]!, g);
      return g;
    };
    return { fn: run, verify: () => checkChainGrad(run(), chainReference(x0).grad) };
  };
}

// ---------------------------------------------------------------------------------------------

/** The floor of the eager-op rows: a fresh Float32Array and one loop (what an op must at least do). */
function eagerOpSetup(op: EagerOp, n: number): SetupFactory {
  return () => {
    const { a, b } = eagerOpInputs(n);
    const apply = (): Float32Array => {
      const out = new Float32Array(a.length);
      if (op === "add") for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!;
      else for (let i = 0; i < out.length; i++) out[i] = Math.exp(a[i]!);
      return out;
    };
    return {
      fn: () => {
        sink.v = apply();
      },
      verify: () => checkEagerOp(op, a, b, apply()),
    };
  };
}

const NO_JIT = "no jit: hand-written code is already specialised";
const ADBENCH_HAND = "examples/adbench/hand = the reference; its gradient is checked by central differences";
const NOT_EAGER = "not applicable (no jit/eager distinction; see the row without -eager)";

export const handPeer: Peer = {
  name: "hand",
  version: `node ${process.version}`,
  impls: {
    "matmul-512": () => mmSetup(512),
    "matmul-1024": () => mmSetup(1024),
    "matmul-512-eager": () => unavailable(NOT_EAGER),
    "matmul-1024-eager": () => unavailable(NOT_EAGER),
    "mlp-fwd": () => {
      const d = mlpData();
      const buf = mlpBuffers(d.batch);
      return { fn: () => mlpForward(d, buf, false), verify: () => checkMlpLoss(d, mlpForward(d, buf, false)) };
    },
    "mlp-step": () => {
      const d = mlpData();
      const buf = mlpBuffers(d.batch);
      // Fresh output arrays are not allocated per call: the gradients live in preallocated buffers.
      return {
        fn: () => mlpStep(d, buf),
        verify: () => {
          const loss = mlpStep(d, buf);
          return checkMlpGrads(d, { loss, w1: buf.gw1, b1: buf.gb1, w2: buf.gw2, b2: buf.gb2 });
        },
      };
    },
    "mlp-step-xposed": () => unavailable("tfjs-specific workaround row"),
    "mlp-fwd-eager": () => unavailable(NOT_EAGER),
    "mlp-step-eager": () => unavailable(NOT_EAGER),
    "mlp-step-tape": () => unavailable(NOT_EAGER),
    "chain-10": chainSetup(10),
    "chain-1000": chainSetup(1000),
    "chain-10-eager": () => unavailable(NOT_EAGER),
    "chain-1000-eager": () => unavailable(NOT_EAGER),
    "tiny-call": () => {
      const x = TINY_INPUT;
      const f = (): Float32Array => {
        const y = new Float32Array(4);
        for (let i = 0; i < 4; i++) y[i] = x[i]! * 2 + 1;
        return y;
      };
      return { fn: f, verify: () => checkTiny(f()) };
    },
    "eager-op-add": eagerOpSetup("add", 16),
    "eager-op-exp": eagerOpSetup("exp", 16),
    "eager-op-1k-add": eagerOpSetup("add", 1000),
    "eager-op-1k-exp": eagerOpSetup("exp", 1000),
    "jit-first-call-mlp": () => unavailable(NO_JIT),
    "jit-first-call-mlp-warm": () => unavailable(NO_JIT),
    "jit-new-batch-mlp": () => unavailable(NO_JIT),
    "rss-import": () => unavailable("no library to import (the baseline is bare node)"),
    "rss-peak": () => unavailable("no library to import (the baseline is bare node)"),
    // ADBench: the hand-written baseline is also the reference (computed once, cached), so its
    // verify() compares with the cached reference and checks the gradient by finite differences.
    "gmm-obj": () => {
      const g = gmmInstance();
      const run = () => gmmObjective(g);
      return { fn: run, verify: () => checkGmmObjective(run(), ADBENCH_TOL_F64), note: ADBENCH_HAND };
    },
    "gmm-grad": () => {
      const g = gmmInstance();
      const run = () => gmmGradient(g);
      return {
        fn: run,
        verify: () => {
          const gr = run();
          return checkGmmGradient(gr, ADBENCH_TOL_F64) ?? fdCheckGmm(gr);
        },
        note: ADBENCH_HAND,
      };
    },
    "lstm-obj": () => {
      const d = lstmInstance();
      const run = () => lstmObjective(d);
      return { fn: run, verify: () => checkLstmObjective(run(), ADBENCH_TOL_F64), note: ADBENCH_HAND };
    },
    "lstm-grad": () => {
      const d = lstmInstance();
      const run = () => lstmGradient(d);
      return {
        fn: run,
        verify: () => {
          const gr = run();
          return checkLstmGradient(gr, ADBENCH_TOL_F64) ?? fdCheckLstm(gr);
        },
        note: ADBENCH_HAND,
      };
    },
  },
};

function mmSetup(n: number) {
  const { a, b } = matmulInputs(n);
  const c = new Float32Array(n * n);
  return {
    fn: () => matmul(a, b, c, n, n, n),
    verify: () => {
      matmul(a, b, c, n, n, n);
      return checkMatmul(a, b, n, c);
    },
  };
}
