/**
 * Matrix multiply (GEMM) for WebAssembly SIMD128, generated at run time: `sgemm` (f32) and `dgemm`
 * (f64) computing C = op(A)·op(B) (+ C when `accumulate`), on row-major data in an IMPORTED memory,
 * so one WebAssembly.Memory can be shared with the JIT arena and with JS typed-array views.
 *
 * Exported signature (all i32):
 *   sgemm(M, N, K, aOff, lda, aTrans, bOff, ldb, bTrans, cOff, ldc, accumulate)
 *   dgemm(same)
 *   - aOff, bOff, cOff: BYTE offsets into the memory (no alignment needed, 4/8-aligned is best);
 *   - lda, ldb, ldc: leading dimensions in ELEMENTS (row strides of the stored row-major arrays);
 *   - op(A) is M×K: A[i*lda + p] when aTrans = 0, A[p*lda + i] when aTrans = 1 (A stored K×M);
 *     op(B) is K×N: B[p*ldb + j] when bTrans = 0, B[j*ldb + p] when bTrans = 1 (B stored N×K);
 *     so X^T·G and G·W^T (the reverse-mode matmul gradients) need no transposed copies;
 *   - accumulate = 1 adds into C, 0 overwrites it. C must not overlap A or B.
 * Every instance also imports `env.scratch` (i32): the byte offset of a private scratch region of
 * `gemmScratchBytes(config)` bytes (about 1.2 MB with the defaults) used for packed panels.
 *
 * Blocking scheme (Goto/BLIS):
 *   for jc in N step NC:                       B block  KC×NC, packed once, stays in L2/L3
 *     for pc in K step KC:
 *       pack op(B)[pc:pc+KC, jc:jc+NC] into NR-wide micro-panels (each KC×NR, row p = NR values)
 *       for ic in M step MC:                   A block  MC×KC, packed, stays in L2
 *         pack op(A)[ic:ic+MC, pc:pc+KC] into MR-tall micro-panels (each KC×MR, column p = MR values)
 *         for jr in NC step NR:                B micro-panel KC×NR stays in L1 ...
 *           for ir in MC step MR:              ... while the A micro-panels stream from L2
 *             micro-kernel: MR×NR tile of C in registers, KC rank-1 updates
 * The micro-kernel keeps MR × (NR/lanes) v128 accumulators; per k it loads NR/lanes vectors of B
 * and broadcasts MR scalars of A with load32_splat / load64_splat (a plain broadcast load, no
 * shuffle port), then does mul+add (or relaxed_madd when the engine has relaxed SIMD).
 * Packing pads panels with zeros (to MR/NR and to a multiple of the k-unroll), so the kernel never
 * has edge cases; partial tiles at the M/N edges are written to a small tile buffer and merged.
 * The first K block overwrites C (unless accumulate), later K blocks add into it.
 */
import { Code, type FuncBuilder, type Label, ModuleBuilder } from "./encoder.js";
import { wasmApi } from "./wasm-api.js";

export type GemmDtype = "f32" | "f64";

/** Tile and block sizes for one dtype (in elements). */
export interface GemmBlocking {
  /** Micro-tile rows (broadcast A values per k). */
  mr: number;
  /** Micro-tile columns in v128 vectors (NR = nv * lanes). */
  nv: number;
  /** k-unroll of the micro-kernel loop (K blocks are zero-padded to a multiple of it). */
  ku: number;
  /** K block (multiple of ku). */
  kc: number;
  /** M block (multiple of mr). */
  mc: number;
  /** N block (multiple of NR). */
  nc: number;
}

export interface GemmConfig {
  f32: GemmBlocking;
  f64: GemmBlocking;
  /** Use relaxed-SIMD multiply-add (needs engine support, see `hasRelaxedSimd`). */
  fma: boolean;
  /** Declare the imported memory as shared (for SharedArrayBuffer-backed memories / threads). */
  shared: boolean;
}

export const DEFAULT_BLOCKING: { f32: GemmBlocking; f64: GemmBlocking } = {
  f32: { mr: 4, nv: 2, ku: 1, kc: 256, mc: 128, nc: 1024 },
  f64: { mr: 4, nv: 2, ku: 1, kc: 256, mc: 128, nc: 512 },
};

interface Spec extends GemmBlocking {
  dtype: GemmDtype;
  /** Element bytes. */
  e: number;
  /** Lanes per v128. */
  lanes: number;
  /** NR = nv * lanes. */
  nr: number;
}

