// jit(f): trace on first call, specialize on dtypes/shapes/static arguments, optimize, compile,
// cache (LRU), and explain every recompile. Inside another transformation a jitted function
// becomes one jit_call equation, so grad(jit(f)), vmap(jit(f)) and jit(jit(f)) keep the program
// compiled. A call goes through five steps, each in its own file:
//   key     key.ts      the call's KeyParts (argument structure, leaf avals, statics, backend,
//                       compiler options: one key for the memory and the disk cache)
//   lookup  lookup.ts   the LRU of specializations (bounded in entries and, across all caches,
//                       in bytes), counters, miss explanations, the recompile stance
//   build   build.ts    trace, then load from the disk cache (disk-cache.ts) or compile
//   tier    tier.ts     cold programs start interpreted and are compiled once hot
//   run     run.ts      run the compiled form; debugNans locates the first NaN-producing equation
// Diagnostics: specializations() / cacheReport() (report.ts), lower(...).compile() with cost and
// memory analysis (staged.ts, cost.ts), the trace-event timeline (timeline.ts).
// This file holds the per-function state and the order of the steps. Shapes: declared symbolic
// shapes (`{shapes}`) are checked on every call (declared.ts); sizes that keep changing are
// generalized into symbols, and a program generalized over learned sizes is verified at each new
// size before it serves it (polymorphism.ts): JS code that branches on a size never silently
// takes the wrong branch.

