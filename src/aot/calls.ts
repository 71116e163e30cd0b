// Fallback call kernels in exported modules. A primitive without a kernel code generator runs as
// a call of its reference implementation under jit; an exported module cannot import adgen, so it
// embeds the primitive's self-contained JS instead (Primitive.standalone: constant text, e.g. the
// Threefry random kernels) and calls it with the kernel's params written out as JS literals
// (symbolic dimensions as expressions over the module's symbol variables). Primitives without a
// standalone implementation are rejected at export time with a clear error.

import { ArgumentError } from "../core/errors.js";
import { SymDim } from "../core/shape.js";
import type { DimJs } from "../backends/js/codegen.js";
import { jsNumber } from "../backends/js/scalar.js";
import { type CallKernel, type LoweredProgram, callKernels } from "../lower/kernel-ir.js";

function unsupported(names: string[], why: string): ArgumentError {
  return new ArgumentError(`export: ${names.join(", ")} cannot be compiled into a standalone module yet (${why})`);
}

/** Checks that every call kernel of these programs can be embedded. */
export function checkCalls(lps: LoweredProgram[]): void {
  const calls = lps.flatMap((lp) => callKernels(lp.kernels));
  const missing = [...new Set(calls.filter((k) => !k.prim.standalone).map((k) => k.prim.name))];
  if (missing.length) throw unsupported(missing, `no code generator for ${missing.length > 1 ? "these primitives" : "this primitive"}`);
}

/** The standalone sources the programs' call kernels need, each once. */
export function standaloneSources(lps: LoweredProgram[]): string[] {
  return [...new Set(lps.flatMap((lp) => callKernels(lp.kernels)).map((k) => k.prim.standalone!.source))];
}

/** A kernel's params as a JS literal (plain data only; symbolic dimensions as expressions). */
function paramsJs(v: unknown, d: DimJs, prim: string): string {
  if (v instanceof SymDim) {
    try {
      return d.js(v);
    } catch {
      throw unsupported([prim], `its parameters depend on a loop index`);
    }
  }
  if (typeof v === "number") return jsNumber(v);
  if (typeof v === "string" || typeof v === "boolean" || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => paramsJs(x, d, prim)).join(", ")}]`;
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return `{ ${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${paramsJs(x, d, prim)}`).join(", ")} }`;
  }
  throw unsupported([prim], `a parameter is not plain data`);
}

/** `fn([ins], [outs], params)` for one call kernel; `arr(id)` is the JS for buffer `id`'s array. */
function callExpr(k: CallKernel, d: DimJs, arr: (id: number, j: number) => string, out: (id: number, j: number) => string): string {
  const s = k.prim.standalone!;
  // inputs are copied, so an output sharing memory with an input cannot change what is read
  return `${s.fn}([${k.ins.map((b, j) => `${arr(b, j)}.slice()`).join(", ")}], [${k.outs.map(out).join(", ")}], ${paramsJs(k.params, d, k.prim.name)})`;
}

/** The `calls` array of the JS form: one `(S, ...ins, ...outs) => void` per call kernel. */
export function callsArrayJs(lp: LoweredProgram, d: DimJs): string {
  const syms = lp.symbols.map((s, i) => `const ${d.sym(s)} = S[${i}];`).join(" ");
  const fns = callKernels(lp.kernels).map((k) => {
    const names = [...k.ins.map((_, j) => `i${j}`), ...k.outs.map((_, j) => `o${j}`)];
    return `(S, ${names.join(", ")}) => { ${syms} ${callExpr(k, d, (_b, j) => `i${j}`, (_b, j) => `o${j}`)}; }`;
  });
  return `[${fns.join(", ")}]`;
}

/** The cases of the WebAssembly runner's `call(k)` hook; `V(id)` gives buffer id's array. */
export function callCasesJs(lp: LoweredProgram, d: DimJs): string[] {
  return callKernels(lp.kernels).map((k, i) => `    case ${i}: ${callExpr(k, d, (b) => `V(${b})`, (b) => `V(${b})`)}; return;`);
}
