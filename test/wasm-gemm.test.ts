// Specification of the generated WebAssembly GEMM (src/runtime/wasm/gemm.ts): for f32 and f64,
// every transA/transB combination, accumulate on and off, random shapes (including 1 and sizes
// that are not multiples of the tile), leading dimensions larger than the matrix and unaligned
// offsets, C = op(A)·op(B) (+ C) equals a naive float64 triple loop within a tolerance scaled by
// sum_p |a_ip|·|b_pj| (1e-5·sqrt(K) for f32, 1e-12 for f64). Small block sizes make even small
// shapes cross several K, M and N blocks. Also: the LEB128 encoder and the threaded variant.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sleb, uleb } from "../src/runtime/wasm/encoder.js";
import {
  DEFAULT_BLOCKING,
  type GemmDtype,
  generateGemmModuleBytes,
  gemmModuleBytes,
  hasRelaxedSimd,
  prebuiltKey,
  relaxedProbeBytes,
} from "../src/runtime/wasm/gemm.js";
import { bytesToBase64 } from "../src/ir/serialize.js";
import { PREBUILT_GEMM, RELAXED_PROBE } from "../src/runtime/wasm/gemm-prebuilt.js";
import { ThreadedGemm } from "../src/runtime/wasm/gemm-threads.js";
import { WasmGemm, type WasmGemmOptions } from "../src/runtime/wasm/wasm-gemm.js";
import { rng } from "./util/check.js";

const SIZES = [1, 2, 3, 5, 7, 8, 15, 16, 17, 33, 64, 100];

interface Case {
  dtype: GemmDtype;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  accumulate: boolean;
  /** Extra leading-dimension padding (elements) and element offset of each operand. */
  pad: number;
  shift: number;
  seed: number;
}

/** Runs one case through the exported gemm on strided operands and checks it. */
function check(g: WasmGemm, c: Case): void {
  const { dtype, M, N, K, transA, transB, accumulate, pad, shift } = c;
  const E = dtype === "f32" ? 4 : 8;
  const r = rng(c.seed);
  // Stored shapes: A is M×K (K×M when transA), B is K×N (N×K when transB), C is M×N.
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const lda = aCols + pad;
  const ldb = bCols + pad;
  const ldc = N + pad;
  const mark = g.mark();
  const aOff = g.alloc((aRows * lda + shift) * E) + shift * E;
  const bOff = g.alloc((bRows * ldb + shift) * E) + shift * E;
  const cOff = g.alloc((M * ldc + shift) * E) + shift * E;
  const view = (off: number, n: number) => (dtype === "f32" ? g.f32(off, n) : g.f64(off, n));
  const A = view(aOff, aRows * lda);
  const B = view(bOff, bRows * ldb);
  const C = view(cOff, M * ldc);
  for (let i = 0; i < A.length; i++) A[i] = 2 * r() - 1;
  for (let i = 0; i < B.length; i++) B[i] = 2 * r() - 1;
  for (let i = 0; i < C.length; i++) C[i] = 2 * r() - 1;
  const C0 = Float64Array.from(C);

  g.gemm(dtype)(M, N, K, aOff, lda, transA ? 1 : 0, bOff, ldb, transB ? 1 : 0, cOff, ldc, accumulate ? 1 : 0);

  const a = (i: number, p: number) => (transA ? A[p * lda + i]! : A[i * lda + p]!);
  const b = (p: number, j: number) => (transB ? B[j * ldb + p]! : B[p * ldb + j]!);
  const tol = dtype === "f32" ? 1e-5 * Math.sqrt(Math.max(K, 1)) : 1e-12;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = accumulate ? C0[i * ldc + j]! : 0;
      let scale = Math.abs(s);
      for (let p = 0; p < K; p++) {
        s += a(i, p) * b(p, j);
        scale += Math.abs(a(i, p) * b(p, j));
      }
      const got = C[i * ldc + j]!;
      if (!(Math.abs(got - s) <= tol * scale + 1e-30))
        throw new Error(`${JSON.stringify(c)}: C[${i},${j}] = ${got}, expected ${s} (scale ${scale})`);
    }
    // Padding columns of C are never written.
    for (let j = N; j < ldc; j++) expect(C[i * ldc + j]).toBe(C0[i * ldc + j]);
  }
  g.reset(mark);
}

