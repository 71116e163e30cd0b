// `npm start`: adgen's first-run demo. Trains a small MLP to tell the three Palmer penguin species
// apart from four body measurements (a real, CC0 data set shipped in examples/data/), with
// jit(valueAndGrad(loss)) and optim.adam on minibatches; shows a live progress bar, a terminal
// loss curve and an SVG of it (out/loss.svg), the test accuracy, what the compiler did (compile
// and cache-miss log events, cacheInfo(), kernels, saved residuals), and then trains the same
// model with the eager tape (variable / backward / .grad) and checks it agrees with jit. Along the
// way it exports the trained model's gradient ahead of time as a standalone module (out/), loads
// it and checks it against jit.
// Helpers live in examples/demo/.

import { statSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { config, exportFunction, jit, noGrad, np, optim, random, spec, tree, valueAndGrad, variable, type Tensor } from "../src/index.js";
import { SPECIES, batch, loadPenguins } from "./demo/data.js";
import { type Params, accuracy, countParams, initMlp, loss } from "./demo/model.js";
import { movingAverage, writeLossSvg } from "./demo/svg.js";
import { ProgressBar, bold, brailleLines, bytes, cyan, dim, green, red, say, seconds, yellow } from "./demo/terminal.js";

const SEED = 0;
const SIZES = [4, 16, 16, 3];
const BATCH = 64;
const STEPS = 400;
const LR = 0.005;
const SMOOTH = 10; // steps in the moving average of the plotted loss
const EAGER_STEPS = 12;
const SVG_PATH = fileURLToPath(new URL("../out/loss.svg", import.meta.url));
const EXPORT_DIR = fileURLToPath(new URL("../out/export", import.meta.url));

const t0 = performance.now();
const heading = (s: string) => say(`\n${bold(s)}`);
/** A path relative to the working directory when it is inside it, else absolute. */
const show = (p: string) => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r : p;
};

// ---- adgen's log: every compile, and the reason for every cache miss, printed as they happen
type LogEvent = Parameters<typeof config.logger>[0];
const events: LogEvent[] = [];
config.update({
  logCompiles: true,
  explainCacheMisses: true,
  logger: (e) => {
    events.push(e);
    const tag = e.kind === "compile" ? yellow("compile   ") : e.kind === "cache-miss" ? red("cache miss") : yellow(e.kind.padEnd(10));
    // (a no-break space keeps "7.2 ms" on one line when the message is wrapped)
    const msg = e.message.replace(process.cwd() + "/", "").replace(/(\d) (ms|bytes)\b/g, "$1\u00a0$2");
    say(`  ${dim("adgen")} ${tag} ${msg}`, 19);
  },
});

say(bold("adgen demo: telling penguin species apart with a jit-compiled MLP"));

// ---- data: 342 penguins with all four measurements, 80/20 split with a fixed key
const data = loadPenguins(SEED);
const nTrain = data.train.x.shape[0]!;
const nTest = data.test.x.shape[0]!;
const counts = SPECIES.map((s, k) => `${s} ${np.sum(np.equal(data.train.y, k)).item()}`);
heading("Data");
say(`  examples/data/penguins.csv: the Palmer penguins (Palmer Station LTER, CC0)`);
say(`  ${data.rows} rows, ${data.dropped} dropped (missing measurements); 4 features, standardized:`);
say(`    bill length, bill depth, flipper length, body mass`);
say(`  split with random.key(${SEED}): train ${nTrain}, test ${nTest}`);
say(`  training classes: ${counts.join(", ")}`);

// ---- model and optimizer
const params0 = initMlp(random.key(SEED + 1), SIZES);
const opt = optim.adam(LR);
heading("Model");
say(`  MLP ${SIZES.join(" → ")} with relu, ${countParams(params0)} parameters, init from random.key(${SEED + 1})`);
say(`  softmax cross-entropy, optim.adam(${LR}), batches of ${BATCH}, ${STEPS} steps`);

// the compiled functions: the gradient of the loss, and Adam's update
const lossAndGrad = jit(valueAndGrad(loss), { name: "lossAndGrad" });
const adamStep = jit(
  (grads: Params, state: optim.AdamState, params: Params): [Params, optim.AdamState] => {
    const [updates, next] = opt.update(grads, state, params);
    return [optim.applyUpdates(params, updates), next];
  },
  { name: "adamStep" },
);

/** The order of the training rows in one epoch, drawn from a key. */
const epochOrder = (epoch: number) => random.permutation(random.foldIn(random.key(SEED + 2), epoch), nTrain);

