// The persistent jit compile cache (config.cacheDir, Node only): one file per compiled
// specialization, named by the hash of its key, so that a warm process start loads generated code
// instead of optimizing, lowering and generating it again.
//
// Key: the function's source text (hashed), the jit name and creation site, every KeyParts
// component (the options that change generated code among them: key.ts), and the adgen version. Captured values are
// not in the source text, so by default a warm start still traces and compares the traced
// program's structural hash (which covers captured constants and literals) with the stored one.
//
// config.cacheTrustSource skips that trace, and is sound only where source text does determine
// the program. Two jits made by one factory at one call site (makeStep(lossA), makeStep(lossB))
// share a key but not a program, so: (1) within one process, only the first jit object that uses
// a key may skip tracing; any other jit object with that key traces and is checked against the
// entry's program hash (equal programs still share the entry); (2) a key ever seen to map to two
// different programs (a stale entry: in any process, trace or trust mode) is written with a
// `varies` mark, and a marked entry is never trusted again, in any process. What remains (the
// documented caveat): a captured value that differs only between processes, under a key never
// seen to vary, is not noticed.
//
// Files: only in adgen's own subfolder `<cacheDir>/adgen-jit-v<N>/`, named `adgen-<hash>.adgc`
// (temp files `adgen-<hash>.adgc.<pid>.<random>.tmp`); eviction and clearing touch nothing else,
// so a shared cacheDir is safe. Written to an exclusively created temp file, then renamed (atomic:
// concurrent writers and readers in several processes are safe). Read back non-blocking, regular
// files only (fs-guard.ts; cacheDir on /proc, /sys or /dev is refused with an error); magic,
// format, versions, key, length and a SHA-256 of the content are checked; anything else is
// ignored (and overwritten by the recompiled entry), never trusted. LRU by file mtime (touched on
// every hit), bounded by config.cacheMaxBytes. node:fs is loaded lazily
// (process.getBuiltinModule), so the library still loads in a browser, where the option is
// ignored with one log event.

import type { DiskInfo, DiskPath } from "./disk-info.js";
import { checkPath, ensureDir, readRegularFile } from "../core/fs-guard.js";
import { config, log } from "../core/config.js";
import type { TreeDef } from "../core/tree.js";
import { ADGEN_VERSION } from "../core/version.js";
import type { Program } from "../ir/program.js";
import { programHash } from "../ir/serialize.js";
import { type LoadedArtifact, NotCacheable, decodeArtifact, encodeArtifact } from "./artifact.js";
import type { Compiled } from "./compile.js";
import type { KeyParts } from "./key.js";

type Fs = typeof import("node:fs");

interface NodeApi {
  fs: Fs;
  crypto: typeof import("node:crypto");
  path: typeof import("node:path");
  pid: number;
}

let node: NodeApi | null | undefined;
function nodeApi(): NodeApi | null {
  if (node !== undefined) return node;
  const p = (globalThis as { process?: { pid?: number; getBuiltinModule?: (id: string) => unknown } }).process;
  const get = (id: string) => p?.getBuiltinModule?.(id);
  const fs = get("node:fs") as Fs | undefined;
  const crypto = get("node:crypto") as NodeApi["crypto"] | undefined;
  const path = get("node:path") as NodeApi["path"] | undefined;
  node = fs && crypto && path ? { fs, crypto, path, pid: p?.pid ?? 0 } : null;
  return node;
}

const MAGIC = "adgen-jit-cache\n";
const CONTAINER = "adgen-jit-cache";
// bumped when generated code changes meaning for the same adgen version (3: float32 math functions)
const CACHE_VERSION = 3;
export const ENTRY_SUFFIX = ".adgc";
/** adgen's own subfolder of config.cacheDir: the only directory the cache writes or deletes in */
export const CACHE_SUBDIR = `adgen-jit-v${CACHE_VERSION}`;
const PREFIX = "adgen-";
/** the names the cache creates: entries, and temp files of a writer */
const ENTRY_NAME = /^adgen-[0-9a-f]{40}\.adgc$/;
const TEMP_NAME = /^adgen-[0-9a-f]{40}\.adgc\.\d+\.[0-9a-z]+\.tmp$/;
/** temp files older than this are left over by a crashed writer and deleted */
const STALE_TEMP_MS = 10 * 60 * 1000;

