// The fuzzer's model of NumPy indexing (x[items]: integers, slices, newaxis and integer arrays
// with NumPy's advanced-indexing placement rule), written from the NumPy documentation without
// adgen code. The generator uses it for result shapes, the reference (ref.ts) for which source
// element each result element reads, and x.at(items) updates for which positions they write.

import { type IndexItem, type Shape, size, slicePositions } from "./ast.js";

export interface IndexPlan {
  sh: Shape;
  /** source multi-index of result element `idx` */
  src: (idx: number[]) => number[];
}

type Part = { kind: "basic"; ax: number; pos: number[] } | { kind: "new" } | { kind: "adv" };

/**
 * NumPy's rule: when any item is an integer array, every integer item is an advanced index too;
 * the advanced indices broadcast together (here: 1-D arrays of one length L, or length 1) and
 * their dimension replaces them in place when they are adjacent in the item list, else goes first.
 */
export function indexPlan(shape: Shape, items: readonly IndexItem[]): IndexPlan {
  const hasArr = items.some((it) => it !== null && typeof it === "object" && "arr" in it);
  const parts: Part[] = [];
  const fixed: [number, number][] = [];
  const adv: { ax: number; item: number | number[]; at: number }[] = [];
  let ax = 0;
  items.forEach((it, at) => {
    if (it === null) parts.push({ kind: "new" });
    else if (typeof it === "number") {
      const n = shape[ax]!;
      const i = it < 0 ? it + n : it;
      if (hasArr) adv.push({ ax, item: i, at });
      else fixed.push([ax, i]);
      ax++;
    } else if ("arr" in it) {
      const n = shape[ax]!;
      adv.push({ ax, item: it.arr.map((v) => (v < 0 ? v + n : v)), at });
      ax++;
    } else {
      parts.push({ kind: "basic", ax, pos: slicePositions(shape[ax]!, it.s) });
      ax++;
    }
    if (hasArr && adv.length === 1 && adv[0]!.at === at) parts.push({ kind: "adv" });
  });
  for (; ax < shape.length; ax++) parts.push({ kind: "basic", ax, pos: Array.from({ length: shape[ax]! }, (_, i) => i) });
  const L = Math.max(1, ...adv.map((a) => (Array.isArray(a.item) ? a.item.length : 1)));
  const adjacent = adv.every((a, j) => j === 0 || a.at === adv[j - 1]!.at + 1);
  if (hasArr && !adjacent) {
    // the advanced dimension goes first
    const i = parts.findIndex((p) => p.kind === "adv");
    parts.splice(i, 1);
    parts.unshift({ kind: "adv" });
  }
  const sh = parts.map((p) => (p.kind === "basic" ? p.pos.length : p.kind === "new" ? 1 : L));
  return {
    sh,
    src: (idx) => {
      const src = new Array<number>(shape.length).fill(0);
      for (const [a, i] of fixed) src[a] = i;
      parts.forEach((p, o) => {
        if (p.kind === "basic") src[p.ax] = p.pos[idx[o]!]!;
        else if (p.kind === "adv") for (const a of adv) src[a.ax] = Array.isArray(a.item) ? a.item[a.item.length === 1 ? 0 : idx[o]!]! : a.item;
      });
      return src;
    },
  };
}

/** Flat source positions read by x[items], in the result's C order (the order x.at(items) updates in). */
export function indexPositions(shape: Shape, items: readonly IndexItem[]): { sh: Shape; pos: number[] } {
  const plan = indexPlan(shape, items);
  const n = size(plan.sh);
  const pos: number[] = [];
  for (let k = 0; k < n; k++) {
    const idx = new Array<number>(plan.sh.length);
    let r = k;
    for (let i = plan.sh.length - 1; i >= 0; i--) { idx[i] = r % plan.sh[i]!; r = Math.floor(r / plan.sh[i]!); }
    pos.push(plan.src(idx).reduce((acc, x, i) => acc * shape[i]! + x, 0));
  }
  return { sh: plan.sh, pos };
}
