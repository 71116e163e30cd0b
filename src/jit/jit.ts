// jit(f): trace on first call, specialize on dtypes/shapes/static arguments, optimize, compile,
// cache (LRU), and explain every recompile. Cold, cheap programs start in the interpreter and
// are compiled once hot. Inside another transformation a jitted function becomes one jit_call
// equation, so grad(jit(f)), vmap(jit(f)) and jit(jit(f)) keep the program compiled.
// A program generalized over learned sizes is verified at each new size before it serves it
// (polymorphism.ts): JS code that branches on a size never silently takes the wrong branch.

import { config, log } from "../core/config.js";
import { leafToTensor } from "../core/convert.js";
import { ArgumentError } from "../core/errors.js";
import { checkOptions, is } from "../core/options.js";
import { isFloat } from "../core/dtype.js";
import { type Dim, type SymDim, shapeToString, watchDimUses } from "../core/shape.js";
import { bindSymbols } from "../core/symbols.js";
import { userSourceLine } from "../core/source.js";
import type { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { NanError, interpret } from "../backends/interp/interpret.js";
import type { Program } from "../ir/program.js";
import { evalTrace } from "../trace/eval.js";
import { traceFlat } from "../trace/make-program.js";
import { currentTrace } from "../trace/trace.js";
import { type Residual, residualObservers } from "../transforms/linearize.js";
import { type Compiled, compileProgram } from "./compile.js";
import { type DiskEntry, JitDiskCache, describeDiskPath } from "./disk-cache.js";
import type { DiskInfo, DiskPath } from "./disk-info.js";
import { jitCallP } from "./jit-call.js";
import { type KeyParts, avalKey, explainDifference, keyString, leafPaths, staticKey, treeKey } from "./key.js";
import { Lowered } from "./lowered.js";
import { isCoreJit, jitWithGraphBreaks } from "../hybrid/graph-breaks.js";
import { type ShapeSpec, ShapePolicy, sizeCanonicalHash } from "./polymorphism.js";
import type { ShapedArray } from "../core/aval.js";

export interface JitOptions {
  staticArgnums?: number[];
  name?: string;
  /**
   * Symbolic dimensions, one entry per argument: for a tensor argument a list with a symbol
   * name, a size or null per axis (e.g. ["B", 784]); for a pytree argument the same structure
   * with such lists at its leaves; null for arguments without symbolic dimensions.
   */
  shapes?: unknown[];
}

export interface CacheInfo {
  hits: number;
  misses: number;
  traces: number;
  /** concrete traces that checked a program generalized over learned sizes at a new size */
  checks: number;
  size: number;
  lastMiss?: { reason: string };
  /** the persistent cache (config.cacheDir): loads, stale and ignored entries, writes, last path */
  disk: DiskInfo;
}

interface Entry {
  parts: KeyParts;
  /** captured values passed as trailing inputs (eager-tape variables the function closes over) */
  consts: Tensor[];
  program: Program;
  outTree: TreeDef;
  compiled: Compiled;
  calls: number;
  residuals: Residual[];
  /** the disk-cache file of this specialization and the traced program's hash (to store it once hot) */
  disk?: { entry: DiskEntry; hash: string };
  /**
   * Only for programs generalized over learned sizes: each concrete size already checked ->
   * null when this program serves it, else that size's own specialization.
   */
  sizes?: Map<string, Entry | null>;
}

/** How many checked sizes a generalized program remembers (older ones are checked again). */
const MAX_CHECKED_SIZES = 1024;

/** A traced function converted a learned (symbolic) size to a JS value: it must not be generalized. */
class SizeReadInJs extends Error {}

export interface Jitted {
  (...args: any[]): any;
  lower(...args: any[]): Lowered;
  cacheInfo(): CacheInfo;
  clearCache(): void;
}

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

/** Estimated work of a program in elements touched (matmuls count multiply-adds). */
function programWork(p: Program): number {
  // a symbolic dimension counts as large: such programs are worth compiling
  const n = (d: Dim) => (typeof d === "number" ? d : 1024);
  const size = (s: readonly Dim[]) => s.reduce<number>((a, b) => a * n(b), 1);
  let w = 0;
  for (const e of p.equations) {
    for (const o of e.outs) w += size(o.aval.shape);
    if (e.prim.name === "dot_general") {
      const x = e.inputs[0]!.aval.shape;
      w += size(e.outs[0]!.aval.shape) * size((e.params.lhsContract as number[]).map((d) => x[d]!));
    }
  }
  return w;
}

export function jit(f: (...args: any[]) => any, opts: JitOptions = {}): Jitted {
  if (!isCoreJit(opts)) return jitWithGraphBreaks(f, opts, jit); // graph breaks (src/hybrid/); it calls back here
  if (typeof f !== "function") throw new ArgumentError(`jit: expected a function, got ${typeof f}`);
  checkOptions("jit", opts, { staticArgnums: is.arrayOf(is.int(0), "argument indices (integers >= 0)"), name: is.string, shapes: is.arrayOf(is.any) });
  const name = opts.name ?? (f.name || "anonymous");
  const statics = new Set(opts.staticArgnums ?? []);
  for (const s of statics) {
    if (!Number.isInteger(s) || s < 0) throw new ArgumentError(`jit(${name}): staticArgnums entry ${s} is not a valid argument index`);
  }
  const cache = new Map<string, Entry>();
  let hits = 0;
  let misses = 0;
  let traces = 0;
  let checks = 0;
  let warned = false;
  let lastMiss: { reason: string } | undefined;
  let lastParts: KeyParts | null = null;
  /** traced programs for calls inside other transformations, by key */
  const innerPrograms = new Map<string, { program: Program; outTree: TreeDef; consts: Tensor[] }>();

  let policy: ShapePolicy | null = null;
  let declared: ShapeSpec[] = [];
  let lastShapes: number[][] | null = null;
  const disk = new JitDiskCache(f, name);

  const split = (args: unknown[]) => {
    const dyn = args.map((a, i) => (statics.has(i) ? null : a));
    const [leaves, def] = flatten(dyn);
    const tensors = leaves.map((l, i) => leafToTensor(l, `jit(${name}): argument leaf ${i}`));
    if (!policy) {
      declared = declaredLeafSpecs(name, opts.shapes, dyn);
      policy = new ShapePolicy(declared);
    }
    const avals = policy.abstract(tensors) ?? tensors.map((t) => t.aval);
    const paths = leafPaths(def);
    return { tensors, def, parts: partsOf(args, def, avals), avals, paths };
  };

  const partsOf = (args: unknown[], def: TreeDef, avals: ShapedArray[]): KeyParts => {
    const paths = leafPaths(def);
    return {
      tree: treeKey(def),
      leaves: avals.map((a, i) => [paths[i] ?? `leaf ${i}`, avalKey(a)]),
      statics: [...statics].sort((a, b) => a - b).map((i) => [i, staticKey(args[i])]),
      backend: config.backend,
      options: `interpretBelow=${config.interpretBelowWork}`,
    };
  };

  /** Rebuilds the user's argument list with traced leaves in place of the dynamic ones. */
  const rebuild = (args: unknown[], def: TreeDef, xs: Tensor[]) => {
    const dyn = unflatten(def, xs) as unknown[];
    return args.map((a, i) => (statics.has(i) ? a : dyn[i]));
  };

  const trace = (args: unknown[], def: TreeDef, avals: ShapedArray[], counted = true) => {
    if (counted) traces++;
    const residuals: Residual[] = [];
    const obs = (r: Residual[]) => residuals.push(...r);
    residualObservers.add(obs);
    // over learned sizes, any JS conversion of a size (the function may branch on it) is noted
    let read: string | null = null;
    const watch = (d: SymDim, how: string) => {
      if (read === null && policy?.isLearned(d)) read = `a size (${d.toString()}) ${how}${at(userSourceLine())}`;
    };
    const t0 = now();
    try {
      const run = () => traceFlat((xs) => f(...rebuild(args, def, xs)), avals, `jit(${name})`);
      const t = policy?.hasLearned(avals) ? watchDimUses(watch, run) : run();
      if (read !== null) throw new SizeReadInJs(read);
      return { ...t, residuals, traceMs: now() - t0 };
    } catch (err) {
      throw read !== null ? new SizeReadInJs(read) : err;
    } finally {
      residualObservers.delete(obs);
    }
  };

  const explain = (message: string, reason: string) => {
    if (config.explainCacheMisses) log({ kind: "cache-miss", message: `jit(${name}) ${message}`, reason });
  };

  const miss = (parts: KeyParts, generalized?: string): void => {
    misses++;
    const reason = lastParts ? explainDifference(lastParts, parts) ?? "evicted from the cache" : "first call";
    lastMiss = { reason };
    if (lastParts && config.explainCacheMisses) {
      const at = userSourceLine();
      const g = generalized ? `; generalizing ${generalized}: one program now serves every size` : "";
      log({ kind: "cache-miss", message: `jit(${name}) recompiling because ${reason}${g}${at ? ` (called at ${at})` : ""}`, reason });
    }
    if (lastParts && misses > config.recompileWarnAfter && !warned) {
      warned = true;
      const advice = reason.startsWith("static arg")
        ? "a static argument keeps changing value: pass it as a regular (traced) argument instead"
        : reason.includes("shape")
          ? "an argument's shape keeps changing: pad inputs to a few fixed sizes, or declare the dimension symbolic"
          : "mark configuration values as static (staticArgnums) and keep array shapes/dtypes stable";
      log({ kind: "recompile-warning", message: `jit(${name}) has been compiled ${misses} times; last change: ${reason}. Advice: ${advice}.` });
    }
    lastParts = parts;
  };

  type Traced = ReturnType<typeof trace>;
  const build = (args: unknown[], def: TreeDef, avals: ShapedArray[], parts: KeyParts, traced?: Traced): Entry => {
    const de = disk.entry(parts, [...statics].map((i) => [i, args[i]]));
    const trusted = de && disk.trustSource && !traced ? de.load(null) : null;
    if (trusted) {
      // cacheTrustSource: equal source text and key stand for an equal program (no trace)
      const c = trusted.compiled;
      if (config.logCompiles) logCompile(name, c.optimized, c, false, "miss", de!.path);
      return {
        parts,
        consts: [],
        get program() {
          return c.optimized; // decoded lazily: not needed to run
        },
        outTree: trusted.outTree,
        compiled: c,
        calls: 0,
        residuals: [],
        ...(policy?.hasLearned(avals) ? { sizes: new Map() } : {}),
      };
    }
    const t = traced ?? trace(args, def, avals);
    // programs closing over outer tracers (eager-tape variables) are specific to this process
    const hash = de && !t.tracerConsts.length ? de.hashOf(t.program) : null;
    const hit = hash !== null ? de!.load(hash) : null;
    let compiled: Compiled;
    let cold = false;
    if (hit) {
      compiled = hit.compiled;
      compiled.times.traceMs = t.traceMs;
    } else {
      cold = programWork(t.program) < config.interpretBelowWork;
      compiled = compileProgram(t.program, name, { traceMs: t.traceMs, interpretOnly: cold });
      if (hash !== null && compiled.exec) de!.store(hash, t.outTree, compiled);
    }
    if (config.logCompiles) logCompile(name, t.program, compiled, cold, "miss", de?.path);
    const e: Entry = { parts, consts: t.tracerConsts, program: t.program, outTree: t.outTree, compiled, calls: 0, residuals: t.residuals };
    if (policy?.hasLearned(avals)) e.sizes = new Map();
    if (hash !== null && !compiled.exec) e.disk = { entry: de!, hash }; // stored once compiled (hot)
    return e;
  };

  const jitted = ((...args: unknown[]) => {
    if (currentTrace() !== evalTrace) return callInside(args);
    let { tensors, def, parts, avals, paths } = split(args);
    // tensors tracked by the eager tape: apply as one jit_call so the tape records it
    if (tensors.some((t) => t._tape)) return callInside(args);
    let key = keyString(parts);
    let e = cache.get(key);
    if (e) {
      hits++;
      cache.delete(key);
      cache.set(key, e); // most recently used last
    } else {
      const shapes = tensors.map((t) => t.aval.shape as number[]);
      const missParts = parts;
      let generalized: string | undefined;
      if (config.autoGeneralizeShapes && lastShapes && lastParts && onlySizesChanged(lastParts, parts)) {
        generalized = policy!.generalize(lastShapes, shapes, (i) => paths[i] ?? `leaf ${i}`) ?? undefined;
        if (generalized) ({ tensors, def, parts, avals, paths } = split(args));
        key = keyString(parts);
      }
      lastShapes = shapes;
      e = cache.get(key);
      if (e) hits++;
      else {
        miss(missParts, generalized);
        try {
          e = build(args, def, avals, parts);
        } catch (err) {
          if (!policy!.hasLearned(avals)) throw err;
          // the function needs concrete sizes (e.g. JS loops over x.shape[0]): stay concrete
          const why = err instanceof SizeReadInJs ? `the function reads ${err.message}` : `tracing with symbolic sizes failed (${(err as Error).message.split("\n")[0]})`;
          explain(`not generalizing over sizes: ${why}; specializing on every size instead`, "size read in JS");
          policy!.pinLearned(declared);
          ({ tensors, def, parts, avals, paths } = split(args));
          key = keyString(parts);
          e = build(args, def, avals, parts);
        }
        cache.set(key, e);
        while (cache.size > Math.max(1, config.jitCacheSize)) cache.delete(cache.keys().next().value!);
      }
    }
    if (e.sizes) e = checkSize(e, args, def, tensors);
    e.calls++;
    if (!e.compiled.exec && config.backend !== "interp" && e.calls >= config.hotCalls) {
      // promote a hot interpreted program to generated code (same results)
      const c = compileProgram(e.program, name, { traceMs: e.compiled.times.traceMs });
      if (e.disk && c.exec) e.disk.entry.store(e.disk.hash, e.outTree, c);
      if (config.logCompiles) logCompile(name, e.program, c, false, "hot", e.disk?.entry.path);
      e.compiled = c;
    }
    if (e.consts.some((c) => c._tape)) return callInside(args);
    const outs = e.compiled.run(e.consts.length ? [...tensors, ...e.consts] : tensors);
    if (config.debugNans) checkNans(e, tensors, outs);
    return unflatten(e.outTree, outs);
  }) as Jitted;

  /**
   * The entry that serves these concrete sizes: `e` (generalized over learned sizes) once a
   * concrete trace at these sizes is shown to compute the same program, else a specialization.
   */
  const checkSize = (e: Entry, args: unknown[], def: TreeDef, tensors: Tensor[]): Entry => {
    const shapes = tensors.map((t) => t.aval.shape as number[]);
    const k = shapes.map(shapeToString).join(";");
    const known = e.sizes!.get(k);
    if (known !== undefined) return known ?? e;
    checks++;
    const avals = tensors.map((t) => t.aval);
    const t = trace(args, def, avals, false);
    const inShapes = e.program.inAvals.slice(0, tensors.length).map((a) => a.shape);
    const env = bindSymbols(inShapes, shapes, (i) => `argument leaf ${i}`);
    const mine = sizeCanonicalHash(t.program);
    let served: Entry | null = null;
    if (mine === null || mine !== sizeCanonicalHash(e.program, env)) {
      // the function computes something else at these sizes (e.g. it tests x.shape[0] === 1)
      const parts = partsOf(args, def, avals);
      const reason = `at ${k} its trace differs from the program generalized over sizes`;
      misses++;
      traces++;
      lastMiss = { reason };
      explain(
        `specializing on shapes ${k}: ${mine === null ? "the program cannot be compared across sizes" : "the function's trace at these sizes differs from its size-generalized program (it depends on a size in JS, e.g. x.shape[0] === 1)"}${at(userSourceLine())}`,
        reason,
      );
      served = build(args, def, avals, parts, t);
    }
    e.sizes!.set(k, served);
    if (e.sizes!.size > MAX_CHECKED_SIZES) e.sizes!.delete(e.sizes!.keys().next().value!);
    return served ?? e;
  };

  /** Inside another transformation: stage one jit_call equation over the traced program. */
  const callInside = (args: unknown[]) => {
    const { tensors, def, parts } = split(args);
    const key = keyString(parts);
    let t = innerPrograms.get(key);
    if (!t) {
      const r = trace(args, def, tensors.map((x) => x.aval));
      t = { program: r.program, outTree: r.outTree, consts: r.tracerConsts };
      // programs that close over outer tracers are specific to that trace: do not keep them
      if (!r.tracerConsts.length) innerPrograms.set(key, t);
    }
    const outs = jitCallP.bind([...tensors, ...t.consts], { program: t.program, name });
    return unflatten(t.outTree, outs);
  };

  jitted.lower = (...args: unknown[]) => {
    // lowered at the declared symbolic shapes (jit(f, {shapes})), else at the arguments' own
    // concrete shapes, whatever symbolic dims jit may have learned
    const { def, parts, tensors, avals: polyAvals } = split(args);
    const avals = opts.shapes ? polyAvals : tensors.map((t) => t.aval);
    const t = trace(args, def, avals);
    return new Lowered(name, t.program, t.residuals, avals, parts.leaves.map((l) => l[0]));
  };
  jitted.cacheInfo = () => ({ hits, misses, traces, checks, size: cache.size, ...(lastMiss ? { lastMiss } : {}), disk: { ...disk.info } });
  jitted.clearCache = () => {
    cache.clear();
    innerPrograms.clear();
    lastParts = null;
    lastShapes = null;
  };
  return jitted;
}

const at = (line: string | undefined) => (line ? ` (at ${line})` : "");

/** True when two keys differ only in the sizes of same-rank, same-dtype leaves. */
function onlySizesChanged(a: KeyParts, b: KeyParts): boolean {
  if (a.tree !== b.tree || a.backend !== b.backend || a.options !== b.options) return false;
  if (a.statics.some((s, i) => s[1] !== b.statics[i]?.[1])) return false;
  const dtypeRank = (k: string) => k.replace(/\[.*\]/, (m) => `[rank ${m === "[]" ? 0 : m.split(",").length}]`);
  return a.leaves.every((l, i) => dtypeRank(l[1]) === dtypeRank(b.leaves[i]![1]));
}

/** Resolves `jit(f, {shapes})` into one spec per dynamic leaf. */
function declaredLeafSpecs(name: string, shapes: unknown[] | undefined, dyn: unknown[]): ShapeSpec[] {
  if (!shapes) return [];
  const isSpec = (x: unknown) => Array.isArray(x) && x.every((d) => d === null || typeof d === "string" || typeof d === "number");
  const out: ShapeSpec[] = [];
  const walk = (spec: unknown, value: unknown): void => {
    const [leaves] = flatten(value);
    if (spec === null || spec === undefined) {
      leaves.forEach(() => out.push(null));
    } else if (isSpec(spec)) {
      if (leaves.length !== 1) throw new ArgumentError(`jit(${name}): a shape spec was given for a pytree argument; give one per leaf`);
      out.push(spec as ShapeSpec);
    } else if (Array.isArray(spec) && Array.isArray(value) && spec.length === value.length) {
      spec.forEach((s, i) => walk(s, value[i]));
    } else if (typeof spec === "object" && value && typeof value === "object") {
      for (const k of Object.keys(value)) walk((spec as Record<string, unknown>)[k], (value as Record<string, unknown>)[k]);
    } else throw new ArgumentError(`jit(${name}): shapes ${JSON.stringify(spec)} does not match the argument structure`);
  };
  dyn.forEach((v, i) => walk(shapes[i], v));
  return out;
}

function logCompile(name: string, p: Program, c: Compiled, cold: boolean, why = "miss", disk?: DiskPath): void {
  const t = c.times;
  const lp = c.exec?.lowered;
  const arena = lp && lp.symbols.length ? `arena planned per ${lp.symbols.join(",")}` : `arena ${lp?.arenaBytes ?? 0} bytes`;
  const kernels = lp ? `${lp.kernels.length} kernels, ${arena}` : "interpreted (cold tier)";
  const traced = disk === "trusted" ? "not traced" : `traced ${p.equations.length} equations in ${t.traceMs.toFixed(1)} ms`;
  const d = describeDiskPath(disk);
  log({
    kind: "compile",
    message:
      t.loadMs !== undefined
        ? `jit(${name}) [${why}]: ${traced}, ${d}: ${kernels} in ${t.loadMs.toFixed(1)} ms`
        : `jit(${name}) [${why}]: ${traced}, ` +
          `optimized to ${c.optimized.equations.length} in ${t.optimizeMs.toFixed(1)} ms, ` +
          `${cold ? kernels : `generated ${kernels} in ${t.codegenMs.toFixed(1)} ms`}${d ? `; ${d}` : ""}`,
    times: t,
    ...(disk ? { disk } : {}),
  });
}

function checkNans(e: Entry, args: Tensor[], outs: Tensor[]): void {
  const nan = (t: Tensor) => isFloat(t.dtype) && t.data.some((v) => v !== v);
  if (!outs.some(nan)) return;
  if (args.some(nan)) throw new NanError("debugNans: an input already contains NaN");
  const prev = config.debugNans;
  try {
    config.debugNans = true;
    interpret(e.compiled.optimized, args); // throws NanError naming the first equation
  } finally {
    config.debugNans = prev;
  }
  throw new NanError("debugNans: the compiled program produced NaN but the interpreter did not");
}
