// JSON serialization of Programs that round-trips bit for bit: variables are renumbered in
// definition order, constants are stored as base64, sub-programs and symbolic dimensions are
// tagged objects, and every number (literals, params) goes through core/encode's numberToJson,
// so -0, NaN and +-Infinity survive (DESIGN principle 13; JSON.stringify(-0) is "0"). The text
// without source lines is the canonical form of a program: programText/programHash, so CSE,
// jit's shape generalization and the disk cache tell programs apart exactly as they compute.

import { ShapedArray } from "../core/aval.js";
import { type DType, type TypedArray, allocArray, isDType } from "../core/dtype.js";
import { type JsonNumber, numberFromJson, numberToJson } from "../core/encode.js";
import { ArgumentError } from "../core/errors.js";
import { type Dim, SymDim, parseDim } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import type { Primitive } from "../prims/primitive.js";
import { type Atom, type Equation, Literal, Program, Var } from "./program.js";

export const IR_FORMAT = "adgen-ir";
/** 2: numbers as core/encode JsonNumber (v1 wrote a literal -0 as 0). */
export const IR_VERSION = 2;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface AvalJson {
  shape: (number | string)[];
  dtype: DType;
  weak?: boolean;
}

function avalToJson(a: ShapedArray): AvalJson {
  const j: AvalJson = { shape: a.shape.map((d) => (typeof d === "number" ? d : d.toString())), dtype: a.dtype };
  if (a.weak) j.weak = true;
  return j;
}

