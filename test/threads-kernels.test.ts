// Threaded program kernels (issue 12, item 2): large map kernels and reductions over rows
// (softmax, layernorm, row sums/max/argmax) of a jitted program run in ranges of rows on the
// GEMM's worker pool, against the program module's shared memory (backends/wasm/threads.ts).
// Every output element and every row's reduction is computed by the same code in the same order
// whichever thread runs it, so the results are bit-identical with 1 and N threads and to the
// interpreter, for sizes that hit the SIMD tails and uneven thread splits (fixed seeds; the split
// threshold is lowered so that small odd sizes split, and one case runs at the default). Full
// reductions stay on one thread (same bits as well). The suite also checks that the workers
// really ran chunks (else a split that never happens would pass trivially).

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Tensor, config, grad, jit, np } from "../src/index.js";
import { generateWasm } from "../src/backends/wasm/kernels.js";
import { importsSharedMemory, kernelThreadLimits } from "../src/backends/wasm/threads.js";
import { lowerProgram } from "../src/lower/fuse.js";
import { optimizeForBackend } from "../src/jit/compile.js";
import { makeProgram, spec } from "../src/index.js";
import { kernelThreads } from "../src/runtime/wasm/matmul.js";
import { rng } from "./util/check.js";

type F = (...a: Tensor[]) => Tensor;
const { update: _u, ...saved } = { ...config };
const shared = typeof SharedArrayBuffer !== "undefined";

function expectBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
}

/** f on `backend`; threads 1 or the pool (config.matmulThreads stays 3: the pool is process-wide). */
function run(f: F, backend: "wasm" | "interp", args: Tensor[], oneThread = false): ArrayLike<number> {
  config.update({ backend, interpretBelowWork: 0 });
  const saveThreads = config.matmulThreads;
  if (oneThread) config.update({ matmulThreads: 1 }); // kernelThreads() is then null: rows run on the caller
  try {
    return (jit((...a: Tensor[]) => f(...a))(...args) as Tensor).data;
  } finally {
    config.update({ matmulThreads: saveThreads });
  }
}

function data(n: number, seed: number, dtype: "float32" | "float64" = "float32"): Tensor {
  const r = rng(seed);
  const a = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() - 0.5) * 8;
  return np.array(a);
}

const ew: F = (x) => np.add(np.multiply(np.tanh(x), np.exp(np.negative(np.multiply(x, x)))), np.multiply(x, 0.5));
const softmax = (R: number, C: number): F => (x) => {
  const r = np.reshape(x, [R, C]);
  const e = np.exp(np.subtract(r, np.max(r, { axis: 1, keepdims: true })));
  return np.divide(e, np.sum(e, { axis: 1, keepdims: true }));
};
const layernorm = (R: number, C: number): F => (x) => {
  const r = np.reshape(x, [R, C]);
  const m = np.mean(r, { axis: 1, keepdims: true });
  const d = np.subtract(r, m);
  const v = np.mean(np.multiply(d, d), { axis: 1, keepdims: true });
  return np.add(np.multiply(np.divide(d, np.sqrt(np.add(v, 1e-5))), 1.5), 0.25);
};
const rowReduce = (R: number, C: number, op: "sum" | "max" | "argmax" | "prod"): F => (x) => {
  const r = np.exp(np.multiply(np.reshape(x, [R, C]), op === "prod" ? 0.001 : 1));
  return op === "argmax" ? np.argmax(r, { axis: 1 }) : np[op](r, { axis: 1 });
};
const full: F = (x) => np.sum(np.multiply(np.tanh(x), np.exp(np.negative(np.multiply(x, x)))));

/** Interpreter, wasm on one thread, wasm on the pool: the same bits. */
function check(f: F, x: Tensor, what: string): void {
  const want = run(f, "interp", [x]);
  expectBits(run(f, "wasm", [x], true), want, `${what}, wasm 1 thread`);
  expectBits(run(f, "wasm", [x]), want, `${what}, wasm threads`);
}