/**
 * Which jit object first used each key in this process (by key hash). Only that one may skip
 * tracing (cacheTrustSource): another jit object with the same key may close over other values.
 */
const claims = new Map<string, WeakRef<JitDiskCache>>();

/** The cache's own directory under `cacheDir`, after refusing pseudo file systems (memoized). */
const checkedDirs = new Set<string>();
function cacheFolder(api: NodeApi, cacheDir: string): string {
  if (!checkedDirs.has(cacheDir)) {
    checkPath(api.fs, api.path, cacheDir, "config.cacheDir");
    checkedDirs.add(cacheDir);
  }
  return api.path.join(cacheDir, CACHE_SUBDIR);
}


const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

function debug(message: string): void {
  if (config.logCompiles) log({ kind: "disk-cache", level: "debug", message });
}

let warnedNoFs = false;

/** True for static argument values whose key is the same in every process (no identities). */
function portable(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  const t = typeof v;
  if (t === "number" || t === "string" || t === "boolean" || t === "bigint") return true;
  if (t !== "object") return false;
  if (Array.isArray(v)) return v.every(portable);
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && Object.values(v as object).every(portable);
}

/** A file name or URL in one comparable form (no scheme, forward slashes, no leading slash). */
const normPath = (p: string) =>
  (p.startsWith("file://") ? decodeURIComponent(p.slice(7)) : p).replace(/\\/g, "/").replace(/^\/+/, "");
const OWN_DIR = normPath(new URL("..", import.meta.url).href); // .../src/ (or .../dist/src/)

/**
 * Where jit() was called, as "file:line:col" of the generated (not source-mapped) code: resolving
 * source maps (tsx, --enable-source-maps) costs milliseconds, V8's raw call sites do not.
 */
class CreationSite {
  private err: Error | null;
  private text: string | null = null;

  constructor() {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 10; // this constructor, JitDiskCache's, jit(), then usually the caller
    this.err = new Error();
    Error.stackTraceLimit = limit;
  }

  toString(): string {
    if (this.text !== null) return this.text;
    const E = Error as { prepareStackTrace?: (e: Error, sites: NodeJS.CallSite[]) => unknown };
    const prev = E.prepareStackTrace;
    let sites: NodeJS.CallSite[] = [];
    E.prepareStackTrace = (_e, s) => s;
    try {
      sites = (this.err!.stack as unknown as NodeJS.CallSite[]) ?? [];
    } finally {
      E.prepareStackTrace = prev;
    }
    const user = Array.isArray(sites)
      ? sites.find((c) => {
          const f = c.getFileName() ?? "";
          return f !== "" && !f.startsWith("node:") && !normPath(f).startsWith(OWN_DIR);
        })
      : undefined;
    this.text = user ? `${user.getFileName()}:${user.getLineNumber()}:${user.getColumnNumber()}` : "(unknown)";
    this.err = null;
    return this.text;
  }
}

/** The disk cache of one jitted function. */
export class JitDiskCache {
  /** where jit() was called: two jits of identical wrapper source (grad(f), grad(g)) differ here */
  private readonly site = new CreationSite();
  private sourceHash: string | null = null;
  private native: boolean | null = null;
  readonly info: DiskInfo = { loads: 0, stale: 0, ignored: 0, writes: 0 };

  constructor(
    private readonly f: (...args: any[]) => unknown,
    readonly name: string,
  ) {}

  /**
   * Whether a hit may skip tracing (config.cacheTrustSource). Never for functions whose source
   * text says nothing (bound or native functions: "[native code]").
   */
  get trustSource(): boolean {
    return config.cacheTrustSource && !(this.native ??= this.f.toString().includes("[native code]"));
  }

