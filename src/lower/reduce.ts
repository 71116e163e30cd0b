// Lowering rules of reductions (reduce_sum/max/min/prod over axes, argmax/argmin over one axis):
// a reduce kernel over the loop space [kept dims..., reduced dims...] that fuses the expression
// of its operand (so the elementwise work feeding a sum is never materialized) and writes its
// result to a buffer. cumsum / cumprod are cumulative reduce kernels over [kept dims..., axis]
// that store the running value at every step (the output keeps the operand's layout).

import type { Dim } from "../core/shape.js";
import type { Equation } from "../ir/program.js";
import { type LowerContext, fusedEqns } from "./context.js";
import type { ReduceKernel } from "./kernel-ir.js";
import { type DimMap, contiguousStrides } from "./views.js";

type Rule = (L: LowerContext, e: Equation, id: number) => void;

/** A reduce kernel over `axes` of the operand (loop order: kept dims, then `axes` as given). */
function reduceOver(L: LowerContext, e: Equation, id: number, axes: number[], op: ReduceKernel["op"], scan?: { reverse: boolean }): void {
  const out = e.outs[0]!;
  const inShape = e.inputs[0]!.aval.shape as Dim[];
  const kept = inShape.map((_, i) => i).filter((i) => !axes.includes(i));
  const map: DimMap[] = new Array(inShape.length);
  [...kept, ...axes].forEach((d, pos) => (map[d] = { loop: pos, scale: 1, offset: 0 }));
  const expr = L.readOrMaterialize(e.inputs[0]!, map, inShape.length);
  const buf = L.outBuffer(out);
  const outShape = kept.map((d) => inShape[d]!);
  const redShape = axes.map((d) => inShape[d]!);
  const eqns = fusedEqns(L, [e.inputs[0]!], id);
  if (scan) {
    // the running values keep the operand's layout: contiguous strides, read in loop order
    const cs = contiguousStrides(inShape);
    L.push({ kind: "reduce", out: buf, outShape, redShape, op, expr, scan: { reverse: scan.reverse, strides: [...kept, ...axes].map((d) => cs[d]!) }, eqns });
  } else L.push({ kind: "reduce", out: buf, outShape, redShape, op, expr, eqns });
  L.bindBuffer(out, buf);
}

/** reduce_sum, reduce_max, reduce_min, reduce_prod: the reduced axes in increasing order. */
export function reduction(op: "sum" | "max" | "min" | "prod"): Rule {
  return (L, e, id) => reduceOver(L, e, id, [...(e.params.axes as number[])].sort((a, b) => a - b), op);
}

/** argmax, argmin: the int32 index of the first extremum (or first NaN) along one axis. */
export function argReduction(op: "argmax" | "argmin"): Rule {
  return (L, e, id) => reduceOver(L, e, id, [e.params.axis as number], op);
}

/** cumsum, cumprod: the running value along one axis, stored at every step. */
export function cumulative(op: "cumsum" | "cumprod"): Rule {
  return (L, e, id) => reduceOver(L, e, id, [e.params.axis as number], op, { reverse: e.params.reverse as boolean });
}