describe.skipIf(!shared)("threaded program kernels", () => {
  const MIN = 4096;
  const defaultLimits = { ...kernelThreadLimits };
  beforeAll(async () => {
    config.update({ matmulThreads: 3, matmulThreadsAfter: 0 });
    // the workers start asynchronously: run a large kernel until they take chunks
    const x = data(1 << 20, 1);
    const f = jit(ew);
    config.update({ backend: "wasm", interpretBelowWork: 0 });
    for (let i = 0; i < 400 && !(kernelThreads()?.workerChunks ?? 0); i++) {
      f(x);
      await new Promise((r) => setTimeout(r, 10));
    }
    kernelThreadLimits.minWork = MIN;
  }, 30_000);
  afterAll(() => {
    config.update(saved);
    Object.assign(kernelThreadLimits, defaultLimits);
  });

  it("the jit's modules import a shared memory; exported ones do not", () => {
    const lp = lowerProgram(optimizeForBackend(makeProgram(ew)(spec("float32", [MIN * 2]))));
    expect(importsSharedMemory(generateWasm(lp, { threads: true }).bytes)).toBe(true);
    expect(importsSharedMemory(generateWasm(lp).bytes)).toBe(false);
  });

  it("the workers run chunks of large kernels", () => {
    const before = kernelThreads()!.workerChunks;
    expect(before, "chunks run by workers while warming up").toBeGreaterThan(0);
  });

  it("elementwise maps: bit-identical for 1 and N threads and the interpreter (odd lengths, SIMD tails, float32 and float64)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), fc.boolean(), fc.integer(), (extra, f64, seed) => {
        check(ew, data(MIN + extra, seed, f64 ? "float64" : "float32"), `ew n=${MIN + extra}${f64 ? " f64" : ""}`);
      }),
      { seed: 12, numRuns: 12 },
    );
  });

  it("at the default threshold: a large map and large softmax rows, bit-identical for 1 and N threads and the interpreter", () => {
    const saveMin = kernelThreadLimits.minWork;
    kernelThreadLimits.minWork = defaultLimits.minWork;
    try {
      // ew costs ~22 per element: threaded from minWork / 23 elements
      check(ew, data(defaultLimits.minWork / 16 + 13, 5), "ew at the default threshold");
      check(softmax(129, 4065), data(129 * 4065, 6), "softmax [129, 4065]");
    } finally {
      kernelThreadLimits.minWork = saveMin;
    }
  });

  it("softmax and layernorm rows: bit-identical for 1 and N threads and the interpreter (odd rows and columns)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 400 }), fc.integer({ min: 0, max: 50 }), fc.integer(), (R, extra, seed) => {
        const C = Math.ceil(MIN / R) + extra;
        const x = data(R * C, seed);
        check(softmax(R, C), x, `softmax [${R}, ${C}]`);
        check(layernorm(R, C), x, `layernorm [${R}, ${C}]`);
      }),
      { seed: 34, numRuns: 12 },
    );
  });

  it("row reductions (sum, max, argmax, prod) and a full sum: bit-identical for 1 and N threads and the interpreter", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.integer({ min: 0, max: 40 }), fc.constantFrom("sum", "max", "argmax", "prod"), fc.integer(), (R, extra, op, seed) => {
        const C = Math.ceil(MIN / R) + extra;
        check(rowReduce(R, C, op as "sum"), data(R * C, seed), `${op} rows [${R}, ${C}]`);
      }),
      { seed: 56, numRuns: 16 },
    );
    check(full, data(MIN * 3 + 7, 9), "full sum");
  });

  it("a gradient program (maps and row reductions of the backward pass): bit-identical for 1 and N threads and the interpreter", () => {
    const R = 64, C = 1031;
    const g = grad((y: Tensor) => np.sum(np.multiply(softmax(R, C)(y), layernorm(R, C)(y)))) as F;
    check(g, data(R * C, 77), "grad of softmax * layernorm");
  });
});
