// Cost and memory analysis of one specialization (`jit(f).lower(...).compile().costAnalysis()`,
// like jax.stages' cost_analysis / memory_analysis): per fused kernel and in total, the flops,
// transcendental operations and bytes read / written, as formulas in the symbolic dims when the
// specialization has them. The counting rules (documented in docs/diagnostics.md): an
// element-wise op costs one flop per output element, a reduction one per input element, a
// dot_general 2*M*N*K per batch, data movement (reshape, transpose, slice, gather, ...) none; a
// transcendental op (exp, log, sin, ..., pow, sqrt) counts one transcendental per output element
// instead of a flop. A loop body counts once per iteration (scan: its length; while: once, its
// trip count being unknown before the run). Bytes are those of the values a kernel reads from
// outside itself and writes for use outside itself.

import { byteSize } from "../core/dtype.js";
import { type Dim, dimAdd, dimMul, dimToString, shapeSize } from "../core/shape.js";
import type { ShapedArray } from "../core/aval.js";
import { type Equation, type Program, type Var, isVar, subPrograms } from "../ir/program.js";
import type { DotParams } from "../prims/dot.js";

export interface Cost<D = Dim> {
  flops: D;
  transcendentals: D;
  bytesRead: D;
  bytesWritten: D;
}

export interface KernelCost extends Cost<string> {
  kernel: number;
  kind: string;
  primitives: string[];
}

export interface CostAnalysis {
  kernels: KernelCost[];
  total: Cost<string>;
  /** the total as numbers when every dim is concrete (else null: see `total` for formulas) */
  totalNumbers: Cost<number> | null;
}

const MOVES = new Set(["reshape", "transpose", "broadcast_in_dim", "concatenate", "pad", "slice", "rev", "window_patches", "gather", "convert_element_type", "stop_gradient", "index_check", "dim_value", "random_bits", "random_split", "random_fold_in", "select"]);
const TRANSCENDENTAL = new Set(["exp", "expm1", "log", "log1p", "sin", "cos", "tan", "tanh", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "erfc", "erf_inv", "lgamma", "digamma", "logistic", "pow", "sqrt", "rsqrt", "cbrt"]);

const zero = (): Cost => ({ flops: 0, transcendentals: 0, bytesRead: 0, bytesWritten: 0 });
const add = (a: Cost, b: Cost, times: Dim = 1): Cost => ({
  flops: dimAdd(a.flops, dimMul(b.flops, times)),
  transcendentals: dimAdd(a.transcendentals, dimMul(b.transcendentals, times)),
  bytesRead: dimAdd(a.bytesRead, dimMul(b.bytesRead, times)),
  bytesWritten: dimAdd(a.bytesWritten, dimMul(b.bytesWritten, times)),
});
export const bytesOf = (a: ShapedArray): Dim => dimMul(shapeSize(a.shape), byteSize(a.dtype));

/** Flops and transcendentals of one equation (sub-programs included, bytes excluded). */
function equationCost(e: Equation): Cost {
  const subs = subPrograms(e);
  if (subs.length) {
    const times: Dim = e.prim.name === "scan" && e.params?.length !== undefined ? e.params.length : 1;
    // a cond runs one branch: count the most expensive one (the first when costs are symbolic)
    const costs = subs.map((p) => programCost(p));
    const body = e.prim.name === "cond" ? costs.reduce((m, c) => (typeof c.flops === "number" && typeof m.flops === "number" && c.flops > m.flops ? c : m)) : costs.reduce((a, b) => add(a, b));
    return add(zero(), { ...body, bytesRead: 0, bytesWritten: 0 }, times);
  }
  const name = e.prim.name;
  const out = e.outs.reduce<Dim>((n, o) => dimAdd(n, shapeSize(o.aval.shape)), 0);
  if (name === "dot_general") {
    const x = e.inputs[0]!.aval.shape;
    const k = (e.params as DotParams).lhsContract.reduce<Dim>((n, d) => dimMul(n, x[d]!), 1);
    return { ...zero(), flops: dimMul(dimMul(out, k), 2) };
  }
  if (MOVES.has(name)) return zero();
  if (TRANSCENDENTAL.has(name)) return { ...zero(), transcendentals: out };
  if (name.startsWith("reduce_") || name === "cumsum" || name === "cumprod") return { ...zero(), flops: shapeSize(e.inputs[0]!.aval.shape) };
  return { ...zero(), flops: out };
}

/** Flops and transcendentals of a whole program (no bytes: those belong to kernels). */
export function programCost(p: Program): Cost {
  return p.equations.reduce((c, e) => add(c, equationCost(e)), zero());
}

const show = (c: Cost): Cost<string> => ({ flops: dimToString(c.flops), transcendentals: dimToString(c.transcendentals), bytesRead: dimToString(c.bytesRead), bytesWritten: dimToString(c.bytesWritten) });

/**
 * The cost of each kernel (a group of equation indices of `p`, as fused by the lowering) and the
 * total. Bytes: values a kernel reads that it does not compute, values it computes that are
 * used outside it (or are program outputs).
 */
export function costAnalysis(p: Program, kernels: { kind: string; equations: number[] }[]): CostAnalysis {
  const kernelOf = new Map<Var, number>();
  kernels.forEach((k, i) => k.equations.forEach((e) => p.equations[e]!.outs.forEach((o) => kernelOf.set(o, i))));
  const usedOutside = new Set<Var>(p.outputs.filter(isVar));
  kernels.forEach((k, i) =>
    k.equations.forEach((e) =>
      p.equations[e]!.inputs.forEach((x) => {
        if (isVar(x) && kernelOf.get(x) !== i) usedOutside.add(x);
      }),
    ),
  );
  let total = zero();
  const rows = kernels.map((k, i) => {
    let c = zero();
    const read = new Set<Var>();
    for (const ei of k.equations) {
      const e = p.equations[ei]!;
      c = add(c, equationCost(e));
      for (const x of e.inputs) if (isVar(x) && kernelOf.get(x) !== i) read.add(x);
      for (const o of e.outs) if (usedOutside.has(o)) c.bytesWritten = dimAdd(c.bytesWritten, bytesOf(o.aval));
    }
    for (const x of read) c.bytesRead = dimAdd(c.bytesRead, bytesOf(x.aval));
    total = add(total, c);
    return { kernel: i, kind: k.kind, primitives: k.equations.map((e) => p.equations[e]!.prim.name), ...show(c) };
  });
  const concrete = [total.flops, total.transcendentals, total.bytesRead, total.bytesWritten].every((d) => typeof d === "number");
  return { kernels: rows, total: show(total), totalNumbers: concrete ? (total as Cost<number>) : null };
}
