// ONNX export (public API): exportOnnx(f, argSpecs, {name}) traces f at argument specs, runs the
// same optimization pipeline as jit and the module export, and serializes the Program as an ONNX
// model (opset ONNX_OPSET) whose symbolic dimensions are dim_params and whose input/output names
// are pytree paths ("arg0", "arg1.w", "out[0]"). exportOnnxVjp writes the split reverse mode as
// two models, forward (args -> outputs + residuals r0..rK) and backward (residuals + output
// cotangents -> argument cotangents), with the residual ABI in the manifest and in both models'
// metadata; exportOnnxJvp writes jvp(primals..., tangents...) -> outputs + output tangents. A
// gradient is exportOnnx(grad(f), specs). int32 and bool arguments are inputs of the forward and
// JVP models but, as with grad's argnums, get no tangent input and no cotangent output.

import type { ShapedArray } from "../core/aval.js";
import { ArgumentError } from "../core/errors.js";
import { checkOptions, is } from "../core/options.js";
import type { TreeDef } from "../core/tree.js";
import { ADGEN_VERSION } from "../core/version.js";
import type { Program } from "../ir/program.js";
import { programHash } from "../ir/serialize.js";
import { residualAbi } from "../aot/export.js";
import type { ResidualInfo } from "../transforms/residuals.js";
import { emitGraph } from "./emit.js";
import { typeDims } from "./graph.js";
import { encodeModel, type TypeDim } from "./proto.js";
import { type TracedSpecs, jvpOf, splitVjp, traceAtSpecs } from "./programs.js";
import { ONNX_IR_VERSION, ONNX_OPSET } from "./table.js";
import { writeOnnxFiles } from "./write.js";

export interface OnnxExportOptions {
  /** model name and file stem (letters, digits, _ and -); default: the function's name */
  name?: string;
}

export interface OnnxValueInfo {
  /** the ONNX input/output name (the pytree path) */
  name: string;
  dtype: string;
  shape: TypeDim[];
}

export interface OnnxModelInfo {
  /** "value", "forward", "backward" or "jvp" */
  role: string;
  file: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** The residual report of every vjp export (transforms/residuals.ts). */
export type OnnxResidual = ResidualInfo;

export interface OnnxManifest {
  format: "adgen-onnx";
  version: 1;
  adgenVersion: string;
  name: string;
  kind: "value" | "vjp" | "jvp";
  opset: number;
  irVersion: number;
  irHash: string;
  models: OnnxModelInfo[];
  symbolicDims: string[];
  residuals: OnnxResidual[];
  files: { models: string[]; manifest: string };
}

export class OnnxExported {
  constructor(
    readonly name: string,
    readonly manifest: OnnxManifest,
    /** the serialized models, in manifest.models order */
    readonly models: Uint8Array[],
  ) {}

  /** The bytes of the single model (value and jvp exports); a vjp export has two: use model(). */
  get bytes(): Uint8Array {
    if (this.models.length !== 1) throw new ArgumentError(`exportOnnx: this ${this.manifest.kind} export has ${this.models.length} models; use .model("forward") or .model("backward")`);
    return this.models[0]!;
  }

  /** The bytes of the model with this role ("value", "jvp", "forward", "backward"). */
  model(role: string): Uint8Array {
    const i = this.manifest.models.findIndex((m) => m.role === role);
    if (i < 0) throw new ArgumentError(`exportOnnx: no model with role ${JSON.stringify(role)} (have ${this.manifest.models.map((m) => m.role).join(", ")})`);
    return this.models[i]!;
  }

  /** Writes the model file(s) and <name>.manifest.json into `dir` (refused on /proc, /sys, /dev); returns the paths. */
  write(dir: string): Promise<string[]> {
    const files: [string, Uint8Array | string][] = [
      ...this.manifest.models.map((m, i) => [m.file, this.models[i]!] as [string, Uint8Array]),
      [this.manifest.files.manifest, JSON.stringify(this.manifest, null, 2) + "\n"],
    ];
    return writeOnnxFiles(dir, files, `exportOnnx ${this.name}: write(${JSON.stringify(dir)})`);
  }
}

const optionsSchema = { name: is.string };

function modelName(f: (...a: any[]) => unknown, opts: OnnxExportOptions, suffix: string, what: string): string {
  checkOptions(what, opts, optionsSchema);
  const n = opts.name ?? `${f.name || "exported"}${suffix}`;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(n)) throw new ArgumentError(`${what}: name ${JSON.stringify(n)} must consist of letters, digits, _ and -`);
  return n;
}

/** The leaves' names of a pytree: prefix, prefix[i], prefix.key; made unique if keys collide. */
export function leafNames(def: TreeDef, prefix: string): string[] {
  const walk = (d: TreeDef, p: string): string[] =>
    d.kind === "leaf" ? [p] : d.kind === "none" ? [] : d.kind === "array" ? d.children.flatMap((c, i) => walk(c, `${p}[${i}]`)) : d.children.flatMap((c, i) => walk(c, `${p}.${d.keys[i]}`));
  const seen = new Set<string>();
  return walk(def, prefix).map((n) => {
    let m = n;
    for (let k = 2; seen.has(m); k++) m = `${n}#${k}`;
    seen.add(m);
    return m;
  });
}

/** Names of the arguments: arg0, arg1.w, ... (one top-level argument per spec). */
function argNames(t: TracedSpecs, prefix = "arg"): string[] {
  if (t.inDef.kind !== "array") throw new ArgumentError("exportOnnx: argSpecs must be an array");
  return t.inDef.children.flatMap((c, i) => leafNames(c, `${prefix}${i}`));
}

