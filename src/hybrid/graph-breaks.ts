// Graph breaks: jit(f) of a function that observes a traced value in JS (a branch on x.item(),
// a while loop on a norm, Number(x)). Tracing raises a ConcretizationError of jit's own trace;
// instead of failing, this specialization switches to the hybrid path: every call runs f's JS
// on a lazy trace (lazy-trace.ts), whose straight-line regions between observation points run as
// compiled jit_call programs, cached by structure. The JS decides control flow on the observed
// values itself; its guard is the region that follows a break: while it matches a captured one
// (same primitives, params, shapes; values are run-time inputs) the compiled code is replayed,
// otherwise the new region is captured and compiled, and the miss is explained naming the break
// and the value it observed. Regions are jit_calls on the trace current at the call, so under
// grad (grad(jit(f))) each region's pullback is compiled too, and under the eager tape
// backward() runs them; jit(grad(f)) breaks at the primal values grad observes.
// jit(f, {fullGraph: true}) keeps the ConcretizationError.

import { ArgumentError } from "../core/errors.js";
import { config, log } from "../core/config.js";
import { leafToTensor } from "../core/convert.js";
import { encodeNumber } from "../core/encode.js";
import type { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { programKey } from "../ir/serialize.js";
import { Program } from "../ir/program.js";
import { jitCallP } from "../higher-order/jit-call.js";
import { type Jitted, type JitOptions, jit as coreJit } from "../jit/jit.js";
import { avalKey, keyParts, staticKey, treeKey } from "../jit/key.js";
import { Lowered } from "../jit/lowered.js";
import { type SlotStats, SpecializationCache } from "../jit/lookup.js";
import { measurePrograms } from "./byte-lru.js";
import { StagingTrace } from "../trace/staging.js";
import { type Trace, Tracer, concretizationTrace, currentTrace, withTrace } from "../trace/trace.js";
import { BatchTrace } from "../transforms/vmap.js";
import { type UnbatchedPart, unbatchedPart } from "./unbatched.js";
import { LazyTrace, type LazyTracer, OutputVariants, type RegionRun } from "./lazy-trace.js";
import { ClosureCheck, noteDefinition } from "./closures.js";
import { sameStructure } from "./structure.js";
import { RegionDisk } from "./region-disk.js";

declare module "../jit/jit.js" {
  interface JitOptions {
    /**
     * true: a JS observation of a traced value (a graph break) raises ConcretizationError, as
     * without the hybrid path; false (default): the function runs as compiled regions between breaks.
     */
    fullGraph?: boolean;
  }
  interface CacheInfo {
    /** present once a specialization has graph breaks */
    graphBreaks?: GraphBreakStats;
  }
}
declare module "../jit/lowered.js" {
  interface Lowered {
    /** The graph breaks of this specialization (empty when it compiles as one program). */
    breaks(): GraphBreak[];
  }
}
Lowered.prototype.breaks = () => [];

/** One observation point of a jitted function, as reported once per specialization. */
export interface GraphBreak {
  /** 1 for the first break site seen in this specialization, ... */
  index: number;
  /** what the JS did with the traced value, e.g. "call .item() on" */
  reason: string;
  /** the user's source line of the observation ("path:line:col") */
  source: string | undefined;
  /** the observed value's type, e.g. "f64[]" */
  aval: string;
  /** the value observed when the break was first captured */
  value: string;
  /** the primitive (and its source line) that computed the observed value */
  producer: string;
}

export interface GraphBreakStats {
  /** distinct region programs captured (each compiled once) */
  regions: number;
  /** region runs that replayed a captured program */
  replays: number;
  /** calls after the first that had to capture a new region (a guard failed) */
  guardFailures: number;
  /** with config.cacheDir: region programs loaded from / written to the persistent cache */
  disk?: { loads: number; writes: number };
}

const coreOptions = new WeakSet<object>();

/** True for the options jitWithGraphBreaks passes to the core jit (which then runs as before). */
export function isCoreJit(opts: JitOptions): boolean {
  // options that are not an object go straight to the core jit, whose check rejects them
  return typeof opts !== "object" || opts === null || Array.isArray(opts) || coreOptions.has(opts);
}

interface Spec {
  /** break sites by reason and source, in first-seen order */
  breaks: Map<string, GraphBreak>;
  /** the break at each observed place (a region output or an argument, and the observation) */
  places: Map<string, GraphBreak>;
  calls: number;
  /** consecutive calls (after the first) that captured a region */
  streak: number;
  warned: boolean;
  /** the region each position k ran on the last call: compared first (no program text) */
  last: Region[];
}

/**
 * The hybrid jit entry point: `jit(f, opts)` delegates here; `coreJit` is jit itself, called with
 * options it recognizes as its own (isCoreJit), which does everything it did before.
 */
export function jitWithGraphBreaks(f: (...args: any[]) => any, opts: JitOptions, coreJit: (f: (...args: any[]) => any, opts: JitOptions) => Jitted): Jitted {
  const { fullGraph, ...rest } = opts;
  if (fullGraph !== undefined && typeof fullGraph !== "boolean") throw new ArgumentError(`jit: fullGraph must be a boolean, got ${typeof fullGraph}`);
  coreOptions.add(rest);
  const inner = coreJit(f, rest);
  if (fullGraph) return inner;
  const name = rest.name ?? (f.name || "anonymous");
  const statics = new Set(rest.staticArgnums ?? []);
  const hybrid = new GraphBreaks(f, name, statics);
  const closures = new ClosureCheck(f, name, statics);
  noteDefinition(f, name);
  const own = (err: unknown, at: Trace) => {
    const t = concretizationTrace(err);
    return t instanceof StagingTrace && t.parent === at && t.kind === `jit(${name})`;
  };
  const wrapped = ((...args: unknown[]) => {
    // (a function without breaks pays nothing here)
    if (hybrid.specs.size || breaking.has(f)) {
      const key = hybrid.keyOf(args);
      if (hybrid.specs.has(key)) return hybrid.call(args, key);
      // a new specialization of a function known to break (any wrapper of it) starts on the hybrid
      // path: a jit trace would stop at the break and the hybrid path run the JS again from the start
      if (breaking.has(f) && !hybrid.clean.has(key)) return hybrid.call(args, key);
    }
    const at = currentTrace();
    let out;
    const traces = config.checkClosures ? inner.cacheInfo().traces : 0;
    try {
      out = inner(...args);
    } catch (err) {
      if (!own(err, at)) throw err;
      return hybrid.call(args, hybrid.keyOf(args));
    }
    if (config.checkClosures && !closures.check(args, hybrid.keyOf(args), inner.cacheInfo().traces > traces)) {
      inner.clearCache(); // a closed-over value changed: the cached program is stale
      out = inner(...args);
    }
    return out;
  }) as Jitted;
  wrapped.lower = (...args: unknown[]) => {
    const key = hybrid.keyOf(args);
    const at = currentTrace();
    if (!hybrid.specs.has(key)) {
      try {
        return inner.lower(...args);
      } catch (err) {
        if (!own(err, at)) throw err;
      }
    }
    return hybrid.lower(args, key);
  };
  wrapped.cacheInfo = () => ({ ...inner.cacheInfo(), ...(hybrid.specs.size ? { graphBreaks: hybrid.stats() } : {}) });
  wrapped.specializations = () => inner.specializations();
  wrapped.insert = (stage) => inner.insert(stage);
  wrapped.clearCache = () => {
    inner.clearCache();
    hybrid.clear();
    closures.clear();
  };
  return wrapped;
}

/** The `.lower(...)` of a specialization with graph breaks: its first region, and its breaks. */
export class HybridLowered extends Lowered {
  constructor(
    name: string,
    /** the regions this call ran, in order (the first is the one `text()` and friends show) */
    readonly regions: Program[],
    private readonly breakList: GraphBreak[],
  ) {
    super(name, regions[0]!, [], regions[0]!.inAvals);
  }

  override breaks(): GraphBreak[] {
    return this.breakList.map((b) => ({ ...b }));
  }
}

/**
 * A captured region. `full` returns every value the region computes (the JS may hold any of
 * them); once a call has shown which ones the rest of the function uses, later calls run a
 * variant returning only those (each program instance keeps its compiled form). A skipped value
 * that turns out to be needed after all is recomputed by `full` and joins the used set.
 */
class Region {
  private static count = 0;
  readonly id = Region.count++;
  /** how cacheReport() lists it */
  readonly stack = "graph-break region";
  used: boolean[] | null = null;
  private readonly variants: OutputVariants;

  constructor(
    readonly full: Program,
    /** its cache key (canonical program text) */
    readonly key: string,
  ) {
    this.variants = new OutputVariants(full);
  }

  use(used: boolean[]): void {
    this.used = this.used ? this.used.map((u, i) => u || used[i]!) : used.slice();
  }

  variant(): Program {
    return this.variants.get(this.used!);
  }

  private readonly parts = new Map<string, UnbatchedPart | null>();
  /** The part computed from the inputs not marked traced (one program instance per mask, compiled once). */
  unbatched(traced: boolean[]): UnbatchedPart | null {
    const key = traced.map(Number).join("");
    if (!this.parts.has(key)) this.parts.set(key, unbatchedPart(this.full, traced));
    return this.parts.get(key)!;
  }

  /** What the region holds, for the jit caches' byte budget: compiled code and arenas of each program, and the IR. */
  measure(): SlotStats {
    return measurePrograms(this.variants.all());
  }
}

/**
 * Functions a jitted wrapper has seen break (weakly held): the first call of any later
 * specialization, or of a new wrapper of the same function, then runs its JS once, on the hybrid
 * path, instead of once traced up to the break and again from the start.
 */
const breaking = new WeakSet<(...args: any[]) => any>();

class GraphBreaks {
  readonly specs = new Map<string, Spec>();
  /**
   * specializations of a breaking function whose hybrid run observed nothing: later calls take
   * the core jit (one program, the JS not run on a hit)
   */
  readonly clean = new Set<string>();
  /**
   * captured regions by canonical program text, bounded like every jit cache: config.jitCacheSize
   * entries (LRU) and config.jitCacheMaxBytes across all caches (an evicted region is captured
   * and compiled again when its path recurs)
   */
  private readonly regions: SpecializationCache<Region>;
  private replays = 0;
  private guardFailures = 0;

  constructor(
    private readonly f: (...args: any[]) => any,
    private readonly name: string,
    private readonly statics: Set<number>,
  ) {
    this.regions = new SpecializationCache<Region>(`${name} graph-break regions`, "inner", (r) => r.measure());
    this.disk = new RegionDisk(f, name);
  }

  /** the regions' entries in the persistent cache (config.cacheDir) */
  readonly disk: RegionDisk;

  /** The specialization: argument structure, leaf types and static values, as the core jit keys them. */
  keyOf(args: unknown[]): string {
    const [leaves, def] = flatten(args.map((a, i) => (this.statics.has(i) ? null : a)));
    const avals = leaves.map((l, i) => avalKey(leafToTensor(l, `jit(${this.name}): argument leaf ${i}`).aval));
    const statics = [...this.statics].sort((a, b) => a - b).map((i) => staticKey(args[i]));
    return JSON.stringify([treeKey(def), avals, statics, config.backend]);
  }

  stats(): GraphBreakStats {
    const { loads, writes } = this.disk.info;
    return { regions: this.regions.size, replays: this.replays, guardFailures: this.guardFailures, ...(loads || writes ? { disk: { loads, writes } } : {}) };
  }

  clear(): void {
    this.specs.clear();
    this.clean.clear();
    this.regions.clear();
  }

  call(args: unknown[], key: string): unknown {
    return this.run(args, key).out;
  }

  lower(args: unknown[], key: string): HybridLowered {
    const { programs, spec } = this.run(args, key);
    return new HybridLowered(this.name, programs, [...spec.breaks.values()]);
  }

  private run(args: unknown[], key: string): { out: unknown; programs: Program[]; spec: Spec } {
    let spec = this.specs.get(key);
    if (!spec) this.specs.set(key, (spec = { breaks: new Map(), places: new Map(), calls: 0, streak: 0, warned: false, last: [] }));
    spec.calls++;
    this.regions.called();
    const programs: Program[] = [];
    let captured: string | null = null;
    let lastBreak: GraphBreak | null = null;
    const ran = new Map<RegionRun, Region>();
    const runRegion = (run: RegionRun, k: number): (Tensor | null)[] => {
      // the region this position ran last time, if the JS recorded the same structure again
      const prev = spec!.last[k];
      let r = prev && sameStructure(run.program, prev.full) ? this.regions.lookup(prev.key) : undefined;
      const text = r ? prev!.key : programKey(run.program);
      r ??= this.regions.lookup(text);
      if (r) this.replays++;
      else {
        const parts = keyParts({ kind: "leaf" } as TreeDef, run.program.inAvals, []);
        parts.leaves = parts.leaves.map(([, aval], i) => [`input ${i}`, aval]);
        this.regions.store(text, { ...parts, tree: `region ${k}` }, (r = new Region(run.program, text)));
        if (spec!.calls > 1 && captured === null) captured = this.explainCapture(k, lastBreak, run.program);
      }
      ran.set(run, r);
      spec!.last[k] = r;
      programs.push(r.full);
      const name = `${this.name}/region ${k}`;
      let outs: (Tensor | null)[];
      const top = currentTrace().parent === null; // (concrete inputs: the region runs compiled as it is)
      if (!r.used) {
        if (top) this.disk.prepare(r.full, name);
        outs = jitCallP.bind(run.inputs, { program: r.full, name });
      } else {
        // only the outputs earlier calls used: the others are dead code to the compiler
        const v = r.variant();
        if (top) this.disk.prepare(v, name);
        const some = jitCallP.bind(run.inputs, { program: v, name });
        let j = 0;
        outs = r.used.map((u) => (u ? some[j++]! : null));
      }
      // under vmap: what does not depend on a mapped (traced) input stays an ordinary value (unbatched.ts)
      const part = underVmap() ? r.unbatched(run.inputs.map((x) => x instanceof Tracer)) : null;
      if (part) {
        const vals = jitCallP.bind(part.inputs.map((i) => run.inputs[i]!), { program: part.program, name: `${name} (unbatched part)` });
        part.outputs.forEach((o, j) => (outs[o] = vals[j]!));
      }
      return outs;
    };
    const recompute = (run: RegionRun): Tensor[] => jitCallP.bind(run.inputs, { program: ran.get(run)!.full, name: `${this.name}/region (all outputs)` });
    const observed = (t: LazyTracer, what: string, source: () => string | undefined) => {
      // a site is the value's place in a captured region (or an argument leaf): stable across calls
      const place = t.home ? `${ran.get(t.home)!.id}:${t.slot}` : `arg ${t.slot}`;
      lastBreak = this.noteBreak(spec!, t, `${place}:${what}`, what, source);
    };
    // Source lines (a JS stack capture per operation, most of a small call's cost) are recorded
    // for every operation while the specialization is still capturing (its first two calls and
    // any call after one that captured a new region); steady-state calls replay known regions,
    // whose programs have them, and record only each region's first line (for a miss explanation).
    const sources = spec.calls <= 2 || spec.streak > 0 ? "all" : "first";
    const trace = new LazyTrace(currentTrace(), `jit(${this.name})`, { run: runRegion, recompute, observed }, sources);
    const [leaves, def] = flatten(args.map((a, i) => (this.statics.has(i) ? null : a)));
    const tensors = leaves.map((l, i) => trace.watch(leafToTensor(l, `jit(${this.name}): argument leaf ${i}`), i));
    const dyn = unflatten(def, tensors) as unknown[];
    const callArgs = args.map((a, i) => (this.statics.has(i) ? a : dyn[i]));
    let outDef: TreeDef;
    let outs: Tensor[];
    try {
      outs = withTrace(trace, () => {
        const [outLeaves, d] = flatten(this.f(...callArgs));
        outDef = d;
        return outLeaves.map((l, i) => leafToTensor(l, `jit(${this.name}): output leaf ${i}`));
      }).map((o) => trace.resolve(o));
    } finally {
      trace.finished = true;
    }
    // what the rest of this call used of each region's values: later calls compute only those
    for (const [run, r] of ran) r.use(run.used);
    if (spec.breaks.size) breaking.add(this.f);
    else if (spec.calls === 1) {
      // (a specialization started here because the function broke elsewhere) nothing observed:
      // it is one program, which the core jit traces and compiles on the next call
      this.specs.delete(key);
      this.clean.add(key);
    }
    if (captured !== null) {
      this.guardFailures++;
      spec.streak++;
      if (spec.streak >= config.recompileWarnAfter && !spec.warned) this.warn(spec, captured);
    } else spec.streak = 0;
    return { out: unflatten(outDef!, outs), programs, spec };
  }

  /** Records (and reports once per specialization) the break that ended a region. */
  private noteBreak(spec: Spec, tracer: LazyTracer, place: string, what: string, line: () => string | undefined): GraphBreak {
    const seen = spec.places.get(place);
    if (seen) return seen;
    // a new place: the same user line reached from another region is the same break
    const source = line();
    const site = `${what}@${source ?? "?"}`;
    const known = spec.breaks.get(site);
    if (known) {
      spec.places.set(place, known);
      return known;
    }
    const eqn = tracer.producer;
    const b: GraphBreak = {
      index: spec.breaks.size + 1,
      reason: what,
      source,
      aval: String(tracer.aval),
      value: describeObserved(tracer.value!),
      producer: eqn ? `${eqn.prim.name}${eqn.source !== undefined && String(eqn.source) ? ` at ${String(eqn.source)}` : ""}` : "an argument",
    };
    spec.breaks.set(site, b);
    spec.places.set(place, b);
    if (config.logGraphBreaks) {
      log({
        kind: "graph-break",
        message:
          `jit(${this.name}) graph break ${b.index}: ${b.reason} a traced value (${b.aval}, computed by ${b.producer})${at(source)}; ` +
          `observed ${b.value}. The compiled region before it ran, the JS continued with the value, and a new region starts after it.`,
        break: b,
      });
    }
    return b;
  }

  /** A region not captured before on a later call: a guard failed. Explained like any jit miss. */
  private explainCapture(k: number, after: GraphBreak | null, p: Program): string {
    const where = after
      ? `after graph break ${after.index} (${after.reason} a traced value${at(after.source)}; first observed ${after.value})`
      : "before the first graph break (a value the function closes over changed?)";
    const first = p.equations[0];
    const reason = `region ${k} ${where}: the JS took a path not captured before`;
    if (config.explainCacheMisses) {
      const from = first?.source !== undefined && String(first.source) ? `, starting with ${first.prim.name} at ${String(first.source)}` : "";
      log({ kind: "cache-miss", message: `jit(${this.name}) capturing ${reason} (${p.equations.length} equations${from})`, reason });
    }
    return after ? `graph break ${after.index}${at(after.source)}` : "the first region";
  }

  private warn(spec: Spec, site: string): void {
    spec.warned = true;
    log({
      kind: "recompile-warning",
      message:
        `jit(${this.name}) captured new code on each of the last ${spec.streak} calls: the value observed at ${site} decides control flow ` +
        `differently every time. Advice: express the branch with lax.cond (or np.where), a loop with lax.whileLoop / lax.foriLoop, ` +
        `or pass the deciding value as a static argument (staticArgnums) if it takes few values.`,
    });
  }
}

/** True inside vmap (at any depth): regions then split off their unbatched part. */
function underVmap(): boolean {
  for (let t: Trace | null = currentTrace(); t; t = t.parent) if (t instanceof BatchTrace) return true;
  return false;
}

const at = (line: string | undefined) => (line ? ` at ${line}` : "");

/** The observed value for the report: a number, or the first elements of an array. */
function describeObserved(t: Tensor): string {
  let d;
  try {
    d = t._observe("report");
  } catch {
    return "(not known: an enclosing transformation traces it)";
  }
  const items = Array.from(d.subarray(0, 6), (v) => (t.aval.dtype === "bool" ? String(v !== 0) : encodeNumber(v)));
  return d.length === 1 ? items[0]! : `[${items.join(", ")}${d.length > 6 ? `, ... (${d.length} elements)` : ""}]`;
}

/**
 * The public `jit`: the core jit (jit/jit.ts), which a function whose trace observes one of its
 * own values switches to graph breaks (above); `fullGraph: true` keeps the core's error.
 */
export function jit(f: (...args: any[]) => any, opts: JitOptions = {}): Jitted {
  return isCoreJit(opts) ? coreJit(f, opts) : jitWithGraphBreaks(f, opts, coreJit);
}
