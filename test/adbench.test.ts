// ADBench objectives written as adgen array code (examples/adbench/{gmm,lstm,ba}.ts) and
// differentiated by adgen (grad, jit(grad), vmap(jacfwd)), checked against the independent
// hand-written float64 objectives and hand-derived gradients/Jacobians (examples/adbench/hand).
//
// Agreement is ADBench's: |x-y| / max(1, |x|+|y|) < 1e-8 against the exact hand derivatives. The
// LSTM gradient is also spot-checked against central finite differences of the adgen objective,
// with the looser bound 1e-7 (FD truncation + rounding ~ h^2 f''' + eps |f| / h ~ 1e-10 here).
import { describe, it, expect } from "vitest";
import { dataPath, readBa, readGmm, readLstm, truncateLstm } from "../examples/adbench/io.js";
import type { BaData, GmmData } from "../examples/adbench/io.js";
import { baJacobian, baObjective, gmmGradient, gmmObjective as handGmm, lstmGradient, lstmObjective as handLstm } from "../examples/adbench/hand.js";
import { flatGmmGradient, gmmGrad, gmmGradJit, gmmObjective, gmmObjectiveJit, gmmTensors } from "../examples/adbench/gmm.js";
import {
  flatLstmGradient,
  lstmGrad,
  lstmGradJit,
  lstmGradScan,
  lstmGradScanJit,
  lstmObjective,
  lstmObjectiveJit,
  lstmObjectiveScan,
  lstmObjectiveScanJit,
  lstmTensors,
} from "../examples/adbench/lstm.js";
import { baJacobianAd, baJacobianBlocksRaw, baResiduals, baTensors, firstObservations } from "../examples/adbench/ba.js";
import { Tensor } from "../src/index.js";
import { maxRelErr, relErr } from "./util/check.js";

const TOL = 1e-8;


// ---------------------------------------------------------------------------------------- GMM

function firstPoints(g: GmmData, n: number): GmmData {
  return { ...g, n, x: g.x.slice(0, n * g.d) };
}

describe("adgen GMM vs hand-written", () => {
  const cases: [string, GmmData][] = [
    ["test.txt", readGmm(dataPath("gmm/test.txt"))],
    ["1k d2 K5", readGmm(dataPath("gmm/1k/gmm_d2_K5.txt"))],
    ["1k d10 K25, first 200 points", firstPoints(readGmm(dataPath("gmm/1k/gmm_d10_K25.txt")), 200)],
  ];
  for (const [name, g] of cases) {
    it(`objective and gradient (eager and jit) on ${name}`, () => {
      const t = gmmTensors(g);
      const args = [t.alphas, t.means, t.icf, t.x, t.wishart] as const;
      const f = gmmObjective(...args);
      expect(f.dtype).toBe("float64");
      expect(f.shape).toEqual([]);
      expect(relErr(f.item(), handGmm(g))).toBeLessThan(TOL);
      expect(relErr(gmmObjectiveJit(...args).item(), handGmm(g))).toBeLessThan(TOL);
      const hand = gmmGradient(g);
      const eager = gmmGrad(...args);
      expect(eager.map((x) => x.shape)).toEqual([[g.k], [g.k, g.d], [g.k, (g.d * (g.d + 1)) / 2]]);
      expect(maxRelErr(flatGmmGradient(eager), hand)).toBeLessThan(TOL);
      expect(maxRelErr(flatGmmGradient(gmmGradJit(...args)), hand)).toBeLessThan(TOL);
    });
  }
});

// --------------------------------------------------------------------------------------- LSTM

// l2 c1024 truncated to its first 32 characters (31 time steps): the unrolled jit trace stays
// small (about 1 s to trace and compile the gradient).
const LSTM_C = 32;

