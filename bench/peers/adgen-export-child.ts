/**
 * Child script of the export-load rows (bench/peers/adgen-export.ts), one fresh process per
 * sample: `<dir> import | first | first3`. Outside the measured region: tsx, the input arrays.
 * Measured: import of the exported module(s) ("import"), or import + the first gradient call with
 * readback of the 4 gradients ("first": the one module; "first3": three bundled modules, all
 * imported). The gradient is checked against the float64 reference; prints SAMPLE=<ms>.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { checkMlpGrads, MLP, mlpData } from "../workloads/data.js";
import { printSample } from "./child.js";

const [dir, mode] = process.argv.slice(2) as [string, string];
const d = mlpData();
const { nIn, nHidden: H, nOut: K } = MLP;
const p = { W1: { data: d.w1, shape: [nIn, H] }, b1: { data: d.b1, shape: [H] }, W2: { data: d.w2, shape: [H, K] }, b2: { data: d.b2, shape: [K] } };
const x = { data: d.x, shape: [d.batch, nIn] };
const y = { data: d.y, shape: [d.batch, K] };
const url = (...f: string[]) => pathToFileURL(join(dir, ...f)).href;

const t0 = performance.now();
let gradFn: (...a: unknown[]) => any;
let lossFn: (...a: unknown[]) => any;
if (mode === "first3") {
  const [l, g] = await Promise.all([import(url("three", "loss.mjs")), import(url("three", "lossGrad.mjs")), import(url("three", "lossVjp.mjs"))]);
  [lossFn, gradFn] = [l.loss, g.lossGrad];
} else {
  const m = await import(url("one", "model.mjs"));
  [lossFn, gradFn] = [m.loss, m.grad];
}
const tImport = performance.now() - t0;
if (mode === "import") {
  printSample(tImport);
} else {
  const g = gradFn(p, x, y);
  const got = { loss: 0, w1: g.W1.data, b1: g.b1.data, w2: g.W2.data, b2: g.b2.data };
  const ms = performance.now() - t0;
  got.loss = lossFn(p, x, y).data[0];
  const err = checkMlpGrads(d, got);
  if (err) {
    console.error(err);
    process.exit(1);
  }
  printSample(ms);
}
