// Automatic capture of eager code (`config.update({ capture: true })`). Every primitive that
// reaches the eager trace (user ops, the eager tape's per-op linearizations and its backward
// pullbacks, the primal work of grad/jvp outside jit) is deferred: it becomes an equation of one
// pending region and returns a LazyTensor, a Tensor whose data is filled in later. The region is
// flushed when a value is observed (.item(), .dataSync(), .data, toArray, printing, Number(x) or a
// comparison in a JS branch), when a jitted function or the interpreter reads a lazy input, or
// when it reaches MAX_OPS equations. A flushed region is closed into a Program over the values it
// reads from outside; regions are cached by their canonical program text (LRU within
// config.captureCacheMaxBytes), so a region whose structure repeats reuses one Program instance,
// which the jit runner interprets while cold and compiles once hot (tiering, config.hotCalls). Values read from outside are always run-time
// inputs, never constants: a tensor (or JS number) the code closes over that changes between
// iterations is read afresh by every run, so a cached region can never serve a stale value.
// Outputs nobody read during a region's first run are left out of later runs (dead code to the
// compiler); one that is read after all is recomputed by running the full region again.

import type { ShapedArray } from "../core/aval.js";
import { config, log } from "../core/config.js";
import type { TypedArray } from "../core/dtype.js";
import { isConcreteShape } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { type Equation, Program, Var } from "../ir/program.js";
import { programKey } from "../ir/serialize.js";
import type { Primitive } from "../prims/primitive.js";
import { runJitted } from "../higher-order/runner.js";
import { interpret } from "../backends/interp/interpret.js";
import { OutputVariants } from "./lazy-trace.js";
import { sameStructure } from "./structure.js";
import { ByteLru, programBytes } from "./byte-lru.js";

/** A pending region is flushed at this many equations even if nothing observes it. */
export const MAX_OPS = 4096;

/** A deferred eager value. */
export class LazyTensor extends Tensor {
  /** the variable computing it in the pending region (null once flushed) */
  pendingVar: Var | null;
  /** after its region ran: the region run, its output index, and the value if it was computed */
  home: RegionRun | null = null;
  slot = -1;
  value: Tensor | null = null;
  /** an alias (variable(), the tape's tracked copy): the deferred value it shares */
  source: LazyTensor | null = null;
  /** the error its region raised when it ran (every later read raises it again) */
  failed: unknown = null;

  constructor(aval: ShapedArray, v: Var | null) {
    super(aval, null);
    this.pendingVar = v;
  }

  override get isConcrete(): boolean {
    return true;
  }

  override get _ready(): boolean {
    return this._data !== null || (this.source ? this.source._ready : this.pendingVar === null);
  }

  override _alias(aval: ShapedArray): Tensor {
    if (this._data !== null) return new Tensor(aval, this._data);
    const a = new LazyTensor(aval, null);
    a.source = this.source ?? this;
    return a;
  }

  /** Sets the computed value (a region of one primitive ran eagerly). */
  fill(data: TypedArray): void {
    this.pendingVar = null;
    this._data = data;
  }

  protected override concretize(_what: string): TypedArray {
    if (this.source) return (this._data = this.source._observe("alias"));
    if (this.pendingVar) flushCapture();
    if (this._data !== null) return this._data;
    if (this.failed !== null) throw this.failed;
    const home = this.home!;
    home.entry.used![this.slot] = true;
    if (this.value === null) recompute(home);
    this._data = this.value!.data;
    this.value = null;
    this.home = null;
    return this._data;
  }
}

/** One cached region structure and the output subsets it has been run with. */
class Entry {
  runs = 0;
  /** outputs read by the code after some run (null before the first run: compute all) */
  used: boolean[] | null = null;
  private readonly variants: OutputVariants;
  /** the programs (full or variants) already handed to the compiler */
  readonly compiled = new WeakSet<Program>();

  constructor(
    readonly full: Program,
    /** its cache key (program text; "" for a recorded region, which is not cached here) */
    readonly key = "",
  ) {
    this.variants = new OutputVariants(full);
  }

  variant(mask: boolean[]): Program {
    return this.variants.get(mask);
  }

  /** The full program and its variants (what the entry holds, for the byte budget). */
  programs(): Program[] {
    return this.variants.all();
  }
}

/** A flushed region: its entry, its inputs and the tensors it produced (for a recompute). */
interface RegionRun {
  entry: Entry;
  inputs: Tensor[];
  outs: LazyTensor[];
}

interface Pending {
  equations: Equation[];
  inputs: Map<Tensor, Var>;
  produced: LazyTensor[];
  /** the first equation's input tensors (a region of one primitive runs on them directly) */
  first: Tensor[] | null;
}

const fresh = (): Pending => ({ equations: [], inputs: new Map(), produced: [], first: null });
let pending = fresh();
/**
 * The equations of the last multi-equation region whose structure had already repeated, and
 * whether the pending region matches it so far (primitive by primitive): while it does, the
 * eager tape records no source line for its nodes (repeatsSoFar), the one per-operation cost
 * of a steady-state training loop that is not needed to run it.
 */
