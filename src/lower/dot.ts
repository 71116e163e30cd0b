// Lowering rule of dot_general: a dot kernel (batched matrix product) over strided views of its
// operands. An operand whose batch / free / contracted dims can be merged in place is read
// through its view (a transpose feeding a product costs nothing); any other is materialized in
// the needed order first.

import { ShapedArray } from "../core/aval.js";
import { type Dim, shapeSize } from "../core/shape.js";
import type { Atom, Equation } from "../ir/program.js";
import type { DotParams } from "../prims/dot.js";
import type { LowerContext } from "./context.js";
import type { View } from "./kernel-ir.js";
import { type DimMap, contiguousStrides } from "./views.js";

export function dotGeneral(L: LowerContext, e: Equation, id: number): void {
  const p = e.params as DotParams;
  const [x, y] = e.inputs as [Atom, Atom];
  const xs = x.aval.shape as Dim[];
  const ys = y.aval.shape as Dim[];
  const xFree = xs.map((_, i) => i).filter((i) => !p.lhsContract.includes(i) && !p.lhsBatch.includes(i));
  const yFree = ys.map((_, i) => i).filter((i) => !p.rhsContract.includes(i) && !p.rhsBatch.includes(i));
  const size = (s: Dim[], d: number[]): Dim => shapeSize(d.map((i) => s[i]!));
  const fusedEqns: number[] = [];
  const view = (a: Atom, groups: number[][]): View => {
    const v = L.groupedView(a, groups);
    if (v) {
      fusedEqns.push(...L.eqnsOf(a)); // data movement read through strides
      return v;
    }
    // materialize in the needed order, then it is contiguous
    const order = groups.flat();
    const shape = a.aval.shape as Dim[];
    const map: DimMap[] = new Array(shape.length);
    order.forEach((d, pos) => (map[d] = { loop: pos, scale: 1, offset: 0 }));
    const permShape = order.map((d) => shape[d]!);
    const expr = L.readOrMaterialize(a, map, shape.length);
    const buf = L.newTemp(new ShapedArray(permShape, a.aval.dtype));
    L.push({ kind: "map", out: buf, shape: permShape, expr, eqns: L.eqnsOf(a) });
    const cs = contiguousStrides(permShape);
    const strides: Dim[] = groups.map((g, gi) => {
      const lastPos = groups.slice(0, gi + 1).flat().length - 1;
      return g.length ? cs[lastPos]! : 0;
    });
    return { buf, offset: 0, strides };
  };
  const lhs = view(x, [p.lhsBatch, xFree, p.lhsContract]);
  const rhs = view(y, [p.rhsBatch, p.rhsContract, yFree]);
  const out = e.outs[0]!;
  const buf = L.outBuffer(out);
  L.push({
    kind: "dot",
    out: buf,
    B: size(xs, p.lhsBatch),
    M: size(xs, xFree),
    N: size(ys, yFree),
    K: size(xs, p.lhsContract),
    dtype: out.aval.dtype,
    lhs,
    rhs,
    eqns: [...fusedEqns, id],
  });
  L.bindBuffer(out, buf);
}
