// Global options (`config.update({...})`), also settable from the ADGEN_LOG environment variable
// (e.g. ADGEN_LOG=compiles,cache-misses).

import { ArgumentError } from "./errors.js";
import { type Schema, checkOptions, is } from "./options.js";

export interface LogEvent {
  kind: "compile" | "cache-miss" | "recompile-warning" | "nan" | "info" | "disk-cache" | "graph-break" | "stale-closure";
  message: string;
  [key: string]: unknown;
}

export interface Config {
  /** Log each compile with its trace/optimize/codegen times. */
  logCompiles: boolean;
  /** Log, for each jit cache miss, which key component changed. */
  explainCacheMisses: boolean;
  /** Log each graph break of a jitted function once per specialization (src/hybrid/). */
  logGraphBreaks: boolean;
  /** Check every result for NaN and name the first equation that produced one. */
  debugNans: boolean;
  /** Entries kept per jitted function (LRU). */
  jitCacheSize: number;
  /**
   * Execution backend of compiled programs: "wasm" (WebAssembly kernels), "js" (generated
   * JavaScript) or "interp" (no code generation).
   */
  backend: "js" | "wasm" | "interp";
  /** Record the user's source line on every traced equation (costs a stack walk per op). */
  captureSourceLines: boolean;
  /** Tiering: a program with less work than this (elements touched) starts in the interpreter. */
  interpretBelowWork: number;
  /** Tiering: an interpreted program is compiled after this many calls. */
  hotCalls: number;
  /** Warn once when one jitted function has been compiled this many times. */
  recompileWarnAfter: number;
  /** After a cache miss caused only by changed sizes, retrace with those dimensions symbolic. */
  autoGeneralizeShapes: boolean;
  /** Float matrix products with at least this many multiply-adds use the WebAssembly GEMM. */
  fastMatmulMinWork: number;
  /** Threads for large matrix products (worker threads sharing one wasm memory); 1 disables. */
  matmulThreads: number;
  /**
   * Start those threads at the Nth product of >= 2 MFLOP in the process (default 4): one-off
   * computations and first calls do not pay the worker start-up (measured on the MLP step: first
   * call 39 -> 34 ms; threads make a warm step 3.9 -> 2.8 ms).
   */
  matmulThreadsAfter: number;
  /**
   * Directory of the persistent jit compile cache (Node only; null = off, the default). A warm
   * process start loads compiled specializations from here instead of optimizing and generating
   * code again. Anyone who can write to this directory can run code in the process: keep it private.
   */
  cacheDir: string | null;
  /** Size bound of cacheDir in bytes; least recently used entries are deleted beyond it. */
  cacheMaxBytes: number;
  /**
   * Skip tracing on a disk-cache hit, trusting that equal function source text (plus jit name,
   * creation site and argument key) means an equal program. CAVEAT: values the function closes
   * over (captured tensors, numbers, other functions, e.g. the loss inside grad(loss)) are not
   * part of the source text; if one changed between processes the stale program is run. The
   * default (false) re-traces and compares the traced program's hash with the cached one.
   */
  cacheTrustSource: boolean;
  /**
   * Automatic capture of eager code (src/hybrid/capture.ts): eager operations (tape-recorded
   * ones included) are deferred and run as one program when a value is observed (.item(),
   * .dataSync(), printing, a JS branch); a region whose structure repeats is compiled and cached.
   */
  capture: boolean;
  /**
   * jit: on every cache hit, re-trace the function and compare the program's structural hash
   * with the cached one; warn (once per function) when a value it closes over changed.
   */
  checkClosures: boolean;
  /** Receives log events; the default prints to stderr. */
  logger: (e: LogEvent) => void;
}

function defaultLogger(e: LogEvent): void {
  const line = `[adgen ${e.kind}] ${e.message}`;
  if (typeof process !== "undefined" && process.stderr) process.stderr.write(line + "\n");
  else console.warn(line);
}

export const config: Config & { update(opts: Partial<Config>): void } = {
  logCompiles: false,
  explainCacheMisses: false,
  logGraphBreaks: false,
  debugNans: false,
  jitCacheSize: 64,
  backend: "wasm",
  captureSourceLines: true,
  interpretBelowWork: 4096,
  hotCalls: 3,
  recompileWarnAfter: 5,
  autoGeneralizeShapes: true,
  fastMatmulMinWork: 32768,
  matmulThreads: 2,
  matmulThreadsAfter: 4,
  cacheDir: null,
  cacheMaxBytes: 256 * 2 ** 20,
  cacheTrustSource: false,
  capture: false,
  checkClosures: false,
  logger: defaultLogger,
  update(opts: Partial<Config>): void {
    updateConfig(opts);
  },
};

function readEnv(): void {
  const env = typeof process !== "undefined" ? process.env?.["ADGEN_LOG"] : undefined;
  if (!env) return;
  for (const item of env.split(",").map((s) => s.trim())) {
    if (item === "compiles") config.logCompiles = true;
    else if (item === "cache-misses") config.explainCacheMisses = true;
    else if (item === "nans") config.debugNans = true;
    else if (item === "graph-breaks") config.logGraphBreaks = true;
    else if (item === "all") config.logCompiles = config.explainCacheMisses = config.logGraphBreaks = true;
  }
}
readEnv();

/** The type and range of every option: config.update rejects anything else before changing any. */
/** a count where Infinity means "never" (e.g. interpretBelowWork: Infinity interprets everything) */
const countOrNever = (min: number) => is.either(is.int(min), is.oneOf(Infinity));

const schema: Schema = {
  logCompiles: is.boolean,
  explainCacheMisses: is.boolean,
  logGraphBreaks: is.boolean,
  debugNans: is.boolean,
  jitCacheSize: is.int(1),
  backend: is.oneOf("wasm", "js", "interp"),
  captureSourceLines: is.boolean,
  interpretBelowWork: countOrNever(0),
  hotCalls: countOrNever(1),
  recompileWarnAfter: countOrNever(1),
  autoGeneralizeShapes: is.boolean,
  fastMatmulMinWork: countOrNever(0),
  matmulThreads: is.int(1, 256),
  matmulThreadsAfter: countOrNever(0),
  cacheDir: is.nullable((v) => (typeof v === "string" && v.length > 0 ? undefined : "a non-empty directory path")),
  cacheMaxBytes: countOrNever(0),
  cacheTrustSource: is.boolean,
  capture: is.boolean,
  checkClosures: is.boolean,
  logger: is.func,
};

export function updateConfig(opts: Partial<Config>): void {
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) checkOptions("config.update", opts, schema);
  // undefined is not a value here (an option cannot be "unset"): reject it like any wrong type
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined && k in schema) throw new ArgumentError(`config.update: ${k} must be ${schema[k]!(undefined)}, got undefined`);
  }
  checkOptions("config.update", opts, schema);
  for (const [k, v] of Object.entries(opts)) (config as any)[k] = v;
}

export function log(e: LogEvent): void {
  config.logger(e);
}
