// Regression tests of issue 9 (resource safety, WebAssembly memory): a program beyond what
// WebAssembly can address, or whose memory the engine cannot allocate or grow, runs that call
// with the JS backend (same bits as the interpreter) and logs one "info" line instead of dying in
// WebAssembly.Memory.grow; and one large call does not leave the executable holding a large
// memory (larger layouts run in memories of a shared, bounded pool). The engine's limits are simulated through the internal wasmMemoryLimits hook (lowered
// limits, create/grow that throw) so no test allocates gigabytes.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type LogEvent, Tensor, config, jit, makeProgram, np, spec } from "../src/index.js";
import { compileWasm, pooledWasmBytes, wasmMemoryLimits } from "../src/backends/wasm/program.js";
import { lowerProgram } from "../src/lower/fuse.js";
import { optimizeForBackend } from "../src/jit/compile.js";

const { update: _u, ...saved } = { ...config };
const limits = { ...wasmMemoryLimits };
beforeEach(() => {
  wasmMemoryLimits.poolBytes = 0; // start each test with an empty pool
});
afterEach(() => {
  config.update(saved);
  Object.assign(wasmMemoryLimits, limits);
});

const MiB = 2 ** 20;
type F = (...a: Tensor[]) => Tensor;

function expectBits(got: { data: ArrayLike<number> }, want: ArrayLike<number>, what: string): void {
  expect(got.data.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got.data[i], want[i])) expect.fail(`${what}: element ${i}: got ${got.data[i]}, want ${want[i]}`);
}

/** Log events of kind "info" while `body` runs on `backend` (compiled at once). */
function withLog<T>(body: () => T): { value: T; info: LogEvent[] } {
  const info: LogEvent[] = [];
  config.update({ ...saved, logger: (e) => void (e.kind === "info" && info.push(e)) });
  const value = body();
  return { value, info };
}

function onBackend(f: F, backend: "wasm" | "interp", args: Tensor[]): Tensor {
  config.update({ backend, interpretBelowWork: 0 });
  return jit((...a: Tensor[]) => f(...a))(...args) as Tensor;
}

// a fused program with a reduction, a pad and several temporaries: about 5 x 4 bytes per element
const f: F = (x) => {
  const t = np.tanh(x);
  const s = np.sum(np.multiply(t, t));
  return np.add(np.multiply(np.pad(np.exp(np.index(t, [np.s(1, null)])), [[0, 1]]), s), np.sin(x));
};
const n = 200_000; // about 4 MiB of WebAssembly memory
const x = np.array(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 3));

