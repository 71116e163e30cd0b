// The jit backend `config.backend = "onnxruntime"`: compiles one traced specialization to an ONNX
// Runtime InferenceSession (onnxruntime-node, synchronous runs) through the same optimization
// pipeline as the other backends and the ONNX exporter, with config.ortProvider/ortThreads (part
// of the cache key: jit/key.ts). tier.ts calls it for programs with at least config.ortMinWork
// work; src/index.ts installs it (the onnx layer sits above jit).
//
// Errors and fallbacks: onnxruntime-node missing, or a provider it does not have, are errors
// (configuration, reported before anything is compiled). A program the exporter cannot express
// (a primitive without an ONNX mapping, shapes decided at run time) or a model the CPU provider
// cannot load (an operator without a kernel for a dtype) runs on the wasm backend instead, with a
// log line: never a wrong result. A session a non-CPU provider cannot create is an error naming
// what is missing (a user who asked for a GPU wants to know).

import { config, log } from "../core/config.js";
import type { Program } from "../ir/program.js";
import { type Compiled, compileOptimized, hasSymbolicShapes, optimizeForBackend } from "../jit/compile.js";
import { programToOnnx } from "./export.js";
import { type OrtModel, type OrtOptions, OrtProgram, OrtSessionError, loadOnnxRuntime, ortKey } from "./session.js";

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

/** The session options config selects. */
export function configOrtOptions(): OrtOptions {
  return { executionProvider: config.ortProvider, threads: config.ortThreads };
}

/** A traced program compiled to an ONNX Runtime session, or for wasm where that cannot be done (see the file comment). */
export function compileOrtSpecialization(p: Program, name: string, traceMs: number): Compiled {
  loadOnnxRuntime(); // missing package: a typed error saying how to install it
  const o = configOrtOptions();
  const t0 = now();
  const optimized = optimizeForBackend(p);
  const times = { traceMs, optimizeMs: now() - t0 };
  const fallback = (why: string): Compiled => {
    log({ kind: "info", message: `jit(${name}): ONNX Runtime cannot run this program (${why}); running it on the wasm backend`, program: name, backend: "wasm" });
    return compileOptimized(optimized, name, times);
  };
  // run-time shapes (the trip count of a differentiated while loop) have no static layout and no dim_param
  if (hasSymbolicShapes(optimized)) return fallback("some shapes are only known at run time");
  const t1 = now();
  let model: OrtModel;
  try {
    model = programToOnnx(optimized, "adgen_jit");
  } catch (e) {
    return fallback((e as Error).message.split("\n")[0]!);
  }
  let ort: OrtProgram;
  try {
    ort = new OrtProgram(optimized, o, model);
  } catch (e) {
    if (e instanceof OrtSessionError && e.provider === "cpu") return fallback(e.message.split("\n")[0]!);
    throw e;
  }
  const threads = o.threads ? `${o.threads} threads` : "default threads";
  return {
    optimized,
    exec: null,
    times: { ...times, codegenMs: now() - t1 },
    run: (args) => ort.run(args),
    session: { device: ortKey(o), summary: `an ONNX Runtime session (${o.executionProvider}, ${threads}; model ${(model.bytes.length / 1024).toFixed(1)} kB)` },
  };
}
