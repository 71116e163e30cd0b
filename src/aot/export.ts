// Ahead-of-time export (public API): exportFunction, exportVjp and exportJvp trace a function at
// argument specs (dtypes and possibly symbolic shapes), run the same pipeline as jit (transform,
// optimize, lower, generate), and produce a standalone ES module, its .d.ts and a manifest. The
// reverse-mode export is split: forward(...args) -> {out, residuals} and backward(residuals,
// outBar) -> one cotangent per argument, with the residual ABI recorded in the manifest.

import type { ShapedArray } from "../core/aval.js";
import { ArgumentError } from "../core/errors.js";
import { checkOptions, is } from "../core/options.js";
import { isFloat } from "../core/dtype.js";
import { ArgSpec } from "../core/spec.js";
import { type DimFacts, withDimFacts } from "../core/shape.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { ADGEN_VERSION } from "../core/version.js";
import type { Program, Var } from "../ir/program.js";
import { programHash } from "../ir/serialize.js";
import { inlineCustomCalls } from "./inline-custom.js";
import { lowerProgram } from "../lower/fuse.js";
import { optimize } from "../passes/pipeline.js";
import { traceFlat } from "../trace/make-program.js";
import { currentTrace } from "../trace/trace.js";
import type { Tensor } from "../core/tensor.js";
import { exportBreaksError, isExportBreak } from "../hybrid/export-breaks.js";
import { leafPaths } from "../jit/key.js";
import { jvpProgram } from "../transforms/program.js";
import { type ResidualInfo, describeResiduals } from "../transforms/residuals.js";
import { type MemoryBudget, budgetPolicy, checkpointed } from "../higher-order/checkpoint.js";
import { vjpSplit } from "../transforms/vjp.js";
import { type Manifest, buildManifest, dtsSource } from "./manifest.js";
import { type IrEntry, irEntry } from "./ir-entry.js";
import type { SharedRuntime } from "./shared-runtime.js";
import { argnumsArg } from "../transforms/args.js";
import { treedefToString } from "../core/tree.js";
import { type ArgGroup, type ModuleFunction, moduleSource } from "./module.js";
import { exportNameProblem } from "./names.js";
import { type DimRules, NO_RULES, dimRules, rewriteAvals } from "./dim-rules.js";
import { writeExport } from "./write.js";

export type ExportKind = "value" | "vjp" | "jvp" | "module";

export interface ExportOptions {
  /** module and function name (a JS identifier); default: the function's name */
  name?: string;
  /** code in the module: "wasm" (WebAssembly kernels, the default) or "js" (generated JavaScript) */
  backend?: "wasm" | "js";
  /** true: one file that imports nothing (the default here); false: import the shared runtime file */
  bundle?: boolean;
  /** embed the function's IR in the manifest so that importModule can load it back (default true) */
  ir?: boolean;
  /** constraints on symbolic dimensions, checked at call time: "B >= 2", "B <= 4096", "B % 8 == 0" */
  constraints?: string[];
}

export interface FunctionExportOptions extends ExportOptions {
  /**
   * argument indices whose arrays the module may overwrite during a call (results are written in
   * place once their last reader ran, lowering the call's peak memory; lower/memory-donate.ts):
   * their contents are unspecified afterwards. The manifest lists the donated inputs.
   */
  donate?: number[];
}

export interface VjpExportOptions extends ExportOptions {
  /** the arguments backward returns cotangents for (default: every argument with a float leaf) */
  argnums?: number | number[];
  /** residual bytes allowed; the planner chooses what backward recomputes (docs/memory.md) */
  memoryBudget?: MemoryBudget;
  /** symbolic dimension values the memoryBudget is planned for */
  dims?: Record<string, number>;
}

export const exportOptionsSchema = { name: is.string, backend: is.oneOf("wasm", "js"), bundle: is.boolean, ir: is.boolean, constraints: is.arrayOf(is.string, "strings") };
const functionOptionsSchema = { ...exportOptionsSchema, donate: is.arrayOf(is.int(0), "argument indices (integers >= 0)") };
const vjpOptionsSchema = { ...exportOptionsSchema, argnums: is.either(is.int(), is.arrayOf(is.int(), "integers")), memoryBudget: is.any, dims: is.any };

export class Exported {
  constructor(
    readonly name: string,
    /** the ES module (imports nothing when bundled; else only the shared runtime file) */
    readonly source: string,
    /** TypeScript declarations for the module */
    readonly dts: string,
    readonly manifest: Manifest,
    /** the shared runtime file the module imports, or null (bundled) */
    readonly runtime: SharedRuntime | null = null,
  ) {}

  /** Writes <name>.mjs, <name>.d.mts, <name>.manifest.json (and the shared runtime) into `dir`; returns the paths. */
  write(dir: string): Promise<string[]> {
    return writeExport(dir, this);
  }
}