function avalFromJson(j: AvalJson): ShapedArray {
  if (!isDType(j.dtype)) throw new ArgumentError(`IR: unknown dtype ${JSON.stringify(j.dtype)}`);
  return new ShapedArray(j.shape.map((d): Dim => (typeof d === "number" ? d : parseDim(d))), j.dtype, !!j.weak);
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  // Node's native decoder when present (a cold JS loop costs ~1 ms per 10 KB), else atob. The
  // result may view a pooled buffer: copy it before using its `.buffer`.
  const NodeBuffer = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (NodeBuffer) {
    const b = NodeBuffer.from(b64, "base64");
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function dataToBase64(d: TypedArray): string {
  return bytesToBase64(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
}

function dataFromBase64(dtype: DType, b64: string): TypedArray {
  const bytes = base64ToBytes(b64);
  const out = allocArray(dtype, bytes.length / (allocArray(dtype, 0).BYTES_PER_ELEMENT || 1));
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * A param value as JSON. Tags (objects with one `$` key) mark what plain JSON cannot hold;
 * a plain object with a `$`-key of its own is wrapped in {$obj} so no param reads back as a tag.
 * Object members that are undefined are dropped (a primitive reads them as absent); undefined
 * array items are kept as {$undef}.
 */
/** Serialization options: `fnIds` writes a JS function as an identity token (in-process keys only). */
interface JsonOpts {
  sources: boolean;
  fnIds?: boolean;
}
const fnIds = new WeakMap<object, number>();
let nextFnId = 0;
const fnId = (f: object) => {
  let id = fnIds.get(f);
  if (id === undefined) fnIds.set(f, (id = nextFnId++));
  return id;
};
const FN_KEY = Symbol("adgen.fnKey");
/**
 * Gives a per-call closure (a custom rule made for one call, closing over that call's tree
 * structures) the in-process key of what decides its behaviour: the user's rule functions and a
 * text of the structures. Two closures with equal keys behave identically, so programKey may
 * treat them as the same program (a region captured once replays for every later call).
 */
export function keyFunction<T extends object>(f: T, by: readonly object[], text: string): T {
  Object.defineProperty(f, FN_KEY, { value: { by, text } });
  return f;
}

function paramToJson(v: unknown, opts: JsonOpts): Json {
  if (v instanceof Program) return { $program: programToJson(v, opts) as unknown as Json };
  if (v instanceof SymDim) return { $dim: v.toString() };
  if (v instanceof ShapedArray) return { $aval: avalToJson(v) as unknown as Json };
  if (typeof v === "number") return numberToJson(v) as Json;
  if (v === undefined) return { $undef: true };
  if (Array.isArray(v)) return v.map((x) => paramToJson(x, opts));
  if (typeof v === "function") {
    if (!opts.fnIds) throw new ArgumentError("IR: a program holding a JS function (custom rule) cannot be serialized");
    const key = (v as { [FN_KEY]?: { by: readonly object[]; text: string } })[FN_KEY];
    return key ? { $fn: [...key.by.map(fnId), key.text] } : { $fn: fnId(v) };
  }
  if (v !== null && typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new ArgumentError(`IR: a param holding a ${proto?.constructor?.name ?? "object"} cannot be serialized`);
    }
    const o: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = paramToJson(x, opts);
    return Object.keys(o).some((k) => k.startsWith("$")) ? { $obj: o } : o;
  }
  if (typeof v === "string" || typeof v === "boolean" || v === null) return v;
  throw new ArgumentError(`IR: a param holding a ${typeof v} cannot be serialized`);
}

function paramFromJson(j: Json, lookup: (name: string) => Primitive<any> | undefined): unknown {
  if (Array.isArray(j)) return j.map((x) => paramFromJson(x, lookup));
  if (j !== null && typeof j === "object") {
    if ("$program" in j) return programFromJson(j["$program"] as any, lookup);
    if ("$dim" in j) return parseDim(j["$dim"] as string);
    if ("$aval" in j) return avalFromJson(j["$aval"] as any);
    if ("$num" in j) return numberFromJson(j);
    if ("$undef" in j) return undefined;
    const members = "$obj" in j ? (j["$obj"] as { [k: string]: Json }) : j;
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(members)) o[k] = paramFromJson(x, lookup);
    return o;
  }
  return j;
}

/** A variable by definition index, or a literal (its number bit-exact, see numberToJson). */
type AtomJson = number | { lit: JsonNumber; aval: AvalJson };

export interface ProgramJson {
  consts: { aval: AvalJson; data: string }[];
  inputs: AvalJson[];
  eqns: { prim: string; in: AtomJson[]; params: Json; out: AvalJson[]; src?: string }[];
  outputs: AtomJson[];
}

export function programToJson(p: Program, opts: JsonOpts = { sources: true }): ProgramJson {
  const ids = new Map<Var, number>();
  const def = (v: Var) => ids.set(v, ids.size);
  const atom = (a: Atom): AtomJson => (a instanceof Literal ? { lit: numberToJson(a.value), aval: avalToJson(a.aval) } : ids.get(a)!);
  p.consts.forEach(def);
  p.inputs.forEach(def);
  const eqns = p.equations.map((e: Equation) => {
    const j: ProgramJson["eqns"][number] = {
      prim: e.prim.name,
      in: e.inputs.map(atom),
      params: paramToJson(e.params ?? {}, opts),
      out: e.outs.map((o) => avalToJson(o.aval)),
    };
    e.outs.forEach(def);
    if (opts.sources && e.source && String(e.source)) j.src = String(e.source);
    return j;
  });
  return {
    consts: p.consts.map((v, i) => ({ aval: avalToJson(v.aval), data: dataToBase64(p.constValues[i]!.data) })),
    inputs: p.inputs.map((v) => avalToJson(v.aval)),
    eqns,
    outputs: p.outputs.map(atom),
  };
}

export function programFromJson(j: ProgramJson, lookup: (name: string) => Primitive<any> | undefined): Program {
  const vars: Var[] = [];
  const mk = (a: AvalJson) => {
    const v = new Var(avalFromJson(a));
    vars.push(v);
    return v;
  };
  const atom = (a: AtomJson): Atom => {
    if (typeof a === "number") {
      const v = vars[a];
      if (!v) throw new ArgumentError(`IR: reference to undefined variable ${a}`);
      return v;
    }
    return new Literal(numberFromJson(a.lit), avalFromJson(a.aval));
  };
  const consts = j.consts.map((c) => mk(c.aval));
  const constValues = j.consts.map((c, i) => new Tensor(consts[i]!.aval, dataFromBase64(consts[i]!.aval.dtype, c.data)));
  const inputs = j.inputs.map(mk);
  const equations: Equation[] = j.eqns.map((e) => {
    const prim = lookup(e.prim);
    if (!prim) throw new ArgumentError(`IR: unknown primitive ${JSON.stringify(e.prim)}`);
    const ins = e.in.map(atom);
    const params = paramFromJson(e.params, lookup);
    return { prim, inputs: ins, params, outs: e.out.map(mk), source: e.src };
  });
  return new Program(inputs, consts, constValues, equations, j.outputs.map(atom));
}

export function serializeProgram(p: Program): string {
  return JSON.stringify({ format: IR_FORMAT, version: IR_VERSION, program: programToJson(p) });
}

export function deserializeProgram(text: string, lookup: (name: string) => Primitive<any> | undefined): Program {
  const j = JSON.parse(text);
  if (j?.format !== IR_FORMAT || j?.version !== IR_VERSION) {
    throw new ArgumentError(`IR: not an ${IR_FORMAT} v${IR_VERSION} document`);
  }
  return programFromJson(j.program, lookup);
}

/** 64-bit FNV-1a over a string, as 16 hex digits (two 32-bit lanes; no BigInt on the hot path). */
export function hashString(s: string): string {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0xcbf29ce4 | 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c ^ (h1 >>> 16), 0x01000193);
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}

/**
 * Canonical texts by program (Programs are immutable: passes build new ones). Only small texts
 * are kept: a program closing over large constants would otherwise pin their base64 copy.
 */
const texts = new WeakMap<Program, string>();
const MEMO_MAX_CHARS = 1 << 20;

/**
 * The canonical text of a program: equal exactly for programs that differ only in variable
 * identities and source lines (literals, params and constants compared bit for bit).
 */
export function programText(p: Program): string {
  let t = texts.get(p);
  if (t === undefined) {
    t = JSON.stringify(programToJson(p, { sources: false }));
    if (t.length <= MEMO_MAX_CHARS) texts.set(p, t);
  }
  return t;
}

const keys = new WeakMap<Program, string>();
/**
 * An in-process structural key: programText, except that JS functions (custom rules' closures)
 * are identified by identity, so programs holding them can be keyed too (the same rule objects
 * give the same key; never persisted, since identities do not survive the process).
 */
export function programKey(p: Program): string {
  let t = keys.get(p);
  if (t === undefined) {
    t = JSON.stringify(programToJson(p, { sources: false, fnIds: true }));
    if (t.length <= MEMO_MAX_CHARS) keys.set(p, t);
  }
  return t;
}

/** Structural hash: a 64-bit hash of programText. */
export function programHash(p: Program): string {
  return hashString(programText(p));
}