const caseArb = (dtype: GemmDtype, transA: boolean, transB: boolean, accumulate: boolean) =>
  fc.record({
    dtype: fc.constant(dtype),
    M: fc.constantFrom(...SIZES),
    N: fc.constantFrom(...SIZES),
    K: fc.constantFrom(...SIZES),
    transA: fc.constant(transA),
    transB: fc.constant(transB),
    accumulate: fc.constant(accumulate),
    pad: fc.constantFrom(0, 0, 3),
    shift: fc.constantFrom(0, 0, 1),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });

const COMBOS = [false, true].flatMap((transA) =>
  [false, true].flatMap((transB) => [false, true].map((accumulate) => ({ transA, transB, accumulate }))),
);

/** Configurations: defaults, tiny blocks (many K/M/N blocks at small sizes), other tile shapes. */
const CONFIGS: [string, WasmGemmOptions][] = [
  ["default blocking", { fma: false }],
  [
    "tiny blocks",
    { fma: false, blocking: { f32: { kc: 8, mc: 8, nc: 16 }, f64: { kc: 4, mc: 12, nc: 8 } } },
  ],
  [
    "other tiles, k-unroll 2",
    {
      fma: false,
      blocking: { f32: { mr: 3, nv: 3, ku: 2, kc: 6, mc: 9, nc: 24 }, f64: { mr: 5, nv: 1, ku: 2, kc: 10, mc: 10, nc: 6 } },
    },
  ],
];
if (hasRelaxedSimd()) CONFIGS.push(["relaxed-SIMD fma", { fma: true }]);

describe("wasm gemm", () => {
  for (const [label, opts] of CONFIGS) {
    describe(label, () => {
      const g = new WasmGemm(opts);
      for (const dtype of ["f32", "f64"] as const) {
        for (const { transA, transB, accumulate } of COMBOS) {
          const name = `${dtype} ${transA ? "Aᵀ" : "A"}·${transB ? "Bᵀ" : "B"}${accumulate ? " + C" : ""}`;
          it(name, () => {
            fc.assert(
              fc.property(caseArb(dtype, transA, transB, accumulate), (c) => check(g, c)),
              { numRuns: label === "default blocking" ? 60 : 30 },
            );
          });
        }
      }
    });
  }

  it("crosses several default-size blocks (K > kc, M > mc, N > nc) exactly in f64", () => {
    const g = new WasmGemm({ fma: false });
    for (const [M, N, K, tA, tB] of [
      [131, 1030, 260, false, true],
      [260, 9, 513, true, false],
    ] as const)
      check(g, { dtype: "f64", M, N, K, transA: tA, transB: tB, accumulate: true, pad: 1, shift: 1, seed: 7 });
  });

  it("K = 0 zeroes C (or leaves it when accumulating); M or N = 0 is a no-op", () => {
    const g = new WasmGemm();
    for (const dtype of ["f32", "f64"] as const) {
      check(g, { dtype, M: 3, N: 5, K: 0, transA: false, transB: false, accumulate: false, pad: 1, shift: 0, seed: 1 });
      check(g, { dtype, M: 3, N: 5, K: 0, transA: true, transB: true, accumulate: true, pad: 1, shift: 0, seed: 2 });
      check(g, { dtype, M: 0, N: 5, K: 4, transA: false, transB: false, accumulate: false, pad: 0, shift: 0, seed: 3 });
      check(g, { dtype, M: 4, N: 0, K: 4, transA: false, transB: false, accumulate: false, pad: 0, shift: 0, seed: 4 });
    }
  });

  it("matmul() copies in and out, with transA/transB, for both dtypes", () => {
    const g = new WasmGemm();
    const r = rng(42);
    const [M, N, K] = [7, 13, 9];
    const a = Float64Array.from({ length: M * K }, () => r() - 0.5); // stored K×M (transA)
    const b = Float64Array.from({ length: K * N }, () => r() - 0.5); // stored N×K (transB)
    const c = g.matmul(a, b, M, N, K, { transA: true, transB: true });
    const c32 = g.matmul(Float32Array.from(a), Float32Array.from(b), M, N, K, { transA: true, transB: true });
    expect(c32).toBeInstanceOf(Float32Array);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let p = 0; p < K; p++) s += a[p * M + i]! * b[j * K + p]!;
        expect(c[i * N + j]).toBeCloseTo(s, 12);
        expect(c32[i * N + j]).toBeCloseTo(s, 5);
      }
    expect(() => g.matmul(a, b, M, N, K + 1)).toThrow(/expected a of/);
  });

  it("shares one memory between two instances with separate scratch regions", () => {
    const a = new WasmGemm({ fma: false });
    const b = new WasmGemm({ memory: a.memory, scratchOffset: a.alloc(a.scratchBytes), fma: false });
    const x = Float64Array.from({ length: 40 * 30 }, (_, i) => Math.sin(i));
    const y = Float64Array.from({ length: 30 * 20 }, (_, i) => Math.cos(i));
    expect(b.matmul(x, y, 40, 20, 30)).toEqual(a.matmul(x, y, 40, 20, 30));
  });
});

