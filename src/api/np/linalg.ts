// np linear algebra: matmul (NumPy semantics incl. 1-D promotion and batch broadcasting), dot,
// outer, all lowered onto the single dot_general primitive without broadcasting copies when one
// operand is a plain matrix.

import { ShapeError } from "../../core/errors.js";
import { broadcastShapes, dimEq, shapeToString } from "../../core/shape.js";
import type { Tensor } from "../../core/tensor.js";
import { dotGeneral } from "../../prims/dot.js";
import { mul } from "../../prims/binary.js";
import { reshape, transpose } from "../../prims/shape.js";
import { broadcastTo, promote } from "./coerce.js";

type T = Tensor | number;

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

export function matmul(x: T, y: T): Tensor {
  const [a, b] = promote("matmul", [x, y], "int");
  const as = a!.aval.shape;
  const bs = b!.aval.shape;
  if (as.length === 0 || bs.length === 0) throw new ShapeError(`matmul: operands must not be scalars (got ${a!.aval} and ${b!.aval}); use multiply`);
  const K1 = as[as.length - 1]!;
  const K2 = bs.length === 1 ? bs[0]! : bs[bs.length - 2]!;
  if (!dimEq(K1, K2)) {
    throw new ShapeError(
      `matmul: shapes ${shapeToString(as)} and ${shapeToString(bs)} are incompatible: contracting dimension ${K1} != ${K2}`,
    );
  }
  if (bs.length === 1) {
    // [..., M, K] @ [K] -> [...]
    return dotGeneral(a!, b!, { lhsContract: [as.length - 1], rhsContract: [0], lhsBatch: [], rhsBatch: [] });
  }
  if (as.length === 1) {
    // [K] @ [..., K, N] -> [..., N]
    const r = dotGeneral(a!, b!, { lhsContract: [0], rhsContract: [bs.length - 2], lhsBatch: [], rhsBatch: [] });
    return r;
  }
  if (bs.length === 2) {
    // [..., M, K] @ [K, N]: contract directly, batch axes of a stay in front
    return dotGeneral(a!, b!, { lhsContract: [as.length - 1], rhsContract: [0], lhsBatch: [], rhsBatch: [] });
  }
  if (as.length === 2) {
    // [M, K] @ [..., K, N] -> [M, ..., N] then move M next to N
    const r = dotGeneral(a!, b!, { lhsContract: [1], rhsContract: [bs.length - 2], lhsBatch: [], rhsBatch: [] });
    const nb = bs.length - 2;
    return transpose(r, [...range(1, nb + 1), 0, nb + 1]);
  }
  const batch = broadcastShapes(as.slice(0, -2), bs.slice(0, -2));
  if (!batch) {
    throw new ShapeError(`matmul: batch dimensions of ${shapeToString(as)} and ${shapeToString(bs)} cannot be broadcast`);
  }
  const a2 = broadcastTo("matmul", a!, [...batch, ...as.slice(-2)], false);
  const b2 = broadcastTo("matmul", b!, [...batch, ...bs.slice(-2)], false);
  const nb = batch.length;
  return dotGeneral(a2, b2, { lhsContract: [nb + 1], rhsContract: [nb], lhsBatch: range(0, nb), rhsBatch: range(0, nb) });
}

/** NumPy dot: inner product for 1-D, matmul for 2-D, sum over a's last and b's second-to-last axis otherwise. */
export function dot(x: T, y: T): Tensor {
  const [a, b] = promote("dot", [x, y], "int");
  const as = a!.aval.shape;
  const bs = b!.aval.shape;
  if (as.length === 0 || bs.length === 0) return mul(...(promote("dot", [a!, b!]) as [Tensor, Tensor]));
  const ka = as.length - 1;
  const kb = bs.length === 1 ? 0 : bs.length - 2;
  if (!dimEq(as[ka]!, bs[kb]!)) {
    throw new ShapeError(`dot: shapes ${shapeToString(as)} and ${shapeToString(bs)} are not aligned: ${as[ka]} != ${bs[kb]}`);
  }
  return dotGeneral(a!, b!, { lhsContract: [ka], rhsContract: [kb], lhsBatch: [], rhsBatch: [] });
}

export function outer(x: T, y: T): Tensor {
  const [a, b] = promote("outer", [x, y], "int");
  const fa = reshape(a!, [a!.aval.size]);
  const fb = reshape(b!, [b!.aval.size]);
  return dotGeneral(fa, fb, { lhsContract: [], rhsContract: [], lhsBatch: [], rhsBatch: [] });
}
