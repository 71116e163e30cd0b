/**
 * Child script for the "jit-first-call-mlp" row of the adgen peer (run by childSampleSetup in a
 * fresh process, so no jit cache, generated code or V8 optimisation is warm). It imports the
 * BUILT library (dist/adgen.mjs; bench/peers/adgen.ts rebuilds it with `npm run build` when
 * src/ is newer). Outside the measured region: import, input tensors, one unrelated tiny eager op.
 * Measured: jit(valueAndGrad(loss)) + first call + readback of the loss and the 4 gradients.
 * Prints SAMPLE=<ms>; exits non-zero if the result is wrong.
 *
 * Run by hand: npm run build && node --import tsx bench/peers/adgen-first-call.ts
 */
import { existsSync } from "node:fs";
import { checkMlpGrads, mlpData } from "../workloads/data.js";
import { ADGEN_DIST_ENTRY, ADGEN_DIST_URL } from "./adgen-dist.js";
import { mlpLoss, mlpTensors, readStep, type Lib, type StepFn } from "./adgen-model.js";
import { printSample } from "./child.js";

if (!existsSync(ADGEN_DIST_ENTRY)) {
  console.error(`${ADGEN_DIST_ENTRY} does not exist: run \`npm run build\` first`);
  process.exit(2);
}
const lib = (await import(ADGEN_DIST_URL)) as Lib;
const m = mlpTensors(lib, mlpData());
lib.np.ones([4]).mul(2).dataSync();
const loss = mlpLoss(lib);
const t0 = performance.now();
const f = lib.jit(lib.valueAndGrad(loss), { name: "mlp_step" }) as StepFn;
const out = readStep(f(m.p, m.x, m.y));
const ms = performance.now() - t0;
const err = checkMlpGrads(m.d, out);
if (err) {
  console.error(err);
  process.exit(1);
}
printSample(ms);