function specOf(dtype: GemmDtype, b: GemmBlocking): Spec {
  const e = dtype === "f32" ? 4 : 8;
  const lanes = 16 / e;
  const nr = b.nv * lanes;
  if (b.kc % b.ku !== 0 || b.mc % b.mr !== 0 || b.nc % nr !== 0)
    throw new Error(`gemm ${dtype}: kc must be a multiple of ku, mc of mr, nc of NR (${JSON.stringify(b)})`);
  return { ...b, dtype, e, lanes, nr };
}

const align64 = (n: number) => Math.ceil(n / 64) * 64;

/** Scratch layout of one dtype: [tile buffer][packed A block][packed B block], 64-byte aligned. */
function scratchLayout(s: Spec) {
  const tile = align64(s.mr * s.nr * s.e);
  const aBytes = align64(s.mc * s.kc * s.e);
  const bBytes = align64(s.nc * s.kc * s.e);
  return { tile: 0, a: tile, b: tile + aBytes, total: tile + aBytes + bBytes };
}

/** Bytes of scratch one instance needs (shared by sgemm and dgemm, which never run concurrently). */
export function gemmScratchBytes(blocking: { f32: GemmBlocking; f64: GemmBlocking } = DEFAULT_BLOCKING): number {
  return Math.max(scratchLayout(specOf("f32", blocking.f32)).total, scratchLayout(specOf("f64", blocking.f64)).total);
}

/** True if this engine validates relaxed-SIMD f32x4.relaxed_madd (Chrome 114+, Node 22+ or flag). */
export function hasRelaxedSimd(): boolean {
  const m = new ModuleBuilder();
  const f = m.func("f", [], ["v128"]);
  f.code.v128Zero().v128Zero().v128Zero().f32x4RelaxedMadd();
  try {
    return wasmApi().validate(m.build());
  } catch {
    return false;
  }
}

// ---- emission helpers ----

/**
 * `for (; i < hi; i += step) body()` with the test at the bottom (i, hi: i32 locals; step: a
 * constant, or the index of an i32 local when given as `{ local }`).
 */
function forLoop(c: Code, i: number, hi: number, step: number | { local: number }, body: () => void): void {
  const exit = c.block();
  c.localGet(i).localGet(hi).i32GeS().brIf(exit);
  const top = c.loop();
  body();
  c.localGet(i);
  if (typeof step === "number") c.i32Const(step);
  else c.localGet(step.local);
  c.i32Add().localTee(i).localGet(hi).i32LtS().brIf(top);
  c.end();
  c.end();
}

/** `do { body() } while (--n !== 0)` (n: i32 local, must start >= 1). */
function countDown(c: Code, n: number, body: (top: Label) => void): void {
  const top = c.loop();
  body(top);
  c.localGet(n).i32Const(1).i32Sub().localTee(n).brIf(top);
  c.end();
}

/** local dst = min(k, local a - local b), k a constant or `{ local }`. */
function setMinRemaining(c: Code, dst: number, k: number | { local: number }, a: number, b: number): void {
  const pushK = () => (typeof k === "number" ? c.i32Const(k) : c.localGet(k.local));
  pushK();
  c.localGet(a).localGet(b).i32Sub().localTee(dst);
  pushK();
  c.localGet(dst).i32LtS().select().localSet(dst);
}

function load(c: Code, s: Spec, offset = 0): Code {
  return s.e === 4 ? c.f32Load(offset) : c.f64Load(offset);
}
function store(c: Code, s: Spec, offset = 0): Code {
  return s.e === 4 ? c.f32Store(offset) : c.f64Store(offset);
}

/**
 * Micro-kernel (n, ap, bp, cp, ldc, beta): C tile (rows×vecs·lanes at byte offset cp, row stride
 * ldc bytes) = [C +] Ap·Bp over n·ku steps of k. Ap: k-major, MR values per k; Bp: k-major, NR
 * values per k. The full kernel has rows = MR, vecs = nv; smaller ones (same packed layout, they
 * just skip the padding) serve the M/N edge tiles.
 */