import type { ShapedArray } from "../core/aval.js";
import { config } from "../core/config.js";
import { leafToTensor } from "../core/convert.js";
import { ArgumentError, ShapeError } from "../core/errors.js";
import { checkOptions, is } from "../core/options.js";
import { currentDimFacts, shapeToString, withDimFacts } from "../core/shape.js";
import { bindSymbols } from "../core/symbols.js";
import { userSourceLine } from "../core/source.js";
import { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import type { Program } from "../ir/program.js";
import { evalTrace } from "../trace/eval.js";
import { currentTrace } from "../trace/trace.js";
import { type BuildContext, type Entry, SizeReadInJs, type TraceResult, buildEntry, traceCall } from "./build.js";
import { checkDeclaredConstraints, checkDeclaredShapes, declaredConstraints, declaredLeafSpecs } from "./declared.js";
import { JitDiskCache } from "./disk-cache.js";
import { jitCallP } from "../higher-order/jit-call.js";
import { backendKey, compilerOptions, type KeyParts, keyParts, keyString, leafPaths, onlySizesChanged, sameAvals, staticKey, treeKey } from "./key.js";
import { donateAfterCall, donatedArgs, donatedLeaves } from "./donate.js";
import { type CacheInfo, IR_BYTES_PER_EQUATION, type SlotStats, SpecializationCache, at } from "./lookup.js";
import { SpecializationTable, rowsOf } from "./report.js";
import { byteSize } from "../core/dtype.js";
import type { ShapedArray as Aval } from "../core/aval.js";
import { Lowered } from "./lowered.js";
import { CompiledStage } from "./staged.js";
import { deserializeStage, sourceHashOf, stageEntry } from "./stage-export.js";
import { type ShapeSpec, ShapePolicy, sizeCanonicalHash } from "./polymorphism.js";
import { runEntry } from "./run.js";
import { compiledOf } from "./compile.js";
import { derivedPrograms } from "../transforms/program.js";
import { countCall } from "./tier.js";
import { instant, nowUs, stageSpans, timed, timelineOn } from "./timeline.js";

export type { CacheInfo };

export interface JitOptions {
  staticArgnums?: number[];
  /** arguments whose buffers may hold outputs; they are invalid after a direct call (jit/donate.ts) */
  donateArgnums?: number[];
  name?: string;
  /**
   * Symbolic dimensions, one entry per argument: for a tensor argument a list with a symbol
   * name, a size or null per axis (e.g. ["B", 784]); for a pytree argument the same structure
   * with such lists at its leaves; null for arguments without symbolic dimensions. A call whose
   * argument contradicts its entry (rank, or a declared size) raises a ShapeError.
   */
  shapes?: unknown[];
  /** bounds on the symbols of `shapes` ("B >= 2", "B <= 4096"): the shape rules use them; every call is checked */
  constraints?: string[];
}

export interface Jitted {
  (...args: any[]): any;
  lower(...args: any[]): Lowered;
  cacheInfo(): CacheInfo;
  clearCache(): void;
  /** One row per cached entry (top-level and inner), printable with `.toString()` (docs/diagnostics.md). */
  specializations(): SpecializationTable;
  /**
   * Puts a compiled stage (`jf.lower(...).compile()`, or the bytes of its `serialize()`) into the
   * cache: calls with its argument types then run it without tracing (stage-export.ts).
   */
  insert(stage: CompiledStage | Uint8Array): void;
}

/** A program traced for a call inside another transformation or on the eager tape. */
interface InnerEntry {
  program: Program;
  outTree: TreeDef;
  consts: Tensor[];
  /** the transformations it was traced under, e.g. "linearize" or "eager tape" */
  stack: string;
  traceMs: number;
}

const avalBytes = (a: Aval) => (typeof a.size === "number" ? a.size * byteSize(a.dtype) : 0);
const constBytes = (cs: readonly Tensor[]) => cs.reduce((n, c) => n + avalBytes(c.aval), 0);

/** What a top-level entry holds (lookup.ts budgets and report.ts prints it). */
function measureEntry(e: Entry): SlotStats {
  const t = e.compiled.times;
  const ex = e.compiled.exec;
  const opt = e.compiled.optimized;
  const traced = Object.getOwnPropertyDescriptor(e, "program")?.get ? 0 : e.program === opt ? 0 : e.program.equations.length;
  return {
    traceMs: t.traceMs,
    optimizeMs: t.optimizeMs,
    codegenMs: t.codegenMs,
    wasmBytes: ex?.wasm?.bytes.length ?? 0,
    jsBytes: ex && !ex.wasm ? ex.source.length : 0,
    arenaBytes: ex ? (ex.memoryBytes?.() ?? ex.lowered.arenaBytes ?? 0) : 0,
    residualBytes: e.residuals.reduce((n, r) => n + avalBytes(r.aval), 0),
    otherBytes: constBytes(e.consts) + (opt.equations.length + traced) * IR_BYTES_PER_EQUATION,
    origin: e.origin ?? (t.loadMs !== undefined ? "disk" : ex ? "compiled" : "interpreted"),
  };
}

/**
 * What an inner entry holds: its program, the programs derived from it and cached with it (the
 * jvp, partial-evaluation halves and transposes of grad(jit(f)), transitively) and the compiled
 * forms of these (jit_call runs them compiled: code and WebAssembly memory).
 */
function measureInner(e: InnerEntry): SlotStats {
  let wasm = 0;
  let js = 0;
  let arena = 0;
  let eqs = 0;
  const seen = new Set<Program>();
  const todo = [e.program];
  while (todo.length) {
    const p = todo.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    eqs += p.equations.length;
    todo.push(...derivedPrograms(p));
    const ex = compiledOf(p)?.exec;
    if (ex) {
      wasm += ex.wasm?.bytes.length ?? 0;
      js += ex.wasm ? 0 : ex.source.length;
      arena += ex.memoryBytes?.() ?? ex.lowered.arenaBytes ?? 0;
    }
  }
  return {
    traceMs: e.traceMs,
    optimizeMs: 0,
    codegenMs: 0,
    wasmBytes: wasm,
    jsBytes: js,
    arenaBytes: arena,
    residualBytes: 0,
    otherBytes: constBytes(e.consts) + eqs * IR_BYTES_PER_EQUATION,
    origin: "traced",
  };
}

/** The transformations current at a call inside one ("linearize", "vmap inside jit(g)"), or the eager tape. */
function transformationStack(): string {
  const kinds: string[] = [];
  for (let t = currentTrace(); t && t !== evalTrace; t = t.parent!) kinds.push(t.kind);
  return kinds.length ? kinds.join(" inside ") : "eager tape";
}

/** How many checked sizes a generalized program remembers (older ones are checked again). */
const MAX_CHECKED_SIZES = 1024;

/** One call's arguments, flattened and keyed (step 1). */
interface Call {
  args: unknown[];
  tensors: Tensor[];
  def: TreeDef;
  /** the avals to trace and key on (symbolic where the shape policy says so) */
  avals: ShapedArray[];
  paths: string[];
  parts: KeyParts;
  /** keyString(parts), built once per call (or reused from the structure's last call) */
  key: string;
  policy: ShapePolicy;
}

/** The shape policy of one argument structure: declared specs resolved to its leaves, and learned symbols. */
interface Shapes {
  declared: ShapeSpec[];
  policy: ShapePolicy;
  /** leafPaths of this structure */
  paths: string[];
  /** the last key built for this structure: reused while avals, statics, backend and options are the same */
  last: { avals: ShapedArray[]; statics: string[]; backend: string; options: string; parts: KeyParts; key: string } | null;
}

/**
 * The core jit: one traced specialization per key. The public `jit` (hybrid/graph-breaks.ts)
 * wraps it with graph breaks for functions whose trace observes their own values.
 */
export function jit(f: (...args: any[]) => any, opts: JitOptions = {}): Jitted {
  if (typeof f !== "function") throw new ArgumentError(`jit: expected a function, got ${typeof f}`);
  checkJitOptions(opts);
  const name = opts.name ?? (f.name || "anonymous");
  const statics = new Set(opts.staticArgnums ?? []);
  for (const s of statics) {
    if (!Number.isInteger(s) || s < 0) throw new ArgumentError(`jit(${name}): staticArgnums entry ${s} is not a valid argument index`);
  }
  const sortedStatics = [...statics].sort((a, b) => a - b);
  const donated = donatedArgs(name, opts.donateArgnums, statics);
  const cache = new SpecializationCache<Entry>(name, "jit", measureEntry);
  /** traced programs for calls inside other transformations and on the tape, by key (bounded like `cache`) */
  const innerPrograms = new SpecializationCache<InnerEntry>(name, "inner", measureInner);
  /** per argument structure (declared specs are resolved against each structure's leaves) */
  const shapes = new Map<string, Shapes>();
  let lastShapes: number[][] | null = null;
  const disk = new JitDiskCache(f, name);

  /** Rebuilds the user's argument list with traced leaves in place of the dynamic ones. */
  const rebuild = (args: unknown[], def: TreeDef, xs: Tensor[]) => {
    const dyn = unflatten(def, xs) as unknown[];
    return args.map((a, i) => (statics.has(i) ? a : dyn[i]));
  };
  const cx: BuildContext = { name, disk, rebuild, statics: sortedStatics };
  const declaredCs = declaredConstraints(name, opts.constraints, opts.shapes);

  // step 1: key
  const keyed = (args: unknown[]): Call => {
    const dyn = args.map((a, i) => (statics.has(i) ? null : a));
    const [leaves, def] = flatten(dyn);
    const tensors = leaves.map((l, i) => (l instanceof Tensor ? l : leafToTensor(l, `jit(${name}): argument leaf ${i}`)));
    const tk = treeKey(def);
    let s = shapes.get(tk);
    if (!s) {
      const declared = declaredLeafSpecs(name, opts.shapes, dyn);
      shapes.set(tk, (s = { declared, policy: new ShapePolicy(declared), paths: leafPaths(def), last: null }));
    }
    const paths = s.paths;
    checkDeclaredShapes(name, s.declared, tensors, paths);
    checkDeclaredConstraints(name, declaredCs.checks, s.declared, tensors, paths);
    const avals = s.policy.abstract(tensors) ?? tensors.map((t) => t.aval);
    // a repeated call keys like the last one: reuse its key text (a hit's main per-call cost)
    const staticArgs: [number, unknown][] = sortedStatics.map((i) => [i, args[i]]);
    const staticKeys = staticArgs.map(([, v]) => staticKey(v));
    const backend = backendKey();
    const options = compilerOptions();
    const l = s.last;
    if (l && l.backend === backend && l.options === options && sameAvals(l.avals, avals) && l.statics.every((k, i) => k === staticKeys[i])) {
      return { args, tensors, def, avals, paths, parts: l.parts, key: l.key, policy: s.policy };
    }
    const parts = keyParts(def, avals, staticArgs, paths, tk);
    const key = keyString(parts);
    s.last = { avals, statics: staticKeys, backend, options, parts, key };
    return { args, tensors, def, avals, paths, parts, key, policy: s.policy };
  };

  const trace = (c: Call, avals = c.avals, counted = true): TraceResult => {
    if (counted) cache.traces++;
    return traceCall(f, cx, c.policy, c.args, c.def, avals);
  };

  // step 3: build (a miss)
  const build = (c: Call, traced?: TraceResult): Entry => buildEntry(cx, c.args, c.parts, c.policy.hasLearned(c.avals), () => trace(c), traced);

  /** Steps 2 and 3: the entry serving this call (found, or built after a miss). */
  const entryFor = (first: Call): { e: Entry; c: Call } | null => {
    let c = first;
    let key = c.key;
    cache.called();
    let e = cache.lookup(key);
    if (e) {
      if (timelineOn()) instant(`cache hit jit(${name})`, "cache");
      return { e, c };
    }
    const sizes = c.tensors.map((t) => t.aval.shape as number[]);
    let generalized: string | undefined;
    if (config.autoGeneralizeShapes && lastShapes && cache.lastParts && onlySizesChanged(cache.lastParts, c.parts)) {
      generalized = c.policy.generalize(lastShapes, sizes, (i) => c.paths[i] ?? `leaf ${i}`) ?? undefined;
      if (generalized) c = keyed(c.args);
      key = keyString(c.parts);
    }
    lastShapes = sizes;
    e = cache.lookup(key);
    if (e) return { e, c };
    cache.miss(keyString(first.parts), first.parts, generalized);
    if (timelineOn()) instant(`cache miss jit(${name})`, "cache", { reason: cache.info(disk.info).lastMiss?.reason });
    if (cache.overLimit()) return null;
    const t0 = timelineOn() ? nowUs() : 0;
    try {
      e = build(c);
    } catch (err) {
      if (!c.policy.hasLearned(c.avals)) throw err;
      // the function needs concrete sizes (e.g. JS loops over x.shape[0]): stay concrete
      const why = err instanceof SizeReadInJs ? `the function reads ${err.message}` : `tracing with symbolic sizes failed (${(err as Error).message.split("\n")[0]})`;
      cache.explain(`not generalizing over sizes: ${why}; specializing on every size instead`, "size read in JS");
      c.policy.pinLearned(shapes.get(c.parts.tree)!.declared);
      c = keyed(c.args);
      key = keyString(c.parts);
      e = build(c);
    }
    cache.store(key, c.parts, e);
    if (timelineOn()) stageSpans(`jit(${name})`, t0, e.compiled.times);
    return { e, c };
  };

  const jitted = ((...args: unknown[]) => {
    if (currentTrace() !== evalTrace) return callInside(args);
    // the declared constraints are facts for everything this call traces, optimizes and compiles
    return withDimFacts(declaredCs.facts, () => callTop(args));
  }) as Jitted;
  const callTop = (args: unknown[]) => {
    const first = keyed(args);
    // tensors tracked by the eager tape: apply as one jit_call so the tape records it
    if (first.tensors.some((t) => t._tape)) return callInside(args);
    const found = entryFor(first);
    if (found === null) return f(...args); // past config.recompileLimit with onRecompileLimit "interpret"
    const e = found.e.sizes ? checkSize(found.e, found.c) : found.e;
    countCall(e, name); // step 4: tier
    if (e.consts.some((c) => c._tape)) return callInside(args);
    const leafArgs = donated.size ? leafArgIndices(args, statics) : null;
    const give = leafArgs && donatedLeaves(donated, found.c.tensors, leafArgs);
    let outs = timelineOn() ? timed(`run jit(${name})`, "run", () => runEntry(name, e, found.c.tensors, found.c.paths, give), { tier: e.compiled.exec ? "compiled" : "interpreted" }) : runEntry(name, e, found.c.tensors, found.c.paths, give);
    if (leafArgs) outs = donateAfterCall(name, donated, args.length, found.c.tensors, leafArgs, found.c.paths, outs);
    return unflatten(e.outTree, outs); // step 5: run
  };

  /**
   * The entry that serves these concrete sizes: `e` (generalized over learned sizes) once a
   * concrete trace at these sizes is shown to compute the same program, else a specialization.
   */
  const checkSize = (e: Entry, c: Call): Entry => {
    const sizes = c.tensors.map((t) => t.aval.shape as number[]);
    const k = sizes.map(shapeToString).join(";");
    const known = e.sizes!.get(k);
    if (known !== undefined) return known ?? e;
    cache.checks++;
    const avals = c.tensors.map((t) => t.aval);
    const t = trace(c, avals, false);
    const inShapes = e.program.inAvals.slice(0, c.tensors.length).map((a) => a.shape);
    const env = bindSymbols(inShapes, sizes, (i) => `argument leaf ${i}`);
    const mine = sizeCanonicalHash(t.program);
    let served: Entry | null = null;
    if (mine === null || mine !== sizeCanonicalHash(e.program, env)) {
      // the function computes something else at these sizes (e.g. it tests x.shape[0] === 1)
      const cparts = keyParts(c.def, avals, sortedStatics.map((i) => [i, c.args[i]]));
      const concrete: Call = { ...c, avals, parts: cparts, key: keyString(cparts) };
      cache.specialized(
        `at ${k} its trace differs from the program generalized over sizes`,
        `specializing on shapes ${k}: ${mine === null ? "the program cannot be compared across sizes" : "the function's trace at these sizes differs from its size-generalized program (it depends on a size in JS, e.g. x.shape[0] === 1)"}${at(userSourceLine())}`,
      );
      served = buildEntry(cx, c.args, concrete.parts, false, () => t, t);
    }
    e.sizes!.set(k, served);
    if (e.sizes!.size > MAX_CHECKED_SIZES) e.sizes!.delete(e.sizes!.keys().next().value!);
    return served ?? e;
  };

  /** Inside another transformation: stage one jit_call equation over the traced program. */
  const callInside = (args: unknown[]) => {
    const c = keyed(args);
    const avals = c.tensors.map((x) => x.aval);
    const parts = keyParts(c.def, avals, sortedStatics.map((i) => [i, args[i]]));
    // a program traced at symbolic sizes holds only under the enclosing trace's declared facts
    const facts = currentDimFacts();
    const key = keyString(parts) + (Object.keys(facts.bounds).length || facts.nonneg?.length ? ` facts ${JSON.stringify([facts.bounds, facts.nonneg?.map(String)])}` : "");
    innerPrograms.called();
    let t = innerPrograms.lookup(key);
    if (!t) {
      const stack = transformationStack();
      innerPrograms.miss(key, parts, undefined, stack);
      if (timelineOn()) instant(`cache miss jit(${name}) inside ${stack}`, "cache");
      const r = trace(c, avals);
      innerPrograms.traces++;
      t = { program: r.program, outTree: r.outTree, consts: r.tracerConsts, stack, traceMs: r.traceMs };
      // programs that close over outer tracers are specific to that trace: do not keep them
      if (!r.tracerConsts.length) innerPrograms.store(key, parts, t);
      else innerPrograms.explain(`inside ${stack} is traced on every call: it closes over values of an enclosing transformation (not cacheable)`, "closes over outer tracers");
    }
    const outs = jitCallP.bind([...c.tensors, ...t.consts], { program: t.program, name });
    return unflatten(t.outTree, outs);
  };

  jitted.lower = (...args: unknown[]) => {
    // lowered at the declared symbolic shapes (jit(f, {shapes})), else at the arguments' own
    // concrete shapes, whatever symbolic dims jit may have learned
    const c = keyed(args);
    const avals = opts.shapes ? c.avals : c.tensors.map((t) => t.aval);
    const t = withDimFacts(declaredCs.facts, () => trace(c, avals));
    const lowered = new Lowered(name, t.program, t.residuals, avals, c.parts.leaves.map((l) => l[0]));
    const parts = opts.shapes ? c.parts : keyParts(c.def, avals, sortedStatics.map((i) => [i, args[i]]));
    lowered.origin = { owner: cache, name, sourceHash: (sourceHash ??= sourceHashOf(f)), parts, outTree: t.outTree, consts: t.tracerConsts, residuals: t.residuals };
    lowered.caller = (run, args2) => {
      const d = keyed(args2);
      const fits = (x: Tensor, i: number) => {
        const want = avals[i];
        if (!want || want.dtype !== x.aval.dtype || want.shape.length !== x.aval.shape.length) return false;
        return want.shape.every((dim, j) => typeof dim !== "number" || dim === x.aval.shape[j]);
      };
      const sameStatics = JSON.stringify(d.parts.statics) === JSON.stringify(c.parts.statics) && d.parts.tree === c.parts.tree;
      if (!sameStatics || d.tensors.length !== avals.length || !d.tensors.every(fits)) {
        throw new ShapeError(`jit(${name}).lower(...).compile(): called with ${d.tensors.map((x) => String(x.aval)).join(", ")} but it was compiled for ${avals.map(String).join(", ")}${sameStatics ? "" : " (and other static arguments or argument structure)"}`);
      }
      return unflatten(t.outTree, run([...d.tensors, ...t.tracerConsts]));
    };
    return lowered;
  };
  let sourceHash: string | undefined;
  jitted.insert = (stage) => {
    const { key, entry } = stage instanceof CompiledStage ? stageEntry(stage, cache, name) : deserializeStage(stage, name, (sourceHash ??= sourceHashOf(f)));
    cache.store(key, entry.parts, entry);
  };
  jitted.cacheInfo = () => ({ ...cache.info(disk.info), ...(innerPrograms.misses || innerPrograms.hits ? { inner: innerPrograms.counters() } : {}) });
  jitted.specializations = () => SpecializationTable.fromRows([...rowsOf(cache), ...rowsOf(innerPrograms)]);
  jitted.clearCache = () => {
    cache.clear();
    innerPrograms.clear();
    lastShapes = null;
  };
  return jitted;
}

const jitSchema = {
  staticArgnums: is.arrayOf(is.int(0), "argument indices (integers >= 0)"),
  name: is.string,
  shapes: is.arrayOf(is.any),
  constraints: is.arrayOf(is.string, "strings"),
  // handled by the public jit (hybrid/graph-breaks.ts), listed here so a typo's did-you-mean finds it
  fullGraph: is.boolean,
};

/** The argument index of each tensor leaf (statics have none), in flattening order. */
export function leafArgIndices(args: unknown[], statics: ReadonlySet<number>): number[] {
  return args.flatMap((a, i) => (statics.has(i) ? [] : flatten(a)[0].map(() => i)));
}

/** Rejects unknown options (with a did-you-mean) and options adgen does not implement. */
function checkJitOptions(opts: JitOptions): void {
  if (opts && typeof opts === "object") {
    for (const k of ["donate_argnums", "donateArgnames"]) {
      if (Object.prototype.hasOwnProperty.call(opts, k)) {
        throw new ArgumentError(
          `jit: ${k} is not supported: donate arguments by index with donateArgnums (their buffers then hold outputs ` +
            `and the arguments are invalid after the call)`,
        );
      }
    }
  }
  // donateArgnums is validated by donatedArgs (jit/donate.ts)
  const { donateArgnums: _, ...rest } = opts ?? {};
  checkOptions("jit", opts && typeof opts === "object" ? rest : opts, jitSchema);
}