describe("issue 9 resource safety: programs beyond WebAssembly's memory fall back, large memories are released", () => {
  it("issue 9 resource safety: a program beyond the wasm32 limit runs that call with the JS backend, logs one info line, same bits as the interpreter", () => {
    const want = onBackend(f, "interp", [x]);
    wasmMemoryLimits.maxBytes = 1 * MiB; // stands for 4 GiB
    const { value, info } = withLog(() => {
      const j = jit(f);
      config.update({ backend: "wasm", interpretBelowWork: 0 });
      return [j(x) as Tensor, j(x) as Tensor];
    });
    value.forEach((v, i) => expectBits(v, want.data, `call ${i + 1}`));
    expect(info.length, "one log line").toBe(1);
    expect(info[0]!.message).toMatch(/WebAssembly memory.*more than WebAssembly can address.*JS backend/);
  });

  it("issue 9 resource safety: a failed WebAssembly.Memory.grow falls back to the JS backend with the right result and a log line", () => {
    const want = onBackend(f, "interp", [x]);
    let attempts = 0;
    wasmMemoryLimits.grow = () => {
      attempts++;
      throw new RangeError("WebAssembly.Memory.grow(): Unable to grow instance memory");
    };
    const { value, info } = withLog(() => onBackend(f, "wasm", [x]));
    expect(attempts, "the kept memory was asked to grow").toBeGreaterThan(0);
    expectBits(value, want.data, "fallback result");
    expect(info.map((e) => e.message).join("\n")).toMatch(/could not allocate it \(WebAssembly\.Memory\.grow\(\): Unable to grow instance memory\).*JS backend/);
  });

  it("issue 9 resource safety: a large call's memory that cannot be created falls back too (no crash)", () => {
    const want = onBackend(f, "interp", [x]);
    wasmMemoryLimits.retainBytes = 1 * MiB;
    const create = limits.create;
    wasmMemoryLimits.create = (pages) => {
      if (pages * 65536 > MiB) throw new RangeError("WebAssembly.Memory(): could not allocate memory");
      return create(pages);
    };
    const { value, info } = withLog(() => onBackend(f, "wasm", [x]));
    expectBits(value, want.data, "fallback result");
    expect(info.length).toBe(1);
    expect(info[0]!.message).toMatch(/could not allocate memory/);
  });

  it("issue 9 resource safety: after a large call the retained WebAssembly memory shrinks back (a memory per call above retainBytes)", () => {
    wasmMemoryLimits.retainBytes = 1 * MiB;
    // shape-polymorphic, so one executable serves a small and a large size
    const g: F = (a) => np.add(np.multiply(np.tanh(a), np.sum(np.exp(np.pad(a, [[1, 2]])))), np.sin(a));
    const p = optimizeForBackend(makeProgram(g)(spec("float32", ["N"])));
    const exec = compileWasm(lowerProgram(p), "poly");
    const small = np.array(Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i)));
    const wantSmall = onBackend(g, "interp", [small]);
    const wantLarge = onBackend(g, "interp", [x]);
    expectBits(exec.run([small])[0]!, wantSmall.data, "small call");
    const retained = exec.memoryBytes!();
    expect(retained).toBeLessThanOrEqual(1 * MiB);
    for (let k = 0; k < 2; k++) {
      expectBits(exec.run([x])[0]!, wantLarge.data, `large call ${k + 1}`);
      // the large call's ~4 MiB memory is kept neither by the executable nor (poolBytes 0) by the pool
      expect(exec.memoryBytes!(), "retained bytes after a large call").toBe(retained);
      expect(pooledWasmBytes(), "pooled bytes").toBe(0);
      expectBits(exec.run([small])[0]!, wantSmall.data, `small call after large call ${k + 1}`);
    }
  });

  it("issue 9 resource safety: repeated large calls reuse one pooled memory, and the pool stays within poolBytes", () => {
    wasmMemoryLimits.retainBytes = 1 * MiB;
    wasmMemoryLimits.poolBytes = 16 * MiB;
    let created = 0;
    const create = limits.create;
    wasmMemoryLimits.create = (pages) => (created++, create(pages));
    const exec = compileWasm(lowerProgram(optimizeForBackend(makeProgram(f)(x))), "pooled");
    const want = onBackend(f, "interp", [x]);
    for (let k = 0; k < 3; k++) expectBits(exec.run([x])[0]!, want.data, `call ${k + 1}`);
    expect(created, "the executable's small memory and one large memory").toBe(2);
    expect(pooledWasmBytes()).toBeGreaterThan(4 * n);
    expect(pooledWasmBytes()).toBeLessThanOrEqual(16 * MiB);
    expect(exec.memoryBytes!()).toBeLessThanOrEqual(1 * MiB);
    // a lowered bound drops what is beyond it
    wasmMemoryLimits.poolBytes = 0;
    expectBits(exec.run([x])[0]!, want.data, "call after lowering poolBytes");
    expect(pooledWasmBytes()).toBe(0);
  });

  it("issue 9 resource safety: a static program larger than retainBytes keeps only its small memory between calls", () => {
    const exec = compileWasm(lowerProgram(optimizeForBackend(makeProgram(f)(x))), "static");
    wasmMemoryLimits.retainBytes = 1 * MiB;
    const want = onBackend(f, "interp", [x]);
    for (let k = 0; k < 2; k++) {
      expectBits(exec.run([x])[0]!, want.data, `call ${k + 1}`);
      expect(exec.memoryBytes!()).toBeLessThanOrEqual(1 * MiB);
    }
  });

  it("issue 9 resource safety: below retainBytes the memory is kept and reused (no new memory per call)", () => {
    let created = 0;
    const create = limits.create;
    wasmMemoryLimits.create = (pages) => (created++, create(pages));
    const exec = compileWasm(lowerProgram(optimizeForBackend(makeProgram(f)(x))), "kept");
    const want = onBackend(f, "interp", [x]);
    for (let k = 0; k < 3; k++) expectBits(exec.run([x])[0]!, want.data, `call ${k + 1}`);
    expect(created, "one memory, made at compile time").toBe(1);
    expect(exec.memoryBytes!()).toBeGreaterThan(4 * n);
  });
});

describe("issue 9 resource safety: no WebAssembly memory at compile time", () => {
  it("jit falls back to the JS backend with a log line when the engine cannot create a memory (found by npm run fuzz)", async () => {
    const { config, jit, np } = await import("../src/index.js");
    const saved = { backend: config.backend, interpretBelowWork: config.interpretBelowWork, logger: config.logger };
    const events: string[] = [];
    const create = wasmMemoryLimits.create;
    try {
      config.update({ backend: "wasm", interpretBelowWork: 0, logger: (e) => void events.push(e.message) });
      wasmMemoryLimits.create = () => {
        throw new RangeError("WebAssembly.Memory(): could not allocate memory");
      };
      const f = jit((x: any) => np.add(np.multiply(x, x), 1), { name: "noMemory" });
      expect(f(np.array([1, 2, 3], { dtype: "float64" })).toArray()).toEqual([2, 5, 10]);
      expect(events.filter((m) => /noMemory: WebAssembly could not allocate memory/.test(m))).toHaveLength(1);
    } finally {
      wasmMemoryLimits.create = create;
      config.update(saved);
    }
  });
});
