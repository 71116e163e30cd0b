/**
 * Code generators for the GEMM building blocks (used by gemm.ts): the register-blocked SIMD
 * micro-kernel, panel packing (including in-register transposes), and the edge-tile merge.
 *
 * Micro-kernel design, measured on V8 11.3 (Node 20) x64, and why it is 4×8 (f32) / 4×4 (f64)
 * with no k-unroll:
 * - V8 allocates 15 xmm registers (xmm15 is its scratch; no AVX-512 registers), and without
 *   relaxed SIMD a multiply-add is vmulps + vaddps needing a temporary.
 * - TurboFan keeps wasm loads in program (effect-chain) order and schedules the pure arithmetic
 *   late, so all loads of the loop body end up at its top: every B vector and every A broadcast
 *   of an iteration is live at once. 4×8 needs 8 accumulators + 2 B + 4 A + 1 temporary = 15.
 *   Larger tiles (5×8, 6×8, 3×12) or a k-unroll spill accumulators to the stack, and the
 *   store-reload latency on the accumulator chain halves the speed (measured ~25 vs ~41 GFLOP/s).
 * - Broadcasts are load32_splat (vbroadcastss from memory: a load-port op) rather than a v128
 *   load + lane shuffles (shuffles compete with mul/add for the FP pipes; measured 37 vs 41).
 * - Constant offsets go into the memarg immediate, so an iteration is 2 vector loads, 4 broadcast
 *   loads, 8 mul, 8 add, 2 pointer bumps, the counter, and V8's loop stack check.
 */
import type { Code, FuncBuilder, Label } from "./encoder.js";
import type { GemmBlocking, GemmDtype } from "./gemm.js";

/** Blocking of one dtype plus the derived sizes every generator needs. */
export interface Spec extends GemmBlocking {
  dtype: GemmDtype;
  /** Element bytes. */
  e: number;
  /** Lanes per v128. */
  lanes: number;
  /** NR = nv * lanes. */
  nr: number;
}

/** Validates a blocking (kc multiple of ku, mc of mr, nc of NR) and derives its Spec. */
export function specOf(dtype: GemmDtype, b: GemmBlocking): Spec {
  const e = dtype === "f32" ? 4 : 8;
  const lanes = 16 / e;
  const nr = b.nv * lanes;
  if (b.kc % b.ku !== 0 || b.mc % b.mr !== 0 || b.nc % nr !== 0)
    throw new Error(`gemm ${dtype}: kc must be a multiple of ku, mc of mr, nc of NR (${JSON.stringify(b)})`);
  return { ...b, dtype, e, lanes, nr };
}

// ---- emission helpers ----

/** `do { body() } while (--n !== 0)` (n: i32 local, must start >= 1). */
export function countDown(c: Code, n: number, body: (top: Label) => void): void {
  const top = c.loop();
  body(top);
  c.localGet(n).i32Const(1).i32Sub().localTee(n).brIf(top);
  c.end();
}

/** Scalar element load / store. */
export function load(c: Code, s: Spec, offset = 0): Code {
  return s.e === 4 ? c.f32Load(offset) : c.f64Load(offset);
}
export function store(c: Code, s: Spec, offset = 0): Code {
  return s.e === 4 ? c.f32Store(offset) : c.f64Store(offset);
}

/**
 * Micro-kernel (n, ap, bp, cp, ldc, beta): C tile (rows×vecs·lanes at byte offset cp, row stride
 * ldc bytes) = [C +] Ap·Bp over n·ku steps of k. Ap: k-major, MR values per k; Bp: k-major, NR
 * values per k. The full kernel has rows = MR, vecs = nv; smaller ones (same packed layout, they
 * just skip the padding) serve the M/N edge tiles.
 */
