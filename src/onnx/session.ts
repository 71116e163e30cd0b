// Running Programs on ONNX Runtime (what `config.backend = "onnxruntime"` runs: jit-backend.ts): loads the
// optional peer dependency onnxruntime-node on first use (a clear error when it is absent or has
// no requested execution provider), compiles a Program to an InferenceSession once, and runs it
// on adgen Tensors. Symbolic dimensions stay dim_params, so one session serves every batch size.
//
// adgen's jit calls are synchronous, but onnxruntime-node's public API is Promise-based even
// though its native session loads and runs synchronously (the public wrapper only defers to
// setImmediate). `run` therefore drives the native binding directly (onnxruntime-node's own
// dist/binding.js, checked for the methods used); `runAsync` uses the public API.

import type { ShapedArray } from "../core/aval.js";
import type { DType, TypedArray } from "../core/dtype.js";
import { ArgumentError, ShapeError } from "../core/errors.js";
import { checkOptions, is } from "../core/options.js";
import { bindSymbols } from "../core/symbols.js";
import { Tensor } from "../core/tensor.js";
import type { Program } from "../ir/program.js";
import { ortDevice } from "../jit/key.js";
import { programToOnnx } from "./export.js";

export interface OrtOptions {
  /** ONNX Runtime execution provider: "cpu" (default), "cuda", "tensorrt", "dml", "coreml", ... */
  executionProvider?: string;
  /** intra-op thread count (0 or undefined: ONNX Runtime's default, one per core) */
  threads?: number;
}

/** The part of a compile that a jit cache key must include (the essay's "device"; jit/key.ts's text). */
export function ortKey(o: OrtOptions = {}): string {
  return ortDevice(o.executionProvider ?? "cpu", o.threads ?? 0);
}

/** ONNX Runtime could not create a session for a model (its reason in the message), with the provider asked for. */
export class OrtSessionError extends ArgumentError {
  constructor(message: string, readonly provider: string) {
    super(message);
  }
}

/** A Program serialized for a session: the model and its input/output names (export.ts's programToOnnx). */
export type OrtModel = ReturnType<typeof programToOnnx>;

export interface OrtTensorLike {
  type: string;
  dims: readonly number[];
  data: unknown;
}
/** The Tensor constructor of onnxruntime-node and onnxruntime-web (the same onnxruntime-common API). */
export type OrtTensorCtor = new (type: string, data: TypedArray, dims: readonly number[]) => OrtTensorLike;
interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: object): Record<string, OrtTensorLike>;
  readonly inputNames?: string[];
  dispose(): void;
}
interface OrtModule {
  Tensor: OrtTensorCtor;
  InferenceSession: { create(bytes: Uint8Array, options: object): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensorLike>>; inputNames: readonly string[]; outputNames: readonly string[] }> };
  listSupportedBackends(): { name: string }[];
}
interface Loaded {
  ort: OrtModule;
  binding: { initOrt(): void; binding: { InferenceSession: new () => NativeSession } };
}

let loaded: Loaded | null = null;

const MISSING =
  'config.backend "onnxruntime" needs the optional peer dependency onnxruntime-node (Node): ' +
  "install it with `npm install onnxruntime-node` (set ONNXRUNTIME_NODE_INSTALL=skip to skip its optional CUDA download)";

/** Loads onnxruntime-node synchronously on first use; throws an ArgumentError saying how to install it. */
export function loadOnnxRuntime(): Loaded {
  if (loaded) return loaded;
  const mod = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process?.getBuiltinModule?.("node:module") as
    | { createRequire(url: string): (id: string) => unknown }
    | undefined;
  if (!mod) throw new ArgumentError(`${MISSING}; in a browser use onnxruntime-web through compileOrtWeb (src/onnx/session-web.ts)`);
  const require = mod.createRequire(import.meta.url);
  let ort: OrtModule;
  let binding: Loaded["binding"];
  try {
    ort = require("onnxruntime-node") as OrtModule;
    binding = require("onnxruntime-node/dist/binding.js") as Loaded["binding"];
  } catch (e) {
    throw new ArgumentError(`${MISSING} (loading it failed: ${(e as Error).message.split("\n")[0]})`);
  }
  const proto = binding?.binding?.InferenceSession?.prototype as Partial<NativeSession> | undefined;
  if (typeof binding?.initOrt !== "function" || typeof proto?.loadModel !== "function" || typeof proto?.run !== "function") {
    throw new ArgumentError("onnxruntime-node: this version's native binding does not have the synchronous loadModel/run adgen drives; use onnxruntime-node 1.17 to 1.x");
  }
  binding.initOrt();
  loaded = { ort, binding };
  return loaded;
}

/** Execution providers this onnxruntime-node build has ("cpu", and "cuda"/"tensorrt" with the GPU binaries, ...). */
export function availableProviders(): string[] {
  return loadOnnxRuntime().ort.listSupportedBackends().map((b) => b.name);
}

const ortOptionsSchema = { executionProvider: is.string, threads: is.int(0) };

function sessionOptions(o: OrtOptions): object {
  checkOptions("onnxruntime", o, ortOptionsSchema);
  const ep = o.executionProvider ?? "cpu";
  const have = availableProviders();
  if (!have.includes(ep)) {
    throw new ArgumentError(`onnxruntime: execution provider ${JSON.stringify(ep)} is not available in this onnxruntime-node build (available: ${have.join(", ")})`);
  }
  return { executionProviders: [ep], graphOptimizationLevel: "all", ...(o.threads ? { intraOpNumThreads: o.threads } : {}) };
}

