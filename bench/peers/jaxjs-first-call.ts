/**
 * Child script for the "jit-first-call-mlp" row of the jax-js peer (run by childSampleSetup in a
 * fresh process, so no kernel or trace cache is warm). Outside the measured region: import,
 * init("wasm"), input arrays, and one unrelated tiny op (so backend start-up is not counted).
 * Measured: jit(valueAndGrad(loss)) + first call + readback of loss and the 4 gradients.
 * Prints SAMPLE=<ms>; exits non-zero if the result is wrong.
 */
import { defaultDevice, init, numpy as np } from "@jax-js/jax";
import { checkMlpGrads, mlpData } from "../workloads/data.js";
import { printSample } from "./child.js";
import { freshJitStep, MlpArrays, readStep } from "./jaxjs.js";

await init("wasm");
defaultDevice("wasm");
const m = new MlpArrays(mlpData());
np.ones([4]).mul(2).dataSync();
const t0 = performance.now();
const f = freshJitStep(m.d.batch);
const out = readStep(f(...m.args()));
const ms = performance.now() - t0;
const err = checkMlpGrads(m.d, out);
if (err) {
  console.error(err);
  process.exit(1);
}
printSample(ms);
