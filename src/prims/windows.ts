// window_patches: the sliding windows of an array's trailing spatial dims, the im2col of a
// convolution (api/nn-conv.ts). x [...lead, s1..sd] -> [...lead, k1..kd, o1..od] with
//   out[...l, a1..ad, i1..id] = x[...l, a1 * dilation1 + i1 * stride1, ...],
//   o_j = floor((s_j - (k_j - 1) * dilation_j - 1) / stride_j) + 1.
// It is a strided (overlapping) view of x, so its lowering is one map kernel reading x through
// that view (lower/windows.ts), where stacking one strided slice per window offset costs a
// guard per offset per element. Linear; its transpose (col2im) sums the cotangent's window
// slices back, each padded to its place (slice^T = pad), which fuses into one loop.

import { ShapedArray } from "../core/aval.js";
import { allocArray } from "../core/dtype.js";
import { ShapeError } from "../core/errors.js";
import { type Dim, dimMul, stridesOf } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { linearJvp } from "./rule-linear.js";
import { Zero, isZero } from "../rules/zero.js";
import { add } from "./binary.js";
import { definePrimitive, type Primitive } from "./primitive.js";
import { stridedCopy } from "./ref/strided.js";
import { moveAxis, pad, reshape, slice } from "./shape.js";

export interface WindowParams {
  /** window size per spatial dim (the trailing window.length dims of the operand) */
  window: number[];
  strides: number[];
  dilation: number[];
}

/** The output spatial sizes (o_j above); a window that does not fit is a ShapeError. */
function windowOut(x: ShapedArray, p: WindowParams): number[] {
  const nd = p.window.length;
  const ok = (a: number[]) => a.length === nd && a.every((v) => Number.isInteger(v) && v >= 1);
  if (!ok(p.window) || !ok(p.strides) || !ok(p.dilation) || x.ndim < nd) {
    throw new ShapeError(`window_patches: window ${JSON.stringify(p.window)}, strides ${JSON.stringify(p.strides)}, dilation ${JSON.stringify(p.dilation)} do not fit ${x}`);
  }
  // the leading (batch) dims may be symbolic (vmap at a symbolic batch, exports); the spatial ones
  // decide the output's size, so they must be concrete
  const sp = x.shape.slice(x.ndim - nd);
  if (!sp.every((d): d is number => typeof d === "number")) throw new ShapeError(`window_patches: the spatial dims of ${x} must be concrete`);
  const out = sp.map((n, j) => Math.floor((n - (p.window[j]! - 1) * p.dilation[j]! - 1) / p.strides[j]!) + 1);
  if (out.some((o) => o <= 0)) throw new ShapeError(`window_patches: the window ${JSON.stringify(p.window)} (dilation ${JSON.stringify(p.dilation)}) does not fit the spatial dims ${JSON.stringify(sp)} of ${x}`);
  return out;
}

/** Every window offset (a1..ad), row-major over the window. */
export function windowOffsets(window: readonly number[]): number[][] {
  const K = window.reduce((a, b) => a * b, 1);
  return Array.from({ length: K }, (_, k) => {
    const a = window.map(() => 0);
    for (let j = window.length - 1, r = k; j >= 0; j--) (a[j] = r % window[j]!), (r = Math.floor(r / window[j]!));
    return a;
  });
}

/** xs combined pairwise by `op` in a balanced tree (keeps fused expressions shallow). */
export function pairwise(xs: Tensor[], op: (a: Tensor, b: Tensor) => Tensor): Tensor {
  let level = xs;
  while (level.length > 1) {
    const next: Tensor[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? op(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0]!;
}

/**
 * The strides (in elements) of the window view of a contiguous x of `shape`: lead, then window,
 * then output dims. The leading dims may be symbolic (their strides are then polynomials).
 */
export function windowStrides(shape: readonly Dim[], p: WindowParams): Dim[] {
  const nd = p.window.length;
  const st = new Array<Dim>(shape.length);
  let acc: Dim = 1;
  for (let i = shape.length - 1; i >= 0; i--) (st[i] = acc), (acc = dimMul(acc, shape[i]!));
  const lead = st.slice(0, shape.length - nd);
  const sp = st.slice(shape.length - nd);
  return [...lead, ...sp.map((s, j) => dimMul(s, p.dilation[j]!)), ...sp.map((s, j) => dimMul(s, p.strides[j]!))];
}

export const windowPatchesP: Primitive<WindowParams> = definePrimitive<WindowParams>({
  name: "window_patches",
  linear: true,
  abstractEval: ([x], p) => {
    const out = windowOut(x!, p);
    const lead = x!.shape.slice(0, x!.ndim - p.window.length);
    return [new ShapedArray([...lead, ...p.window, ...out], x!.dtype)];
  },
  impl: ([x], p, [o]) => {
    const shape = o!.shape as number[];
    const data = allocArray(o!.dtype, shape.reduce((a, b) => a * b, 1));
    if (data.length) stridedCopy(x!.data, 0, windowStrides(x!.aval.shape, p) as number[], data, 0, stridesOf(shape), shape);
    return [data];
  },
  jvp: linearJvp(() => windowPatchesP),
  transpose: ([ct], [x], p) => [isZero(ct) ? new Zero(x!.aval) : windowPatchesTranspose(ct!, x!.aval, p)],
  // every dim before the spatial ones is a batch dim: the batch axis goes first
  batch: ([x], [d], p) => [[windowPatches(moveAxis(x!, d!, 0), p)], [0]],
});

/**
 * col2im: the transpose of window_patches. Window offset a's slice of the cotangent [...lead,
 * o1..od] lands at x[..., a * dilation + i * stride]: a pad with lo a * dilation, interior
 * stride - 1 and the rest as hi; the pads are summed in a balanced tree.
 */
function windowPatchesTranspose(ct: Tensor, x: ShapedArray, p: WindowParams): Tensor {
  const nd = p.window.length;
  const xs = x.shape;
  const cs = ct.aval.shape;
  const nl = xs.length - nd;
  const lead = xs.slice(0, nl);
  const out = cs.slice(nl + nd) as number[];
  const parts = windowOffsets(p.window).map((a) => {
    const start = [...lead.map(() => 0), ...a, ...out.map(() => 0)];
    const s = reshape(slice(ct, start, [...lead, ...a.map((v) => v + 1), ...out]), [...lead, ...out]);
    const lo = a.map((v, j) => v * p.dilation[j]!);
    const hi = lo.map((l, j) => (xs[nl + j] as number) - (l + (out[j]! - 1) * p.strides[j]! + 1));
    return pad(s, [...lead.map(() => 0), ...lo], [...lead.map(() => 0), ...hi], [...lead.map(() => 0), ...p.strides.map((v) => v - 1)], 0);
  });
  return pairwise(parts, add);
}

/** The windows of x's trailing window.length dims: [...lead, ...window, ...out]. */
export function windowPatches(x: Tensor, p: WindowParams): Tensor {
  return windowPatchesP.bind1([x], { window: [...p.window], strides: [...p.strides], dilation: [...p.dilation] });
}