/** The module's name: opts.name, else the function's name (+ suffix) when valid, else "exported". */
export function exportName(f: (...a: any[]) => unknown, opts: ExportOptions, what: string, suffix = ""): string {
  if (opts.name !== undefined) {
    const why = exportNameProblem(opts.name);
    if (why) throw new ArgumentError(`${what}: name ${JSON.stringify(opts.name)} ${why}; pass another {name}`);
    return opts.name;
  }
  const fromF = `${f.name}${suffix}`;
  return f.name && exportNameProblem(fromF) === null ? fromF : `exported${suffix}`;
}

export interface Traced {
  program: Program;
  inDef: TreeDef;
  /** the avals traced at (declared constraints' rewrites applied: B -> 2*B/2) */
  inAvals: ShapedArray[];
  /** the avals as the user declared them (what the module's arguments are checked against) */
  declared: ShapedArray[];
  outTree: TreeDef;
  /** what the shape rules assumed (the declared bounds): the IR is valid under these facts */
  facts: DimFacts;
}

function specLeaves(argSpecs: unknown[], what: string): [ShapedArray[], TreeDef] {
  if (!Array.isArray(argSpecs)) throw new ArgumentError(`${what}: argSpecs must be an array (one entry per argument)`);
  const [leaves, inDef] = flatten(argSpecs);
  const avals = leaves.map((l, i) => {
    if (!(l instanceof ArgSpec)) throw new ArgumentError(`${what}: argument leaf ${i} is not a spec(dtype, shape)`);
    return l.aval;
  });
  return [avals, inDef];
}

/** The declared constraints of an export (opts.constraints) read against its argument specs. */
export function exportRules(argSpecs: unknown[], constraints: string[] | undefined, what: string): DimRules {
  return dimRules(constraints, specLeaves(argSpecs, what)[0], what);
}

/** Traces f at argument specs (rewritten by the declared constraints) and optimizes it (shared by every export format). */
export function traceAtSpecs(f: (...a: any[]) => unknown, argSpecs: unknown[], what: string, rules: DimRules = NO_RULES): Traced {
  const [declared, inDef] = specLeaves(argSpecs, what);
  const inAvals = rewriteAvals(declared, rules);
  const fn = (xs: Tensor[]) => f(...(unflatten(inDef, xs) as unknown[]));
  const at = currentTrace();
  let t;
  try {
    t = withDimFacts(rules.facts, () => traceFlat(fn, inAvals, what));
  } catch (err) {
    // a graph break (JS control flow on a traced value): refuse, listing every break
    if (isExportBreak(err, at, what)) throw exportBreaksError(fn, inAvals, what, err);
    throw err;
  }
  if (t.tracerConsts.length) throw new ArgumentError(`${what}: the function closes over values of an enclosing transformation`);
  return { program: withDimFacts(rules.facts, () => optimize(t.program)), inDef, inAvals, declared, outTree: t.outTree, facts: rules.facts };
}

/** One argument group per top-level argument. */
function argGroups(inDef: TreeDef, avals: ShapedArray[]): ArgGroup[] {
  if (inDef.kind !== "array") throw new ArgumentError("export: argSpecs must be an array");
  const counts = inDef.children.map(countLeaves);
  return inDef.children.map((child, i) => {
    const k = counts.slice(0, i).reduce((a, b) => a + b, 0);
    return { label: `${i}`, tree: child, leaves: avals.slice(k, k + counts[i]!) };
  });
}

function countLeaves(d: TreeDef): number {
  return d.kind === "leaf" ? 1 : d.kind === "none" ? 0 : d.children.reduce((n, c) => n + countLeaves(c), 0);
}

/** What one exported entry contributes to a module: its functions, programs, residual ABI and IR. */
export interface Entry {
  fns: ModuleFunction[];
  programs: Program[];
  residuals?: ResidualInfo[];
  residualInputs?: { residual: number; input: number }[];
  /** the traced function (before any transformation), for importModule */
  ir: IrEntry | string;
}

/** A value function: `name(...args) -> out`. */
export function valueEntry(t: Traced, name: string, donate: readonly number[] = []): Entry {
  const args = argGroups(t.inDef, t.declared);
  for (const i of donate) if (i >= args.length) throw new ArgumentError(`export ${name}: donate names argument ${i} but the function takes ${args.length} argument(s)`);
  // the donated arguments' leaf positions
  const donated = args.flatMap((g, i) => g.leaves.map(() => i)).flatMap((a, leaf) => (donate.includes(a) ? [leaf] : []));
  const fn: ModuleFunction = { name, lowered: lowerProgram(t.program), args, outTree: t.outTree, ...(donated.length ? { donate: donated } : {}) };
  return { fns: [fn], programs: [t.program], ir: irEntry(t, name, "value", [name]) };
}

