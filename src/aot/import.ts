// Loading an exported artifact back into adgen (public API), like jax.export's deserialize:
// `importModule(manifest | manifest JSON text | path)` reads the IR the manifest carries (one entry
// per exported function: the traced program of the user's function, before differentiation) and
// returns that function as an adgen function: called on tensors it evaluates the program through
// the current trace, so grad, vjp, jvp, vmap and jit apply to it as to the original. One entry
// gives the function; several (exportModule) give an object keyed by entry name.
//
// Compatibility rule: an adgen loads an artifact whose manifest format is adgen-export (version
// <= this adgen's MANIFEST_VERSION) and whose IR is adgen-ir at a version this adgen reads (today
// exactly IR_VERSION 2); a newer IR, an older unreadable one, an artifact exported with {ir: false}
// or a corrupt program is refused with an ArgumentError saying which.

import { type Shape, evalDim, shapeEq, shapeToString, withDimFacts } from "../core/shape.js";
import { type DimInequality, parseInequality } from "./dim-rules.js";
import { ArgumentError, ShapeError } from "../core/errors.js";
import { leafToTensor } from "../core/convert.js";
import { bindSymbols, constraintHolds, quotientOf } from "../core/symbols.js";
import { type DimConstraint, parseConstraints } from "./shape-checks.js";
import { instantiateProgram } from "../jit/polymorphism.js";
import type { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, treedefToString, unflatten } from "../core/tree.js";
import { lookupPrimitive } from "../higher-order/registry.js";
import { Program } from "../ir/program.js";
import { IR_FORMAT, IR_VERSION, type ProgramJson, programFromJson } from "../ir/serialize.js";
import { verifyProgram } from "../ir/verify.js";
import { evalProgram } from "../trace/make-program.js";
import { type IrEntry, entryFacts } from "./ir-entry.js";
import { MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest } from "./manifest.js";

export type ImportedFunction = (...args: any[]) => any;

function readManifest(src: unknown): Manifest {
  if (src !== null && typeof src === "object") return src as Manifest;
  if (typeof src !== "string") throw new ArgumentError(`importModule: expected a manifest object, its JSON text or a path, got ${src === null ? "null" : typeof src}`);
  const text = src.trimStart();
  if (text.startsWith("{")) {
    try {
      return JSON.parse(text) as Manifest;
    } catch (e) {
      throw new ArgumentError(`importModule: the manifest text is not valid JSON (${(e as Error).message})`);
    }
  }
  return JSON.parse(readPath(src)) as Manifest;
}

/** The manifest text at `path` (a manifest, the module beside it, or a directory holding one). */
function readPath(path: string): string {
  const proc = (globalThis as { process?: { getBuiltinModule?: (m: string) => any } }).process;
  const fs = proc?.getBuiltinModule?.("node:fs");
  const p = proc?.getBuiltinModule?.("node:path");
  if (!fs || !p) throw new ArgumentError("importModule: reading a path needs Node (>= 20.16); pass the manifest's JSON text instead");
  let file = path;
  const st = fs.statSync(path, { throwIfNoEntry: false });
  if (!st) throw new ArgumentError(`importModule: no such file: ${path}`);
  if (st.isDirectory()) {
    const found = (fs.readdirSync(path) as string[]).filter((f) => f.endsWith(".manifest.json")).sort();
    if (found.length !== 1) throw new ArgumentError(`importModule: ${path} holds ${found.length} manifests${found.length ? ` (${found.join(", ")}); name one` : ""}`);
    file = p.join(path, found[0]);
  } else if (/\.(mjs|d\.mts)$/.test(path)) file = path.replace(/\.(mjs|d\.mts)$/, ".manifest.json");
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new ArgumentError(`importModule: ${file} is not a regular file`);
  return fs.readFileSync(file, "utf8");
}

function checkIr(m: Manifest, e: IrEntry, i: number): Program {
  const what = `importModule ${m.name}: IR entry ${i}`;
  if (e?.format !== IR_FORMAT || typeof e.version !== "number") throw new ArgumentError(`${what} is not an ${IR_FORMAT} document`);
  if (e.version > IR_VERSION) throw new ArgumentError(`${what} is IR version ${e.version}, newer than this adgen reads (${IR_VERSION}); load it with adgen ${m.adgenVersion} or later`);
  if (e.version < IR_VERSION) throw new ArgumentError(`${what} is IR version ${e.version}, older than this adgen reads (${IR_VERSION}); re-export it`);
  let p: Program;
  try {
    // the shape facts the export assumed (declared bounds: B >= 2 makes x[1] valid) hold here too
    p = withDimFacts(entryFacts(e), () => {
      const q = programFromJson(JSON.parse(e.program) as ProgramJson, lookupPrimitive);
      verifyProgram(q, what);
      return q;
    });
  } catch (err) {
    throw new ArgumentError(`${what} is corrupt: ${(err as Error).message}`);
  }
  return p;
}

/** The program at the sizes `env` binds: every symbolic dimension of avals and params replaced. */
function specialize(p: Program, env: Record<string, number>): Program {
  return instantiateProgram(p, env);
}

/**
 * The manifest's declared bounds and divisibility (relations are in the program's shapes) on the
 * symbols a call binds: a symbol the export rewrote (B = 2*B/2) gets its value from the
 * derived one.
 */
