// One compiled jit specialization as data (the disk cache's payload): the generated JS source or
// WebAssembly module, the lowered program (buffers, kernels, inputs, output sources, avals, symbols, arena plan),
// its constants' bytes, the output tree and the optimized Program. Rebuilding the executable from
// an artifact runs no tracing, optimization, lowering or code generation. Pure data and no I/O:
// the file container (checksum, keys, atomic writes, eviction) is in disk-cache.ts.

import { ShapedArray } from "../core/aval.js";
import { type DType, allocArray, byteSize, isDType } from "../core/dtype.js";
import { numberFromJson, numberToJson } from "../core/encode.js";
import { SymDim, parseDim } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import type { TreeDef } from "../core/tree.js";
import { ADGEN_VERSION } from "../core/version.js";
import { compileJs } from "../backends/js/compile.js";
import { wasmProgramOf } from "../backends/wasm/kernels.js";
import { compileWasm } from "../backends/wasm/program.js";
import { Program, Var } from "../ir/program.js";
import { type ProgramJson, base64ToBytes, bytesToBase64, programFromJson, programToJson } from "../ir/serialize.js";
import type { CallKernel, Kernel, LoweredProgram } from "../lower/kernel-ir.js";
import type { MemoryPlan } from "../lower/memory.js";
import { lookupPrimitive } from "../higher-order/registry.js";
import type { Compiled, StageTimes } from "./compile.js";

export const ARTIFACT_FORMAT = "adgen-jit-artifact";
/** 2: the embedded IR is v2 (numbers bit-exact, see ir/serialize.ts). */
export const ARTIFACT_VERSION = 2;

/** Thrown when a specialization cannot be stored (the reason is logged, nothing fails). */
export class NotCacheable extends Error {}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The JSON part of an artifact; constants' bytes live in a separate binary blob. */
export interface ArtifactBody {
  format: typeof ARTIFACT_FORMAT;
  version: number;
  adgen: string;
  /** canonical key text of the specialization (checked on load) */
  key: string;
  name: string;
  /** structural hash of the traced (not optimized) program, compared by warm starts that trace */
  programHash: string;
  outTree: Json;
  /** the optimized Program (without source lines), for introspection and interpreter fallback */
  optimized: ProgramJson;
  lowered: Json;
  source: string;
  /** the WebAssembly module (base64) when the wasm backend generated the code */
  wasm?: string;
  plan: Json;
  /** constants: dtype, shape, byte offset and byte length in the blob */
  tensors: { dtype: DType; shape: number[]; weak: boolean; offset: number; bytes: number }[];
}

export interface ArtifactInput {
  key: string;
  name: string;
  programHash: string;
  outTree: TreeDef;
  compiled: Compiled;
}

export interface Artifact {
  body: string;
  blob: Uint8Array;
}

export interface LoadedArtifact {
  programHash: string;
  outTree: TreeDef;
  compiled: Compiled;
}

// ---- encoding -------------------------------------------------------------------------------

/**
 * Encodes kernel-IR data: plain objects and arrays as themselves (wrapped in {$obj} when a
 * member's name starts with `$`), symbolic dims as {$dim},
 * numbers by core/encode's numberToJson (non-finite numbers and -0 as {$num}), tensors as {$t: index} into `tensors`, avals as {$aval}.
 * Anything else (functions, class instances) makes the program not cacheable.
 */
function encode(v: unknown, tensors: Map<Tensor, number>, where: string): Json {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return numberToJson(v) as Json;
  if (Array.isArray(v)) return v.map((x) => encode(x, tensors, where));
  if (v instanceof SymDim) return { $dim: v.toString() };
  if (v instanceof ShapedArray) return { $aval: { shape: encode(v.shape, tensors, where), dtype: v.dtype, weak: v.weak } };
  if (v instanceof Tensor) {
    if (!v.isConcrete) throw new NotCacheable(`${where} holds a tracer`);
    let i = tensors.get(v);
    if (i === undefined) tensors.set(v, (i = tensors.size));
    return { $t: i };
  }
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw new NotCacheable(`${where} holds a ${proto?.constructor?.name ?? "object"}`);
    const o: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = encode(x, tensors, where);
    // a member named like a tag ($num, $dim, ...) must not read back as one
    return Object.keys(o).some((k) => k.startsWith("$")) ? { $obj: o } : o;
  }
  throw new NotCacheable(`${where} holds a ${typeof v}`);
}

