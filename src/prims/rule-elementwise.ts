// Rule combinators for elementwise primitives written with primitives: the batching rule
// (operands moved to a leading batch axis or broadcast to it) and JVPs from elementwise partial
// derivatives. Shape/dtype inference and the reference loops need no primitive and live in
// rules/elementwise.ts.

import { type Shape, shapeEq } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import { mul } from "./binary.js";
import type { BatchRule, JvpRule } from "./primitive.js";
import { addTangents, broadcastTo, moveBatchAxis } from "./rule-helpers.js";
import { broadcastInDim } from "./shape.js";

/**
 * Batching for elementwise primitives: batched operands get their batch axis at 0; unbatched
 * scalars stay scalars; everything else is broadcast to the full batched shape.
 */
export function elementwiseBatch<P>(apply: (args: Tensor[], params: P) => Tensor[]): BatchRule<P> {
  return (args, dims, params, size) => {
    let exampleShape: Shape = [];
    args.forEach((x, i) => {
      const r = x.aval.shape.length - (dims[i] === null ? 0 : 1);
      if (r > exampleShape.length) {
        const s = [...x.aval.shape];
        if (dims[i] !== null) s.splice(dims[i]!, 1);
        exampleShape = s;
      }
    });
    const full = [size, ...exampleShape];
    const moved = args.map((x, i) => {
      if (dims[i] === null && x.aval.shape.length === 0) return x;
      const y = moveBatchAxis(x, dims[i]!, 0, size);
      if (shapeEq(y.aval.shape, full)) return y;
      // a batched scalar [size]: broadcast its missing trailing axes
      return broadcastInDim(y, full, [0]);
    });
    const outs = apply(moved, params);
    return [outs, outs.map(() => 0)];
  };
}

/**
 * JVP from elementwise partial derivatives: out' = sum_i (d out / d x_i) * x_i'. `partials`
 * receives the primal inputs and output and returns one partial per input (null: never needed).
 * Partials are only computed for inputs whose tangent is not a symbolic zero.
 */
export function fromPartials<P>(
  apply: (xs: Tensor[], params: P) => Tensor,
  partials: (xs: Tensor[], y: Tensor, params: P, need: boolean[]) => (Tensor | null)[],
): JvpRule<P> {
  return (primals, tangents, params) => {
    const y = apply(primals, params);
    const need = tangents.map((t) => !isZero(t));
    if (!need.some(Boolean)) return [[y], [new Zero(y.aval.strong())]];
    const ps = partials(primals, y, params, need);
    let out: Tangent = new Zero(y.aval);
    for (let i = 0; i < tangents.length; i++) {
      const t = tangents[i]!;
      if (!isZero(t)) out = addTangents(out, mul(ps[i]!, t));
    }
    return [[y], [isZero(out) ? out : broadcastTo(out, y.aval.shape)]];
  };
}
