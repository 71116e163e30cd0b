// The manifest of an exported module (inputs, outputs, symbolic dimensions and their
// constraints, residual ABI, kernels, IR hash, adgen version) and its TypeScript declarations.

import type { ShapedArray } from "../core/aval.js";
import { type Dim, shapeToString } from "../core/shape.js";
import { type TreeDef, treedefToString } from "../core/tree.js";
import { ADGEN_VERSION } from "../core/version.js";
import { leafPaths } from "../jit/key.js";
import { type JsonDim, type ResidualInfo, jsonDims } from "../transforms/residuals.js";
import type { ModuleFunction, SizeSplit } from "./module.js";
import type { IrEntry } from "./ir-entry.js";
import { type DimRules, derivedDims, userDim } from "./dim-rules.js";

export const MANIFEST_FORMAT = "adgen-export";
export const MANIFEST_VERSION = 1;

export interface ManifestArray {
  path: string;
  dtype: string;
  shape: JsonDim[];
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  adgenVersion: string;
  name: string;
  kind: string;
  irHash: string;
  functions: {
    name: string;
    inputs: ManifestArray[];
    outputs: ManifestArray[];
    kernels: string[];
    arenaBytes: number | "per binding";
    /** inputs the caller donates (exportFunction's donate): the module may write results into their arrays */
    donated?: string[];
  }[];
  symbolicDims: { name: string; constraints: string[] }[];
  /** symbols a declared `B % m == 0` introduced (B is traced as m * B/m): name and definition */
  derivedDims?: { name: string; definition: string }[];
  /** the residual ABI of a vjp export (the report `jit(f).lower(...).residuals()` also gives) */
  residuals: ResidualInfo[];
  /** declared constraints (given to buildManifest, which lists them per dimension in symbolicDims) */
  rules?: DimRules;
  /** UTF-8 bytes of the module: its runtime section, kernels and wrappers, constants */
  sizes?: SizeSplit;
  /** the shared runtime file the module imports (absent or null: bundled) */
  runtime?: { file: string; bytes: number } | null;
  /** the traced programs (what importModule loads back); absent when exported with {ir: false} */
  ir?: IrEntry[];
  /** why the manifest carries no IR */
  irMissing?: string;
  /** vjp: residuals that are inputs, returned by forward as the caller's array (input: leaf index) */
  residualInputs?: { residual: number; input: number }[];
  files: { module: string; types: string; manifest: string; runtime?: string };
}

/** Shapes in the user's symbols where exact (2*B/2 is B: see dim-rules.ts). */
const dims = (s: readonly Dim[]) => jsonDims(s.map(userDim));

function arrays(tree: TreeDef, leaves: readonly ShapedArray[], prefix: string): ManifestArray[] {
  const paths = tree.kind === "leaf" ? [""] : leafPaths({ kind: "array", children: [tree] }).map((p) => p.replace(/^arg 0/, ""));
  return leaves.map((a, i) => ({ path: `${prefix}${paths[i] ?? `[${i}]`}`, dtype: a.dtype, shape: dims(a.shape) }));
}