function decode(j: Json, tensors: Tensor[]): unknown {
  if (j === null || typeof j !== "object") return j;
  if (Array.isArray(j)) return j.map((x) => decode(x, tensors));
  if (typeof j["$dim"] === "string") return parseDim(j["$dim"]);
  if (typeof j["$num"] === "string") return numberFromJson(j);
  if (typeof j["$t"] === "number") {
    const t = tensors[j["$t"]];
    if (!t) throw new Error(`artifact: reference to missing constant ${j["$t"]}`);
    return t;
  }
  if (j["$aval"] !== undefined) {
    const a = j["$aval"] as { shape: Json; dtype: unknown; weak: unknown };
    if (!isDType(a.dtype)) throw new Error(`artifact: unknown dtype ${JSON.stringify(a.dtype)}`);
    return new ShapedArray(decode(a.shape, tensors) as SymDim[], a.dtype, a.weak === true);
  }
  const members = j["$obj"] !== undefined && j["$obj"] !== null && typeof j["$obj"] === "object" ? (j["$obj"] as { [k: string]: Json }) : j;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(members)) o[k] = decode(x, tensors);
  return o;
}

/**
 * A call kernel (a primitive's reference implementation on whole buffers) is stored as a
 * one-equation Program, so its params go through the IR serializer (sub-programs, dims, avals);
 * params holding JS functions (custom rules) throw there and the program is not cached.
 */
/** Fields of control-flow kernels holding kernel lists (body, cond) or lists of them (branches). */
const LISTS = ["body", "cond"] as const;

function encodeKernel(k: Kernel, where: string, tensors: Map<Tensor, number>): Json {
  if (k.kind === "call") return encodeCall(k, where);
  const o = { ...k } as Record<string, unknown>;
  const nested: { [k: string]: Json } = {};
  const list = (ks: Kernel[], w: string): Json => ks.map((b, j) => encodeKernel(b, `${w}.${j}`, tensors));
  for (const f of LISTS) if (Array.isArray(o[f])) (nested[f] = list(o[f] as Kernel[], `${where}.${f}`)), delete o[f];
  if (k.kind === "cond") (nested["branches"] = k.branches.map((b, j) => list(b, `${where}.branch${j}`))), delete o["branches"];
  return { ...(encode(o, tensors, `kernel ${where} (${k.kind})`) as { [k: string]: Json }), ...nested };
}

function decodeKernel(j: Json, tensors: Tensor[]): Kernel {
  const o = j as { [k: string]: Json };
  if (o["kind"] === "call") return decodeCall(o);
  const list = (x: Json): Kernel[] => {
    if (!Array.isArray(x)) throw new Error(`artifact: malformed ${String(o["kind"])} kernel`);
    return x.map((b) => decodeKernel(b, tensors));
  };
  const plain: { [k: string]: Json } = { ...o };
  const nested: Record<string, unknown> = {};
  for (const f of LISTS) if (f in o) (nested[f] = list(o[f]!)), delete plain[f];
  if ("branches" in o) {
    if (!Array.isArray(o["branches"])) throw new Error("artifact: malformed cond kernel");
    nested["branches"] = o["branches"].map(list);
    delete plain["branches"];
  }
  return { ...(decode(plain, tensors) as object), ...nested } as unknown as Kernel;
}

function encodeCall(k: CallKernel, i: string): Json {
  const ins = k.inAvals.map((a) => new Var(a));
  const outs = k.outAvals.map((a) => new Var(a));
  let p: ProgramJson;
  try {
    p = programToJson(new Program(ins, [], [], [{ prim: k.prim, inputs: ins, params: k.params, outs }], outs), { sources: false });
  } catch (err) {
    throw new NotCacheable(`kernel ${i} (call ${k.prim.name}): ${(err as Error).message}`);
  }
  return { kind: "call", $call: p as unknown as Json, ins: k.ins, outs: k.outs, eqns: k.eqns };
}

function decodeCall(j: { [k: string]: Json }): CallKernel {
  const p = programFromJson(j["$call"] as unknown as ProgramJson, lookupPrimitive);
  const e = p.equations[0];
  if (!e || p.equations.length !== 1) throw new Error("artifact: malformed call kernel");
  return {
    kind: "call",
    prim: e.prim,
    params: e.params,
    ins: j["ins"] as number[],
    inAvals: p.inAvals,
    outs: j["outs"] as number[],
    outAvals: e.outs.map((o) => o.aval),
    eqns: j["eqns"] as number[],
  };
}

function treeToJson(d: TreeDef): Json {
  switch (d.kind) {
    case "leaf":
      return "*";
    case "none":
      return d.value === null ? null : { undef: true };
    case "array":
      return d.children.map(treeToJson);
    case "object":
      return { keys: [...d.keys], children: d.children.map(treeToJson) };
  }
}