/** Row indices of the full minibatches of one epoch (the last, smaller one is left out). */
function epochBatches(epoch: number): Tensor[] {
  const perm = epochOrder(epoch);
  const out: Tensor[] = [];
  for (let i = 0; i + BATCH <= nTrain; i += BATCH) out.push(np.slice(perm, [i], [i + BATCH]));
  return out;
}

// ---- training with jit
heading("Training with jit(valueAndGrad(loss)) + optim.adam");
let params = params0;
let state = opt.init(params);
const losses: number[] = [];
const bar = new ProgressBar(STEPS, "jit  ");
for (let epoch = 0; losses.length < STEPS; epoch++) {
  for (const idx of epochBatches(epoch)) {
    if (losses.length === STEPS) break;
    const b = batch(data.train, idx);
    const [l, grads] = lossAndGrad(params, b.x, b.y);
    [params, state] = adamStep(grads, state, params);
    losses.push(l.item());
    bar.update(losses.length, losses.at(-1)!);
  }
}
const trainMs = bar.finish();
const jitStepMs = trainMs / STEPS;

heading(`Loss curve (moving average of ${SMOOTH} steps, log scale)`);
for (const line of brailleLines(movingAverage(losses, SMOOTH), { width: 64, height: 10, logY: true })) say(`  ${line}`);
writeLossSvg(SVG_PATH, losses, { title: `adgen demo: MLP on Palmer penguins, adam(${LR}), batch ${BATCH}`, window: SMOOTH });
say(`  SVG: ${cyan(show(SVG_PATH))}`);

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const trainAcc = accuracy(params, data.train.x, data.train.y);
const testAcc = accuracy(params, data.test.x, data.test.y);
heading("Accuracy");
say(`  train ${bold(pct(trainAcc))}   test ${bold(green(pct(testAcc)))} of ${nTest} held-out penguins`);

// ---- what adgen did
heading("What adgen did");
say(`  Both compiled on step 1 (see above); the other ${STEPS - 1} steps hit the cache.`);
say(`  One more call, with the ${nTrain % BATCH} training rows left over from the full batches:`);
const rest = batch(data.train, np.slice(epochOrder(0), [nTrain - (nTrain % BATCH)], [nTrain]));
lossAndGrad(params, rest.x, rest.y);
const info = lossAndGrad.cacheInfo();
say(`  lossAndGrad.cacheInfo()`);
say(`    ${cyan(`hits ${info.hits}, misses ${info.misses}, traces ${info.traces}, size ${info.size}`)}`);
say(`    lastMiss: ${cyan(info.lastMiss?.reason ?? "none")}`);
const sample = batch(data.train, epochBatches(0)[0]!);
const lowered = lossAndGrad.lower(params, sample.x, sample.y);
const kernelsLine = lowered.text("kernels").split("\n")[0]!;
say(`  lossAndGrad.lower(params, x[${BATCH},4], y[${BATCH}])`);
say(`    .text("kernels")  ${cyan(kernelsLine)} (${lowered.optimized.equations.length} optimized equations)`);
const res = lowered.residuals();
const resBytes = res.reduce((n, r) => n + r.bytes, 0);
say(`    .residuals()      ${cyan(`${res.length} values kept for backward, ${bytes(resBytes)}`)}; the largest:`);
for (const r of [...res].sort((a, b) => b.bytes - a.bytes).slice(0, 3)) {
  say(dim(`      ${r.name} ${r.dtype}[${r.shape.join(",")}] ${bytes(r.bytes)} from ${r.producedBy}`));
}
say(dim(`    .text("traced" | "optimized" | "js") prints other stages of the pipeline`));