  /** The disk entry for one specialization; null when the disk cache is off or cannot hold it. */
  entry(parts: KeyParts, statics: [number, unknown][]): DiskEntry | null {
    const dir = config.cacheDir;
    if (dir === null || dir === undefined || dir === "") return null;
    const api = nodeApi();
    if (!api) {
      if (!warnedNoFs) {
        warnedNoFs = true;
        log({ kind: "info", message: "config.cacheDir is ignored: the jit disk cache needs Node >= 20.16 (a synchronous file system)" });
      }
      return null;
    }
    const bad = statics.find(([, v]) => !portable(v));
    if (bad) {
      this.info.last = "uncacheable";
      debug(`jit(${this.name}) not cached on disk: static argument ${bad[0]} is keyed by identity (a function or object), which differs between processes`);
      return null;
    }
    this.sourceHash ??= sha256(api, this.f.toString());
    const key = JSON.stringify({
      cache: CACHE_VERSION,
      adgen: ADGEN_VERSION,
      name: this.name,
      site: String(this.site),
      source: this.sourceHash,
      parts,
    });
    return new DiskEntry(this, api, cacheFolder(api, dir), key);
  }
}

function sha256(api: NodeApi, data: string | Uint8Array): string {
  return api.crypto.createHash("sha256").update(data).digest("hex");
}

interface Header {
  format: string;
  version: number;
  adgen: string;
  key: string;
  programHash: string;
  /** this key has been seen to produce more than one program: never trusted without a trace */
  varies: boolean;
  body: number;
  blob: number;
  sha256: string;
}

/** One specialization's file. */
export class DiskEntry {
  readonly file: string;
  private readonly keyHash: string;
  /** what load() found */
  path: DiskPath = "absent";
  /** the entry found on disk was marked `varies`, or held another program for this key */
  private varies = false;

  constructor(
    private readonly owner: JitDiskCache,
    private readonly api: NodeApi,
    private readonly dir: string,
    private readonly key: string,
  ) {
    this.keyHash = sha256(api, key).slice(0, 40);
    this.file = api.path.join(dir, PREFIX + this.keyHash + ENTRY_SUFFIX);
  }

  /** Whether this jit object may skip tracing for this key (the first in this process to use it). */
  private mayTrust(): boolean {
    const first = claims.get(this.keyHash)?.deref();
    return first === undefined ? !claims.has(this.keyHash) : first === this.owner;
  }

  private claim(): void {
    if (!claims.has(this.keyHash)) claims.set(this.keyHash, new WeakRef(this.owner));
  }

  /**
   * The structural hash of a traced program (it covers captured constants and literals), or null
   * when the program holds values that cannot be serialized (custom rules' JS closures).
   */
  hashOf(p: Program): string | null {
    try {
      return programHash(p);
    } catch (err) {
      this.set("uncacheable");
      debug(`jit(${this.owner.name}) not cached on disk: ${(err as Error).message}`);
      return null;
    }
  }

  private set(p: DiskPath): void {
    this.path = p;
    this.owner.info.last = p;
  }