function declaredBounds(m: Manifest, what: string): { cs: DimConstraint[]; inequalities: DimInequality[] } {
  const dims = m.symbolicDims ?? [];
  const texts = [...new Set(dims.flatMap((d) => d.constraints.filter((c) => !/==.*[A-Za-z_]/.test(c))))];
  const inequalities = texts.flatMap((t) => parseInequality(t) ?? []);
  const cs = parseConstraints(texts.filter((t) => !parseInequality(t)), dims.map((d) => d.name), what);
  return { cs, inequalities };
}

function checkBounds({ cs, inequalities }: ReturnType<typeof declaredBounds>, env: Record<string, number>, name: string): void {
  const vals: Record<string, number> = { ...env };
  for (const [s, v] of Object.entries(env)) {
    const q = quotientOf(s);
    if (q) vals[q.symbol] ??= v * q.modulus;
  }
  for (const c of cs) {
    const v = vals[c.symbol];
    if (v === undefined) continue;
    if (!constraintHolds(c, v)) throw new ShapeError(`${name}: the arguments bind ${c.symbol} = ${v}, which violates the declared constraint ${c.text}`);
  }
  for (const q of inequalities) {
    const syms = [...new Set([q.lhs, q.rhs].flatMap((x) => (typeof x === "number" ? [] : x.symbols())))].sort();
    if (!syms.every((s) => vals[s] !== undefined)) continue;
    if (!(evalDim(q.lhs, vals) <= evalDim(q.rhs, vals))) throw new ShapeError(`${name}: the arguments bind ${syms.map((s) => `${s} = ${vals[s]}`).join(", ")}, which violates the declared constraint ${q.text}`);
  }
}

function importedFunction(m: Manifest, e: IrEntry, p: Program): ImportedFunction {
  const name = `${m.name}.${e.key}`;
  const bounds = declaredBounds(m, `importModule ${m.name}`);
  const facts = entryFacts(e);
  const inShapes: Shape[] = p.inAvals.map((a) => a.shape);
  const symbolic = inShapes.some((s) => s.some((d) => typeof d !== "number"));
  const f = (...args: unknown[]) => {
    const [leaves, def] = flatten(args);
    if (treedefToString(def) !== treedefToString(e.inTree as TreeDef)) {
      throw new ArgumentError(`${name}: arguments ${treedefToString(def)} do not match the exported structure ${treedefToString(e.inTree as TreeDef)}`);
    }
    const xs: Tensor[] = leaves.map((l, i) => leafToTensor(l, `${name}: argument leaf ${i}`));
    xs.forEach((x, i) => {
      const a = p.inAvals[i]!;
      if (x.dtype !== a.dtype) throw new ArgumentError(`${name}: argument leaf ${i} has dtype ${x.dtype}, the export takes ${a.dtype}`);
    });
    let q = p;
    if (xs.some((x) => x.shape.some((d) => typeof d !== "number"))) {
      // traced at symbolic shapes (an export of it: extendModule): exactly the program's own
      xs.forEach((x, i) => {
        if (!shapeEq(x.aval.shape, inShapes[i]!)) throw new ShapeError(`${name}: argument leaf ${i} has the symbolic shape ${shapeToString(x.aval.shape)}, the export takes ${shapeToString(inShapes[i]!)}; trace it at the export's own shapes or call it with concrete ones`);
      });
    } else if (symbolic) {
      const env = bindSymbols(inShapes, xs.map((x) => x.shape as number[]), (i) => `${name}: argument leaf ${i}`);
      checkBounds(bounds, env, name);
      q = specialize(p, env);
    } else {
      xs.forEach((x, i) => {
        const a = p.inAvals[i]!;
        if (x.shape.length !== a.shape.length || x.shape.some((d, k) => d !== a.shape[k])) throw new ShapeError(`${name}: argument leaf ${i} has shape [${x.shape}], the export takes [${a.shape}]`);
      });
    }
    return unflatten(e.outTree as TreeDef, q === p && symbolic ? withDimFacts(facts, () => evalProgram(q, xs)) : evalProgram(q, xs));
  };
  Object.defineProperty(f, "name", { value: e.key });
  return f;
}

/**
 * The exported function(s) of an artifact as adgen functions (differentiable, vmappable,
 * jittable): the function when the artifact has one entry, else an object keyed by entry name.
 */
export function importModule(src: unknown): any {
  const { manifest, entries } = loadArtifact(src);
  if (entries.length === 1) return entries[0]!.fn;
  return Object.fromEntries(manifest.ir!.map((e, i) => [e.key, entries[i]!.fn]));
}

/** One loaded entry of an artifact: its IR record, its program and the function importModule gives. */
export interface LoadedEntry {
  ir: IrEntry;
  program: Program;
  fn: ImportedFunction;
}

/** The manifest and every IR entry of an artifact, loaded (importModule; extendModule re-exports them). */
export function loadArtifact(src: unknown): { manifest: Manifest; entries: LoadedEntry[] } {
  const m = readManifest(src);
  if (m?.format !== MANIFEST_FORMAT) throw new ArgumentError(`importModule: not an ${MANIFEST_FORMAT} manifest (format ${JSON.stringify(m?.format)})`);
  if (typeof m.version !== "number" || m.version > MANIFEST_VERSION) throw new ArgumentError(`importModule: manifest version ${m.version} is newer than this adgen reads (${MANIFEST_VERSION})`);
  if (!Array.isArray(m.ir) || !m.ir.length) throw new ArgumentError(`importModule ${m.name}: the artifact carries no IR (${m.irMissing ?? "exported by an adgen before IR embedding; re-export it"})`);
  const entries = m.ir.map((e, i) => {
    const program = checkIr(m, e, i);
    return { ir: e, program, fn: importedFunction(m, e, program) };
  });
  return { manifest: m, entries };
}
