// Step 4 of a jitted call (key -> lookup -> build -> tier -> run): tiering. A cold program with
// little work (config.interpretBelowWork) starts in the interpreter; after config.hotCalls calls it
// is compiled to generated code (same results), and stored in the disk cache then. Under
// config.backend "onnxruntime", a compiled program with at least config.ortMinWork work runs in an
// ONNX Runtime session (the compiler is installed by src/index.ts: the onnx layer sits above jit);
// smaller ones run on wasm, whose call costs a few microseconds less (docs/onnx.md measures it).

import { config } from "../core/config.js";
import { ArgumentError } from "../core/errors.js";
import type { Dim } from "../core/shape.js";
import type { Program } from "../ir/program.js";
import { type DotParams, dotGeneralP } from "../prims/dot.js";
import type { Entry } from "./build.js";
import { logCompile } from "./build.js";
import { type Compiled, compileProgram } from "./compile.js";

/** Estimated work of a program in elements touched (matmuls count multiply-adds). */
export function programWork(p: Program): number {
  // a symbolic dimension counts as large: such programs are worth compiling
  const n = (d: Dim) => (typeof d === "number" ? d : 1024);
  const size = (s: readonly Dim[]) => s.reduce<number>((a, b) => a * n(b), 1);
  let w = 0;
  for (const e of p.equations) {
    for (const o of e.outs) w += size(o.aval.shape);
    if (e.prim === dotGeneralP) {
      const x = e.inputs[0]!.aval.shape;
      const params = e.params as DotParams;
      w += size(e.outs[0]!.aval.shape) * size(params.lhsContract.map((d) => x[d]!));
    }
  }
  return w;
}

/** Whether a freshly traced program starts in the interpreter tier. */
export function isCold(p: Program): boolean {
  return programWork(p) < config.interpretBelowWork;
}

/** Compiles a traced program to an ONNX Runtime session, or (with a log line) for wasm where it cannot. */
export type OrtCompiler = (p: Program, name: string, traceMs: number) => Compiled;
let ortCompiler: OrtCompiler | null = null;

/** Installs the "onnxruntime" backend's compiler (src/index.ts: src/onnx/jit-backend.ts). */
export function installOrtCompiler(c: OrtCompiler): void {
  ortCompiler = c;
}

/** Compiles a program that is not (or no longer) cold with the configured backend. */
export function compileHot(p: Program, name: string, traceMs: number): Compiled {
  if (config.backend !== "onnxruntime" || programWork(p) < config.ortMinWork) return compileProgram(p, name, { traceMs });
  if (!ortCompiler) throw new ArgumentError('config.backend "onnxruntime": no ONNX Runtime compiler is installed (import adgen from its package entry, which installs it)');
  return ortCompiler(p, name, traceMs);
}

/** Counts a call of `e`; a hot interpreted program is promoted to generated code. */
export function countCall(e: Entry, name: string): void {
  e.calls++;
  if (e.compiled.exec || e.compiled.session || config.backend === "interp" || e.calls < config.hotCalls) return;
  const c = compileHot(e.program, name, e.compiled.times.traceMs);
  if (e.disk && c.exec) e.disk.entry.store(e.disk.hash, e.outTree, c);
  if (config.logCompiles) logCompile(name, e.program, c, false, "hot", e.disk?.entry.path);
  e.compiled = c;
}
