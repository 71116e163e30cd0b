// Inserting and exporting compiled stages (`jit(f).lower(...).compile()`, staged.ts), like
// jax.stages' Compiled plus jax's serialize_executable: `jf.insert(stage)` puts a compiled stage
// into jf's in-memory cache under the key of the call it was lowered for, so `jf(...)` with
// arguments of those types hits it without tracing; `stage.serialize()` writes it as bytes (the
// disk cache's artifact, artifact.ts, in a small container) and `jf.insert(bytes)` loads those in
// another process. The container records the key (KeyParts) and a hash of the function's source
// text: bytes of another function, or compiled for another backend or other compiler options,
// are refused with an error rather than inserted under a key no call would reach (or, worse,
// under this function's key). As with config.cacheTrustSource, values the function closes over
// are not in its source text: a serialized stage is the program as it was traced, captured
// constants included.

import { ArgumentError } from "../core/errors.js";
import { ADGEN_VERSION } from "../core/version.js";
import { hashString, programHash } from "../ir/serialize.js";
import { NotCacheable, decodeArtifact, encodeArtifact } from "./artifact.js";
import type { Entry } from "./build.js";
import type { Compiled } from "./compile.js";
import { type KeyParts, backendKey, compilerOptions, keyString } from "./key.js";
import type { CompiledStage } from "./staged.js";
import type { StageOrigin } from "./lowered.js";

const MAGIC = "adgen-compiled-stage\n";
const FORMAT = "adgen-compiled-stage";
const VERSION = 1;

interface Header {
  format: string;
  version: number;
  adgen: string;
  name: string;
  source: string;
  parts: KeyParts;
  body: number;
  blob: number;
  checksum: string;
}

/** The hash of a function's source text (what a serialized stage is checked against). */
export const sourceHashOf = (f: (...args: any[]) => unknown) => hashString(f.toString());

function checksum(body: string, blob: Uint8Array): string {
  let s = body;
  for (let i = 0; i < blob.length; i += 8192) s += String.fromCharCode(...blob.subarray(i, i + 8192));
  return hashString(s);
}

function originOf(stage: CompiledStage, what: string): StageOrigin {
  const o = stage.lowered.origin;
  if (!o) throw new ArgumentError(`${what}: this compiled stage was not lowered by jit(f).lower(...) (no key to insert it under)`);
  return o;
}

/** The cache entry of an in-process compiled stage of the jitted function `owner`. */
export function stageEntry(stage: CompiledStage, owner: object, name: string): { key: string; entry: Entry } {
  const o = originOf(stage, `jit(${name}).insert`);
  if (o.owner !== owner) throw new ArgumentError(`jit(${name}).insert: this compiled stage was lowered by jit(${o.name}), another jitted function; insert it there, or serialize() it`);
  checkKeyHere(o.parts, `jit(${name}).insert`);
  const l = stage.lowered;
  const exec = stage.executable;
  const compiled: Compiled = { optimized: l.optimized, exec, times: { traceMs: 0, optimizeMs: 0, codegenMs: 0 }, run: (args, donate) => exec.run(args, donate) };
  const entry: Entry = { parts: o.parts, consts: o.consts, program: l.program, outTree: o.outTree, compiled, calls: 0, residuals: o.residuals, origin: "inserted" };
  return { key: keyString(o.parts), entry };
}

/** A stage's key must be one this process's calls produce (same backend and compiler options). */
function checkKeyHere(parts: KeyParts, what: string): void {
  const backend = backendKey();
  const options = compilerOptions();
  if (parts.backend !== backend || parts.options !== options) {
    throw new ArgumentError(
      `${what}: the stage was compiled for backend ${parts.backend} (${parts.options}) but this process compiles for backend ${backend} (${options}); ` +
        `no call would use it: set config.backend and the compiler options as they were, or compile the stage here`,
    );
  }
}

/** The bytes of a compiled stage (see the file comment); throws for stages that are not data. */
export function serializeStage(stage: CompiledStage): Uint8Array {
  const o = originOf(stage, "serialize");
  const what = `jit(${o.name}).lower(...).compile().serialize()`;
  if (o.consts.length) throw new ArgumentError(`${what}: the function closes over eager-tape variables (values of this process): it cannot be serialized`);
  let a;
  try {
    a = encodeArtifact({ key: keyString(o.parts), name: o.name, programHash: programHash(stage.lowered.program), outTree: o.outTree, compiled: { optimized: stage.lowered.optimized, exec: stage.executable, times: { traceMs: 0, optimizeMs: 0, codegenMs: 0 }, run: (x) => stage.run(x) } });
  } catch (err) {
    if (err instanceof NotCacheable) throw new ArgumentError(`${what}: not serializable: ${err.message}`);
    throw err;
  }
  const header: Header = { format: FORMAT, version: VERSION, adgen: ADGEN_VERSION, name: o.name, source: o.sourceHash, parts: o.parts, body: 0, blob: a.blob.length, checksum: checksum(a.body, a.blob) };
  const body = new TextEncoder().encode(a.body);
  header.body = body.length;
  const head = new TextEncoder().encode(MAGIC + JSON.stringify(header) + "\n");
  const out = new Uint8Array(head.length + body.length + a.blob.length);
  out.set(head);
  out.set(body, head.length);
  out.set(a.blob, head.length + body.length);
  return out;
}

/** The cache entry of serialized stage bytes, for the jitted function `name` with source hash `sourceHash`. */
export function deserializeStage(bytes: Uint8Array, name: string, sourceHash: string): { key: string; entry: Entry } {
  const what = `jit(${name}).insert`;
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`${what}: expected a CompiledStage or the Uint8Array of its serialize(), got ${typeof bytes}`);
  const text = (from: number, to: number) => new TextDecoder().decode(bytes.subarray(from, to));
  if (text(0, MAGIC.length) !== MAGIC) throw new ArgumentError(`${what}: not a serialized compiled stage (from CompiledStage.serialize())`);
  const nl = bytes.indexOf(10, MAGIC.length);
  let h: Header;
  try {
    h = JSON.parse(text(MAGIC.length, nl)) as Header;
  } catch {
    throw new ArgumentError(`${what}: truncated or corrupt compiled stage (header)`);
  }
  if (h.format !== FORMAT || h.version !== VERSION) throw new ArgumentError(`${what}: unknown format ${h.format} v${h.version}`);
  if (h.adgen !== ADGEN_VERSION) throw new ArgumentError(`${what}: the stage was serialized by adgen ${h.adgen}; this is ${ADGEN_VERSION}: compile it again`);
  if (h.source !== sourceHash) throw new ArgumentError(`${what}: the stage was compiled from jit(${h.name}), a function whose source text differs from this one's`);
  const start = nl + 1;
  if (start + h.body + h.blob !== bytes.length) throw new ArgumentError(`${what}: truncated or padded compiled stage`);
  const body = text(start, start + h.body);
  const blob = bytes.slice(start + h.body);
  if (checksum(body, blob) !== h.checksum) throw new ArgumentError(`${what}: corrupt compiled stage (checksum mismatch)`);
  checkKeyHere(h.parts, what);
  const key = keyString(h.parts);
  const loaded = decodeArtifact({ body, blob }, key);
  const c = loaded.compiled;
  delete c.times.loadMs; // (inserted, not loaded by the disk cache)
  const entry: Entry = {
    parts: h.parts,
    consts: [],
    get program() {
      return c.optimized; // decoded lazily: not needed to run
    },
    outTree: loaded.outTree,
    compiled: c,
    calls: 0,
    residuals: [],
    origin: "inserted",
  };
  return { key, entry };
}
