// grad / valueAndGrad under automatic capture (config.capture), outside any transformation: the
// transformation call itself is cached. The ordinary path linearizes f on every call (a JVP rule
// and a staged tangent equation per primitive, in JS); this one runs f's JS once per call with
// its operations only recorded (capture.ts's recordRegion: no linearization, no source lines),
// and keys the recorded primal program by its structure (canonical program text: primitives,
// parameters, shapes, dtypes, wiring) and which of its inputs are differentiated. A structure
// seen before replays one cached program computing [value, gradients], interpreted while cold
// and compiled once hot, like every captured region. The guard is the recorded structure itself,
// produced by the JS on this very call, so control flow is always the JS's own; every value the
// function reads from outside (tensors and JS numbers it closes over, earlier results) is a
// run-time input of that program, so a changed closure value is read afresh, never served stale.
// A function that observes a value while recorded (a JS branch on x.item()) cannot be recorded
// whole: the call takes the ordinary path (running the JS again), and later calls of that
// function skip recording for a while (exponential backoff).

import { config, log } from "../core/config.js";
import { leafToTensor } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import type { Tensor } from "../core/tensor.js";
import { flatten, unflatten } from "../core/tree.js";
import { interpret } from "../backends/interp/interpret.js";
import { runJitted } from "../higher-order/runner.js";
import type { Program } from "../ir/program.js";
import { programKey } from "../ir/serialize.js";
import { instantiate, zerosLike } from "../prims/rule-helpers.js";
import { scalar } from "../rules/scalar.js";
import { currentTrace } from "../trace/trace.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { argnumsArg } from "../transforms/args.js";
import { vjpFlat } from "../transforms/vjp.js";
import { sameStructure } from "./structure.js";
import { ByteLru, programBytes } from "./byte-lru.js";
import { type LazyTensor, type Recorded, isRecording, recordRegion, settleRecorded } from "./capture.js";

type Fn = (...args: any[]) => any;

/** One cached structure: the program computing [value, gradient per active input]. */
interface Entry {
  program: Program;
  runs: number;
  key: string;
}

/** The structure a function recorded last, and its entry: compared first (no program text). */
interface Last {
  recorded: Program;
  /** differentiated inputs and the value's output index, as a key suffix */
  shape: string;
  key: string;
  entry: Entry;
}
const last = new WeakMap<Fn, Last>();

/** cached structures, LRU within config.captureCacheMaxBytes (byte-lru.ts) */
const cache = new ByteLru<Entry>((e) => programBytes([e.program]));
/** per function: recordings that failed (it observed a value) and calls left to skip */
const backoff = new WeakMap<Fn, { failures: number; skip: number }>();
const stats = { calls: 0, replays: 0, fallbacks: 0 };

/** Counters for tests and the docs. */
export function captureGradStats(): { calls: number; structures: number; replays: number; fallbacks: number; bytes: number; evictions: number } {
  return { ...stats, structures: cache.size, bytes: cache.bytes, evictions: cache.evictions };
}

/** Forgets the cached structures (tests). */
export function clearCaptureGradCache(): void {
  cache.clear();
  Object.assign(stats, { calls: 0, replays: 0, fallbacks: 0 });
}

/**
 * The hook of valueAndGradImpl (transforms/vjp.ts, installed in index.ts): [value, grads] of a
 * grad/valueAndGrad call, or null to run the ordinary path.
 */
