// f32x4 code for the innermost loop of a float32 map kernel (issue 12, item 1): four elements per
// step, then the scalar loop finishes the tail (kernels.ts). A kernel is vectorized only when every
// subexpression that varies along the innermost loop has a lane-wise form computing the bits the
// scalar code computes: float32 loads of unit stride, + - * /, neg, abs, sqrt, floor, ceil, round,
// max/min (JS NaN and signed-zero semantics, as scalar.ts), compares and selects (masks), bool to
// float32 converts and our math functions (wasm/math.ts emitSimd, proven equal to the scalar ones).
// Subexpressions that do not vary along it are the scalar nodes of `Exprs` (hoisted as usual) and
// are splatted. Anything else (gathers, guards, int or float64 values varying along the loop)
// keeps the whole kernel scalar. Reductions stay scalar: four partial sums would change the
// summation order, and with it the bits, against the interpreter.

import type { Expr } from "../../lower/kernel-ir.js";
import { exprKey, exprLevel } from "../../lower/kernel-ir.js";
import { UNARY } from "../../prims/unary.js";
import type { Exprs, Fn } from "./emit.js";
import { uleb } from "../../runtime/wasm/encoder.js";

const X4_BIN: Record<string, number> = { add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7 };
const X4_UN: Record<string, number> = { neg: 0xe1, abs: 0xe0, sqrt: 0xe3, floor: 0x68, ceil: 0x67, round: 0x6a };
const X4_CMP: Record<string, number> = { eq: 0x41, ne: 0x42, lt: 0x43, gt: 0x44, le: 0x45, ge: 0x46 };
const V_LOGIC: Record<string, number> = { and: 0x4e, or: 0x50, xor: 0x51 };

/** A vector value: f32x4 lanes, or an all-ones / all-zeros mask per lane for a bool. */
type VKind = "f" | "m";

function kindOfVarying(e: Expr, inner: number): VKind | null {
  const varying = (a: Expr) => exprLevel(a) > inner;
  const argsOk = (e: Extract<Expr, { k: "op" }>, kinds: (VKind | "s")[]) =>
    e.args.every((a, i) => (varying(a) ? kindOfVarying(a, inner) === kinds[i] : kinds[i] !== undefined));
  switch (e.k) {
    case "load":
      return e.dtype === "float32" && e.view.strides[inner] === 1 ? "f" : null;
    case "op": {
      const op = e.op;
      if (e.dtype === "float32") {
        if (X4_BIN[op] !== undefined || op === "max" || op === "min") return argsOk(e, ["f", "f"]) ? "f" : null;
        if (X4_UN[op] !== undefined || UNARY[op]?.f32) return argsOk(e, ["f"]) ? "f" : null;
        if (op === "select") return argsOk(e, ["m", "f", "f"]) ? "f" : null;
        if (op === "convert:float32") {
          const from = e.args[0]!;
          if (from.dtype === "float32") return kindOfVarying(from, inner) === "f" ? "f" : null;
          if (from.dtype === "bool") return kindOfVarying(from, inner) === "m" ? "f" : null;
        }
        return null;
      }
      if (e.dtype === "bool") {
        if (op.startsWith("cmp:")) return e.args[0]!.dtype === "float32" && argsOk(e, ["f", "f"]) ? "m" : null;
        if (op.startsWith("logical:") && V_LOGIC[op.slice(8)] !== undefined) return argsOk(e, ["m", "m"]) ? "m" : null;
        if (op === "not" && e.args[0]!.dtype === "bool") return argsOk(e, ["m"]) ? "m" : null;
      }
      return null;
    }
    default:
      return null; // const and dim never vary; index, gather and guard have no vector form here
  }
}

/** Whether the map expression `e` over loop `inner` (the innermost) has an f32x4 form. */
export function vectorizable(e: Expr, inner: number): boolean {
  if (e.dtype !== "float32") return false;
  return exprLevel(e) <= inner || kindOfVarying(e, inner) === "f";
}

function simd(fn: Fn, op: number, ...imm: number[]): void {
  const b: number[] = [0xfd];
  uleb(b, op);
  fn.body.raw(...b, ...imm);
}

/**
 * Registers `e`'s scalar (loop-invariant) parts with `ex` and returns the emitter of its f32x4
 * value at element `i` of the innermost loop (call it inside the vector loop).
 */
export function vectorValue(fn: Fn, ex: Exprs, e: Expr, inner: number, i: number): () => void {
  const c = fn.body;
  const cache = new Map<string, number>();
  const build = (e: Expr): (() => void) => {
    if (exprLevel(e) <= inner) {
      // invariant along the loop: the scalar node, splatted (bools become masks: 0 - b)
      const s = ex.value(e);
      if (e.dtype === "bool") return () => (c.i32Const(0), s(), c.raw(0x6b), simd(fn, 0x11));
      return () => (s(), simd(fn, 0x13)); // f32x4.splat
    }
    const key = exprKey(e);
    let emit: () => void;
    if (e.k === "load") {
      const addr = ex.address(e.view, 4, inner);
      emit = () => {
        c.localGet(addr.local).localGet(i).i32Const(2).i32Shl().i32Add();
        simd(fn, 0x00, 2, 0); // v128.load align=4
      };
    } else if (e.k === "op") {
      const args = e.args.map(build);
      const op = e.op;
      const [a, b, s] = args as [() => void, () => void, () => void];
      if (X4_BIN[op] !== undefined) emit = () => (a(), b(), simd(fn, X4_BIN[op]!));
      else if (X4_UN[op] !== undefined) emit = () => (a(), simd(fn, X4_UN[op]!));
      else if (UNARY[op]?.f32) emit = () => (a(), c.call(fn.math.simd(UNARY[op]!.f32!)));
      else if (op === "max" || op === "min") {
        // as scalar.ts minMax: isNaN(a) | isNaN(b) ? a + b : (a > b ? a : b) (< for min)
        emit = () => {
          a(), b(), simd(fn, 0xe4);
          a(), b(), a(), b(), simd(fn, X4_CMP[op === "max" ? "gt" : "lt"]!), simd(fn, 0x52);
          a(), a(), simd(fn, 0x42), b(), b(), simd(fn, 0x42), simd(fn, 0x50);
          simd(fn, 0x52);
        };
      } else if (op === "select") emit = () => (b(), s(), a(), simd(fn, 0x52)); // a ? b : s
      else if (op === "convert:float32") {
        emit = e.args[0]!.dtype === "bool" ? () => (a(), c.f32Const(1), simd(fn, 0x13), simd(fn, 0x4e)) : a;
      } else if (op.startsWith("cmp:")) emit = () => (a(), b(), simd(fn, X4_CMP[op.slice(4)]!));
      else if (op.startsWith("logical:")) emit = () => (a(), b(), simd(fn, V_LOGIC[op.slice(8)]!));
      else if (op === "not") emit = () => (a(), simd(fn, 0x4d));
      else throw new Error(`wasm simd: no vector form for ${op}`);
    } else throw new Error(`wasm simd: no vector form for ${e.k}`);
    // each varying node once per step, in a v128 local
    return () => {
      let l = cache.get(key);
      if (l !== undefined) return void c.localGet(l);
      emit();
      l = fn.local("v128");
      cache.set(key, l);
      c.localTee(l);
    };
  };
  const root = build(e);
  return () => {
    cache.clear();
    root();
  };
}
