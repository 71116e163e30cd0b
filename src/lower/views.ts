// Index maps between loop spaces. A DimMap says, for each dimension of a value, which loop
// dimension indexes it (with a scale and offset) or that it is fixed. Transpose, broadcast, slice,
// reverse and pad are all DimMaps (interior padding, a division of the index, is dilateExpr), and composing one with a strided view or a guard stays in the
// same form, which is what lets data movement fuse into the kernels that read it. Offsets and
// strides are dimensions (possibly symbolic).

import { type Dim, dimAdd, dimEq, dimMul } from "../core/shape.js";
import type { Expr, View } from "./kernel-ir.js";

export type DimMap = { loop: number; scale: number; offset: Dim } | { loop: -1; offset: Dim };

const neg = (d: Dim) => dimMul(-1, d);

export function contiguousStrides(shape: readonly Dim[]): Dim[] {
  const st = new Array<Dim>(shape.length);
  let acc: Dim = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc = dimMul(acc, shape[i]!);
  }
  return st;
}

/** The identity map of an n-dimensional value read over an n-dimensional loop. */
export function identityMap(n: number): DimMap[] {
  return Array.from({ length: n }, (_, i) => ({ loop: i, scale: 1, offset: 0 }));
}

/**
 * Whether `map` reads every value dimension at the loop dimension of the same number (scale 1,
 * offset 0): mapExpr would then rebuild an equal expression, so callers can keep the one they
 * have (expressions are never mutated). Lowering reads most values this way, and rebuilding
 * each fused tree at every use made lowering quadratic in the length of fused chains.
 */
export function isIdentityMap(map: readonly DimMap[], loopRank: number): boolean {
  return map.length === loopRank && map.every((m, i) => m.loop === i && (m as { scale: number }).scale === 1 && m.offset === 0);
}

/** A view over a value's own index space, re-expressed over the loop space of `map`. */
export function mapView(v: View, map: DimMap[], loopRank: number): View {
  let offset = v.offset;
  const strides = new Array<Dim>(loopRank).fill(0);
  map.forEach((m, j) => {
    const s = v.strides[j]!;
    offset = dimAdd(offset, dimMul(s, m.offset));
    if (m.loop >= 0) strides[m.loop] = dimAdd(strides[m.loop]!, dimMul(s, (m as { scale: number }).scale));
  });
  return { buf: v.buf, offset, strides };
}

/**
 * Rewrites an expression over a value's index space into one over the loop space of `map`.
 * Returns null when a guard cannot be expressed (a guarded dimension read with |scale| != 1).
 */
export function mapExpr(e: Expr, map: DimMap[], loopRank: number): Expr | null {
  switch (e.k) {
    case "const":
    case "dim":
      return e;
    case "index":
      return mapIndex(map[e.dim]!);
    case "load":
      return { ...e, view: mapView(e.view, map, loopRank) };
    case "gather": {
      const index = mapExpr(e.index, map, loopRank);
      return index ? { ...e, view: mapView(e.view, map, loopRank), index } : null;
    }
    case "op": {
      const args: Expr[] = [];
      for (const a of e.args) {
        const m = mapExpr(a, map, loopRank);
        if (!m) return null;
        args.push(m);
      }
      return { ...e, args };
    }
    case "guard": {
      const m = map[e.dim]!;
      if (m.loop < 0) {
        // the guarded index is fixed: decide statically when possible
        if (typeof m.offset !== "number" || typeof e.lo !== "number" || typeof e.hi !== "number") return null;
        const taken = m.offset >= e.lo && m.offset < e.hi && (m.offset - e.lo) % (e.step ?? 1) === 0;
        return mapExpr(taken ? e.body : e.other, map, loopRank);
      }
      const sc = (m as { scale: number }).scale;
      if (sc !== 1 && sc !== -1) return null;
      const body = mapExpr(e.body, map, loopRank);
      const other = mapExpr(e.other, map, loopRank);
      if (!body || !other) return null;
      // index = offset + sc * i  in [lo, hi)
      const lo = sc === 1 ? dimAdd(e.lo, neg(m.offset)) : dimAdd(dimAdd(m.offset, neg(e.hi)), 1);
      const hi = sc === 1 ? dimAdd(e.hi, neg(m.offset)) : dimAdd(dimAdd(m.offset, neg(e.lo)), 1);
      // a stepped guard's hi - 1 - lo is a multiple of step, so reversed it steps from the same ends
      return { k: "guard", dim: m.loop, lo, hi, ...(e.step ? { step: e.step } : {}), body, other, dtype: e.dtype };
    }
  }
}