describe("prebuilt gemm bytes", () => {
  it("equal what the encoder generates for every default configuration (else run scripts/gen-gemm-prebuilt.ts)", () => {
    const keys: string[] = [];
    for (const fma of [false, true])
      for (const shared of [false, true]) {
        const cfg = { ...DEFAULT_BLOCKING, fma, shared };
        keys.push(prebuiltKey(cfg));
        expect(PREBUILT_GEMM[prebuiltKey(cfg)], `fma=${fma} shared=${shared}`).toBeDefined();
        expect(gemmModuleBytes(cfg)).toEqual(generateGemmModuleBytes(cfg));
      }
    expect(Object.keys(PREBUILT_GEMM).sort()).toEqual(keys.sort());
    expect(RELAXED_PROBE).toBe(bytesToBase64(relaxedProbeBytes()));
  });

  it("other blockings are generated", () => {
    const cfg = { ...DEFAULT_BLOCKING, f32: { ...DEFAULT_BLOCKING.f32, kc: 128 } };
    expect(PREBUILT_GEMM[prebuiltKey({ ...cfg, fma: false, shared: false })]).toBeUndefined();
    expect(gemmModuleBytes(cfg)).toEqual(generateGemmModuleBytes(cfg));
    expect(gemmModuleBytes(cfg)).not.toEqual(gemmModuleBytes({}));
  });
});

describe("wasm encoder", () => {
  it("LEB128", () => {
    const u = (v: number) => {
      const o: number[] = [];
      uleb(o, v);
      return o;
    };
    const s = (v: number) => {
      const o: number[] = [];
      sleb(o, v);
      return o;
    };
    expect(u(0)).toEqual([0]);
    expect(u(127)).toEqual([127]);
    expect(u(128)).toEqual([0x80, 1]);
    expect(u(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(s(-1)).toEqual([0x7f]);
    expect(s(63)).toEqual([63]);
    expect(s(64)).toEqual([0xc0, 0]);
    expect(s(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });
});

describe("threaded gemm", () => {
  it("splits across workers (or falls back) and matches the single-threaded result", async () => {
    const t = await ThreadedGemm.create({ threads: 2, minFlops: 0 });
    try {
      if (typeof SharedArrayBuffer !== "undefined") expect(t.threads).toBe(2);
      const r = rng(9);
      for (const [M, N, K, tA, tB] of [
        [67, 45, 33, false, false],
        [130, 70, 100, true, true],
        [1, 90, 7, false, true],
        [3, 2, 5, true, false],
        [300, 200, 50, false, false], // 4 row chunks
        [64, 520, 20, true, true], // 8 column chunks
      ] as const) {
        const a = Float64Array.from({ length: M * K }, () => r() - 0.5);
        const b = Float64Array.from({ length: K * N }, () => r() - 0.5);
        const single = t.local.matmul(a, b, M, N, K, { transA: tA, transB: tB });
        expect(await t.matmul(a, b, M, N, K, { transA: tA, transB: tB })).toEqual(single);
        const a32 = Float32Array.from(a);
        const b32 = Float32Array.from(b);
        expect(await t.matmul(a32, b32, M, N, K, { transA: tA, transB: tB })).toEqual(
          t.local.matmul(a32, b32, M, N, K, { transA: tA, transB: tB }),
        );
      }
      // A trapping chunk (operands beyond the memory) is reported, and the instance stays usable.
      const mark = t.local.mark();
      const bc = t.local.alloc(2 * 256 * 256 * 4);
      expect(() => t.sgemm(256, 256, 256, 2 ** 31, 256, 0, bc, 256, 0, bc + 256 * 256 * 4, 256, 0)).toThrow(/trapped/);
      t.local.reset(mark);
      const a = Float32Array.from({ length: 200 * 90 }, () => r());
      const b = Float32Array.from({ length: 90 * 300 }, () => r());
      expect(t.matmul(a, b, 200, 300, 90)).toEqual(t.local.matmul(a, b, 200, 300, 90));
    } finally {
      await t.close();
    }
    expect(t.threads).toBe(1);
  });
});
