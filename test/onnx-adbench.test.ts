// ADBench objectives exported to ONNX and run on onnxruntime-node: the GMM gradient (its objective
// uses the point count in JS arithmetic, so N is concrete) and the LSTM gradient (the unrolled loop and the lax.scan
// form, which becomes an ONNX Loop) agree with adgen's jit in float64.

import { describe, it } from "vitest";
import { type Tensor, exportOnnx, spec } from "../src/index.js";
import { dataPath, readGmm, readLstm, truncateLstm } from "../examples/adbench/io.js";
import { gmmGrad, gmmGradJit, gmmTensors } from "../examples/adbench/gmm.js";
import { lstmGrad, lstmGradJit, lstmGradScan, lstmGradScanJit, lstmTensors } from "../examples/adbench/lstm.js";
import { assertClose } from "./util/check.js";
import { runOnnx } from "./onnx-run.js";

describe("ADBench gradients on ONNX Runtime", () => {
  it("GMM gradient (d2, K5, 1000 points) agrees with jit", async () => {
    const t = gmmTensors(readGmm(dataPath("gmm/1k/gmm_d2_K5.txt")));
    const g = (alphas: Tensor, means: Tensor, icf: Tensor, x: Tensor) => gmmGrad(alphas, means, icf, x, t.wishart);
    const specs = [t.alphas, t.means, t.icf, t.x].map((a) => spec("float64", a.shape));
    const e = exportOnnx(g, specs, { name: "gmm_grad" });
    const got = await runOnnx(e.bytes, [t.alphas, t.means, t.icf, t.x]);
    const want = gmmGradJit(t.alphas, t.means, t.icf, t.x, t.wishart) as Tensor[];
    got.forEach((o, i) => assertClose(o.data, want[i]!.dataSync(), { rtol: 1e-9, atol: 1e-9, what: `gmm grad ${i}` }));
  });

  for (const [form, steps, gradFn, jitFn] of [
    ["unrolled", 4, lstmGrad, lstmGradJit],
    ["lax.scan (ONNX Loop)", 20, lstmGradScan, lstmGradScanJit],
  ] as const) {
    it(`LSTM gradient (l2, ${steps} steps), ${form}, agrees with jit`, async () => {
      const t = lstmTensors(truncateLstm(readLstm(dataPath("lstm/lstm_l2_c1024.txt")), steps));
      const args = [t.mainParams, t.extraParams, t.state, t.sequence];
      const e = exportOnnx(gradFn, args.map((a) => spec("float64", a.shape)), { name: "lstm_grad" });
      const got = await runOnnx(e.bytes, args);
      const want = jitFn(t.mainParams, t.extraParams, t.state, t.sequence) as Tensor[];
      got.forEach((o, i) => assertClose(o.data, want[i]!.dataSync(), { rtol: 1e-9, atol: 1e-12, what: `lstm grad ${i}` }));
    });
  }
});