  /**
   * The stored specialization, or null. With `programHash` (trace mode) an entry for a different
   * traced program is stale; with null (cacheTrustSource) the source text is trusted.
   */
  load(programHash: string | null): LoadedArtifact | null {
    const t0 = now();
    if (programHash === null && !this.mayTrust()) {
      debug(`jit(${this.owner.name}) traces: another jit object in this process has the same key (it may close over other values)`);
      return null;
    }
    this.claim();
    let buf: Buffer;
    try {
      buf = readRegularFile(this.api.fs, this.file);
    } catch (err) {
      // missing, evicted by another process a moment ago, or not a regular file (never read)
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") debug(`jit(${this.owner.name}) disk entry not read: ${(err as Error).message}`);
      this.set("absent");
      return null;
    }
    let loaded: LoadedArtifact;
    try {
      const h = this.parseHeader(buf);
      this.varies ||= h.header.varies === true;
      if (programHash === null && this.varies) {
        debug(`jit(${this.owner.name}) traces: disk entry ${this.keyHash} is marked as varying (its key has produced different programs)`);
        return null;
      }
      if (programHash !== null && h.header.programHash !== programHash) {
        this.varies = true; // one key, two programs: source text does not determine this one
        this.owner.info.stale++;
        this.set("stale");
        debug(`jit(${this.owner.name}) disk entry ${this.keyHash} is stale: the traced program changed (captured values?)`);
        return null;
      }
      const bodyEnd = h.start + h.header.body;
      if (sha256(this.api, buf.subarray(h.start)) !== h.header.sha256) throw new Error("checksum mismatch");
      const body = buf.toString("utf8", h.start, bodyEnd);
      loaded = decodeArtifact({ body, blob: buf.subarray(bodyEnd) }, this.key);
      if (programHash !== null && loaded.programHash !== programHash) throw new Error("header and body disagree");
    } catch (err) {
      this.owner.info.ignored++;
      this.set("ignored");
      debug(`jit(${this.owner.name}) ignored disk entry ${this.file}: ${(err as Error).message}`);
      return null;
    }
    this.owner.info.loads++;
    this.set(programHash === null ? "trusted" : "loaded");
    this.touch();
    loaded.compiled.times.loadMs = now() - t0;
    return loaded;
  }

  private parseHeader(buf: Buffer): { header: Header; start: number } {
    if (buf.length < MAGIC.length || buf.toString("latin1", 0, MAGIC.length) !== MAGIC) throw new Error("not an adgen cache file");
    const nl = buf.indexOf(10, MAGIC.length);
    if (nl < 0) throw new Error("truncated header");
    const h = JSON.parse(buf.toString("utf8", MAGIC.length, nl)) as Header;
    if (h?.format !== CONTAINER || h.version !== CACHE_VERSION) throw new Error(`unknown format ${JSON.stringify(h?.format)} v${h?.version}`);
    if (h.adgen !== ADGEN_VERSION) throw new Error(`written by adgen ${h.adgen}`);
    if (h.key !== this.keyHash) throw new Error("written for a different key");
    const start = nl + 1;
    if (!Number.isInteger(h.body) || !Number.isInteger(h.blob) || start + h.body + h.blob !== buf.length) throw new Error("truncated or padded content");
    return { header: h, start };
  }

  /** Marks the entry most recently used (LRU by mtime). */
  private touch(): void {
    const t = new Date();
    try {
      this.api.fs.utimesSync(this.file, t, t);
    } catch {
      // replaced or evicted concurrently: nothing to mark
    }
  }