export function capturedValueAndGrad(name: string, f: Fn, opts: { argnums?: number | number[]; hasAux?: boolean; memoryBudget?: unknown }, args: any[]): [any, any] | null {
  if (!config.capture || opts.hasAux || opts.memoryBudget !== undefined || isRecording() || currentTrace().parent !== null) return null;
  const b = backoff.get(f);
  if (b && b.skip > 0) {
    b.skip--;
    return null;
  }
  const argnums = argnumsArg(name, opts.argnums, args.length);
  const [leaves, def] = flatten(argnums.map((i) => args[i]));
  const ps = leaves.map((x, i) => leafToTensor(x, `${name}: argument leaf ${i}`));
  if (!ps.every((p) => isFloat(p.aval.dtype))) return null; // the ordinary path raises the error
  // a distinct tensor per differentiated leaf: the same tensor may also be closed over (a constant there)
  const leavesIn = ps.map((p) => p._alias(p.aval));
  const rec = recordRegion(() => {
    const callArgs = [...args];
    const chosen = unflatten(def, leavesIn) as unknown[];
    argnums.forEach((a, k) => (callArgs[a] = chosen[k]));
    return leafToTensor(f(...callArgs), `${name}: function output`);
  });
  if (!rec) return fallback(f);
  const y = rec.result;
  const yIndex = rec.produced.indexOf(y as LazyTensor);
  if (yIndex < 0 || y.aval.shape.length !== 0 || !isFloat(y.aval.dtype)) {
    // not a value computed from the recorded operations, or not a float scalar: the ordinary path decides
    settleRecorded(rec, new Map());
    return fallback(f);
  }
  if (b) backoff.delete(f);
  stats.calls++;
  const active = rec.inputs.map((t) => leavesIn.includes(t));
  const entry = entryFor(name, f, rec, yIndex, active);
  const outs = run(entry, rec.inputs, name);
  settleRecorded(rec, new Map([[y as LazyTensor, outs[0]!]]));
  // gradients in leaf order (a leaf the function never read gets zeros)
  let k = 0;
  const at = active.map((a) => (a ? ++k : 0));
  const grads = leavesIn.map((t, i) => {
    const j = rec.inputs.indexOf(t);
    return j < 0 ? zerosLike(ps[i]!.aval) : outs[at[j]!]!;
  });
  const tree = unflatten(def, grads) as unknown[];
  return [outs[0]!, Array.isArray(opts.argnums) ? tree : tree[0]];
}

function fallback(f: Fn): null {
  stats.fallbacks++;
  const b = backoff.get(f) ?? { failures: 0, skip: 0 };
  b.failures++;
  b.skip = 2 ** Math.min(b.failures, 10) - 1;
  backoff.set(f, b);
  return null;
}

/** The [value, gradients] program of a recorded structure, built on its first occurrence. */
function entryFor(name: string, f: Fn, rec: Recorded<Tensor>, yIndex: number, active: boolean[]): Entry {
  const shape = `${active.map(Number).join("")}:${yIndex}`;
  const l = last.get(f);
  if (l && l.shape === shape && cache.peek(l.key) === l.entry && sameStructure(rec.program, l.recorded)) {
    stats.replays++;
    cache.get(l.key); // LRU: now the most recent
    return l.entry;
  }
  const key = `${shape}\n${programKey(rec.program)}`;
  let e = cache.get(key);
  if (e) stats.replays++;
  else {
    const p = rec.program;
    const traced = traceFlat((xs) => {
      const { outs, pullback } = vjpFlat((ys) => [evalProgram(p, ys)[yIndex]!], xs, active);
      return [outs[0]!, ...pullback([scalar(1, outs[0]!.aval.dtype)]).map(instantiate)];
    }, p.inAvals, `${name} (captured)`);
    e = { program: traced.program, runs: 0, key };
    cache.set(key, e);
  }
  last.set(f, { recorded: rec.program, shape, key, entry: e });
  return e;
}

/** Tiering as for captured regions: interpreted until config.hotCalls runs, then compiled. */
function run(e: Entry, inputs: Tensor[], name: string): Tensor[] {
  e.runs++;
  if (e.runs < config.hotCalls) return interpret(e.program, inputs);
  if (e.runs === config.hotCalls && config.logCompiles) {
    log({ kind: "compile", message: `captured ${name} (${e.program.equations.length} equations) compiled after ${e.runs} calls` });
  }
  const outs = runJitted(e.program, inputs, `captured ${name}`);
  if (e.runs === config.hotCalls) cache.remeasure(e.key); // compiled now: its code and arena count
  return outs;
}
