/**
 * Child script of the compile rows (bench/workloads/compile.ts): in a fresh process, imports
 * adgen from src/ (tsx) and the workload, switches the compile profile on, then times
 * jit(f) + first call + readback. Prints SAMPLE=<wall ms>, CPU=<process CPU ms> and PHASES=<json
 * of exclusive CPU ms per phase (src/core/profile.ts)>. Run by hand: node --import tsx bench/peers/adgen-compile.ts gen-300
 */
import { jit, np, valueAndGrad, type Tensor } from "../../src/index.js";
import * as adgen from "../../src/index.js";
import { compileProfile, profileClock, profileCompile } from "../../src/core/profile.js";
import { generatedProgram, type CompileCase } from "../workloads/compile.js";
import { mlpData } from "../workloads/data.js";
import { mlpLoss, mlpTensors, readStep, type Lib, type StepFn } from "./adgen-model.js";
import { transformerLoss, transformerTensors } from "./adgen-transformer.js";
import { printSample } from "./child.js";

const which = process.argv[2] as CompileCase;

/** The measured call: jit + first call + readback. */
function setup(): () => unknown {
  if (which === "mlp-step") {
    const lib = adgen as Lib;
    const m = mlpTensors(lib, mlpData());
    const loss = mlpLoss(lib);
    return () => readStep((jit(valueAndGrad(loss), { name: "mlp_step" }) as StepFn)(m.p, m.x, m.y));
  }
  if (which === "transformer-step") {
    const { p, x, target } = transformerTensors();
    return () => {
      const [l, g] = jit(valueAndGrad(transformerLoss), { name: "transformer_step" })(p, x, target) as [Tensor, Record<string, Tensor>];
      return [l.item(), ...Object.values(g).map((t) => t.dataSync())];
    };
  }
  const n = Number(/^gen-(\d+)$/.exec(which)?.[1]);
  if (!n) throw new Error(`unknown case ${which}`);
  const x = np.array(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 0.5));
  const f = generatedProgram(np, n);
  return () => (jit(f, { name: `gen_${n}` })(x) as Tensor).item();
}

// tsx turns on source maps, which makes every Error.stack (the jit reads the user's source line)
// several times slower than in the built library; measure as the built library runs
process.setSourceMapsEnabled(false);
const run = setup();
np.ones([4]).mul(2).dataSync(); // one unrelated eager op outside the timed region
profileCompile(true);
const t0 = performance.now();
const c0 = profileClock();
(function measuredFirstCall() {
  run(); // named, so a CPU profile (node --cpu-prof) can be restricted to it
})();
const ms = performance.now() - t0;
const cpu = profileClock() - c0;
const phases = compileProfile();
profileCompile(false);
process.stdout.write(`\nCPU=${cpu.toFixed(2)}\nPHASES=${JSON.stringify(Object.fromEntries(phases.map((p) => [p.phase, Number(p.ms.toFixed(2))])))}\n`);
printSample(ms);