let model: readonly Equation[] | null = null;
let matching = true;
/** true while a region runs (its own evaluation must not be captured again) */
let running = false;
/** cached regions by program text, LRU within config.captureCacheMaxBytes (byte-lru.ts) */
const cache = new ByteLru<Entry>((e) => programBytes(e.programs()));
/** how many recently flushed entries are compared structurally before the text lookup */
const RECENT = 4;
const recent: Entry[] = [];
const stats = { flushes: 0, regions: 0, replays: 0, recomputes: 0 };

/** Counters for tests and the docs: flushes, distinct regions, cached replays, recomputes. */
export function captureStats(): { flushes: number; regions: number; replays: number; recomputes: number; pending: number; bytes: number; evictions: number } {
  return { ...stats, regions: cache.size, pending: pending.equations.length, bytes: cache.bytes, evictions: cache.evictions };
}

/**
 * True while capture is on, the pending region has so far repeated, primitive by primitive, a
 * region structure that has run more than once, and that structure continues with `prim`: the
 * eager tape then skips the source line of the node it records (installed as tapeSourceHook.skip in index.ts). Only diagnostics lose by a
 * wrong guess (a node without a line in savedTensors() or an unpack error); a region that
 * diverges records lines again from the first differing operation.
 */
export function repeatsSoFar(prim: Primitive<any>): boolean {
  // (`prim` is the node's primitive: its linearization usually records it first)
  return config.capture && matching && model !== null && !running && model[pending.equations.length]?.prim === prim;
}

/** Forgets every cached region (tests). Pending work is flushed first. */
export function clearCaptureCache(): void {
  flushCapture();
  model = null;
  cache.clear();
  recent.length = 0;
  Object.assign(stats, { flushes: 0, regions: 0, replays: 0, recomputes: 0 });
}

/**
 * The capture hook of the eager trace (connected in index.ts): defers one primitive, or returns
 * null to let the eager trace run it now (capture off, debugNans, a data-dependent output shape).
 */
export function captureOp(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] | null {
  if (!config.capture || running || config.debugNans) return null;
  // (plain loops: this runs once per deferred operation, and is most of a recorded call's cost)
  const n = inputs.length;
  const inAvals = new Array<ShapedArray>(n);
  for (let i = 0; i < n; i++) inAvals[i] = inputs[i]!.aval;
  const outAvals: ShapedArray[] = prim.abstractEval(inAvals, params);
  for (let i = 0; i < outAvals.length; i++) if (!isConcreteShape(outAvals[i]!.shape)) return null;
  const p = pending;
  if (p.first === null) p.first = inputs;
  const atoms = new Array<Var>(n);
  for (let i = 0; i < n; i++) atoms[i] = atomOf(p, inputs[i]!);
  const outs = new Array<Var>(outAvals.length);
  const res = new Array<LazyTensor>(outAvals.length);
  for (let i = 0; i < outAvals.length; i++) {
    const v = (outs[i] = new Var(outAvals[i]!));
    p.produced.push((res[i] = new LazyTensor(v.aval, v)));
  }
  if (matching) matching = model !== null && model[p.equations.length]?.prim === prim;
  p.equations.push({ prim, inputs: atoms, params, outs, source: undefined });
  if (p.equations.length >= MAX_OPS) flushCapture();
  return res;
}

function atomOf(p: Pending, x: Tensor): Var {
  if (x instanceof LazyTensor) {
    const src = x.source ?? x;
    if (src.pendingVar) return src.pendingVar;
  }
  // every outside value is a run-time input (scalars too): see the header
  let v = p.inputs.get(x);
  if (!v) p.inputs.set(x, (v = new Var(x.aval)));
  return v;
}

/** Runs the pending region (if any). Called by an observation of one of its values. */
export function flushCapture(): void {
  const p = pending;
  if (p.equations.length === 0) return;
  pending = fresh();
  matching = true;
  stats.flushes++;
  try {
    if (p.equations.length === 1) runSingle(p);
    else runPending(p);
  } catch (err) {
    // the region's values can never be computed: each read raises the error (this one included)
    for (const t of p.produced) if (t.pendingVar) [t.pendingVar, t.failed] = [null, err];
    throw err;
  }
}