export function emitKernel(f: FuncBuilder, s: Spec, fma: boolean, rows = s.mr, vecs = s.nv): void {
  const c = f.code;
  const [n, ap, bp, cp, ldc, beta] = [0, 1, 2, 3, 4, 5];
  const acc: number[][] = [];
  for (let r = 0; r < rows; r++) acc.push(Array.from({ length: vecs }, () => f.local("v128")));
  const b = Array.from({ length: vecs }, () => f.local("v128"));
  const a = f.local("v128");
  const row = f.local("i32");
  const splat = (off: number) => (s.e === 4 ? c.v128Load32Splat(off) : c.v128Load64Splat(off));
  const mul = () => (s.e === 4 ? c.f32x4Mul() : c.f64x2Mul());
  const add = () => (s.e === 4 ? c.f32x4Add() : c.f64x2Add());
  const madd = () => (s.e === 4 ? c.f32x4RelaxedMadd() : c.f64x2RelaxedMadd());

  // Accumulators start at zero (wasm zero-initialises locals).
  countDown(c, n, () => {
    for (let u = 0; u < s.ku; u++) {
      for (let v = 0; v < vecs; v++) c.localGet(bp).v128Load((u * s.nr + v * s.lanes) * s.e, 0).localSet(b[v]!);
      for (let r = 0; r < rows; r++) {
        c.localGet(ap);
        splat((u * s.mr + r) * s.e).localSet(a);
        for (let v = 0; v < vecs; v++) {
          const acc_ = acc[r]![v]!;
          if (fma) c.localGet(a).localGet(b[v]!).localGet(acc_), madd();
          else c.localGet(acc_).localGet(a).localGet(b[v]!), mul(), add();
          c.localSet(acc_);
        }
      }
    }
    c.localGet(ap).i32Const(s.ku * s.mr * s.e).i32Add().localSet(ap);
    c.localGet(bp).i32Const(s.ku * s.nr * s.e).i32Add().localSet(bp);
  });

  // Store (adding the old C when beta).
  const rowsLoop = (withC: boolean) => {
    c.localGet(cp).localSet(row);
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vecs; v++) {
        c.localGet(row).localGet(acc[r]![v]!);
        if (withC) c.localGet(row).v128Load(v * 16, 0), add();
        c.v128Store(v * 16, 0);
      }
      if (r + 1 < rows) c.localGet(row).localGet(ldc).i32Add().localSet(row);
    }
  };
  c.localGet(beta).if_();
  rowsLoop(true);
  c.else_();
  rowsLoop(false);
  c.end();
}

/**
 * Pack (dst, src, n, kc, kcPad, sw, sp): op(X) element (lane w, depth p) at src + w*sw + p*sp
 * (byte strides) into ceil(n/W) panels of kcPad×W (W = panel width, a generation-time constant),
 * zero-filling lanes >= n and depths >= kc.
 */
export function emitPack(f: FuncBuilder, s: Spec, W: number): void {
  const c = f.code;
  const [dst, src, n, kc, kcPad, sw, sp] = [0, 1, 2, 3, 4, 5, 6];
  const p = f.local("i32");
  const q = f.local("i32");
  const sp_ = f.local("i32");
  const l = f.local("i32");
  const d = f.local("i32");
  const rowBytes = W * s.e;
  const done = c.block();
  const panels = c.loop();
  c.localGet(n).i32Const(0).i32LeS().brIf(done);
  c.localGet(src).localSet(sp_);
  c.localGet(kc).localSet(p);

  c.localGet(n).i32Const(W).i32GeS().if_();
  {
    // Full panel.
    const contiguous = W % s.lanes === 0;
    if (contiguous) {
      c.localGet(sw).i32Const(s.e).i32Eq().if_();
      countDown(c, p, () => {
        for (let v = 0; v < W / s.lanes; v++) c.localGet(dst).localGet(sp_).v128Load(v * 16, 0).v128Store(v * 16, 0);
        c.localGet(sp_).localGet(sp).i32Add().localSet(sp_);
        c.localGet(dst).i32Const(rowBytes).i32Add().localSet(dst);
      });
      c.else_();
      // Contiguous along depth instead (A not transposed, B transposed): transpose lanes×lanes
      // blocks in registers; the remaining kc % lanes depths go through the scalar loop below.
      c.localGet(sp).i32Const(s.e).i32Eq().if_();
      c.localGet(p).i32Const(s.lanes).i32DivU().localTee(l).if_();
      countDown(c, l, () => emitTransposeBlock(f, s, W, sp_, sw, dst));
      c.end();
      c.localGet(p).i32Const(s.lanes - 1).i32And().localSet(p);
      c.end();
    }
    c.localGet(p).if_();
    countDown(c, p, () => {
      c.localGet(sp_).localSet(q);
      for (let w = 0; w < W; w++) {
        c.localGet(dst).localGet(q);
        load(c, s);
        store(c, s, w * s.e);
        if (w + 1 < W) c.localGet(q).localGet(sw).i32Add().localSet(q);
      }
      c.localGet(sp_).localGet(sp).i32Add().localSet(sp_);
      c.localGet(dst).i32Const(rowBytes).i32Add().localSet(dst);
    });
    c.end();
    if (contiguous) c.end();
    // Zero depth padding.
    c.localGet(dst).i32Const(0).localGet(kcPad).localGet(kc).i32Sub().i32Const(rowBytes).i32Mul().memoryFill();
    c.localGet(dst).localGet(kcPad).localGet(kc).i32Sub().i32Const(rowBytes).i32Mul().i32Add().localSet(dst);
  }
  c.else_();
  {
    // Partial (last) panel: zero it, then copy the n valid lanes.
    c.localGet(dst).i32Const(0).localGet(kcPad).i32Const(rowBytes).i32Mul().memoryFill();
    c.localGet(dst).localSet(d);
    countDown(c, p, () => {
      c.localGet(sp_).localSet(q);
      c.localGet(n).localSet(l);
      c.localGet(d).localSet(dst);
      countDown(c, l, () => {
        c.localGet(dst).localGet(q);
        load(c, s);
        store(c, s);
        c.localGet(q).localGet(sw).i32Add().localSet(q);
        c.localGet(dst).i32Const(s.e).i32Add().localSet(dst);
      });
      c.localGet(sp_).localGet(sp).i32Add().localSet(sp_);
      c.localGet(d).i32Const(rowBytes).i32Add().localSet(d);
    });
    c.br(done);
  }
  c.end();
  c.localGet(src).localGet(sw).i32Const(W).i32Mul().i32Add().localSet(src);
  c.localGet(n).i32Const(W).i32Sub().localSet(n);
  c.br(panels);
  c.end();
  c.end();
}

