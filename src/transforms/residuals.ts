// The residual report, in one form for every path that shows one: `jit(f).lower(...).residuals()`
// (the values a gradient traced inside f saves), the residual ABI of an `exportVjp` manifest (the
// forward outputs after the primal outputs) and the ONNX vjp export. Each entry names the residual
// by its position (r0, r1, ...: the order forward returns them and backward takes them), gives its
// dtype and shape (symbolic dimensions as their names), its size in bytes (a formula such as
// "3136*B" when the shape is symbolic) and what produced it: a primitive and the user's line, an
// input (by its argument path), or a constant; a value named with `checkpointName` carries that
// name (`userName`).

import type { ShapedArray } from "../core/aval.js";
import { byteSize } from "../core/dtype.js";
import type { Dim } from "../core/shape.js";
import { type Atom, type Equation, Literal, type Program, Var } from "../ir/program.js";

/** A dimension in JSON form: a size, or a symbolic dimension's text ("B", "2*B"). */
export type JsonDim = number | string;

/**
 * One saved residual. At concrete shapes `shape` and `bytes` are numbers (`ResidualInfo<number>`);
 * at symbolic shapes they hold the symbolic dimensions' text and a byte formula.
 */
export interface ResidualInfo<D extends JsonDim = JsonDim> {
  name: string;
  dtype: string;
  shape: D[];
  bytes: D;
  /** "tanh at model.ts:12:7", "input arg 0.W1", "captured constant" or "constant" */
  producedBy: string;
  /** the user's name for it, where the value is a `checkpointName(x, name)` (present only then) */
  userName?: string;
}

/** A residual to describe: its atom in the program (null when it is not one of its values). */
export interface SavedValue {
  atom: Atom | null;
  aval: ShapedArray;
  /** what produced it, when the program cannot say (a value of another trace) */
  producedBy?: string;
}

export const jsonDims = (s: readonly Dim[]): JsonDim[] => s.map((d) => (typeof d === "number" ? d : d.toString()));

/** Bytes of an array: a number, or a product formula over the symbolic dimensions ("40*B"). */
export function bytesOf(dtype: string, shape: readonly JsonDim[]): JsonDim {
  const n = shape.filter((d): d is number => typeof d === "number").reduce((a, b) => a * b, byteSize(dtype as never));
  const sym = shape.filter((d): d is string => typeof d === "string");
  return sym.length ? [String(n), ...sym.map((s) => (s.includes("+") || s.includes("-") ? `(${s})` : s))].join("*") : n;
}

/**
 * The report of `saved` (in order: entry i is named r<i>) as values of `program`; `inputNames[i]`
 * names program input i (its argument path, e.g. "arg 0.W1").
 */
export function describeResiduals(program: Program, saved: readonly SavedValue[], inputNames: readonly string[] = []): ResidualInfo[] {
  const defs = new Map<Var, Equation>(program.equations.flatMap((e) => e.outs.map((o) => [o, e] as const)));
  return saved.map((s, i) => {
    const shape = jsonDims(s.aval.shape);
    const info: ResidualInfo = { name: `r${i}`, dtype: s.aval.dtype, shape, bytes: bytesOf(s.aval.dtype, shape), producedBy: producer(program, defs, s, inputNames) };
    const user = userNameOf(defs, s.atom);
    return user === undefined ? info : { ...info, userName: user };
  });
}

/** The `checkpointName` a residual carries: its own equation's, or the one inside the checkpoint that saved it. */
function userNameOf(defs: Map<Var, Equation>, a: Atom | null): string | undefined {
  if (!(a instanceof Var)) return undefined;
  const e = defs.get(a);
  if (e?.prim.name === "checkpoint_name") return String(e.params.name);
  if (e?.prim.name === "checkpoint" && e.params.program) {
    const body = e.params.program as Program;
    const inner = body.outputs[e.outs.indexOf(a)];
    return userNameOf(new Map(body.equations.flatMap((q) => q.outs.map((o) => [o, q] as const))), inner ?? null);
  }
  return undefined;
}

function producer(program: Program, defs: Map<Var, Equation>, s: SavedValue, inputNames: readonly string[]): string {
  const a = s.atom;
  if (a instanceof Var) {
    const e = defs.get(a);
    if (e?.prim.name === "checkpoint" && e.params.program) return savedByCheckpoint(program, defs, e, a, inputNames);
    if (e) {
      const src = e.source !== undefined ? String(e.source) : "";
      return `${e.prim.name}${src ? ` at ${src}` : ""}`;
    }
    const k = program.inputs.indexOf(a);
    if (k >= 0) return `input ${inputNames[k] ?? `arg ${k}`}`;
    if (program.consts.includes(a)) return "captured constant";
  }
  if (a instanceof Literal) return "constant";
  return s.producedBy ?? "constant";
}

/**
 * A residual a checkpoint's forward half returns (its policy chose to save it): named by the
 * equation inside the checkpoint that produced it, and the policy, so `.residuals()` shows what a
 * policy or memory budget kept ("tanh at model.ts:12:7, saved by checkpoint dotsSaveable").
 */
function savedByCheckpoint(program: Program, defs: Map<Var, Equation>, e: Equation, a: Var, inputNames: readonly string[]): string {
  const body = e.params.program as Program;
  const inner = body.outputs[e.outs.indexOf(a)];
  // a checkpoint input passed through: described where it comes from
  const k = inner instanceof Var ? body.inputs.indexOf(inner) : -1;
  if (k >= 0) return producer(program, defs, { atom: e.inputs[k]!, aval: inner!.aval }, inputNames);
  const policy = e.params.policy;
  const name = typeof policy === "string" ? policy : typeof policy === "object" && policy !== null ? Object.keys(policy)[0] : "policy";
  const at = e.source !== undefined ? ` at ${String(e.source)}` : "";
  const what = inner === undefined ? "checkpoint" : producer(body, new Map(body.equations.flatMap((q) => q.outs.map((o) => [o, q] as const))), { atom: inner, aval: inner.aval }, []);
  return `${what}, saved by checkpoint${at} (${name})`;
}
