/**
 * adgen peer: THE PLACE TO PLUG adgen INTO THE BENCHMARK.
 *
 * Every workload currently returns { unavailable: "not yet implemented" }. To implement one,
 * replace its entry in `impls` with a SetupFactory (see bench/harness.ts) that:
 *   1. builds the inputs outside the timed region from the shared data in bench/workloads/
 *      (matmulInputs(n), mlpData(), chainInput(n) + CHAIN, TINY_INPUT), e.g. with np.array(...);
 *   2. returns { fn, verify?, teardown? } where fn() does one full call INCLUDING reading the
 *      results back (`.dataSync()`), so lazy execution cannot hide the compute;
 *   3. verify() runs fn's computation once and returns checkMatmul / checkMlpLoss /
 *      checkMlpGrads / checkChainGrad / checkTiny(...) (undefined = correct).
 * Row semantics are in bench/workloads/index.ts: plain rows use jit (`jit(valueAndGrad(loss))`),
 * "-eager" rows use no jit, "jit-first-call-mlp" runs a child script in a fresh process per
 * sample (childSampleSetup from ./child.ts; template: ./jaxjs-first-call.ts),
 * "jit-first-call-mlp-warm" creates a fresh jit per sample in-process, "jit-new-batch-mlp" calls a
 * warm jit at a never-seen batch size, and "rss-import" uses
 * rssSetup(`import ... from "<built adgen entry>"`) from ./child.ts (that child runs plain node, so
 * it must import built JS, e.g. "./dist/src/index.js" after `npm run build`, not src/*.ts).
 * The peer jax-js (./jaxjs.ts) is the closest template: same API style (np, nn, grad, jit).
 *
 * When adgen has any result, run.ts uses it as the reference column of the ratio columns.
 */
import { unavailable, type SetupFactory } from "../harness.js";
import { WORKLOADS, type WorkloadId } from "../workloads/index.js";
import type { Peer } from "./types.js";

const notYet: SetupFactory = () => unavailable("not yet implemented");

const impls: Partial<Record<WorkloadId, SetupFactory>> = Object.fromEntries(
  WORKLOADS.filter((w) => !w.derived).map((w) => [w.id, notYet]),
);
// Example, once adgen exists:
// impls["matmul-512"] = () => { const { a, b } = matmulInputs(512); const A = np.array(a).reshape([512, 512]); ...
//   return { fn: () => np.matmul(A, B).dataSync(), verify: () => checkMatmul(a, b, 512, np.matmul(A, B).dataSync()) }; };
impls["mlp-step-xposed"] = () => unavailable("tfjs-specific workaround row");

export const adgenPeer: Peer = {
  name: "adgen",
  version: "workspace",
  impls,
};
