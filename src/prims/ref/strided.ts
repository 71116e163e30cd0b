// Reference kernels for data movement: an N-d strided copy (transpose, broadcast, slice, reverse,
// pad and concatenate are all one call of it) and index helpers. Plain loops over typed arrays.

import type { TypedArray } from "../../core/dtype.js";
import { stridesOf } from "../../core/shape.js";

/**
 * For every index i in `shape`: dst[dstOff + i.dstStrides] = src[srcOff + i.srcStrides].
 * Strides may be zero (broadcast) or negative (reverse).
 */
export function stridedCopy(
  src: TypedArray,
  srcOff: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstOff: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  const nd = shape.length;
  for (const d of shape) if (d === 0) return;
  if (nd === 0) {
    dst[dstOff] = src[srcOff]!;
    return;
  }
  const inner = shape[nd - 1]!;
  const sIn = srcStrides[nd - 1]!;
  const dIn = dstStrides[nd - 1]!;
  const idx = new Array<number>(nd - 1).fill(0);
  let s = srcOff;
  let d = dstOff;
  for (;;) {
    if (sIn === 1 && dIn === 1) {
      for (let k = 0; k < inner; k++) dst[d + k] = src[s + k]!;
    } else {
      for (let k = 0, sk = s, dk = d; k < inner; k++, sk += sIn, dk += dIn) dst[dk] = src[sk]!;
    }
    // advance the outer multi-index
    let ax = nd - 2;
    for (; ax >= 0; ax--) {
      idx[ax]!++;
      s += srcStrides[ax]!;
      d += dstStrides[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      s -= srcStrides[ax]! * shape[ax]!;
      d -= dstStrides[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
    if (ax < 0) return;
  }
}

/** Copies `src` (of `shape`) into a permuted layout: out axis i is src axis perm[i]. */
export function permuteData(src: TypedArray, shape: readonly number[], perm: readonly number[], out: TypedArray): void {
  const st = stridesOf(shape);
  stridedCopy(src, 0, perm.map((p) => st[p]!), out, 0, stridesOf(perm.map((p) => shape[p]!)), perm.map((p) => shape[p]!));
}