  /** Writes the specialization (atomically), then trims the directory to config.cacheMaxBytes. */
  store(programHash: string, outTree: TreeDef, compiled: Compiled): void {
    let bytes: Buffer;
    try {
      const a = encodeArtifact({ key: this.key, name: this.owner.name, programHash, outTree, compiled });
      const body = Buffer.from(a.body, "utf8");
      const content = Buffer.concat([body, a.blob]);
      const header: Header = {
        format: CONTAINER,
        version: CACHE_VERSION,
        adgen: ADGEN_VERSION,
        key: this.keyHash,
        programHash,
        varies: this.varies,
        body: body.length,
        blob: a.blob.length,
        sha256: sha256(this.api, content),
      };
      bytes = Buffer.concat([Buffer.from(MAGIC + JSON.stringify(header) + "\n", "utf8"), content]);
    } catch (err) {
      this.set("uncacheable");
      if (err instanceof NotCacheable) debug(`jit(${this.owner.name}) not cached on disk: ${err.message}`);
      else log({ kind: "disk-cache", level: "warn", message: `jit(${this.owner.name}) not cached on disk (unexpected): ${(err as Error).stack ?? err}` });
      return;
    }
    const { fs } = this.api;
    this.claim();
    const tmp = `${this.file}.${this.api.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    let created = false;
    try {
      ensureDir(fs, this.api.path, this.dir, "config.cacheDir", 0o700);
      const fd = fs.openSync(tmp, "wx", 0o600); // exclusive: never an existing file or FIFO
      created = true;
      try {
        fs.writeFileSync(fd, bytes);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file); // atomic: readers see the old file or the new one
    } catch (err) {
      if (created) unlinkQuiet(fs, tmp); // only the temp file this writer created
      debug(`jit(${this.owner.name}) could not write ${this.file}: ${(err as Error).message}`);
      return;
    }
    this.owner.info.writes++;
    if (this.path !== "stale" && this.path !== "ignored") this.set("stored");
    try {
      evict(this.api, this.dir, config.cacheMaxBytes);
    } catch (err) {
      debug(`disk cache eviction in ${this.dir} failed: ${(err as Error).message}`);
    }
  }
}

/**
 * The cache's own files in its folder: entries (with size and mtime) and stale temp files of
 * crashed writers. Names it did not create, subfolders and non-regular files are never listed.
 */
function ownFiles(api: NodeApi, dir: string, staleTempMs: number): { entries: { file: string; size: number; mtime: number }[]; staleTemps: string[] } {
  const { fs, path } = api;
  const entries: { file: string; size: number; mtime: number }[] = [];
  const staleTemps: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return { entries, staleTemps };
  }
  const wall = Date.now();
  for (const n of names) {
    const entry = ENTRY_NAME.test(n);
    if (!entry && !TEMP_NAME.test(n)) continue;
    const file = path.join(dir, n);
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    if (entry) entries.push({ file, size: st.size, mtime: st.mtimeMs });
    else if (wall - st.mtimeMs > staleTempMs) staleTemps.push(file);
  }
  return { entries, staleTemps };
}

/** Deletes least recently used entries until the cache folder holds at most `maxBytes` of entries. */
export function evict(api: NodeApi, dir: string, maxBytes: number): void {
  const { entries, staleTemps } = ownFiles(api, dir, STALE_TEMP_MS);
  for (const t of staleTemps) unlinkQuiet(api.fs, t);
  let total = entries.reduce((s, e) => s + e.size, 0);
  if (total <= maxBytes) return;
  entries.sort((a, b) => a.mtime - b.mtime || (a.file < b.file ? -1 : 1));
  for (const e of entries) {
    if (total <= maxBytes) break;
    unlinkQuiet(api.fs, e.file);
    total -= e.size;
    debug(`disk cache over ${maxBytes} bytes: evicted ${e.file} (${e.size} bytes)`);
  }
}

/**
 * Deletes the jit disk cache under `cacheDir` (default config.cacheDir): adgen's entries and
 * temp files in its own subfolder (temp files of a writer active in the last minute are left),
 * then the subfolder if nothing else is in it. Foreign files are never touched. Returns the number
 * of files deleted.
 */
export function clearDiskCache(cacheDir: string | null = config.cacheDir): number {
  const api = nodeApi();
  if (!api || cacheDir === null || cacheDir === "") return 0;
  const dir = cacheFolder(api, cacheDir);
  const { entries, staleTemps } = ownFiles(api, dir, 60_000);
  const files = [...entries.map((e) => e.file), ...staleTemps];
  for (const f of files) unlinkQuiet(api.fs, f);
  try {
    api.fs.rmdirSync(dir); // not recursive: fails (kept) when anything else is in it
  } catch {
    // not empty, or absent
  }
  return files.length;
}

function unlinkQuiet(fs: Fs, file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // already deleted by another process
  }
}

/** One line for the compile log: which disk-cache path a miss took. */
export function describeDiskPath(p: DiskPath | undefined): string {
  switch (p) {
    case "loaded":
      return "loaded from disk cache";
    case "trusted":
      return "loaded from disk cache without tracing (cacheTrustSource)";
    case "stale":
      return "disk cache stale: recompiled";
    case "ignored":
      return "disk cache entry corrupt or foreign: recompiled";
    case "stored":
      return "written to disk cache";
    case "uncacheable":
      return "not cacheable on disk";
    default:
      return "";
  }
}
