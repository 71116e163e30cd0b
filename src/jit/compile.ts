// The compile half of the pipeline for one traced Program: optimize (named passes) -> lower
// (fusion, kernel IR, memory plan) -> emit JS -> executable. Records how long each stage took.

import { config, log } from "../core/config.js";
import type { Dim } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { interpret } from "../backends/interp/interpret.js";
import { type Executable, compileJs } from "../backends/js/compile.js";
import { compileWasm } from "../backends/wasm/program.js";
import { WasmLimitError } from "../runtime/wasm/encoder.js";
import { type Program, subPrograms } from "../ir/program.js";
import { lowerProgram } from "../lower/fuse.js";
import type { LoweredProgram } from "../lower/kernel-ir.js";
import { optimize } from "../passes/pipeline.js";
import { primeFastMatmul } from "../prims/ref/matmul.js";

export interface StageTimes {
  traceMs: number;
  optimizeMs: number;
  codegenMs: number;
  /** set instead of optimize/codegen times when the compiled form was read from the disk cache */
  loadMs?: number;
}

export interface Compiled {
  optimized: Program;
  /** null when the program runs in the interpreter (tier 0 or backend "interp") */
  exec: Executable | null;
  times: StageTimes;
  /** `donate`: positions of args given away (Executable.run; the interpreter ignores it) */
  run(args: Tensor[], donate?: readonly number[]): Tensor[];
  /**
   * Set (with exec null) when the program runs in an external engine's session (config.backend
   * "onnxruntime", src/onnx/jit-backend.ts): the device key and a one-line description.
   */
  session?: { device: string; summary: string };
}

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

export function optimizeForBackend(p: Program): Program {
  return optimize(p, { verify: false });
}

/**
 * Generates code for an optimized program with the configured backend. Backend "wasm" falls back
 * to generated JS where the engine has no WebAssembly (e.g. V8 --jitless, iOS lockdown mode) and,
 * with a log line, where it cannot allocate the program's WebAssembly memory (the process's
 * address space for wasm memories is exhausted) or where a kernel function is beyond the JS API's
 * limits (50000 locals, 7654321 body bytes): never a crash.
 */
export function codegen(optimized: Program, name: string): Executable {
  return codegenLowered(lowerProgram(optimized), name);
}

/** `codegen` of an already lowered program (profile.ts compiles prefixes of its kernel list). */
export function codegenLowered(lp: LoweredProgram, name: string): Executable {
  // backend "onnxruntime" generates wasm for the programs it does not send to ONNX Runtime
  const wasm = (config.backend === "wasm" || config.backend === "onnxruntime") && typeof (globalThis as { WebAssembly?: unknown }).WebAssembly !== "undefined";
  if (!wasm) return compileJs(lp, name);
  try {
    return compileWasm(lp, name);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const why = err instanceof WasmLimitError ? `the program is beyond a WebAssembly limit (${err.message})` : `WebAssembly could not allocate memory (${err.message})`;
    log({ kind: "info", message: `${name}: ${why}; running this program with the JS backend`, program: name });
    return compileJs(lp, name);
  }
}

/**
 * Compiles a program. With `interpretOnly` (or config.backend "interp") the optimized program is
 * run by the interpreter and no code is generated (the cold tier of jit).
 */
export function compileProgram(p: Program, name: string, opts: { traceMs?: number; interpretOnly?: boolean } = {}): Compiled {
  const t0 = now();
  // let the engine optimize the matmul kernel while this program is optimized and generated
  if (!opts.interpretOnly && config.backend !== "interp") primeFastMatmul(() => hasLargeDot(p));
  const optimized = optimizeForBackend(p);
  return compileOptimized(optimized, name, { traceMs: opts.traceMs ?? 0, optimizeMs: now() - t0, interpretOnly: opts.interpretOnly });
}

/** The code-generation half of compileProgram, for a program already optimized (optimizeForBackend). */
export function compileOptimized(optimized: Program, name: string, opts: { traceMs: number; optimizeMs: number; interpretOnly?: boolean | undefined }): Compiled {
  const t1 = now();
  // programs with symbolic (run-time) shapes cannot be laid out statically: interpret them
  const useInterp = opts.interpretOnly || config.backend === "interp" || hasSymbolicShapes(optimized);
  const exec = useInterp ? null : codegen(optimized, name);
  const t2 = now();
  return {
    optimized,
    exec,
    times: { traceMs: opts.traceMs, optimizeMs: opts.optimizeMs, codegenMs: t2 - t1 },
    run: exec ? (args, donate) => exec.run(args, donate) : (args) => interpret(optimized, args),
  };
}

/** Whether the program (or a sub-program) multiplies float matrices large enough for the fast kernel. */
function hasLargeDot(p: Program): boolean {
  return p.equations.some((e) => {
    if (e.prim.name !== "dot_general") return subPrograms(e).some(hasLargeDot);
    const [lhs, out] = [e.inputs[0]!.aval, e.outs[0]!.aval];
    const n = out.shape.at(-1) ?? 1;
    // multiply-adds >= lhs elements x output columns (symbolic sizes count as large)
    return out.dtype.startsWith("float") && (typeof lhs.size !== "number" || typeof n !== "number" || lhs.size * n >= config.fastMatmulMinWork);
  });
}

/**
 * True when some intermediate shape depends on a symbol the inputs do not bind (a run-time trip
 * count of a differentiated while loop): such programs cannot be laid out and are interpreted.
 */
export function hasSymbolicShapes(p: Program): boolean {
  const bound = new Set(p.inputs.flatMap((v) => v.aval.shape.flatMap((d) => (typeof d === "number" ? [] : d.symbols()))));
  const unbound = (v: { aval: { shape: readonly Dim[] } }) => v.aval.shape.some((d) => typeof d !== "number" && d.symbols().some((s) => !bound.has(s)));
  return p.equations.some((e) => e.outs.some(unbound));
}

const executables = new WeakMap<Program, Compiled>();

/** The compiled form compiledFor made for `p`, if any (jit's byte budget counts it). */
export function compiledOf(p: Program): Compiled | undefined {
  return executables.get(p);
}

/**
 * The (cached) compiled form of a closed program, used when jit_call runs eagerly and for the
 * bodies of higher-order primitives (index.ts connects it to higher-order/runner.ts).
 */
export function compiledFor(p: Program, name: string): Compiled {
  let c = executables.get(p);
  if (!c) executables.set(p, (c = compileProgram(p, name)));
  return c;
}

/** The compiled form of `p` if compiledFor made one (hybrid/graph-breaks.ts measures its regions without compiling). */
export function compiledIfAny(p: Program): Compiled | undefined {
  return executables.get(p);
}

/** Makes `c` the compiled form of `p` (a graph-break region loaded from the disk cache). */
export function adoptCompiled(p: Program, c: Compiled): void {
  if (!executables.has(p)) executables.set(p, c);
}