describe(`adgen LSTM vs hand-written (l2 c1024, first ${LSTM_C} characters)`, () => {
  const data = truncateLstm(readLstm(dataPath("lstm/lstm_l2_c1024.txt")), LSTM_C);
  const t = lstmTensors(data);
  const args = [t.mainParams, t.extraParams, t.state, t.sequence] as const;

  it("objective (eager and jit)", () => {
    expect(relErr(lstmObjective(...args).item(), handLstm(data))).toBeLessThan(TOL);
    expect(relErr(lstmObjectiveJit(...args).item(), handLstm(data))).toBeLessThan(TOL);
  });

  it("gradient w.r.t. main and extra parameters (eager and jit)", () => {
    const hand = lstmGradient(data);
    const eager = lstmGrad(...args);
    expect(eager.map((x) => x.shape)).toEqual([[2 * data.l, 4 * data.b], [3, data.b]]);
    expect(maxRelErr(flatLstmGradient(eager), hand)).toBeLessThan(TOL);
    expect(maxRelErr(flatLstmGradient(lstmGradJit(...args)), hand)).toBeLessThan(TOL);
  });

  it("lax.scan variant: objective and gradient (eager and jit)", () => {
    expect(relErr(lstmObjectiveScan(...args).item(), handLstm(data))).toBeLessThan(TOL);
    expect(relErr(lstmObjectiveScanJit(...args).item(), handLstm(data))).toBeLessThan(TOL);
    const hand = lstmGradient(data);
    expect(maxRelErr(flatLstmGradient(lstmGradScan(...args)), hand)).toBeLessThan(TOL);
    expect(maxRelErr(flatLstmGradient(lstmGradScanJit(...args)), hand)).toBeLessThan(TOL);
  });

  it("gradient spot check against central finite differences (16 parameters)", () => {
    const g = flatLstmGradient(lstmGradJit(...args));
    const main = data.mainParams;
    const extra = data.extraParams;
    const nMain = main.length;
    const h = 1e-5;
    const at = (mp: Float64Array, ep: Float64Array) =>
      lstmObjectiveJit(Tensor.fromData(mp, t.mainParams.shape), Tensor.fromData(ep, t.extraParams.shape), t.state, t.sequence).item();
    for (let s = 0; s < 16; s++) {
      const j = (s * 37 + 5) % g.length; // spread over weights, biases and extra parameters
      const delta = (sign: number) => {
        const mp = main.slice();
        const ep = extra.slice();
        if (j < nMain) mp[j] += sign * h;
        else ep[j - nMain] += sign * h;
        return at(mp, ep);
      };
      const fd = (delta(1) - delta(-1)) / (2 * h);
      expect(relErr(g[j]!, fd), `parameter ${j}`).toBeLessThan(1e-7);
    }
  });
});

// ----------------------------------------------------------------------------------------- BA

describe("adgen BA vs hand-written", () => {
  const test = readBa(dataPath("ba/test.txt"));
  // camera 1 with zero rotation takes Rodrigues' small-angle branch (xc = v + r x v)
  const zeroRot: BaData = { ...test, cams: test.cams.slice() };
  zeroRot.cams.fill(0, 11, 14);
  const cases: [string, BaData][] = [
    ["test.txt", test],
    ["test.txt, camera 1 with zero rotation", zeroRot],
    ["ba1, first 200 observations", firstObservations(readBa(dataPath("ba/ba1_n49_m7776_p31843.txt")), 200)],
  ];
  for (const [name, data] of cases) {
    it(`residuals and sparse Jacobian (vmap(jacfwd), jit and eager) on ${name}`, () => {
      const t = baTensors(data);
      const [re, we] = baResiduals(t.cams, t.X, t.w, t.feats, t.camIdx, t.ptIdx) as [Tensor, Tensor];
      const hand = baObjective(data);
      expect(re.shape).toEqual([data.p, 2]);
      expect(maxRelErr(re.dataSync(), hand.reprojErr)).toBeLessThan(TOL);
      expect(maxRelErr(we.dataSync(), hand.wErr)).toBeLessThan(TOL);
      const H = baJacobian(data);
      for (const J of [baJacobianAd(data, t), baJacobianAd(data, t, baJacobianBlocksRaw)]) {
        expect([J.rows, J.cols]).toEqual([H.rows, H.cols]);
        expect(J.rowPtr).toEqual(H.rowPtr);
        expect(J.colIdx).toEqual(H.colIdx);
        expect(maxRelErr(J.vals, H.vals)).toBeLessThan(TOL);
      }
    });
  }
});
