// Memory planning: every temporary buffer of a lowered program gets a byte offset in one arena,
// reusing space by liveness (a buffer's block is free again after its last reader). A map kernel
// that reads a dying buffer element-for-element may write its result in place. Static programs
// are planned once at compile time; shape-polymorphic ones once per binding of their symbols.

import { byteSize } from "../core/dtype.js";
import { type Dim, dimEq } from "../core/shape.js";
import { type Expr, type Kernel, type LoweredProgram, type View, nestedKernels } from "./kernel-ir.js";
import { contiguousStrides } from "./views.js";

const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

function exprViews(e: Expr, out: View[]): View[] {
  if (e.k === "load") out.push(e.view);
  else if (e.k === "op") e.args.forEach((a) => exprViews(a, out));
  else if (e.k === "guard") {
    exprViews(e.body, out);
    exprViews(e.other, out);
  } else if (e.k === "gather") {
    out.push(e.view);
    exprViews(e.index, out);
  }
  return out;
}

/** Buffers a kernel reads. */
export function kernelReads(k: Kernel): number[] {
  switch (k.kind) {
    case "map":
    case "reduce":
      return exprViews(k.expr, []).map((v) => v.buf);
    case "scatter":
      return [...exprViews(k.value, []), ...exprViews(k.index, [])].map((v) => v.buf);
    case "dot":
      return [k.lhs.buf, k.rhs.buf];
    case "call":
      return k.ins;
    case "cond":
      return [k.index, ...k.branches.flat().flatMap(kernelReads)];
    case "while":
      return [k.pred, ...nestedKernels(k).flat().flatMap(kernelReads)];
    case "loop":
      return k.body.flatMap(kernelReads);
  }
}

/** Buffers a kernel writes (control flow: everything nested kernels write, live throughout). */
export function kernelWrites(k: Kernel): number[] {
  if (k.kind === "call") return k.outs;
  if (k.kind === "loop" || k.kind === "cond" || k.kind === "while") return [...new Set(nestedKernels(k).flat().flatMap(kernelWrites))];
  return [k.out];
}

export interface MemoryPlan {
  /** byte offset of each temp buffer, by buffer id */
  offsets: number[];
  arenaBytes: number;
}

/** Assigns arena offsets to temporaries given every buffer's element count (by buffer id). */
export function planMemory(lp: LoweredProgram, sizes: readonly number[]): MemoryPlan {
  const offsets: number[] = [];
  const isTemp = (b: number) => lp.buffers[b]!.kind === "temp";
  const bytes = (b: number) => align(sizes[b]! * byteSize(lp.buffers[b]!.dtype));
  const lastUse = new Map<number, number>();
  // last kernel touching each temp (a loop carry is read and written again inside its loop)
  lp.kernels.forEach((k, i) => [...kernelReads(k), ...kernelWrites(k)].forEach((b) => isTemp(b) && lastUse.set(b, i)));

  let free: { offset: number; size: number }[] = [];
  let end = 0;
  const alloc = (size: number): number => {
    let best = -1;
    free.forEach((blk, i) => {
      if (blk.size >= size && (best < 0 || blk.size < free[best]!.size)) best = i;
    });
    if (best < 0) {
      const off = end;
      end += size;
      return off;
    }
    const blk = free[best]!;
    const off = blk.offset;
    if (blk.size === size) free.splice(best, 1);
    else free[best] = { offset: blk.offset + size, size: blk.size - size };
    return off;
  };
  const release = (offset: number, size: number) => {
    free.push({ offset, size });
    // merge adjacent blocks
    free.sort((a, b) => a.offset - b.offset);
    const merged: typeof free = [];
    for (const b of free) {
      const last = merged[merged.length - 1];
      if (last && last.offset + last.size === b.offset) last.size += b.size;
      else merged.push({ ...b });
    }
    free = merged;
  };

  lp.kernels.forEach((k, i) => {
    const handedOver = new Set<number>();
    for (const out of kernelWrites(k)) {
      if (!isTemp(out) || offsets[out] !== undefined) continue; // a loop carry is written again
      const donor = k.kind === "map" && !k.outOffset ? inPlaceDonor(lp, k.expr, k.shape, i, lastUse, bytes, out, handedOver) : -1;
      if (donor >= 0) {
        offsets[out] = offsets[donor]!;
        handedOver.add(donor);
      } else offsets[out] = alloc(bytes(out));
    }
    for (const b of new Set([...kernelReads(k), ...kernelWrites(k)])) {
      if (isTemp(b) && lastUse.get(b) === i && !handedOver.has(b)) release(offsets[b]!, bytes(b));
    }
  });
  return { offsets, arenaBytes: end };
}

/** A temp that dies here and is only read element-for-element by this map kernel. */
function inPlaceDonor(
  lp: LoweredProgram,
  expr: Expr,
  shape: Dim[],
  k: number,
  lastUse: Map<number, number>,
  bytes: (b: number) => number,
  out: number,
  taken: Set<number>,
): number {
  const views = exprViews(expr, []);
  const cs = contiguousStrides(shape);
  const identity = (v: View) => v.offset === 0 && v.strides.every((s, i) => dimEq(s, cs[i]!) || shape[i] === 1);
  const outDType = lp.buffers[out]!.dtype;
  for (const v of views) {
    const b = v.buf;
    const buf = lp.buffers[b]!;
    if (buf.kind !== "temp" || lastUse.get(b) !== k || taken.has(b)) continue;
    // same element width, so output element i only overlaps input element i (already read)
    const sameWidth = byteSize(buf.dtype) === byteSize(outDType);
    if (sameWidth && views.filter((w) => w.buf === b).every(identity) && bytes(b) >= bytes(out)) return b;
  }
  return -1;
}
