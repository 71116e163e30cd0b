/**
 * Matrix multiply (GEMM) for WebAssembly SIMD128, generated at run time: `sgemm` (f32) and `dgemm`
 * (f64) computing C = op(A)·op(B) (+ C when `accumulate`), on row-major data in an IMPORTED memory,
 * so one WebAssembly.Memory can be shared with the JIT arena and with JS typed-array views.
 *
 * Exported signature (all i32):
 *   sgemm(M, N, K, aOff, lda, aTrans, bOff, ldb, bTrans, cOff, ldc, accumulate)
 *   dgemm(same)
 *   - aOff, bOff, cOff: BYTE offsets into the memory (any alignment; element-aligned is best);
 *   - lda, ldb, ldc: leading dimensions in ELEMENTS (row strides of the stored row-major arrays);
 *   - op(A) is M×K: A[i*lda + p] when aTrans = 0, A[p*lda + i] when aTrans = 1 (A stored K×M);
 *     op(B) is K×N: B[p*ldb + j] when bTrans = 0, B[j*ldb + p] when bTrans = 1 (B stored N×K);
 *     so X^T·G and G·W^T (the reverse-mode matmul gradients) need no transposed copies;
 *   - accumulate = 1 adds into C, 0 overwrites it. C must not overlap A or B.
 * Every instance also imports `env.scratch` (i32): the byte offset of a private scratch region of
 * `gemmScratchBytes(blocking)` bytes (1,310,848 = 1.25 MiB with the defaults) for packed panels.
 *
 * Blocking scheme (Goto/BLIS), defaults f32 MR×NR = 4×8, KC = 256, MC = 128, NC = 1024:
 *   for jc in N step NC:                       B block KC×NC (1 MiB f32), packed once per jc, pc
 *     for pc in K step KC':                    KC' = K split in equal blocks of <= KC (no thin tail)
 *       pack op(B)[pc:pc+KC', jc:jc+NC] into NR-wide micro-panels (each KC'×NR, k-major)
 *       for ic in M step MC:                   A block MC×KC' (128 KiB f32), stays in L2
 *         pack op(A)[ic:ic+MC, pc:pc+KC'] into MR-tall micro-panels (each KC'×MR, k-major)
 *         for jr in NC step NR:                B micro-panel KC'×NR (8 KiB) stays in L1 ...
 *           for ir in MC step MR:              ... while the A micro-panels stream from L2
 *             micro-kernel: MR×NR tile of C in registers, KC' rank-1 updates
 * The micro-kernel (gemm-kernels.ts, which explains the tile choice) keeps MR·NR/lanes v128
 * accumulators; per k it loads NR/lanes vectors of B and broadcasts MR scalars of A with
 * load32_splat / load64_splat, then mul+add (or relaxed_madd when the engine has relaxed SIMD).
 * Packing copies contiguous rows with v128 loads, transposes depth-contiguous sources 4×4 (2×2)
 * in registers, and zero-pads panels to MR/NR and to the k-unroll, so kernels have no edge cases.
 * Edge tiles (mr < MR or nr < NR) run the smallest kernel covering them into a tile buffer that
 * is merged into C. The first K block overwrites C (unless accumulate), later ones add into it.
 * Kernels are separate wasm functions: V8 tiers a hot function up to TurboFan between calls, so
 * even the first large call switches to optimized kernels part-way through.
 */
import { Code, type FuncBuilder, ModuleBuilder } from "./encoder.js";
import { emitEdge, emitKernel, emitPack, type Spec, specOf } from "./gemm-kernels.js";
import { base64ToBytes } from "../../ir/serialize.js";
import { PREBUILT_GEMM, RELAXED_PROBE } from "./gemm-prebuilt.js";
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
let relaxed: boolean | undefined;
export function hasRelaxedSimd(): boolean {
  return (relaxed ??= probeRelaxedSimd());
}

/** A module whose one function uses f32x4.relaxed_madd (prebuilt: gemm-prebuilt.ts). */
export function relaxedProbeBytes(): Uint8Array {
  const m = new ModuleBuilder();
  const f = m.func("f", [], ["v128"]);
  f.code.v128Zero().v128Zero().v128Zero().f32x4RelaxedMadd();
  return m.build();
}

function probeRelaxedSimd(): boolean {
  try {
    return wasmApi().validate(base64ToBytes(RELAXED_PROBE));
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

/** local dst = min(k, local a - local b), k a constant or `{ local }`. */
function setMinRemaining(c: Code, dst: number, k: number | { local: number }, a: number, b: number): void {
  const pushK = () => (typeof k === "number" ? c.i32Const(k) : c.localGet(k.local));
  pushK();
  c.localGet(a).localGet(b).i32Sub().localTee(dst);
  pushK();
  c.localGet(dst).i32LtS().select().localSet(dst);
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
  // Byte strides of op(A) and op(B), C row stride in bytes, and the five loop levels' state.
  const [rsA, csA, rsB, csB, ldcB] = [v(), v(), v(), v(), v()];
  const [jc, nc, pc, kc, kcPad, kStep, ic, mc, jr, nr, ir, mr] = [v(), v(), v(), v(), v(), v(), v(), v(), v(), v(), v(), v()];
  const [beta, tileBuf, aPack, bPack, cp, i] = [v(), v(), v(), v(), v(), v()];
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

/** Key of a configuration in the prebuilt table (gemm-prebuilt.ts). */
export function prebuiltKey(cfg: GemmConfig): string {
  return JSON.stringify([cfg.f32, cfg.f64, cfg.fma, cfg.shared]);
}

/**
 * The module bytes (imports env.memory and env.scratch; exports sgemm, dgemm): from the prebuilt
 * table when the configuration is one of the defaults, else generated.
 */
export function gemmModuleBytes(config: Partial<GemmConfig> = {}): Uint8Array {
  const cfg: GemmConfig = { ...DEFAULT_BLOCKING, fma: false, shared: false, ...config };
  const pre = PREBUILT_GEMM[prebuiltKey(cfg)];
  return pre ? base64ToBytes(pre) : generateGemmModuleBytes(cfg);
}

/** Generate the module bytes with the encoder (what the prebuilt table holds for the defaults). */
export function generateGemmModuleBytes(config: Partial<GemmConfig> = {}): Uint8Array {
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
