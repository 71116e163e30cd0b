// Batched matrix products (issue 12, item 3): a dot_general whose batch dims do not merge into one
// stride (attention's [B, H, T, d] read through a transpose of [B, T, H, d]) lowers to ONE dot
// kernel with a stride per batch dim (no copy of the transposed operand) and runs through the GEMM
// with all batches at once; results are bit-identical to the interpreter on the JS and wasm
// backends over sizes that hit every GEMM tail, for the JS loop and the GEMM; the one-batch-at-a-
// time fallback (memory that cannot hold every batch) and a GEMM without a batched entry compute
// the same bits; gradients of batched products agree with central differences in float64.

import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Tensor, config, exportFunction, grad, jit, np, spec } from "../src/index.js";
import { matmulKernels, type GemmHandle, type MatmulArgs } from "../src/prims/ref/matmul.js";
import { WasmGemm } from "../src/runtime/wasm/wasm-gemm.js";
import { hasRelaxedSimd } from "../src/runtime/wasm/gemm.js";
import { assertClose, numericJvp, rand } from "./util/check.js";
import { loadExported } from "./util/load-exported.js";

const saved = { ...config };
beforeEach(() => config.update({ interpretBelowWork: 0 }));
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
});

function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

/** q k^T over heads: q, k of shape [b0, T, b1, d] split as attention does; v the same for (q k^T) v. */
function attention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const split = (t: Tensor) => np.transpose(t, [0, 2, 1, 3]);
  const s = np.matmul(split(q), np.transpose(split(k), [0, 1, 3, 2]));
  return np.transpose(np.matmul(s, split(v)), [0, 2, 1, 3]);
}

// sizes around the GEMM's register tiles and SIMD widths (1..17), and a few larger ones
const dimArb = fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(24, 31, 33, 40, 64, 65));

const jitAttention = jit(attention);

