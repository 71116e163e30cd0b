// CLI: run one ADBench instance with the adgen objectives (examples/adbench/{gmm,lstm,ba}.ts) and
// the hand-written JS baseline, and print objective, gradient norm and timings for the team's
// benchmark table: first call (trace + compile), then warm jit times as the median of several
// runs, and the gradient/objective time ratio next to the hand-written ratio.
//
//   npx tsx examples/adbench/run.ts gmm examples/adbench/data/gmm/10k/gmm_d10_K25.txt
//   npx tsx examples/adbench/run.ts lstm examples/adbench/data/lstm/lstm_l2_c1024.txt [--c 100]
//   npx tsx examples/adbench/run.ts ba examples/adbench/data/ba/ba1_n49_m7776_p31843.txt [--p 2000]
// Options: --runs N (timed runs, default 7), --eager (also time the un-jitted gradient once),
// --scan (lstm: the lax.scan variant instead of the unrolled JS for-loop).
// For BA the "gradient" is the sparse Jacobian (vmap(jacfwd) blocks plus CSR assembly).
// The LSTM time loop is unrolled under jit; beyond c ~ 400 the generated gradient function is so
// large that calling it overflows Node's default stack (library issue, see the report), so run
// the full sequence with a bigger stack:
//   node --stack-size=7000 --import tsx examples/adbench/run.ts lstm <file>

import type { Tensor } from "../../src/index.js";
import { adbenchErr, readBa, readGmm, readLstm, truncateLstm } from "./io.js";
import { baJacobian, baObjective, gmmGradient, gmmObjective as handGmm, lstmGradient, lstmObjective as handLstm } from "./hand.js";
import { flatGmmGradient, gmmGrad, gmmGradJit, gmmObjectiveJit, gmmTensors } from "./gmm.js";
import * as lstm from "./lstm.js";
import { baJacobianAd, baJacobianBlocksRaw, baResiduals, baTensors, firstObservations } from "./ba.js";

const args = process.argv.slice(2);
const opt = (name: string): number | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const [kind, file] = args;
const RUNS = opt("runs") ?? 7;
const EAGER = args.includes("--eager");

function timeOnce<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

/** Median wall time (ms) of `runs` calls after `warm` untimed calls. */
function median(fn: () => unknown, runs = RUNS, warm = 3): number {
  for (let i = 0; i < warm; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) ts.push(timeOnce(fn)[1]);
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const ms = (t: number): string => (t < 10 ? t.toFixed(3) : t.toFixed(1)) + " ms";

interface Case {
  label: string;
  objective: () => number; // adgen, jitted
  gradient: () => ArrayLike<number>; // adgen, jitted (flattened)
  eagerGradient: () => unknown;
  handObjective: () => number;
  handGradient: () => ArrayLike<number>;
}

function gmmCase(path: string): Case {
  const g = readGmm(path);
  const t = gmmTensors(g);
  const a = [t.alphas, t.means, t.icf, t.x, t.wishart] as const;
  return {
    label: `gmm d=${g.d} K=${g.k} n=${g.n}`,
    objective: () => gmmObjectiveJit(...a).item(),
    gradient: () => flatGmmGradient(gmmGradJit(...a)),
    eagerGradient: () => gmmGrad(...a),
    handObjective: () => handGmm(g),
    handGradient: () => gmmGradient(g),
  };
}

function lstmCase(path: string): Case {
  let d = readLstm(path);
  const c = opt("c");
  if (c !== undefined) d = truncateLstm(d, c);
  const t = lstm.lstmTensors(d);
  const a = [t.mainParams, t.extraParams, t.state, t.sequence] as const;
  const scan = args.includes("--scan");
  const [obj, gradJ, gradE] = scan
    ? [lstm.lstmObjectiveScanJit, lstm.lstmGradScanJit, lstm.lstmGradScan]
    : [lstm.lstmObjectiveJit, lstm.lstmGradJit, lstm.lstmGrad];
  return {
    label: `lstm l=${d.l} c=${d.c} b=${d.b} (${scan ? "lax.scan" : "unrolled for-loop"})`,
    objective: () => obj(...a).item(),
    gradient: () => lstm.flatLstmGradient(gradJ(...a)),
    eagerGradient: () => gradE(...a),
    handObjective: () => handLstm(d),
    handGradient: () => lstmGradient(d),
  };
}

function baCase(path: string): Case {
  let d = readBa(path);
  const p = opt("p");
  if (p !== undefined) d = firstObservations(d, p);
  const t = baTensors(d);
  const a = [t.cams, t.X, t.w, t.feats, t.camIdx, t.ptIdx] as const;
  // a scalar summary of the residual vector: its squared norm
  const sq = (xs: Tensor[]) => xs.reduce((s, x) => s + norm(x.dataSync()) ** 2, 0);
  return {
    label: `ba n=${d.n} m=${d.m} p=${d.p}`,
    objective: () => sq(baResiduals(...a)),
    gradient: () => baJacobianAd(d, t).vals,
    eagerGradient: () => baJacobianAd(d, t, baJacobianBlocksRaw),
    handObjective: () => {
      const r = baObjective(d);
      return norm(r.reprojErr) ** 2 + norm(r.wErr) ** 2;
    },
    handGradient: () => baJacobian(d).vals,
  };
}

function main(): void {
  const make = kind === "gmm" ? gmmCase : kind === "lstm" ? lstmCase : kind === "ba" ? baCase : null;
  if (!make || !file) {
    console.error("usage: run.ts gmm|lstm|ba <file> [--runs N] [--c N] [--scan] (lstm) [--p N (ba)] [--eager]");
    process.exit(2);
  }
  const c = make(file);
  console.log(`${c.label}  (${file})`);
  const [f, objFirst] = timeOnce(c.objective);
  const [g, gradFirst] = timeOnce(c.gradient);
  const fh = c.handObjective();
  const gh = c.handGradient();
  const worst = adbenchErr(g, gh);
  const what = kind === "ba" ? "||residuals||^2" : "objective";
  console.log(`${what}: ${f}   (hand JS ${fh})`);
  console.log(`${kind === "ba" ? "||J||_F" : "||grad||"}: ${norm(g)}   (hand JS ${norm(gh)}; max rel diff ${worst.toExponential(2)})`);
  console.log(`first call (trace+compile+run): objective ${ms(objFirst)}, gradient ${ms(gradFirst)}`);
  if (EAGER) console.log(`eager (un-jitted) gradient, one call: ${ms(timeOnce(c.eagerGradient)[1])}`);
  const tObj = median(c.objective);
  const tGrad = median(c.gradient);
  const tHObj = median(c.handObjective);
  const tHGrad = median(c.handGradient);
  console.log(`median of ${RUNS} warm runs:`);
  console.log(`  adgen jit   objective ${ms(tObj)}  gradient ${ms(tGrad)}  ratio ${(tGrad / tObj).toFixed(2)}`);
  console.log(`  hand JS     objective ${ms(tHObj)}  gradient ${ms(tHGrad)}  ratio ${(tHGrad / tHObj).toFixed(2)}`);
  console.log(`  adgen/hand  objective ${(tObj / tHObj).toFixed(2)}x  gradient ${(tGrad / tHGrad).toFixed(2)}x`);
}

try {
  main();
} catch (e) {
  if (e instanceof RangeError && /call stack/.test(e.message)) {
    console.error("RangeError: stack overflow in a generated function; rerun with node --stack-size=7000 --import tsx ...");
  }
  throw e;
}
