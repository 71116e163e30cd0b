// Lowering rule of window_patches (prims/windows.ts): one map kernel reading the materialized
// operand through the overlapping strided view of its windows (a plain load per element: the
// innermost output dim walks the operand with the window stride, contiguous for stride 1).

import type { Dim } from "../core/shape.js";
import type { Equation, Var } from "../ir/program.js";
import { type WindowParams, windowStrides } from "../prims/windows.js";
import type { LowerContext } from "./context.js";

export function windowPatches(L: LowerContext, e: Equation, id: number): void {
  const x = e.inputs[0]! as Var;
  const out = e.outs[0]!;
  const xb = L.materialize(x);
  const strides = windowStrides(x.aval.shape, e.params as WindowParams);
  const buf = L.outBuffer(out);
  const shape = out.aval.shape as Dim[];
  L.push({ kind: "map", out: buf, shape: [...shape], expr: { k: "load", view: { buf: xb, offset: 0, strides }, dtype: out.aval.dtype }, eqns: [id] });
  L.bindBuffer(out, buf);
}