describe("batched products through strided batch dims", () => {
  it("lower to one dot kernel with a stride per batch dim (no transpose copies)", () => {
    const q = rand([2, 8, 3, 4], 1, -1, 1, "float32");
    const text = jit(attention).lower(q, q, q).text("kernels");
    const dots = text.split("\n").filter((l) => l.includes(": dot "));
    expect(dots).toHaveLength(2);
    expect(dots.every((l) => l.includes("B=6"))).toBe(true);
    // the only data movement left is the output's transpose back to [b0, T, b1, d]
    expect(text.split("\n").filter((l) => /fuses: transpose#\d+$/.test(l))).toHaveLength(1);
  });

  it("are bit-identical to the interpreter on the JS and wasm backends (JS loop and GEMM sizes)", () => {
    fc.assert(
      fc.property(
        fc.record({ b0: fc.integer({ min: 1, max: 3 }), b1: fc.integer({ min: 1, max: 3 }), T: dimArb, d: dimArb, f64: fc.boolean(), seed: fc.integer({ min: 1, max: 1e6 }) }),
        ({ b0, b1, T, d, f64, seed }) => {
          const dt = f64 ? "float64" : "float32";
          const [q, k, v] = [0, 1, 2].map((i) => rand([b0, T, b1, d], seed + i, -1, 1, dt)) as [Tensor, Tensor, Tensor];
          config.update({ backend: "interp" });
          const want = (jitAttention(q, k, v) as Tensor).data;
          for (const backend of ["js", "wasm"] as const) {
            config.update({ backend });
            expectSame((jitAttention(q, k, v) as Tensor).data, want, `${backend} b0=${b0} b1=${b1} T=${T} d=${d} ${dt}`);
          }
        },
      ),
      { numRuns: 40, seed: 20261203 },
    );
  });

  it("einsum-style products with three batch dims and mixed layouts match the interpreter", () => {
    // batch dims (a, b, c) with b and c swapped in x: three batch strides, none mergeable
    const f = jit((x: Tensor, y: Tensor) => np.einsum("acbmk,abckn->abcmn", x, y));
    for (const [a, b, c, m, n, kk] of [
      [2, 3, 2, 17, 9, 33],
      [1, 2, 5, 40, 33, 20],
      [3, 1, 2, 5, 64, 7],
    ] as const) {
      for (const dt of ["float32", "float64"] as const) {
        const x = rand([a, c, b, m, kk], a * 7 + m, -1, 1, dt);
        const y = rand([a, b, c, kk, n], b * 5 + n, -1, 1, dt);
        config.update({ backend: "interp" });
        const want = (f(x, y) as Tensor).data;
        config.update({ backend: "wasm" });
        expectSame((f(x, y) as Tensor).data, want, `wasm ${[a, b, c, m, n, kk]} ${dt}`);
      }
    }
  });
});

/** One batched product q k^T over heads (the exported-module case). */
function scores(q: Tensor, k: Tensor): Tensor {
  const split = (t: Tensor) => np.transpose(t, [0, 2, 1, 3]);
  return np.matmul(split(q), np.transpose(split(k), [0, 1, 3, 2]));
}
const jitScores = jit(scores);

describe("exported modules", () => {
  // Exported modules carry the portable GEMM (no relaxed-SIMD FMA). Where the engine has relaxed
  // SIMD, the in-process GEMM multiplies-adds fused (faster, deterministic on that engine), so a
  // GEMM-sized float32 product of an exported module may differ from the in-process one by the
  // rounding of the products: |difference| <= K * 2^-23 * sum_k |a_ik| |b_kj| (each side within
  // K * 2^-24 of that bound from the exact value). Elsewhere both carry the same code: equal bits.
  it("embed the batched product (wasm and js) with the interpreter's bits (or FMA's bound)", async () => {
    for (const [shape, dt] of [
      [[2, 40, 3, 24], "float32"],
      [[3, 5, 2, 7], "float64"],
    ] as const) {
      const [q, k] = [0, 1].map((i) => rand([...shape], 60 + i, -1, 1, dt)) as [Tensor, Tensor];
      config.update({ backend: "interp" });
      const want = (jitScores(q, k) as Tensor).data;
      const bound = (jitScores(np.abs(np.astype(q, "float64")), np.abs(np.astype(k, "float64"))) as Tensor).data;
      const fused = dt === "float32" && hasRelaxedSimd();
      for (const backend of ["wasm", "js"] as const) {
        const s = spec(dt, [...shape]);
        const m = await loadExported(exportFunction(scores, [s, s], { name: `scores_${backend}_${dt}`, backend }));
        const got = m.default(q, k).data;
        if (!fused) expectSame(got, want, `export ${backend} ${dt}`);
        else for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(shape[3] * 2 ** -23 * bound[i]!);
      }
    }
  });
});

describe("the matmul runtime's batched GEMM path", () => {
  /** A handle on a fresh single-threaded GEMM; `limit` bytes of memory at most, `batched` optional. */
  let granted = 0;
  function handle(g: WasmGemm, opts: { limit?: number; batched?: boolean } = {}): GemmHandle {
    const base = g.mark();
    granted = 0;
    const h: GemmHandle = {
      sgemm: g.sgemm,
      dgemm: g.dgemm,
      base,
      ensure: (end) => {
        if (end > (opts.limit ?? Infinity)) return false;
        if (g.memory.buffer.byteLength < end) g.memory.grow(Math.ceil((end - g.memory.buffer.byteLength) / 65536));
        granted++;
        return true;
      },
      view: (f64, off, n) => (f64 ? g.f64(off, n) : g.f32(off, n)),
      done: () => g.reset(base),
    };
    if (opts.batched) {
      h.batched = (f64, M, N, K, lda, aT, ldb, bT, ldc, table) => {
        for (let i = 0; i < table.length; i += 3) (f64 ? g.dgemm : g.sgemm)(M, N, K, table[i]!, lda, aT, table[i + 1]!, ldb, bT, table[i + 2]!, ldc, 0);
      };
    }
    return h;
  }

  it("computes the same bits with all batches at once, one at a time, and through `batched`", () => {
    const g = new WasmGemm();
    const [b0, b1, M, N, K] = [3, 4, 19, 21, 13];
    for (const f64 of [false, true]) {
      // a: [b0, M, b1, K] read as [b0, b1, M, K]; b: [b1, b0, N, K] read as [b0, b1, K, N] (transposed)
      const A = rand([b0 * M * b1 * K], 11, -1, 1, f64 ? "float64" : "float32").data;
      const Bm = rand([b1 * b0 * N * K], 12, -1, 1, f64 ? "float64" : "float32").data;
      const args = (): MatmulArgs => ({
        f64, B: b0 * b1, batch: [b0, b1], M, N, K,
        a: A, aOff: 0, aStrides: [M * b1 * K, K, b1 * K, 1],
        b: Bm, bOff: 0, bStrides: [N * K, b0 * N * K, 1, K],
        out: f64 ? new Float64Array(b0 * b1 * M * N) : new Float32Array(b0 * b1 * M * N), outOff: 0,
      });
      const run = (h: GemmHandle) => {
        const p = args();
        expect(matmulKernels.wasmMatmul(p, h)).toBe(true);
        h.done();
        return p.out;
      };
      const all = run(handle(g));
      expect(granted).toBe(1); // every batch in one region
      const oneByOne = run(handle(g, { limit: g.mark() + 16000 })); // one batch fits (< 13 kB), two do not
      expect(granted).toBe(b0 * b1);
      const viaBatched = run(handle(g, { batched: true }));
      expectSame(oneByOne, all, "one batch at a time");
      expectSame(viaBatched, all, "batched entry");
      // and the JS loop agrees to rounding (float64 accumulation)
      const js = args();
      matmulKernels.jsMatmul(js);
      assertClose(all, js.out, { rtol: f64 ? 1e-12 : 1e-5, atol: f64 ? 1e-12 : 1e-5, what: "gemm vs JS loop" });
      // memory that cannot hold one batch: declined, so the JS loop runs
      expect(matmulKernels.wasmMatmul(args(), handle(g, { limit: g.mark() + 64 }))).toBe(false);
    }
  });
  it("takes large batches in groups of at most 32 MiB", () => {
    const g = new WasmGemm();
    const [B, M, N, K] = [4, 1500, 1500, 1]; // 9 MB per batch: groups of 3 and 1
    const a = rand([B * M * K], 21, -1, 1, "float32").data;
    const b = rand([B * K * N], 22, -1, 1, "float32").data;
    const args = (): MatmulArgs => ({ f64: false, B, M, N, K, a, aOff: 0, aStrides: [M * K, K, 1], b, bOff: 0, bStrides: [K * N, N, 1], out: new Float32Array(B * M * N), outOff: 0 });
    const grouped = args();
    const h = handle(g);
    expect(matmulKernels.wasmMatmul(grouped, h)).toBe(true);
    h.done();
    expect(granted).toBe(2);
    const one = args();
    const h1 = handle(g, { limit: g.mark() + 10 * 2 ** 20 });
    expect(matmulKernels.wasmMatmul(one, h1)).toBe(true);
    h1.done();
    expect(granted).toBe(B);
    expectSame(grouped.out, one.out, "groups vs one at a time");
  });
});

describe("gradients of batched products", () => {
  it("agree with central differences in float64 (jit wasm)", () => {
    config.update({ backend: "wasm" });
    const loss = (q: Tensor, k: Tensor, v: Tensor) => np.sum(np.sin(attention(q, k, v)));
    const xs = [0, 1, 2].map((i) => rand([2, 20, 3, 9], 40 + i)) as [Tensor, Tensor, Tensor];
    const gs = jit(grad(loss, { argnums: [0, 1, 2] }))(...xs) as Tensor[];
    for (let dir = 0; dir < 3; dir++) {
      const ts = xs.map((x, i) => rand(x.shape, 100 * dir + i));
      const num = numericJvp((...a: Tensor[]) => loss(a[0]!, a[1]!, a[2]!), xs, ts)[0]!;
      let analytic = 0;
      gs.forEach((g, i) => g.data.forEach((v, j) => (analytic += v * ts[i]!.data[j]!)));
      assertClose([analytic], [num], { rtol: 1e-7, atol: 1e-8, what: `direction ${dir}` });
    }
  });
});
