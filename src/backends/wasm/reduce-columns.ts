// Column reductions (issue 12): a float32 sum/prod over leading dims whose kept innermost dim is
// the contiguous one (a bias gradient: [1024] over [8, 128] of an [8, 128, 1024] value). The
// plain loop nest reduces one output at a time down a column, one float per cache line and, for
// a row length of a power of two, every load in the same cache set (measured: 17-30 ms for 1M
// elements in the transformer step). Here the loops are reordered: a block of W adjacent outputs
// runs down the rows together (f32x4 values promoted to f64x2 accumulators), so every loaded line
// is used whole. Each output still accumulates its own elements in element order in float64 (an
// f64x2 add is two IEEE float64 adds), so the bits are the scalar loop's and the interpreter's.

import type { Dim } from "../../core/shape.js";
import type { ReduceKernel } from "../../lower/kernel-ir.js";
import { regroup, reduceNest } from "../../lower/loop-nest.js";
import { Exprs, type Fn, countedLoop, nest, storeAt } from "./emit.js";
import { uleb } from "../../runtime/wasm/encoder.js";
import { vectorValue, vectorizable } from "./simd.js";

const simd = (fn: Fn, op: number, ...imm: number[]) => {
  const b: number[] = [0xfd];
  uleb(b, op);
  fn.body.raw(...b, ...imm);
};

/**
 * Emits `k` as a column reduction and returns true, or returns false (nothing emitted) when it is
 * not one: op sum or prod, float32 in and out, kept dims and reduced dims, an expression with an
 * f32x4 form along the last kept dim and none along the innermost reduced dim (rows reduce with
 * the ordinary nest, four elements per step).
 */
export function columnReduction(fn: Fn, k: ReduceKernel, outDtype: string): boolean {
  if ((k.op !== "sum" && k.op !== "prod") || k.expr.dtype !== "float32" || outDtype !== "float32") return false;
  const { shape, nOuter, expr } = reduceNest(k);
  const n = shape.length;
  if (nOuter === 0 || nOuter === n) return false;
  const o = nOuter - 1;
  if (typeof shape[o] === "number" && shape[o] < 4) return false;
  if (vectorizable(expr, n - 1)) return false; // rows: the ordinary SIMD loop
  // loop order [kept dims before o, reduced dims, o]: o innermost, so values invariant along o hoist out of it
  const order = [...Array.from({ length: o }, (_, i) => i), ...Array.from({ length: n - nOuter }, (_, i) => nOuter + i), o];
  const pShape: Dim[] = order.map((d) => shape[d]!);
  const pExpr = regroup(expr, order.map((d) => [d]));
  if (!vectorizable(pExpr, n - 1)) return false;

  const c = fn.body;
  const loops = pShape.map(() => fn.local("i32"));
  const ex = new Exprs(fn, loops);
  const root = ex.value(pExpr);
  const value = vectorValue(fn, ex, pExpr, n - 1, loops[n - 1]!);
  const W = typeof shape[o] === "number" && shape[o] >= 16 ? 16 : 4;
  const accs = Array.from({ length: W / 2 }, () => fn.local("v128"));
  const lanes = fn.local("v128");
  const acc = fn.local("f64");
  const out = fn.local("i32");
  const j0 = fn.local("i32");
  const size = fn.local("i32");
  const sum = k.op === "sum";
  const declsAt = (level: number) => ex.decls[level]!.forEach((d) => d());

  c.i32Const(0).localSet(out);
  nest(
    fn,
    ex,
    pShape,
    loops,
    () => {
      fn.dim(pShape[n - 1]!);
      c.localSet(size);
      // blocks of W outputs: W/2 f64x2 accumulators down the rows
      c.i32Const(0).localSet(j0);
      const exit = c.block();
      const top = c.loop();
      c.localGet(j0).i32Const(W).i32Add().localGet(size).raw(0x4a).brIf(exit); // j0 + W > size
      for (const a of accs) c.f64Const(sum ? 0 : 1).raw(0xfd, 0x14).localSet(a); // f64x2.splat
      nest(
        fn,
        ex,
        pShape,
        loops,
        () => {
          declsAt(n - 1);
          for (let u = 0; u < W / 4; u++) {
            c.localGet(j0);
            if (u) c.i32Const(4 * u).i32Add();
            c.localSet(loops[n - 1]!);
            value();
            c.localSet(lanes);
            for (let h = 0; h < 2; h++) {
              const a = accs[2 * u + h]!;
              c.localGet(a).localGet(lanes);
              if (h) c.localGet(lanes).raw(0xfd, 0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15); // i8x16.shuffle: lanes 2, 3 low
              simd(fn, 0x5f); // f64x2.promote_low_f32x4
              simd(fn, sum ? 0xf0 : 0xf2); // f64x2.add / f64x2.mul
              c.localSet(a);
            }
          }
        },
        o,
        n - 1,
      );
      for (let l = 0; l < W; l++) {
        storeAt(fn, k.out, "float32", out, () => {
          c.localGet(accs[l >> 1]!);
          simd(fn, 0x21, l & 1); // f64x2.extract_lane
          c.raw(0xb6); // f32.demote_f64
        });
      }
      c.localGet(j0).i32Const(W).i32Add().localSet(j0);
      c.br(top);
      c.end();
      c.end();
      // the last size % W outputs one at a time
      c.localGet(j0).localSet(loops[n - 1]!);
      countedLoop(
        fn,
        loops[n - 1]!,
        pShape[n - 1]!,
        () => {
          c.f64Const(sum ? 0 : 1).localSet(acc);
          // the reduced loops (o's index stays put), then o's own levels: the element at this output
          nest(
            fn,
            ex,
            pShape,
            loops,
            () => {
              declsAt(n - 1);
              declsAt(n);
              root();
              c.raw(0xbb); // f64.promote_f32
              c.localGet(acc).raw(sum ? 0xa0 : 0xa2).localSet(acc);
            },
            o,
            n - 1,
          );
          storeAt(fn, k.out, "float32", out, () => void c.localGet(acc).raw(0xb6));
        },
        false,
        true,
      );
    },
    0,
    o,
  );
  return true;
}