function treeFromJson(j: Json): TreeDef {
  if (j === "*") return { kind: "leaf" };
  if (j === null) return { kind: "none", value: null };
  if (Array.isArray(j)) return { kind: "array", children: j.map(treeFromJson) };
  if (typeof j === "object" && j["undef"] === true) return { kind: "none", value: undefined };
  if (typeof j === "object" && Array.isArray(j["keys"]) && Array.isArray(j["children"]) && j["keys"].length === j["children"].length) {
    return { kind: "object", keys: j["keys"].map(String), children: j["children"].map(treeFromJson) };
  }
  throw new Error("artifact: malformed output tree");
}

const align8 = (n: number) => (n + 7) & ~7;

/** Serializes one compiled specialization; throws NotCacheable when it holds non-data. */
export function encodeArtifact(a: ArtifactInput): Artifact {
  const exec = a.compiled.exec;
  if (!exec) throw new NotCacheable("the program runs in the interpreter (no generated code)");
  const tensors = new Map<Tensor, number>();
  const lp = exec.lowered;
  const { kernels, ...rest } = lp;
  const lowered: Json = {
    ...(encode(rest, tensors, "the lowered program") as { [k: string]: Json }),
    kernels: kernels.map((k, i) => encodeKernel(k, String(i), tensors)),
  };
  let optimized: ProgramJson;
  try {
    // no source lines: resolving them formats one JS stack per equation (slow)
    optimized = programToJson(a.compiled.optimized, { sources: false });
  } catch (err) {
    throw new NotCacheable(`the optimized program: ${(err as Error).message}`);
  }
  const table: ArtifactBody["tensors"] = [];
  let size = 0;
  for (const t of tensors.keys()) {
    const bytes = t.data.byteLength;
    table.push({ dtype: t.dtype, shape: t.shape, weak: t.aval.weak, offset: size, bytes });
    size = align8(size + bytes);
  }
  const blob = new Uint8Array(size);
  [...tensors.keys()].forEach((t, i) => blob.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), table[i]!.offset));
  const body: ArtifactBody = {
    format: ARTIFACT_FORMAT,
    version: ARTIFACT_VERSION,
    adgen: ADGEN_VERSION,
    key: a.key,
    name: a.name,
    programHash: a.programHash,
    outTree: treeToJson(a.outTree),
    optimized,
    lowered,
    source: exec.source,
    ...(exec.wasm ? { wasm: bytesToBase64(exec.wasm.bytes) } : {}),
    plan: exec.plan ? encode(exec.plan, tensors, "the memory plan") : null,
    tensors: table,
  };
  return { body: JSON.stringify(body), blob };
}

/**
 * Rebuilds the executable of an artifact. Throws on anything malformed or foreign (wrong format,
 * version, adgen version or key): the caller treats that as a miss and recompiles.
 */
export function decodeArtifact(a: Artifact, key: string): LoadedArtifact {
  const body = JSON.parse(a.body) as ArtifactBody;
  if (body?.format !== ARTIFACT_FORMAT || body.version !== ARTIFACT_VERSION) throw new Error(`not an ${ARTIFACT_FORMAT} v${ARTIFACT_VERSION}`);
  if (body.adgen !== ADGEN_VERSION) throw new Error(`written by adgen ${body.adgen}, this is ${ADGEN_VERSION}`);
  if (body.key !== key) throw new Error("written for a different key");
  const tensors = body.tensors.map((t) => {
    if (!isDType(t.dtype) || t.offset + t.bytes > a.blob.length || t.bytes % byteSize(t.dtype)) throw new Error("malformed constant table");
    const data = allocArray(t.dtype, t.bytes / byteSize(t.dtype));
    new Uint8Array(data.buffer).set(a.blob.subarray(t.offset, t.offset + t.bytes));
    return new Tensor(new ShapedArray(t.shape, t.dtype, t.weak), data);
  });
  const lj = body.lowered as { [k: string]: Json };
  const kernels = (lj["kernels"] as Json[]).map((k) => decodeKernel(k, tensors));
  const lp = { ...(decode({ ...lj, kernels: null }, tensors) as object), kernels } as LoweredProgram;
  const outTree = treeFromJson(body.outTree);
  const exec =
    typeof body.wasm === "string"
      ? compileWasm(lp, body.name, wasmProgramOf(lp, base64ToBytes(body.wasm)))
      : compileJs(lp, body.name, { source: body.source, plan: body.plan === null ? null : (decode(body.plan, tensors) as MemoryPlan) });
  const times: StageTimes = { traceMs: 0, optimizeMs: 0, codegenMs: 0, loadMs: 0 };
  // the optimized Program is decoded on first use (introspection, debugNans, hot promotion): the
  // generated code does not need it, and decoding it is the largest part of a load
  let optimized: Program | null = null;
  const compiled: Compiled = {
    get optimized() {
      return (optimized ??= programFromJson(body.optimized, lookupPrimitive));
    },
    exec,
    times,
    run: (args, donate) => exec.run(args, donate),
  };
  return { programHash: body.programHash, outTree, compiled };
}