/**
 * The reverse-mode split: `<fwd>(...args) -> {out, residuals}` and `<bwd>(residuals, outBar)`
 * returning one cotangent per argument of `argnums` (integer and boolean leaves inside them: null).
 */
export function vjpEntry(t: Traced, key: string, names: [string, string], argnums: number | number[] | undefined, what: string): Entry {
  const groups = argGroups(t.inDef, t.declared);
  const hasFloat = groups.map((g) => g.leaves.some((a) => isFloat(a.dtype)));
  const nums = argnums === undefined ? groups.flatMap((_, i) => (hasFloat[i] ? [i] : [])) : argnumsArg(what, argnums, groups.length);
  for (const i of nums) if (!hasFloat[i]) throw new ArgumentError(`${what}: argnums names argument ${i}, which has no float leaf (${treedefToString(groups[i]!.tree)}: ${groups[i]!.leaves.map((a) => a.dtype).join(", ")}); differentiate float arguments only`);
  if (!nums.length) throw new ArgumentError(`${what}: no argument has a float leaf to differentiate`);
  const inGroup = groups.flatMap((g, i) => g.leaves.map(() => i));
  const mask = t.inAvals.map((a, i) => isFloat(a.dtype) && nums.includes(inGroup[i]!));
  const split = vjpSplit(t.program, mask);
  if (split.outZero.some(Boolean)) throw new ArgumentError(`${what}: some outputs do not depend on the differentiable arguments`);
  const nOut = split.numOutputs;
  const nRes = split.numResiduals;
  const fwd = optimize(split.forward);
  const bwd = optimize(split.backward);
  const outAvals = t.program.outAvals.map((a) => a.strong());
  const resAvals = fwd.outAvals.slice(nOut);
  const fwdFn: ModuleFunction = { name: names[0], lowered: lowerProgram(fwd), args: groups, outTree: t.outTree, residualOutputs: nRes };
  const resTree: TreeDef = { kind: "array", children: resAvals.map(() => ({ kind: "leaf" })) };
  // backward's outputs are the active leaves in order; the tree puts null at the others
  const ctTree = (d: TreeDef, leaves: ShapedArray[]): TreeDef => {
    let k = 0;
    const rec = (x: TreeDef): TreeDef =>
      x.kind === "leaf" ? (isFloat(leaves[k++]!.dtype) ? x : { kind: "none", value: null }) : x.kind === "none" ? x : x.kind === "array" ? { kind: "array", children: x.children.map(rec) } : { ...x, children: x.children.map(rec) };
    return rec(d);
  };
  const bwdFn: ModuleFunction = {
    name: names[1],
    lowered: lowerProgram(bwd),
    args: [
      { label: "residuals", tree: resTree, leaves: resAvals },
      { label: "outBar", tree: t.outTree, leaves: outAvals },
    ],
    outTree: { kind: "array", children: nums.map((i) => ctTree(groups[i]!.tree, groups[i]!.leaves)) },
  };
  return { fns: [fwdFn, bwdFn], programs: [fwd, bwd], residuals: residualAbi(fwd, nOut, t.inDef), residualInputs: residualInputs(fwd, nOut), ir: irEntry(t, key, "vjp", names, nums) };
}

/** Residual ABI: one entry per residual output of the (optimized) forward program. */
export function residualAbi(fwd: Program, nOut: number, inDef: TreeDef): ResidualInfo[] {
  const saved = fwd.outputs.slice(nOut).map((atom) => ({ atom, aval: atom.aval }));
  return describeResiduals(fwd, saved, leafPaths(inDef));
}

/** Residuals that are inputs: forward returns the caller's array for them, not a copy. */
function residualInputs(fwd: Program, nOut: number): { residual: number; input: number }[] {
  return fwd.outputs.slice(nOut).flatMap((atom, residual) => {
    const input = fwd.inputs.indexOf(atom as Var);
    return input < 0 ? [] : [{ residual, input }];
  });
}

/** Forward mode: `name(...primals, ...tangents) -> {out, tangents}` (tangents of the float arguments only). */
export function jvpEntry(t: Traced, name: string): Entry {
  const mask = t.inAvals.map((a) => isFloat(a.dtype));
  const jp = jvpProgram(t.program, mask, t.program.outputs.map(() => true));
  const p = optimize(jp.program);
  const groups = argGroups(t.inDef, t.declared);
  const tangentGroups = groups.flatMap((g) => {
    const leaves = g.leaves.filter((a) => isFloat(a.dtype));
    if (!leaves.length) return [];
    if (leaves.length !== g.leaves.length) throw new ArgumentError(`export jvp ${name}: argument ${g.label} mixes float and integer leaves; pass them as separate arguments`);
    return [{ ...g, label: `tangent ${g.label}`, leaves: leaves.map((a) => a.strong()) }];
  });
  const fn: ModuleFunction = {
    name,
    lowered: lowerProgram(p),
    args: [...groups, ...tangentGroups],
    outTree: { kind: "object", keys: ["out", "tangents"], children: [t.outTree, t.outTree] },
  };
  return { fns: [fn], programs: [p], ir: irEntry(t, name, "jvp", [name]) };
}