/**
 * One step of packing a panel whose source is contiguous along depth: for each group of `lanes`
 * panel lanes, load `lanes` depths of each (one v128 per lane), transpose the lanes×lanes block
 * with shuffles, store one v128 per depth. Advances `src` by lanes depths and `dst` by lanes rows.
 */
function emitTransposeBlock(f: FuncBuilder, s: Spec, W: number, src: number, sw: number, dst: number): void {
  const c = f.code;
  const L = s.lanes;
  const q = f.local("i32");
  const rows = Array.from({ length: L }, () => f.local("v128"));
  const tmp = Array.from({ length: L }, () => f.local("v128"));
  /** i8x16.shuffle of (x, y) picking element lanes `idx` (0..L-1 from x, L..2L-1 from y). */
  const shuffle = (x: number, y: number, idx: number[], out: number) => {
    const bytes = idx.flatMap((i) => Array.from({ length: s.e }, (_, b) => i * s.e + b));
    c.localGet(x).localGet(y).i8x16Shuffle(bytes).localSet(out);
  };
  c.localGet(src).localSet(q);
  for (let g = 0; g < W / L; g++) {
    for (let r = 0; r < L; r++) {
      c.localGet(q).v128Load(0, 0).localSet(rows[r]!);
      c.localGet(q).localGet(sw).i32Add().localSet(q);
    }
    let out: number[];
    if (L === 4) {
      // unpacklo/hi pairs, then 64-bit halves: out[d] = [r0[d], r1[d], r2[d], r3[d]]
      const [r0, r1, r2, r3] = rows as [number, number, number, number];
      const [t0, t1, t2, t3] = tmp as [number, number, number, number];
      shuffle(r0, r1, [0, 4, 1, 5], t0);
      shuffle(r0, r1, [2, 6, 3, 7], t1);
      shuffle(r2, r3, [0, 4, 1, 5], t2);
      shuffle(r2, r3, [2, 6, 3, 7], t3);
      shuffle(t0, t2, [0, 1, 4, 5], r0);
      shuffle(t0, t2, [2, 3, 6, 7], r1);
      shuffle(t1, t3, [0, 1, 4, 5], r2);
      shuffle(t1, t3, [2, 3, 6, 7], r3);
      out = [r0, r1, r2, r3];
    } else {
      const [r0, r1] = rows as [number, number];
      shuffle(r0, r1, [0, 2], tmp[0]!);
      shuffle(r0, r1, [1, 3], tmp[1]!);
      out = tmp;
    }
    for (let d = 0; d < L; d++) c.localGet(dst).localGet(out[d]!).v128Store((d * W + g * L) * s.e, 0);
  }
  c.localGet(src).i32Const(L * s.e).i32Add().localSet(src);
  c.localGet(dst).i32Const(L * W * s.e).i32Add().localSet(dst);
}

/** Edge merge (t, cp, ldc, mr, nr, beta): C[i, j] = T[i, j] (+ C[i, j]) for i < mr, j < nr. */
export function emitEdge(f: FuncBuilder, s: Spec): void {
  const c = f.code;
  const [t, cp, ldc, mr, nr, beta] = [0, 1, 2, 3, 4, 5];
  const j = f.local("i32");
  const q = f.local("i32");
  const cq = f.local("i32");
  countDown(c, mr, () => {
    c.localGet(t).localSet(q);
    c.localGet(cp).localSet(cq);
    c.localGet(nr).localSet(j);
    countDown(c, j, () => {
      // (an `if` block cannot consume outer stack values, so each branch does its own store)
      c.localGet(beta).if_();
      c.localGet(cq).localGet(q);
      load(c, s);
      c.localGet(cq);
      load(c, s);
      s.e === 4 ? c.f32Add() : c.f64Add();
      store(c, s);
      c.else_();
      c.localGet(cq).localGet(q);
      load(c, s);
      store(c, s);
      c.end();
      c.localGet(q).i32Const(s.e).i32Add().localSet(q);
      c.localGet(cq).i32Const(s.e).i32Add().localSet(cq);
    });
    c.localGet(t).i32Const(s.nr * s.e).i32Add().localSet(t);
    c.localGet(cp).localGet(ldc).i32Add().localSet(cp);
  });
}