// ---- ahead-of-time export of the gradient, run without adgen
heading("Ahead-of-time export: the gradient as a standalone module");
const paramSpecs = params.map((l) => ({ w: spec("float32", l.w.shape), b: spec("float32", l.b.shape) }));
const exported = exportFunction(valueAndGrad(loss), [paramSpecs, spec("float32", ["B", 4]), spec("int32", ["B"])], {
  name: "penguinLossAndGrad",
});
await exported.write(EXPORT_DIR);
const modPath = join(EXPORT_DIR, exported.manifest.files.module);
const fn = exported.manifest.functions[0]!;
say(`  exportFunction(valueAndGrad(loss), [params, spec("float32", ["B", 4]), spec("int32", ["B"])])`);
say(`    wrote ${cyan(show(modPath))} (${bytes(statSync(modPath).size)}, imports nothing) + .d.mts + manifest`);
say(`    ${fn.kernels.length} kernels; symbolic dims: ${exported.manifest.symbolicDims.map((d) => `${d.name} (${d.constraints.join(", ")})`).join(", ")}`);
const mod = await import(pathToFileURL(modPath).href);
for (const rows of [sample, rest]) {
  const [vExp, gExp] = mod.default(params, rows.x, rows.y);
  const [vJit, gJit] = lossAndGrad(params, rows.x, rows.y);
  // exported results are {data, shape, dtype} objects in the same pytree structure
  type Out = { data: Float32Array };
  const flatExp = (gExp as { w: Out; b: Out }[]).flatMap((l) => [l.w.data, l.b.data]);
  const flatJit = (gJit as Params).flatMap((l) => [l.w.data, l.b.data]);
  const diff = Math.max(Math.abs(vExp.data[0] - vJit.item()), ...flatExp.map((d, i) => Math.max(...d.map((v, k) => Math.abs(v - flatJit[i]![k]!)))));
  const good = diff <= 1e-5;
  say(`    batch of ${rows.x.shape[0]}: loss ${vExp.data[0].toFixed(4)}, max |exported - jit| ${(good ? green : red)(diff === 0 ? "0, bitwise equal" : diff.toExponential(2))} ${good ? green("✓") : red("✗")}`);
}
say(dim(`    inspect it with: npx adgen inspect ${show(EXPORT_DIR)}`));

// ---- the same model with the eager tape (PyTorch style)
heading("The same model on the eager tape: variable(), loss.backward(), p.grad");
const firstBatch = batch(data.train, epochBatches(0)[0]!);
let vars = tree.map(variable, params0) as Params;
loss(vars, firstBatch.x, firstBatch.y).backward();
const [, jitGrads] = lossAndGrad(params0, firstBatch.x, firstBatch.y);
const eagerLeaves = (tree.leaves(vars) as Tensor[]).map((v) => v.grad!);
const jitLeaves = tree.leaves(jitGrads) as Tensor[];
const maxDiff = Math.max(...jitLeaves.map((g, i) => np.max(np.abs(np.subtract(g, eagerLeaves[i]!))).item()));
const maxGrad = Math.max(...jitLeaves.map((g) => np.max(np.abs(g)).item()));
const ok = maxDiff <= 1e-5 * Math.max(1, maxGrad);
say(`  gradients on the first batch, at the initial parameters:`);
say(
  `    max |eager - jit| = ${(ok ? green : red)(maxDiff === 0 ? "0, bitwise equal" : maxDiff.toExponential(2))}` +
    ` (largest |gradient| ${maxGrad.toFixed(3)}) ${ok ? green("✓") : red("✗")}`,
);

// train EAGER_STEPS steps from the same start on the same minibatches as the jit run
let eagerState = opt.init(params0);
const eagerLosses: number[] = [];
const eagerBar = new ProgressBar(EAGER_STEPS, "eager");
for (let epoch = 0; eagerLosses.length < EAGER_STEPS; epoch++) {
  for (const idx of epochBatches(epoch)) {
    if (eagerLosses.length === EAGER_STEPS) break;
    const b = batch(data.train, idx);
    // .grad accumulates over backward() calls, as in PyTorch: clear it (at the first step it
    // still holds the gradient of the check above)
    for (const v of tree.leaves(vars) as Tensor[]) v.zeroGrad();
    const l = loss(vars, b.x, b.y);
    l.backward();
    const grads = tree.map((v: Tensor) => v.grad, vars);
    vars = noGrad(() => {
      const [updates, next] = opt.update(grads, eagerState, vars);
      eagerState = next;
      return tree.map(variable, optim.applyUpdates(vars, updates)) as Params;
    });
    eagerLosses.push(l.item());
    eagerBar.update(eagerLosses.length, l.item());
  }
}
const eagerStepMs = eagerBar.finish() / EAGER_STEPS;
const lossDiff = Math.max(...eagerLosses.map((v, i) => Math.abs(v - losses[i]!)));
say(`  first ${EAGER_STEPS} losses, eager vs jit: max difference ${(lossDiff < 1e-4 ? green : red)(lossDiff === 0 ? "0, bitwise equal" : lossDiff.toExponential(2))}`);
say(`  time per step: eager ${bold(seconds(eagerStepMs))}, jit ${bold(seconds(jitStepMs))} (${(eagerStepMs / jitStepMs).toFixed(0)}x faster)`);
say(dim(`  (both include batching and the optimizer; jit's includes its first compiles)`));

const compiles = events.filter((e) => e.kind === "compile").length;
heading("Done");
say(`  ${compiles} compiles, ${events.filter((e) => e.kind === "cache-miss").length} explained cache miss, ${seconds(performance.now() - t0)} in all.`);
say(dim(`  To see this log for any script: ADGEN_LOG=compiles,cache-misses`));