export function buildManifest(name: string, kind: string, irHash: string, fns: ModuleFunction[], extra: Partial<Manifest>): Manifest {
  const symbols = extra.rules?.symbols.length ? extra.rules.symbols : [...new Set(fns.flatMap((f) => f.lowered.symbols))].sort();
  const derived = extra.rules ? derivedDims(extra.rules) : [];
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    adgenVersion: ADGEN_VERSION,
    name,
    kind,
    irHash,
    functions: fns.map((f) => ({
      name: f.name,
      inputs: f.args.flatMap((g) => arrays(g.tree, g.leaves, g.label)),
      outputs: arrays(f.outTree, f.lowered.outAvals.slice(0, f.lowered.outAvals.length - (f.residualOutputs ?? 0)), "out"),
      kernels: f.lowered.kernels.map((k) =>
        k.kind === "map"
          ? `map ${shapeToString(k.shape)}`
          : k.kind === "reduce"
            ? `reduce_${k.op} ${shapeToString(k.outShape)} over ${shapeToString(k.redShape)}`
            : k.kind === "dot"
              ? `dot ${k.dtype} M=${k.M} N=${k.N} K=${k.K}${k.B === 1 ? "" : ` B=${k.B}`}`
              : k.kind === "scatter"
                ? `scatter_${k.combine ?? "add"} ${shapeToString(k.shape)}`
                : k.kind === "loop"
                  ? `loop ${k.length}${k.reverse ? " reversed" : ""} over ${k.body.length} kernels`
                  : k.kind === "cond"
                    ? `cond of ${k.branches.length} branches`
                    : k.kind === "while"
                      ? `while loop over ${k.cond.length} + ${k.body.length} kernels`
                      : `call ${k.prim.name}`,
      ),
      arenaBytes: f.lowered.symbols.length ? ("per binding" as const) : f.lowered.arenaBytes,
      ...(f.donate?.length ? { donated: f.donate.map((i) => f.args.flatMap((g) => arrays(g.tree, g.leaves, g.label))[i]!.path) } : {}),
    })),
    symbolicDims: symbols.map((s) => ({
      name: s,
      constraints: [`${s} >= 1`, ...(extra.rules?.checks ?? []).filter((c) => c.symbol === s).map((c) => c.text), ...(extra.rules?.rewrites ?? []).filter((r) => r.symbol === s && r.relation).map((r) => r.text), ...(extra.rules?.inequalities ?? []).filter((q) => [q.lhs, q.rhs].some((x) => typeof x !== "number" && x.symbols().includes(s))).map((q) => q.text)],
    })),
    ...(derived.length ? { derivedDims: derived } : {}),
    residuals: extra.residuals ?? [],
    ...(extra.sizes ? { sizes: extra.sizes } : {}),
    ...(extra.runtime ? { runtime: extra.runtime } : {}),
    ...(extra.ir ? { ir: extra.ir } : {}),
    ...(extra.irMissing ? { irMissing: extra.irMissing } : {}),
    ...(extra.residualInputs?.length ? { residualInputs: extra.residualInputs } : {}),
    files: { module: `${name}.mjs`, types: `${name}.d.mts`, manifest: `${name}.manifest.json`, ...(extra.runtime ? { runtime: extra.runtime.file } : {}) },
  };
}

const ARRAY_TS: Record<string, string> = { float32: "Float32Array", float64: "Float64Array", int32: "Int32Array", bool: "Uint8Array" };

function tsTree(def: TreeDef, leaf: (i: number) => string): string {
  let i = 0;
  const rec = (d: TreeDef): string => {
    switch (d.kind) {
      case "leaf":
        return leaf(i++);
      case "none":
        return String(d.value);
      case "array":
        return `[${d.children.map(rec).join(", ")}]`;
      case "object":
        return `{ ${d.keys.map((k, j) => `${JSON.stringify(k)}: ${rec(d.children[j]!)}`).join("; ")} }`;
    }
  };
  return rec(def);
}

/** TypeScript declarations for the module's exports. */
export function dtsSource(name: string, fns: ModuleFunction[], kind: string): string {
  const lines = [
    `// Types of ${name}.mjs (generated by adgen ${ADGEN_VERSION}, ${kind} export).`,
    `/** An array argument: an adgen Tensor, a {data, shape} object or nested JS arrays. */`,
    `export type ArrayArg<T> = { readonly shape: readonly number[]; readonly dtype: string; dataSync(): T } | { readonly data: T; readonly shape: readonly number[] } | number | readonly unknown[];`,
    `/** An array result. */`,
    `export interface ArrayResult<T, D extends string> { data: T; shape: number[]; dtype: D }`,
  ];
  for (const f of fns) {
    const params = f.args.map((g, i) => `a${i}: ${tsTree(g.tree, (k) => `ArrayArg<${ARRAY_TS[g.leaves[k]!.dtype]}>`)}`);
    const outs = f.lowered.outAvals;
    const nRes = f.residualOutputs ?? 0;
    const out = tsTree(f.outTree, (k) => `ArrayResult<${ARRAY_TS[outs[k]!.dtype]}, "${outs[k]!.dtype}">`);
    const res = nRes ? `{ out: ${out}; residuals: ArrayResult<Float32Array | Float64Array | Int32Array | Uint8Array, string>[] }` : out;
    // object keys are user text: they must not end the comment
    lines.push(`/** ${f.name}(${f.args.map((g) => treedefToString(g.tree)).join(", ").replace(/\*\//g, "*\\/")}) */`);
    lines.push(`export declare function ${f.name}(${params.join(", ")}): ${res};`);
  }
  if (fns.length === 1) lines.push(`export default ${fns[0]!.name};`);
  return lines.join("\n") + "\n";
}