const info = (names: string[], avals: ShapedArray[]): OnnxValueInfo[] => avals.map((a, i) => ({ name: names[i]!, dtype: a.dtype, shape: typeDims(a.shape) }));

function symbolsOf(programs: Program[]): string[] {
  const s = new Set<string>();
  for (const p of programs) for (const a of p.inAvals) for (const d of a.shape) if (typeof d !== "number") d.symbols().forEach((x) => s.add(x));
  return [...s].sort();
}

interface ModelPart {
  role: string;
  program: Program;
  inputs: string[];
  outputs: string[];
}

function build(name: string, kind: OnnxManifest["kind"], parts: ModelPart[], residuals: OnnxResidual[]): OnnxExported {
  const hash = parts.map((p) => irHash(p.program)).join("-");
  const metadata: Record<string, string> = { "adgen.kind": kind, "adgen.version": ADGEN_VERSION, "adgen.irHash": hash };
  if (residuals.length) metadata["adgen.residuals"] = JSON.stringify(residuals);
  const single = parts.length === 1;
  const models = parts.map((p) => {
    const graphName = single ? name : `${name}_${p.role}`;
    const doc = `${graphName}: generated by adgen ${ADGEN_VERSION} (${kind} export, ${p.role}); IR hash ${hash}`;
    const graph = emitGraph(graphName, p.program, p.inputs, p.outputs, doc);
    return encodeModel({ irVersion: ONNX_IR_VERSION, opset: ONNX_OPSET, producerName: "adgen", producerVersion: ADGEN_VERSION, graph, metadata: { ...metadata, "adgen.role": p.role } });
  });
  const infos: OnnxModelInfo[] = parts.map((p) => ({
    role: p.role,
    file: single ? `${name}.onnx` : `${name}.${p.role}.onnx`,
    inputs: info(p.inputs, p.program.inAvals),
    outputs: info(p.outputs, p.program.outAvals),
  }));
  const manifest: OnnxManifest = {
    format: "adgen-onnx",
    version: 1,
    adgenVersion: ADGEN_VERSION,
    name,
    kind,
    opset: ONNX_OPSET,
    irVersion: ONNX_IR_VERSION,
    irHash: hash,
    models: infos,
    symbolicDims: symbolsOf(parts.map((p) => p.program)),
    residuals,
    files: { models: infos.map((m) => m.file), manifest: `${name}.manifest.json` },
  };
  return new OnnxExported(name, manifest, models);
}

/** The program's IR hash; a program holding custom rules (JS functions) has none: "unhashable". */
function irHash(p: Program): string {
  try {
    return programHash(p);
  } catch (e) {
    if (e instanceof ArgumentError) return "unhashable";
    throw e;
  }
}

/** `exportOnnx(f, argSpecs, {name})`: f at the given specs as one ONNX model. */
export function exportOnnx(f: (...args: any[]) => unknown, argSpecs: unknown[], opts: OnnxExportOptions = {}): OnnxExported {
  const name = modelName(f, opts, "", "exportOnnx");
  const t = traceAtSpecs(f, argSpecs, "exportOnnx");
  return build(name, "value", [{ role: "value", program: t.program, inputs: argNames(t), outputs: leafNames(t.outTree, "out") }], []);
}

/** The split reverse mode as two models, forward and backward (see the file comment). */
export function exportOnnxVjp(f: (...args: any[]) => unknown, argSpecs: unknown[], opts: OnnxExportOptions = {}): OnnxExported {
  const name = modelName(f, opts, "_vjp", "exportOnnxVjp");
  const t = traceAtSpecs(f, argSpecs, "exportOnnxVjp");
  const s = splitVjp(t, "exportOnnxVjp");
  const outs = leafNames(t.outTree, "out");
  const resNames = Array.from({ length: s.numResiduals }, (_, i) => `r${i}`);
  const residuals = residualAbi(s.forward, s.numOutputs, t.inDef);
  const args = argNames(t);
  return build(name, "vjp", [
    { role: "forward", program: s.forward, inputs: args, outputs: [...outs, ...resNames] },
    { role: "backward", program: s.backward, inputs: [...resNames, ...leafNames(t.outTree, "outBar")], outputs: argNames(t, "argBar").filter((_, i) => s.mask[i]) },
  ], residuals);
}

/** jvp(primals..., tangents...) -> outputs then output tangents, as one model. */
export function exportOnnxJvp(f: (...args: any[]) => unknown, argSpecs: unknown[], opts: OnnxExportOptions = {}): OnnxExported {
  const name = modelName(f, opts, "_jvp", "exportOnnxJvp");
  const t = traceAtSpecs(f, argSpecs, "exportOnnxJvp");
  const { program: p, mask } = jvpOf(t, "exportOnnxJvp");
  const inputs = [...argNames(t), ...argNames(t, "tangent").filter((_, i) => mask[i])];
  const outputs = [...leafNames(t.outTree, "out"), ...leafNames(t.outTree, "outTangent")];
  return build(name, "jvp", [{ role: "jvp", program: p, inputs, outputs }], []);
}

/** A Program as one ONNX model with inputs in0..inN and outputs out0..outM (for the runtime backend). */
export function programToOnnx(program: Program, name: string): { bytes: Uint8Array; inputs: string[]; outputs: string[] } {
  const inputs = program.inputs.map((_, i) => `in${i}`);
  const outputs = program.outputs.map((_, i) => `out${i}`);
  const e = build(name, "value", [{ role: "value", program, inputs, outputs }], []);
  return { bytes: e.bytes, inputs, outputs };
}