function emitKernel(f: FuncBuilder, s: Spec, fma: boolean, rows = s.mr, vecs = s.nv): void {
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
function emitPack(f: FuncBuilder, s: Spec, W: number): void {
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
function emitEdge(f: FuncBuilder, s: Spec): void {
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

interface GemmFuncs {
  kernel: number;
  /** edgeKernels[(rows - 1) * nv + vecs - 1]: kernel for a rows × vecs·lanes tile. */
  edgeKernels: number[];
  packA: number;
  packB: number;
  edge: number;
}

/** The exported driver: the blocking loops described at the top of the file. */
function emitDriver(f: FuncBuilder, s: Spec, fn: GemmFuncs, scratchGlobal: number): void {
  const c = f.code;
  const [M, N, K, aOff, lda, aT, bOff, ldb, bT, cOff, ldc, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const v = () => f.local("i32");
  const [rsA, csA, rsB, csB, ldcB, jc, nc, pc, kc, kcPad, ic, mc, jr, nr, ir, mr, beta] = Array.from(
    { length: 17 },
    v,
  ) as number[] as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
  const [tileBuf, aPack, bPack, cp, i, kStep] = [v(), v(), v(), v(), v(), v()];
  const lay = scratchLayout(s);
  const E = s.e;

  const ret = c.block();
  c.localGet(M).i32Const(1).i32LtS().localGet(N).i32Const(1).i32LtS().i32Or().brIf(ret);
  c.localGet(ldc).i32Const(E).i32Mul().localSet(ldcB);
  // K = 0: C = 0 (or unchanged when accumulating).
  c.localGet(K).i32Const(1).i32LtS().if_();
  {
    c.localGet(accumulate).brIf(ret);
    c.i32Const(0).localSet(i);
    forLoop(c, i, M, 1, () => {
      c.localGet(cOff).localGet(i).localGet(ldcB).i32Mul().i32Add().i32Const(0).localGet(N).i32Const(E).i32Mul().memoryFill();
    });
    c.br(ret);
  }
  c.end();

  // Byte strides of op(A) (rows i, depth p) and op(B) (depth p, columns j).
  const strides = (trans: number, ld: number, along: number, across: number) => {
    c.localGet(ld).i32Const(E).i32Mul().localSet(along);
    c.i32Const(E).localSet(across);
    c.localGet(trans).if_();
    c.localGet(along).localGet(across).localSet(along).localSet(across);
    c.end();
  };
  strides(aT, lda, rsA, csA); // aT=0: rsA = lda*E, csA = E; aT=1: swapped
  strides(bT, ldb, rsB, csB); // bT=0: rsB = ldb*E, csB = E; bT=1: swapped
  c.globalGet(scratchGlobal).localTee(tileBuf).i32Const(lay.a).i32Add().localSet(aPack);
  c.localGet(tileBuf).i32Const(lay.b).i32Add().localSet(bPack);

  // Balanced K blocks: ceil(K / KC) blocks of equal depth (rounded up to ku), so that no block is
  // a thin remainder (each K block re-reads and re-writes C).
  c.localGet(K).i32Const(s.kc - 1).i32Add().i32Const(s.kc).i32DivU().localSet(i);
  c.localGet(K).localGet(i).i32Add().i32Const(1).i32Sub().localGet(i).i32DivU();
  c.i32Const(s.ku - 1).i32Add().i32Const(-s.ku).i32And().localSet(kStep);

  c.i32Const(0).localSet(jc);
  forLoop(c, jc, N, s.nc, () => {
    setMinRemaining(c, nc, s.nc, N, jc);
    c.i32Const(0).localSet(pc);
    forLoop(c, pc, K, { local: kStep }, () => {
      setMinRemaining(c, kc, { local: kStep }, K, pc);
      c.localGet(kc).i32Const(s.ku - 1).i32Add().i32Const(-s.ku).i32And().localSet(kcPad);
      c.localGet(accumulate).localGet(pc).i32Or().localSet(beta);
      // pack B block: lanes = columns j (stride csB), depth p (stride rsB)
      c.localGet(bPack);
      c.localGet(bOff).localGet(pc).localGet(rsB).i32Mul().i32Add().localGet(jc).localGet(csB).i32Mul().i32Add();
      c.localGet(nc).localGet(kc).localGet(kcPad).localGet(csB).localGet(rsB).call(fn.packB);
      c.i32Const(0).localSet(ic);
      forLoop(c, ic, M, s.mc, () => {
        setMinRemaining(c, mc, s.mc, M, ic);
        // pack A block: lanes = rows i (stride rsA), depth p (stride csA)
        c.localGet(aPack);
        c.localGet(aOff).localGet(ic).localGet(rsA).i32Mul().i32Add().localGet(pc).localGet(csA).i32Mul().i32Add();
        c.localGet(mc).localGet(kc).localGet(kcPad).localGet(rsA).localGet(csA).call(fn.packA);
        c.i32Const(0).localSet(jr);
        forLoop(c, jr, nc, s.nr, () => {
          setMinRemaining(c, nr, s.nr, nc, jr);
          c.i32Const(0).localSet(ir);
          forLoop(c, ir, mc, s.mr, () => {
            setMinRemaining(c, mr, s.mr, mc, ir);
            // cp = cOff + (ic + ir) * ldcB + (jc + jr) * E
            c.localGet(cOff).localGet(ic).localGet(ir).i32Add().localGet(ldcB).i32Mul().i32Add();
            c.localGet(jc).localGet(jr).i32Add().i32Const(E).i32Mul().i32Add().localSet(cp);
            const kernelArgs = () => {
              c.localGet(kcPad).i32Const(s.ku).i32DivU();
              c.localGet(aPack).localGet(ir).localGet(kcPad).i32Mul().i32Const(E).i32Mul().i32Add();
              c.localGet(bPack).localGet(jr).localGet(kcPad).i32Mul().i32Const(E).i32Mul().i32Add();
            };
            c.localGet(mr).i32Const(s.mr).i32Eq().localGet(nr).i32Const(s.nr).i32Eq().i32And().if_();
            kernelArgs();
            c.localGet(cp).localGet(ldcB).localGet(beta).call(fn.kernel);
            c.else_();
            // Edge tile: the smallest kernel covering mr rows × nr columns, into the tile buffer.
            c.localGet(mr).i32Const(1).i32Sub().i32Const(s.nv).i32Mul();
            c.localGet(nr).i32Const(s.lanes - 1).i32Add().i32Const(s.lanes).i32DivU().i32Add().i32Const(1).i32Sub();
            c.localSet(i);
            fn.edgeKernels.forEach((k, idx) => {
              c.localGet(i).i32Const(idx).i32Eq().if_();
              kernelArgs();
              c.localGet(tileBuf).i32Const(s.nr * E).i32Const(0).call(k);
              c.end();
            });
            c.localGet(tileBuf).localGet(cp).localGet(ldcB).localGet(mr).localGet(nr).localGet(beta).call(fn.edge);
            c.end();
          });
        });
      });
    });
  });
  c.end();
}

/** Generate the module bytes (imports env.memory and env.scratch; exports sgemm, dgemm). */
export function gemmModuleBytes(config: Partial<GemmConfig> = {}): Uint8Array {
  const cfg: GemmConfig = { ...DEFAULT_BLOCKING, fma: false, shared: false, ...config };
  const m = new ModuleBuilder();
  m.importMemory("env", "memory", cfg.shared ? { initial: 1, maximum: 65536, shared: true } : { initial: 1 });
  const scratch = m.importGlobal("env", "scratch", "i32");
  const I = "i32" as const;
  for (const dtype of ["f32", "f64"] as const) {
    const s = specOf(dtype, cfg[dtype]);
    const kernel = m.func(undefined, [I, I, I, I, I, I], []);
    const packA = m.func(undefined, [I, I, I, I, I, I, I], []);
    const packB = m.func(undefined, [I, I, I, I, I, I, I], []);
    const edge = m.func(undefined, [I, I, I, I, I, I], []);
    const edgeKernels: number[] = [];
    for (let rows = 1; rows <= s.mr; rows++)
      for (let vecs = 1; vecs <= s.nv; vecs++) {
        const k = m.func(undefined, [I, I, I, I, I, I], []);
        emitKernel(k, s, cfg.fma, rows, vecs);
        edgeKernels.push(k.index);
      }
    const driver = m.func(dtype === "f32" ? "sgemm" : "dgemm", Array(12).fill(I), []);
    emitKernel(kernel, s, cfg.fma);
    emitPack(packA, s, s.mr);
    emitPack(packB, s, s.nr);
    emitEdge(edge, s);
    const fns = { kernel: kernel.index, edgeKernels, packA: packA.index, packB: packB.index, edge: edge.index };
    emitDriver(driver, s, fns, scratch);
  }
  return m.build();
}

/** (M, N, K, aOff, lda, aTrans, bOff, ldb, bTrans, cOff, ldc, accumulate) => void; offsets in bytes. */
export type GemmFn = (
  M: number,
  N: number,
  K: number,
  aOff: number,
  lda: number,
  aTrans: number,
  bOff: number,
  ldb: number,
  bTrans: number,
  cOff: number,
  ldc: number,
  accumulate: number,
) => void;

export interface GemmExports {
  sgemm: GemmFn;
  dgemm: GemmFn;
}