/** The int32 index `offset + scale * loop` a DimMap gives one value dimension. */
function mapIndex(m: DimMap): Expr {
  const int = "int32" as const;
  if (m.loop < 0) return { k: "dim", dim: m.offset, dtype: int };
  const sc = (m as { scale: number }).scale;
  let e: Expr = { k: "index", dim: m.loop, dtype: int };
  if (sc !== 1) e = { k: "op", op: "mul", args: [e, { k: "const", value: sc, dtype: int }], dtype: int };
  return m.offset === 0 ? e : { k: "op", op: "add", args: [e, { k: "dim", dim: m.offset, dtype: int }], dtype: int };
}

/**
 * Interior padding along loop dim `d`: rewrites `e` (over the operand's index space, read with
 * the identity map) so that dim d's operand index j is read as (index - lo) / step, which holds
 * only where the pad's stepped guard is taken. Loads along d become one-axis gathers at that
 * index (in range under the guard; the gather's clamp never acts). Null when `e` already guards
 * or gathers along d (the caller materializes it first).
 */
export function dilateExpr(e: Expr, d: number, lo: Dim, step: number, size: Dim): Expr | null {
  const int = "int32" as const;
  const i: Expr = { k: "index", dim: d, dtype: int };
  const shifted: Expr = lo === 0 ? i : { k: "op", op: "sub", args: [i, { k: "dim", dim: lo, dtype: int }], dtype: int };
  const j: Expr = { k: "op", op: "div", args: [shifted, { k: "const", value: step, dtype: int }], dtype: int };
  const rec = (x: Expr): Expr | null => {
    switch (x.k) {
      case "const":
      case "dim":
        return x;
      case "index":
        return x.dim === d ? j : x;
      case "load": {
        const s = x.view.strides[d]!;
        if (s === 0) return x;
        const view = { ...x.view, strides: x.view.strides.map((t, k) => (k === d ? 0 : t)) };
        return { k: "gather", view, index: j, stride: s, size, dtype: x.dtype };
      }
      case "gather": {
        if (x.view.strides[d] !== 0) return null;
        const index = rec(x.index);
        return index && { ...x, index };
      }
      case "op": {
        const args: Expr[] = [];
        for (const a of x.args) {
          const m = rec(a);
          if (!m) return null;
          args.push(m);
        }
        return { ...x, args };
      }
      case "guard": {
        if (x.dim === d) return null;
        const body = rec(x.body);
        const other = rec(x.other);
        return body && other && { ...x, body, other };
      }
    }
  };
  return rec(e);
}

/** True when every load's strides are c * contiguous (or all zero) and there are no guards. */
export function isFlatAffine(e: Expr, shape: readonly Dim[]): boolean {
  const cs = contiguousStrides(shape);
  const ok = (x: Expr): boolean => {
    if (x.k === "const" || x.k === "dim") return true;
    if (x.k === "guard" || x.k === "gather" || x.k === "index") return false;
    if (x.k === "op") return x.args.every(ok);
    const s = x.view.strides;
    if (s.every((v) => v === 0)) return true;
    const last = shape.length ? s[shape.length - 1]! : 0;
    return s.every((v, i) => shape[i] === 1 || dimEq(v, dimMul(last, cs[i]!)));
  };
  return ok(e);
}

/** Re-indexes a flat-affine expression (see isFlatAffine) for a new shape of the same size. */
export function reshapeExpr(e: Expr, oldShape: readonly Dim[], newShape: readonly Dim[]): Expr {
  const cs = contiguousStrides(newShape);
  const rec = (x: Expr): Expr => {
    if (x.k === "const" || x.k === "dim") return x;
    if (x.k === "op") return { ...x, args: x.args.map(rec) };
    if (x.k === "guard" || x.k === "gather" || x.k === "index") throw new Error("reshapeExpr: not flat-affine");
    const s = x.view.strides;
    const c = oldShape.length ? s[oldShape.length - 1]! : 0;
    const zero = s.every((v) => v === 0);
    return { ...x, view: { buf: x.view.buf, offset: x.view.offset, strides: cs.map((v) => (zero ? 0 : dimMul(v, c))) } };
  };
  return rec(e);
}
