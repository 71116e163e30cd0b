// Lowering of `pad` (lo / hi padding, possibly symbolic, and interior padding) into a fused,
// guarded read, so a pad (the transpose of a slice, strided or not) costs no kernel of its own,
// runs natively on every code generator and exports. Dims with interior padding are handled one
// at a time: the operand's index along that dim is (index - lo) / (interior + 1) under a stepped
// guard (views.dilateExpr); an operand that already guards or gathers along that dim is first
// materialized. The remaining lo / hi padding is one DimMap offset plus a guard per padded dim.

import { ShapedArray } from "../core/aval.js";
import { type Dim, dimAdd, dimMul } from "../core/shape.js";
import type { Atom } from "../ir/program.js";
import type { PadParams } from "../prims/shape.js";
import type { Expr } from "./kernel-ir.js";
import { type DimMap, contiguousStrides, dilateExpr, identityMap, mapExpr } from "./views.js";
import type { LowerContext } from "./context.js";

/** The expression of pad(x) over the output's loop space; `eqns` are the fused equations. */
export function padExpr(L: LowerContext, x: Atom, p: PadParams, eqns: number[]): Expr {
  const dtype = x.aval.dtype;
  const fill: Expr = { k: "const", value: p.value, dtype };
  const shape = [...(x.aval.shape as Dim[])];
  const rank = shape.length;
  // an empty operand pads to all fill (its interior has no gaps to place)
  if (shape.some((d) => d === 0)) return fill;
  let expr = L.readOrMaterialize(x, identityMap(rank), rank);

  for (let d = 0; d < rank; d++) {
    const step = p.interior[d]! + 1;
    if (step === 1) continue;
    const n = shape[d]!;
    const lo = p.lo[d]!;
    let body = dilateExpr(expr, d, lo, step, n);
    if (!body) {
      // materialize the operand as padded so far, then read it plainly
      const buf = L.newTemp(new ShapedArray(shape, dtype));
      L.push({ kind: "map", out: buf, shape: [...shape], expr, eqns: [...eqns] });
      expr = { k: "load", view: { buf, offset: 0, strides: contiguousStrides(shape) }, dtype };
      body = dilateExpr(expr, d, lo, step, n)!;
    }
    // taken at lo, lo + step, ..., lo + (n - 1) * step (hi - 1 - lo a multiple of step)
    const hi = dimAdd(dimAdd(dimMul(step, dimAdd(n, -1)), lo), 1);
    expr = { k: "guard", dim: d, lo, hi, step, body, other: fill, dtype };
    shape[d] = dimAdd(dimAdd(dimAdd(dimMul(step, n), 1 - step), lo), p.hi[d]!);
  }

  // lo / hi on the dims without interior padding
  const plain = (d: number) => p.interior[d] === 0 && (p.lo[d] !== 0 || p.hi[d] !== 0);
  if (!shape.some((_, d) => plain(d))) return expr;
  const map: DimMap[] = shape.map((_, d) => ({ loop: d, scale: 1, offset: plain(d) ? dimMul(-1, p.lo[d]!) : 0 }));
  let out = mapExpr(expr, map, rank)!; // unit scales: always expressible
  shape.forEach((n, d) => {
    if (plain(d)) out = { k: "guard", dim: d, lo: p.lo[d]!, hi: dimAdd(p.lo[d]!, n), body: out, other: fill, dtype };
  });
  return out;
}