function runPending(p: Pending): void {
  const inputs = [...p.inputs.keys()];
  const full = new Program([...p.inputs.values()], [], [], p.equations, p.produced.map((t) => t.pendingVar!));
  // the regions flushed most recently are compared structurally first (no program text)
  const near = recent.find((e) => cache.peek(e.key) === e && sameStructure(full, e.full));
  const key = near ? near.key : programKey(full);
  let entry = cache.get(key); // (LRU: now the most recent)
  if (entry) stats.replays++;
  else cache.set(key, (entry = new Entry(full, key)));
  if (!near) {
    recent.unshift(entry);
    if (recent.length > RECENT) recent.pop();
  }
  entry.runs++;
  if (entry.runs > 1) model = entry.full.equations;
  // a copy: reading this region's inputs (earlier runs of the same entry) marks outputs used
  const mask = entry.used?.slice() ?? null;
  const run: RegionRun = { entry, inputs, outs: p.produced };
  let values: (Tensor | null)[];
  if (mask === null) {
    values = runRegion(entry.full, inputs, entry);
    entry.used = p.produced.map(() => false);
  } else if (mask.some(Boolean)) {
    const vp = entry.variant(mask);
    const outs = runRegion(vp, inputs, entry);
    let j = 0;
    values = mask.map((u) => (u ? outs[j++]! : null));
  } else values = mask.map(() => null);
  p.produced.forEach((t, i) => {
    t.pendingVar = null;
    t.home = run;
    t.slot = i;
    t.value = values[i] ?? null;
  });
}

/**
 * A region of one primitive: compiling buys nothing, so it runs as the eager op it is (on the
 * tensors it was applied to, with the output types captureOp derived: no second shape check).
 */
function runSingle(p: Pending): void {
  const e = p.equations[0]!;
  const outAvals = e.outs.map((v) => v.aval);
  const was = running;
  running = true;
  let datas: TypedArray[];
  try {
    datas = e.prim.impl(p.first!, e.params, outAvals);
  } finally {
    running = was;
  }
  for (let i = 0; i < p.produced.length; i++) p.produced[i]!.fill(datas[i]!);
}

/** Tiering: a region is interpreted until its structure has run config.hotCalls times, then compiled. */
function runRegion(program: Program, inputs: Tensor[], entry: Entry): Tensor[] {
  const was = running;
  running = true;
  try {
    if (entry.runs < config.hotCalls) return interpret(program, inputs);
    const cold = !entry.compiled.has(program);
    if (cold) {
      entry.compiled.add(program);
      if (config.logCompiles) {
        log({ kind: "compile", message: `captured region (${program.equations.length} equations, ${program.outputs.length} outputs) compiled after ${entry.runs} runs` });
      }
    }
    const outs = runJitted(program, inputs, "captured region");
    if (cold && entry.key) cache.remeasure(entry.key); // its code and arena count now
    return outs;
  } finally {
    running = was;
  }
}

/** A skipped output was read after all: run the whole region again and fill in what is missing. */
function recompute(run: RegionRun): void {
  stats.recomputes++;
  // a one-off: interpreted (compiling the full region would not pay off)
  const was = running;
  running = true;
  let all: Tensor[];
  try {
    all = interpret(run.entry.full, run.inputs);
  } finally {
    running = was;
  }
  run.outs.forEach((t, i) => {
    if (t.home === run && t.value === null && t._ready) t.value = all[i]!;
  });
}

/** A region recorded but not run (recordRegion): its closed program and the values it reads. */
export interface Recorded<T> {
  result: T;
  /** inputs: one per outside value read; outputs: every value produced, in order */
  program: Program;
  inputs: Tensor[];
  produced: LazyTensor[];
}

let recording = false;

/** True while recordRegion runs its function (a nested transformation takes its ordinary path). */
export function isRecording(): boolean {
  return recording;
}

/**
 * Runs `fn` with its eager operations deferred into a region of their own and returns that
 * region closed, without running it (capture-grad.ts differentiates it). Pending work is flushed
 * first, so the region reads earlier values as inputs. Returns null when the region could not be
 * recorded whole: `fn` observed a value, or ran an operation that cannot be deferred (either
 * flushes); what it deferred after that stays pending as usual. `settleRecorded` must follow.
 */
export function recordRegion<T>(fn: () => T): Recorded<T> | null {
  flushCapture();
  const flushes = stats.flushes;
  const was = recording;
  recording = true;
  let result: T;
  try {
    result = fn();
  } finally {
    recording = was;
  }
  if (stats.flushes !== flushes) return null;
  const p = pending;
  pending = fresh();
  const program = new Program([...p.inputs.values()], [], [], p.equations, p.produced.map((t) => t.pendingVar!));
  return { result, program, inputs: [...p.inputs.keys()], produced: p.produced };
}

/**
 * After a recorded region ran in another form: `known` values are filled in; every other value
 * it produced is computed on demand by interpreting the region (a skipped output, as above).
 */
export function settleRecorded(r: Recorded<unknown>, known: Map<LazyTensor, Tensor>): void {
  const entry = new Entry(r.program);
  entry.used = r.produced.map(() => false);
  const run: RegionRun = { entry, inputs: r.inputs, outs: r.produced };
  r.produced.forEach((t, i) => {
    t.pendingVar = null;
    t.home = run;
    t.slot = i;
    t.value = known.get(t) ?? null;
  });
}
