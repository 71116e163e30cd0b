// Global options (`config.update({...})`), also settable from the ADGEN_LOG environment variable
// (e.g. ADGEN_LOG=compiles,cache-misses; ADGEN_LOG=timeline writes ./adgen-trace.json).

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
  /** Entries kept per jit cache (LRU): each jitted function's, and its inner program cache. */
  jitCacheSize: number;
  /**
   * Bytes all in-memory jit caches may hold together (generated code, arenas, captured constants,
   * traced IR; LRU across functions). Default 256 MiB; Infinity disables. See docs/diagnostics.md.
   */
  jitCacheMaxBytes: number;
  /**
   * Execution backend of compiled programs: "wasm" (WebAssembly kernels), "js" (generated
   * JavaScript), "interp" (no code generation) or "onnxruntime" (each specialization compiled to
   * an ONNX Runtime InferenceSession through the ONNX exporter; needs the optional peer dependency
   * onnxruntime-node; programs below ortMinWork, or with a primitive ONNX cannot express, run on
   * "wasm": see docs/onnx.md).
   */
  backend: "js" | "wasm" | "interp" | "onnxruntime";
  /** backend "onnxruntime": the execution provider ("cpu", "cuda", "tensorrt", "webgpu", ...); part of the cache key */
  ortProvider: string;
  /** backend "onnxruntime": intra-op threads of each session (0: ONNX Runtime's default, one per core); part of the cache key */
  ortThreads: number;
  /**
   * backend "onnxruntime": programs with less estimated work (elements touched, matmuls counting
   * multiply-adds) run on "wasm" instead, where a call costs less (measured: docs/onnx.md);
   * 0 sends every program to ONNX Runtime.
   */
  ortMinWork: number;
  /** Record the user's source line on every traced equation (costs a stack walk per op). */
  captureSourceLines: boolean;
  /** Tiering: a program with less work than this (elements touched) starts in the interpreter. */
  interpretBelowWork: number;
  /** Tiering: an interpreted program is compiled after this many calls. */
  hotCalls: number;
  /** Warn once when one jitted function has been compiled this many times. */
  recompileWarnAfter: number;
  /**
   * Recompile stance (PyTorch's fail_on_recompile / eager_on_recompile): past this many
   * recompiles (misses after the first compile) of one jitted function, `onRecompileLimit`
   * applies to each further miss. Default Infinity (no limit).
   */
  recompileLimit: number;
  /**
   * "warn" (log once and keep compiling), "error" (throw a RecompileError listing every miss), or
   * "interpret" (run the call eagerly, op by op, instead of compiling another specialization).
   */
  onRecompileLimit: "warn" | "error" | "interpret";
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
   * Node: write a Chrome trace-event timeline of the jit (compiles, cache hits and misses, runs)
   * to this file at process exit (src/jit/timeline.ts; open it in Perfetto). null (default): off.
   */
  traceFile: string | null;
  /**
   * Automatic capture of eager code (src/hybrid/capture.ts): eager operations (tape-recorded
   * ones included) are deferred and run as one program when a value is observed (.item(),
   * .dataSync(), printing, a JS branch); a region whose structure repeats is compiled and cached.
   */
  capture: boolean;
  /**
   * Bytes the caches of automatic capture may hold (captured regions and the cached
   * value-and-gradient programs of grad under capture: compiled code, arenas, IR), each cache
   * evicting its least recently used entries beyond it. Default 64 MiB; Infinity disables.
   */
  captureCacheMaxBytes: number;
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
  jitCacheMaxBytes: 256 * 2 ** 20,
  backend: "wasm",
  ortProvider: "cpu",
  ortThreads: 0,
  ortMinWork: 65536,
  captureSourceLines: true,
  interpretBelowWork: 4096,
  hotCalls: 3,
  recompileWarnAfter: 5,
  recompileLimit: Infinity,
  onRecompileLimit: "warn",
  autoGeneralizeShapes: true,
  fastMatmulMinWork: 32768,
  matmulThreads: 2,
  matmulThreadsAfter: 4,
  cacheDir: null,
  cacheMaxBytes: 256 * 2 ** 20,
  cacheTrustSource: false,
  traceFile: null,
  capture: false,
  captureCacheMaxBytes: 64 * 2 ** 20,
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
    else if (item === "timeline") config.traceFile = "adgen-trace.json";
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
  jitCacheMaxBytes: countOrNever(0),
  backend: is.oneOf("wasm", "js", "interp", "onnxruntime"),
  ortProvider: (v) => (typeof v === "string" && /^[a-z0-9_-]+$/.test(v) ? undefined : 'an execution provider name such as "cpu" or "cuda"'),
  ortThreads: is.int(0, 1024),
  ortMinWork: countOrNever(0),
  captureSourceLines: is.boolean,
  interpretBelowWork: countOrNever(0),
  hotCalls: countOrNever(1),
  recompileWarnAfter: countOrNever(1),
  recompileLimit: countOrNever(0),
  onRecompileLimit: is.oneOf("warn", "error", "interpret"),
  autoGeneralizeShapes: is.boolean,
  fastMatmulMinWork: countOrNever(0),
  matmulThreads: is.int(1, 256),
  matmulThreadsAfter: countOrNever(0),
  cacheDir: is.nullable((v) => (typeof v === "string" && v.length > 0 ? undefined : "a non-empty directory path")),
  cacheMaxBytes: countOrNever(0),
  cacheTrustSource: is.boolean,
  traceFile: is.nullable((v) => (typeof v === "string" && v.length > 0 ? undefined : "a non-empty file path")),
  capture: is.boolean,
  captureCacheMaxBytes: countOrNever(0),
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