function header(name: string, kind: string, hash: string, bundle: boolean): string[] {
  return [
    `${name}: generated by adgen ${ADGEN_VERSION} (${kind} export) -- do not edit.`,
    `${bundle ? "A standalone ES module: it imports nothing." : "An ES module importing only adgen's shared runtime file."} IR hash ${hash}. See ${name}.manifest.json for the signature.`,
  ];
}

/** The manifest's IR entries, or why there are none (a program with JS custom rules cannot be serialized). */
function irFields(off: string | null, entries: Entry[]): { ir?: IrEntry[]; irMissing?: string } {
  if (off) return { irMissing: off };
  const why = entries.find((e) => typeof e.ir === "string")?.ir as string | undefined;
  return why ? { irMissing: why } : { ir: entries.map((e) => e.ir as IrEntry) };
}

/** One module from entries (several for exportModule): shared runtime, one constant pool. */
export function finish(name: string, kind: ExportKind, entries: Entry[], opts: ExportOptions, bundleDefault: boolean, rules: DimRules): Exported {
  const backend = opts.backend ?? "wasm";
  if (backend !== "wasm" && backend !== "js") throw new ArgumentError(`export: backend must be "wasm" or "js", got ${JSON.stringify(backend)}`);
  const bundle = opts.bundle ?? bundleDefault;
  const fns = entries.flatMap((e) => e.fns);
  const hash = entries.flatMap((e) => e.programs).map((p) => programHash(inlineCustomCalls(p))).join("-");
  const text = moduleSource(name, header(name, kind, hash, bundle), fns, fns.length === 1 ? fns[0]!.name : null, backend, bundle, rules);
  const residuals = entries.flatMap((e) => e.residuals ?? []);
  const manifest = buildManifest(name, kind, hash, fns, {
    residuals,
    sizes: text.sizes,
    rules,
    runtime: text.shared && { file: text.shared.file, bytes: new TextEncoder().encode(text.shared.source).length },
    residualInputs: entries.flatMap((e) => e.residualInputs ?? []),
    ...irFields(opts.ir === false ? "exported with {ir: false}" : null, entries),
  });
  return new Exported(name, text.source, dtsSource(name, fns, kind), manifest, text.shared);
}

/** `exportFunction(f, argSpecs, {name})`: f compiled for the given specs, as a module. */
export function exportFunction(f: (...args: any[]) => unknown, argSpecs: unknown[], opts: FunctionExportOptions = {}): Exported {
  checkOptions("exportFunction", opts, functionOptionsSchema);
  const name = exportName(f, opts, "exportFunction");
  const rules = exportRules(argSpecs, opts.constraints, `export ${name}`);
  return withDimFacts(rules.facts, () => finish(name, "value", [valueEntry(traceAtSpecs(f, argSpecs, "exportFunction", rules), name, opts.donate)], opts, true, rules));
}

/**
 * `exportVjp(f, argSpecs, {argnums})`: a module exporting `forward(...args) -> {out, residuals}`
 * and `backward(residuals, outBar) -> argBars` (one cotangent per argument of argnums).
 */
export function exportVjp(f: (...args: any[]) => unknown, argSpecs: unknown[], opts: VjpExportOptions = {}): Exported {
  checkOptions("exportVjp", opts, vjpOptionsSchema);
  const name = exportName(f, opts, "exportVjp", "_vjp");
  const g = opts.memoryBudget === undefined ? f : checkpointed(f, budgetPolicy("exportVjp", opts.memoryBudget, opts.dims));
  const rules = exportRules(argSpecs, opts.constraints, `export ${name}`);
  return withDimFacts(rules.facts, () => finish(name, "vjp", [vjpEntry(traceAtSpecs(g, argSpecs, "exportVjp", rules), name, ["forward", "backward"], opts.argnums, "exportVjp")], opts, true, rules));
}

/** `exportJvp(f, argSpecs)`: a module exporting `jvp(primals..., tangents...) -> {out, tangents}`. */
export function exportJvp(f: (...args: any[]) => unknown, argSpecs: unknown[], opts: ExportOptions = {}): Exported {
  checkOptions("exportJvp", opts, exportOptionsSchema);
  const name = exportName(f, opts, "exportJvp", "_jvp");
  const rules = exportRules(argSpecs, opts.constraints, `export ${name}`);
  return withDimFacts(rules.facts, () => finish(name, "jvp", [jvpEntry(traceAtSpecs(f, argSpecs, "exportJvp", rules), name)], opts, true, rules));
}
