// Step 4 of a jitted call (key -> lookup -> build -> tier -> run): tiering. A cold program with
// little work (config.interpretBelowWork) starts in the interpreter; after config.hotCalls calls it
// is compiled to generated code (same results), and stored in the disk cache then.

import { config } from "../core/config.js";
import type { Dim } from "../core/shape.js";
import type { Program } from "../ir/program.js";
import { type DotParams, dotGeneralP } from "../prims/dot.js";
import type { Entry } from "./build.js";
import { logCompile } from "./build.js";
import { compileProgram } from "./compile.js";

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

/** Counts a call of `e`; a hot interpreted program is promoted to generated code. */
export function countCall(e: Entry, name: string): void {
  e.calls++;
  if (e.compiled.exec || config.backend === "interp" || e.calls < config.hotCalls) return;
  const c = compileProgram(e.program, name, { traceMs: e.compiled.times.traceMs });
  if (e.disk && c.exec) e.disk.entry.store(e.disk.hash, e.outTree, c);
  if (config.logCompiles) logCompile(name, e.program, c, false, "hot", e.disk?.entry.path);
  e.compiled = c;
}
