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
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { ADGEN_VERSION } from "../core/version.js";
import type { Program } from "../ir/program.js";
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
import { vjpSplit } from "../transforms/vjp.js";
import { type Manifest, buildManifest, dtsSource } from "./manifest.js";
import { type ArgGroup, type ModuleFunction, moduleSource } from "./module.js";
import { exportNameProblem } from "./names.js";
import { writeExport } from "./write.js";

export type ExportKind = "value" | "vjp" | "jvp";

export interface ExportOptions {
  /** module and function name (a JS identifier); default: the function's name */
  name?: string;
  /** code in the module: "wasm" (WebAssembly kernels, the default) or "js" (generated JavaScript) */
  backend?: "wasm" | "js";
}

const exportOptionsSchema = { name: is.string, backend: is.oneOf("wasm", "js") };

export class Exported {
  constructor(
    readonly name: string,
    /** the standalone ES module (imports nothing) */
    readonly source: string,
    /** TypeScript declarations for the module */
    readonly dts: string,
    readonly manifest: Manifest,
  ) {}

  /** Writes <name>.mjs, <name>.d.mts and <name>.manifest.json into `dir`; returns the paths. */
  write(dir: string): Promise<string[]> {
    return writeExport(dir, this);
  }
}

/** The module's name: opts.name, else the function's name (+ suffix) when valid, else "exported". */
function exportName(f: (...a: any[]) => unknown, opts: ExportOptions, what: string, suffix = ""): string {
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
  inAvals: ShapedArray[];
  outTree: TreeDef;
}

/** Traces f at argument specs and optimizes it (shared by every export format). */
export function traceAtSpecs(f: (...a: any[]) => unknown, argSpecs: unknown[], what: string): Traced {
  if (!Array.isArray(argSpecs)) throw new ArgumentError(`${what}: argSpecs must be an array (one entry per argument)`);
  const [leaves, inDef] = flatten(argSpecs);
  const inAvals = leaves.map((l, i) => {
    if (!(l instanceof ArgSpec)) throw new ArgumentError(`${what}: argument leaf ${i} is not a spec(dtype, shape)`);
    return l.aval;
  });
  const fn = (xs: Tensor[]) => f(...(unflatten(inDef, xs) as unknown[]));
  const at = currentTrace();
  let t;
  try {
    t = traceFlat(fn, inAvals, what);
  } catch (err) {
    // a graph break (JS control flow on a traced value): refuse, listing every break
    if (isExportBreak(err, at, what)) throw exportBreaksError(fn, inAvals, what, err);
    throw err;
  }
  if (t.tracerConsts.length) throw new ArgumentError(`${what}: the function closes over values of an enclosing transformation`);
  return { program: optimize(t.program), inDef, inAvals, outTree: t.outTree };
}

/** One argument group per top-level argument. */
function argGroups(inDef: TreeDef, avals: ShapedArray[]): ArgGroup[] {
  if (inDef.kind !== "array") throw new ArgumentError("export: argSpecs must be an array");
  let k = 0;
  return inDef.children.map((child, i) => {
    const count = countLeaves(child);
    const leaves = avals.slice(k, k + count);
    k += count;
    return { label: `${i}`, tree: child, leaves };
  });
}

function countLeaves(d: TreeDef): number {
  return d.kind === "leaf" ? 1 : d.kind === "none" ? 0 : d.children.reduce((n, c) => n + countLeaves(c), 0);
}

function header(name: string, kind: string, hash: string): string[] {
  return [
    `${name}: generated by adgen ${ADGEN_VERSION} (${kind} export) -- do not edit.`,
    `A standalone ES module: it imports nothing. IR hash ${hash}. See ${name}.manifest.json for the signature.`,
  ];
}

function finish(name: string, kind: ExportKind, fns: ModuleFunction[], programs: Program[], extra: Partial<Manifest>, opts: ExportOptions): Exported {
  const backend = opts.backend ?? "wasm";
  if (backend !== "wasm" && backend !== "js") throw new ArgumentError(`export: backend must be "wasm" or "js", got ${JSON.stringify(backend)}`);
  const hash = programs.map((p) => programHash(inlineCustomCalls(p))).join("-");
  const source = moduleSource(name, header(name, kind, hash), fns, fns.length === 1 ? fns[0]!.name : null, backend);
  const manifest = buildManifest(name, kind, hash, fns, extra);
  return new Exported(name, source, dtsSource(name, fns, kind), manifest);
}

