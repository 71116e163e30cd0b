// The worker pool running batched products (issue 12, item 2): ThreadedGemm.batched splits a
// batch over the calling thread and the workers (each product whole on one thread) and computes
// the bits of the single-threaded GEMM for batch counts that hit every split (fewer products than
// two per thread: per-product splits; uneven ranges; more than one job's table), in float32 and
// float64, plain and transposed operands; without SharedArrayBuffer (a page that is not
// cross-origin isolated) the same class runs everything on the calling thread.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ThreadedGemm } from "../src/runtime/wasm/gemm-threads.js";
import { rng } from "./util/check.js";

function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

interface Case {
  count: number;
  M: number;
  N: number;
  K: number;
  aT: number;
  bT: number;
  f64: boolean;
  seed: number;
}

/** Runs `c` with t.batched and with the calling thread's gemm product by product; returns both outputs. */
function runBoth(t: ThreadedGemm, c: Case): [Float32Array | Float64Array, Float32Array | Float64Array] {
  const { count, M, N, K, aT, bT, f64 } = c;
  const g = t.local;
  const E = f64 ? 8 : 4;
  const dt = f64 ? "f64" : "f32";
  const mark = g.mark();
  try {
    const r = rng(c.seed);
    // products' operands interleaved at uneven offsets (the table takes any offsets)
    const aOff = g.alloc(count * M * K * E + 64);
    const bOff = g.alloc(count * K * N * E + 64);
    const c1 = g.alloc(count * M * N * E);
    const c2 = g.alloc(count * M * N * E);
    const view = (off: number, n: number) => (f64 ? g.f64(off, n) : g.f32(off, n));
    view(aOff, count * M * K).set(Float64Array.from({ length: count * M * K }, () => r() - 0.5));
    view(bOff, count * K * N).set(Float64Array.from({ length: count * K * N }, () => r() - 0.5));
    const table = new Int32Array(3 * count);
    for (let i = 0; i < count; i++) {
      const j = (i * 7) % count; // products not in memory order
      table.set([aOff + j * M * K * E, bOff + i * K * N * E, c1 + i * M * N * E], 3 * i);
    }
    const lda = aT ? M : K, ldb = bT ? K : N;
    t.batched(dt, M, N, K, lda, aT, ldb, bT, N, table);
    const f = g.gemm(dt);
    for (let i = 0; i < count; i++) f(M, N, K, table[3 * i]!, lda, aT, table[3 * i + 1]!, ldb, bT, c2 + i * M * N * E, N, 0);
    return [view(c1, count * M * N).slice(), view(c2, count * M * N).slice()];
  } finally {
    g.reset(mark);
  }
}

describe("batched products on the worker pool", () => {
  let t: ThreadedGemm;
  beforeAll(async () => {
    t = await ThreadedGemm.create({ threads: 3, minFlops: 0 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("uses the workers where shared memory exists", () => {
    if (typeof SharedArrayBuffer !== "undefined") expect(t.threads).toBe(3);
  });

  it("computes the single-threaded bits for every split", () => {
    fc.assert(
      fc.property(
        fc.record({
          // 1..5: fewer than two per thread (per-product splits); up to 40: uneven batch ranges
          count: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 6, max: 40 })),
          M: fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(64, 130)),
          N: fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(33, 70)),
          K: fc.integer({ min: 1, max: 40 }),
          aT: fc.constantFrom(0, 1),
          bT: fc.constantFrom(0, 1),
          f64: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1e6 }),
        }),
        (c) => {
          const [got, want] = runBoth(t, c);
          expectSame(got, want, JSON.stringify(c));
        },
      ),
      { numRuns: 60, seed: 20261203 },
    );
  });

  it("runs a batch longer than one job's table as several jobs", () => {
    const [got, want] = runBoth(t, { count: 1500, M: 3, N: 5, K: 4, aT: 0, bT: 1, f64: false, seed: 7 });
    expectSame(got, want, "1500 products");
  });
});

describe("the single-thread path", () => {
  it("runs batched products on the calling thread without SharedArrayBuffer", () => {
    const g = globalThis as { SharedArrayBuffer?: unknown };
    const sab = g.SharedArrayBuffer;
    let t: ThreadedGemm;
    try {
      g.SharedArrayBuffer = undefined;
      t = ThreadedGemm.createSync({ threads: 4, minFlops: 0 });
    } finally {
      g.SharedArrayBuffer = sab;
    }
    expect(t.threads).toBe(1);
    for (const c of [
      { count: 9, M: 17, N: 9, K: 33, aT: 1, bT: 0, f64: false, seed: 3 },
      { count: 2, M: 70, N: 5, K: 8, aT: 0, bT: 0, f64: true, seed: 4 },
    ]) {
      const [got, want] = runBoth(t, c);
      expectSame(got, want, JSON.stringify(c));
    }
  });
});
