// Running Programs on onnxruntime-web, the optional peer dependency for browsers (execution
// providers "wasm", "webgpu", "webnn", "webgl"); its wasm provider runs in Node too, where the
// tests use it as a second, independent consumer of the exported models. Loaded on first use
// (an ArgumentError naming the package when it is absent); a bundled app can hand over the module
// it imported itself with useOnnxRuntimeWeb. onnxruntime-web has no synchronous API, so
// OrtWebProgram.run returns a Promise. Feeds and results are converted as for onnxruntime-node
// (session.ts), so both runtimes see exactly the same model and inputs.

import type { ShapedArray } from "../core/aval.js";
import { ArgumentError } from "../core/errors.js";
import { checkOptions, is } from "../core/options.js";
import type { Tensor } from "../core/tensor.js";
import type { Program } from "../ir/program.js";
import { programToOnnx } from "./export.js";
import { type OrtTensorCtor, type OrtTensorLike, ortFeeds, ortResults } from "./session.js";

export interface OrtWebOptions {
  /** "wasm" (default, everywhere), "webgpu" (navigator.gpu), "webnn" (navigator.ml), "webgl" */
  executionProvider?: string;
  /** wasm threads (ONNX Runtime's env.wasm.numThreads; 0 or undefined: its default). Fixed by the first session. */
  threads?: number;
}

interface WebSession {
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release?(): Promise<void>;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}
export interface OrtWebModule {
  Tensor: OrtTensorCtor;
  InferenceSession: { create(bytes: Uint8Array, options: object): Promise<WebSession> };
  env: { wasm: { numThreads?: number } };
}

/** The part of a compile that a jit cache key must include: runtime, provider, threads. */
export function ortWebKey(o: OrtWebOptions = {}): string {
  return `onnxruntime-web:${o.executionProvider ?? "wasm"}:threads=${o.threads ?? 0}`;
}

const PACKAGE = "onnxruntime-web";
const MISSING =
  `onnxruntime in a browser needs the optional peer dependency ${PACKAGE}: install it with \`npm install ${PACKAGE}\`; ` +
  `in a bundled app, import it yourself and hand it over: useOnnxRuntimeWeb(await import("${PACKAGE}"))`;

let web: Promise<OrtWebModule> | null = null;
/** The thread count the first session fixed (ONNX Runtime initializes its wasm module once). */
let fixedThreads: number | null = null;

function checkModule(m: unknown): OrtWebModule {
  const o = m as Partial<OrtWebModule> | null;
  if (!o || typeof o.Tensor !== "function" || typeof o.InferenceSession?.create !== "function" || !o.env?.wasm) {
    throw new ArgumentError(`useOnnxRuntimeWeb: expected the ${PACKAGE} module (with Tensor, InferenceSession and env.wasm)`);
  }
  return o as OrtWebModule;
}

/** Uses this onnxruntime-web module (what `import * as ort from "onnxruntime-web"` gave the app). */
export function useOnnxRuntimeWeb(mod: unknown): void {
  web = Promise.resolve(checkModule(mod));
}

/**
 * Loads onnxruntime-web on first use. `importer` is how (a dynamic import of a computed
 * specifier, so that adgen's own bundle neither includes it nor fails to build without it).
 */
export function loadOnnxRuntimeWeb(importer: (specifier: string) => Promise<unknown> = (s) => import(/* @vite-ignore */ s)): Promise<OrtWebModule> {
  web ??= importer(PACKAGE).then(
    (m) => checkModule((m as { default?: unknown }).default && !(m as Partial<OrtWebModule>).InferenceSession ? (m as { default: unknown }).default : m),
    (e: unknown) => {
      web = null; // let a later call retry (say after useOnnxRuntimeWeb)
      throw new ArgumentError(`${MISSING} (loading it failed: ${String((e as Error)?.message ?? e).split("\n")[0]})`);
    },
  );
  return web;
}

/** Whether this environment can offer the provider, and why not. */
function providerProblem(ep: string): string | null {
  const nav = (globalThis as { navigator?: { gpu?: unknown; ml?: unknown } }).navigator;
  const g = globalThis as { document?: unknown; OffscreenCanvas?: unknown };
  switch (ep) {
    case "wasm":
      return typeof (globalThis as { WebAssembly?: unknown }).WebAssembly === "object" ? null : "this JavaScript engine has no WebAssembly";
    case "webgpu":
      return nav?.gpu ? null : "navigator.gpu is missing (WebGPU needs a browser with WebGPU enabled and a GPU; Node has none)";
    case "webnn":
      return nav?.ml ? null : "navigator.ml is missing (WebNN is not enabled in this browser)";
    case "webgl":
      return g.document || g.OffscreenCanvas ? null : "no canvas to create a WebGL context on (not a browser)";
    default:
      return `unknown provider (onnxruntime-web has "wasm", "webgpu", "webnn", "webgl")`;
  }
}

const optionsSchema = { executionProvider: is.string, threads: is.int(0) };

/** A Program compiled to an onnxruntime-web session. */
export class OrtWebProgram {
  private constructor(
    readonly bytes: Uint8Array,
    readonly key: string,
    private readonly ort: OrtWebModule,
    private readonly session: WebSession,
    private readonly inNames: string[],
    private readonly outNames: string[],
    private readonly inAvals: ShapedArray[],
    private readonly outAvals: ShapedArray[],
  ) {}

  static async create(program: Program, options: OrtWebOptions = {}): Promise<OrtWebProgram> {
    checkOptions("onnxruntime-web", options, optionsSchema);
    const ep = options.executionProvider ?? "wasm";
    const why = providerProblem(ep);
    if (why) throw new ArgumentError(`onnxruntime-web: execution provider ${JSON.stringify(ep)} is not available here: ${why}`);
    const ort = await loadOnnxRuntimeWeb();
    const threads = options.threads ?? 0;
    if (fixedThreads === null) {
      if (threads) ort.env.wasm.numThreads = threads;
      fixedThreads = threads;
    } else if (threads !== fixedThreads) {
      throw new ArgumentError(`onnxruntime-web: threads ${threads} requested, but the first session fixed ${fixedThreads} (0: the default); its wasm module is initialized once per page or process`);
    }
    const m = programToOnnx(program, "adgen_program");
    let session: WebSession;
    try {
      session = await ort.InferenceSession.create(m.bytes, { executionProviders: [ep], graphOptimizationLevel: "all" });
    } catch (e) {
      throw new ArgumentError(`onnxruntime-web: creating a session with execution provider ${JSON.stringify(ep)} failed: ${String((e as Error)?.message ?? e).split("\n")[0]}`);
    }
    return new OrtWebProgram(m.bytes, ortWebKey(options), ort, session, m.inputs, m.outputs, program.inAvals, program.outAvals);
  }

  async run(inputs: Tensor[]): Promise<Tensor[]> {
    const feeds = ortFeeds(this.ort.Tensor, this.inNames, this.inAvals, inputs, "onnxruntime-web");
    return ortResults(this.outNames, this.outAvals, await this.session.run(feeds));
  }

  async dispose(): Promise<void> {
    await this.session.release?.();
  }
}

/** Compiles a Program for onnxruntime-web (asynchronous: loading the module and the session are). */
export function compileOrtWeb(program: Program, options: OrtWebOptions = {}): Promise<OrtWebProgram> {
  return OrtWebProgram.create(program, options);
}