/** `exportFunction(f, argSpecs, {name})`: f compiled for the given specs, as a standalone module. */
export function exportFunction(f: (...args: any[]) => unknown, argSpecs: unknown[], opts: ExportOptions = {}): Exported {
  checkOptions("exportFunction", opts, exportOptionsSchema);
  const name = exportName(f, opts, "exportFunction");
  const t = traceAtSpecs(f, argSpecs, "exportFunction");
  const fn: ModuleFunction = { name, lowered: lowerProgram(t.program), args: argGroups(t.inDef, t.inAvals), outTree: t.outTree };
  return finish(name, "value", [fn], [t.program], {}, opts);
}

/**
 * `exportVjp(f, argSpecs)`: a module exporting `forward(...args) -> {out, residuals}` and
 * `backward(residuals, outBar) -> argBars` (one cotangent per argument; zeros for non-float ones).
 */
export function exportVjp(f: (...args: any[]) => unknown, argSpecs: unknown[], opts: ExportOptions = {}): Exported {
  checkOptions("exportVjp", opts, exportOptionsSchema);
  const name = exportName(f, opts, "exportVjp", "_vjp");
  const t = traceAtSpecs(f, argSpecs, "exportVjp");
  const mask = t.inAvals.map((a) => isFloat(a.dtype));
  const split = vjpSplit(t.program, mask);
  if (split.outZero.some(Boolean)) throw new ArgumentError("exportVjp: some outputs do not depend on the differentiable arguments");
  const nOut = split.numOutputs;
  const nRes = split.numResiduals;
  // forward: primal outputs then residuals; backward: residuals and output cotangents -> argument cotangents
  const fwd = optimize(split.forward);
  const bwd = optimize(split.backward);
  const outAvals = t.program.outAvals.map((a) => a.strong());
  const resAvals = fwd.outAvals.slice(nOut);
  const fwdFn: ModuleFunction = { name: "forward", lowered: lowerProgram(fwd), args: argGroups(t.inDef, t.inAvals), outTree: t.outTree, residualOutputs: nRes };
  const resTree: TreeDef = { kind: "array", children: resAvals.map(() => ({ kind: "leaf" })) };
  const bwdFn: ModuleFunction = {
    name: "backward",
    lowered: lowerProgram(bwd),
    args: [
      { label: "residuals", tree: resTree, leaves: resAvals },
      { label: "outBar", tree: t.outTree, leaves: outAvals },
    ],
    outTree: floatInputsTree(t.inDef, mask),
  };
  return finish(name, "vjp", [fwdFn, bwdFn], [fwd, bwd], { residuals: residualAbi(fwd, nOut, t.inDef) }, opts);
}

/** The argument tree restricted to float leaves (the cotangents backward returns). */
function floatInputsTree(def: TreeDef, mask: boolean[]): TreeDef {
  if (mask.every(Boolean)) return def;
  throw new ArgumentError("exportVjp: integer or boolean arguments are not supported yet; make them static (closed over) or float");
}

/** Residual ABI: one entry per residual output of the (optimized) forward program. */
export function residualAbi(fwd: Program, nOut: number, inDef: TreeDef): ResidualInfo[] {
  const saved = fwd.outputs.slice(nOut).map((atom) => ({ atom, aval: atom.aval }));
  return describeResiduals(fwd, saved, leafPaths(inDef));
}

/** `exportJvp(f, argSpecs)`: a module exporting `jvp(primals..., tangents...) -> {out, tangents}`. */
export function exportJvp(f: (...args: any[]) => unknown, argSpecs: unknown[], opts: ExportOptions = {}): Exported {
  checkOptions("exportJvp", opts, exportOptionsSchema);
  const name = exportName(f, opts, "exportJvp", "_jvp");
  const t = traceAtSpecs(f, argSpecs, "exportJvp");
  const mask = t.inAvals.map((a) => isFloat(a.dtype));
  if (!mask.every(Boolean)) throw new ArgumentError("exportJvp: every argument must be float (tangents are taken for all of them)");
  const jp = jvpProgram(t.program, mask, t.program.outputs.map(() => true));
  const p = optimize(jp.program);
  const groups = argGroups(t.inDef, t.inAvals);
  const fn: ModuleFunction = {
    name,
    lowered: lowerProgram(p),
    args: [...groups, ...groups.map((g) => ({ ...g, label: `tangent ${g.label}` }))],
    outTree: { kind: "object", keys: ["out", "tangents"], children: [t.outTree, t.outTree] },
  };
  return finish(name, "jvp", [fn], [p], {}, opts);
}