const GPU_BINARIES = "; its binaries are not bundled with onnxruntime-node: install them with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (needs CUDA 12 and cuDNN)";
const WEBGPU =
  "; onnxruntime-node's WebGPU provider (Dawn) needs a GPU and its native API: Vulkan (libvulkan.so.1 and a driver) on Linux, D3D12 on Windows, Metal on macOS";
const PROVIDER_HINT: Record<string, string> = { cuda: GPU_BINARIES, tensorrt: GPU_BINARIES, webgpu: WEBGPU };

const ORT_TYPE: Record<DType, string> = { float32: "float32", float64: "float64", int32: "int32", bool: "bool" };

/** adgen Tensors as ONNX Runtime feeds, after checking each against the program's input aval. */
export function ortFeeds(T: OrtTensorCtor, names: string[], avals: ShapedArray[], inputs: Tensor[], what: string): Record<string, OrtTensorLike> {
  if (inputs.length !== avals.length) throw new ArgumentError(`${what}: the program takes ${avals.length} inputs, got ${inputs.length}`);
  const feeds: Record<string, OrtTensorLike> = {};
  inputs.forEach((t, i) => {
    const want = avals[i]!;
    if (t.dtype !== want.dtype || t.ndim !== want.ndim) throw new ShapeError(`${what}: input ${i} is ${t.aval}, the program expects ${want}`);
    // the tensor's own (immutable) data, not a copy: ONNX Runtime only reads its inputs
    feeds[names[i]!] = new T(ORT_TYPE[t.dtype], t.data, t.shape as number[]);
  });
  // one size per symbol across the inputs (the model checks too, with a less readable error)
  bindSymbols(avals.map((a) => a.shape), inputs.map((t) => t.shape as number[]), (i) => `${what}: input ${i}`);
  return feeds;
}

/** ONNX Runtime's outputs (by name) as adgen Tensors of the program's output dtypes (weak typing kept, as the other backends do). */
export function ortResults(names: string[], avals: ShapedArray[], res: Record<string, OrtTensorLike>): Tensor[] {
  return names.map((n, i) => {
    const r = res[n]!;
    const data = r.data as TypedArray;
    const typed = avals[i]!.dtype === "bool" && !(data instanceof Uint8Array) ? Uint8Array.from(data as ArrayLike<number>) : data;
    return Tensor.fromData(typed, [...r.dims].map(Number), avals[i]!.weak);
  });
}

/** A Program compiled to an ONNX Runtime session. */
export class OrtProgram {
  readonly bytes: Uint8Array;
  readonly key: string;
  private readonly session: NativeSession;
  private readonly inNames: string[];
  private readonly outNames: string[];
  private readonly inAvals: ShapedArray[];
  private readonly outAvals: ShapedArray[];

  /** `model`: the program already serialized (programToOnnx), e.g. to tell export refusals from session errors. */
  constructor(program: Program, readonly options: OrtOptions = {}, model?: OrtModel) {
    const { binding } = loadOnnxRuntime();
    const opts = sessionOptions(options);
    const m = model ?? programToOnnx(program, "adgen_program");
    this.bytes = m.bytes;
    this.inNames = m.inputs;
    this.outNames = m.outputs;
    this.inAvals = program.inAvals;
    this.outAvals = program.outAvals;
    this.key = ortKey(options);
    this.session = new binding.binding.InferenceSession();
    try {
      this.session.loadModel(this.bytes.buffer as ArrayBuffer, this.bytes.byteOffset, this.bytes.byteLength, opts);
    } catch (e) {
      const ep = options.executionProvider ?? "cpu";
      throw new OrtSessionError(
        `onnxruntime: creating a session with execution provider ${JSON.stringify(ep)} failed: ${(e as Error).message.split("\n")[0]}` +
          (ep === "cpu" ? "" : PROVIDER_HINT[ep] ?? "; is the device and its driver present?"),
        ep,
      );
    }
  }

  private feeds(inputs: Tensor[]): Record<string, unknown> {
    return ortFeeds(loadOnnxRuntime().ort.Tensor, this.inNames, this.inAvals, inputs, "onnxruntime");
  }

  private results(res: Record<string, OrtTensorLike>): Tensor[] {
    return ortResults(this.outNames, this.outAvals, res);
  }

  /** Runs synchronously (ONNX Runtime's native session; blocks the calling thread). */
  run(inputs: Tensor[]): Tensor[] {
    const fetches = Object.fromEntries(this.outNames.map((n) => [n, null]));
    return this.results(this.session.run(this.feeds(inputs), fetches, {}));
  }

  /** Runs through onnxruntime-node's public, Promise-based API (a session of its own, created on first use). */
  async runAsync(inputs: Tensor[]): Promise<Tensor[]> {
    const { ort } = loadOnnxRuntime();
    this.publicSession ??= ort.InferenceSession.create(this.bytes, sessionOptions(this.options));
    const s = await this.publicSession;
    return this.results(await s.run(this.feeds(inputs)));
  }
  private publicSession: ReturnType<OrtModule["InferenceSession"]["create"]> | undefined;

  dispose(): void {
    this.session.dispose();
  }
}

/** Compiles a Program for ONNX Runtime (what a jit backend caches per specialization and ortKey). */
export function compileOrt(program: Program, options: OrtOptions = {}): OrtProgram {
  return new OrtProgram(program, options);
}
