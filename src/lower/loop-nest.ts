// Backend-neutral loop-nest planning for a kernel's loop space: which adjacent loop dims every
// access walks contiguously (so one flat loop can replace them), the views an expression reads,
// and the expression rewritten for the merged loops.

import { type Dim, dimEq, dimMul, shapeSize } from "../core/shape.js";
import type { Expr, MapKernel, ReduceKernel, View } from "./kernel-ir.js";
import { contiguousStrides } from "./views.js";

/** Merges adjacent loop dims that every view (and the contiguous output) walks contiguously. */
export function collapse(shape: Dim[], views: View[], guardDims: Set<number>, boundary: number): number[][] {
  const groups: number[][] = [];
  for (let d = 0; d < shape.length; d++) {
    const g = groups[groups.length - 1];
    const prev = g ? g[g.length - 1]! : -1;
    const ok =
      g !== undefined &&
      d !== boundary &&
      !guardDims.has(d) &&
      !guardDims.has(prev) &&
      views.every((v) => dimEq(v.strides[prev]!, dimMul(v.strides[d]!, shape[d]!)));
    if (ok) g!.push(d);
    else groups.push([d]);
  }
  return groups;
}

export function collectViews(e: Expr, out: View[], guards: Set<number>): void {
  if (e.k === "load") out.push(e.view);
  else if (e.k === "op") e.args.forEach((a) => collectViews(a, out, guards));
  else if (e.k === "guard") {
    guards.add(e.dim);
    collectViews(e.body, out, guards);
    collectViews(e.other, out, guards);
  } else if (e.k === "gather") {
    out.push(e.view);
    collectViews(e.index, out, guards);
  } else if (e.k === "index") guards.add(e.dim); // its loop dim must stay a loop of its own
}

/** Rewrites views and guard (and index) dims of `e` for collapsed loop groups. */
export function regroup(e: Expr, groups: number[][]): Expr {
  // nothing merged: the same expression (keeps the code generators' per-node caches warm)
  if (groups.every((g, i) => g.length === 1 && g[0] === i)) return e;
  const dimOf = new Map<number, number>();
  groups.forEach((g, i) => g.forEach((d) => dimOf.set(d, i)));
  // a node shared by several parents is rewritten once (and stays shared)
  const done = new Map<Expr, Expr>();
  const rec = (x: Expr): Expr => {
    let y = done.get(x);
    if (y === undefined) done.set(x, (y = rewrite(x)));
    return y;
  };
  const rewrite = (x: Expr): Expr => {
    switch (x.k) {
      case "const":
      case "dim":
        return x;
      case "load":
        return { ...x, view: regroupView(x.view, groups) };
      case "gather":
        return { ...x, view: regroupView(x.view, groups), index: rec(x.index) };
      case "op":
        return { ...x, args: x.args.map(rec) };
      case "guard":
        return { ...x, dim: dimOf.get(x.dim)!, body: rec(x.body), other: rec(x.other) };
      case "index":
        return { ...x, dim: dimOf.get(x.dim)! };
    }
  };
  return rec(e);
}

export const regroupView = (v: View, groups: number[][]): View => ({ ...v, strides: groups.map((g) => v.strides[g[g.length - 1]!]!) });

export const groupSizes = (shape: Dim[], groups: number[][]): Dim[] => groups.map((g) => shapeSize(g.map((d) => shape[d]!)));

/** The loop nest of a map kernel: merged dims (every view and the contiguous output agree). */
export function mapNest(k: MapKernel): { groups: number[][]; shape: Dim[]; expr: Expr } {
  const views: View[] = [];
  const guards = new Set<number>();
  collectViews(k.expr, views, guards);
  const groups = collapse(k.shape, [...views, { buf: k.out, offset: 0, strides: contiguousStrides(k.shape) }], guards, -1);
  return { groups, shape: groupSizes(k.shape, groups), expr: regroup(k.expr, groups) };
}

/**
 * The loop nest of a reduce kernel: outer (kept) dims then reduced dims, merged within each part;
 * `nOuter` of the merged loops are outer. The output advances with the outer dims only, except
 * for a cumulative reduction, which stores at `out` (its view over the merged loops) every step.
 */
export function reduceNest(k: ReduceKernel): { groups: number[][]; shape: Dim[]; nOuter: number; expr: Expr; out: View } {
  const full = [...k.outShape, ...k.redShape];
  const views: View[] = [];
  const guards = new Set<number>();
  collectViews(k.expr, views, guards);
  const nOut = k.outShape.length;
  const out: View = { buf: k.out, offset: 0, strides: k.scan ? k.scan.strides : [...contiguousStrides(k.outShape), ...k.redShape.map(() => 0)] };
  const groups = collapse(full, [...views, out], guards, nOut);
  return { groups, shape: groupSizes(full, groups), nOuter: groups.filter((g) => g[0]! < nOut).length, expr: regroup(k.expr, groups), out: regroupView(out, groups) };
}
