// One runtime for jit and export (issue 10 item 1) and the two issue-9 memory gaps it closes:
// exported modules get the jit's WebAssembly memory fallback and pool (the engine's limits are
// simulated by making WebAssembly.Memory or its grow throw, or by exporting with lowered
// wasmMemoryLimits), and a matrix product too large for the GEMM's memory runs in the JS kernel
// with its numbers instead of dying in a RangeError (limits lowered through the wasmMemoryLimits
// hook, so nothing allocates a gigabyte). Also: the arena planner's schedule is what an export
// runs on (no second liveness computation), checked against the in-process plan.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Tensor, config, exportFunction, jit, makeProgram, np, spec } from "../src/index.js";
import { wasmMemoryLimits } from "../src/backends/wasm/program.js";
import { MATMUL_JS, matmulKernels, useFastMatmul } from "../src/prims/ref/matmul.js";
import { lowerProgram } from "../src/lower/fuse.js";
import { optimizeForBackend } from "../src/jit/compile.js";
import { memorySchedule, planMemory } from "../src/lower/memory.js";
import { ARENA_JS, planArena } from "../src/runtime/arena.js";
import { compactSource } from "../src/core/runtime-text.js";
import { WASM_MEMORY_JS } from "../src/runtime/wasm/memory.js";
import { byteSize } from "../src/core/dtype.js";
import { evalDim } from "../src/core/shape.js";

const { update: _u, ...saved } = { ...config };
const limits = { ...wasmMemoryLimits };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
afterEach(() => {
  config.update(saved);
  Object.assign(wasmMemoryLimits, limits);
});

const MiB = 2 ** 20;
type F = (...a: Tensor[]) => Tensor;
const WA = (globalThis as unknown as { WebAssembly: { Memory: any } }).WebAssembly;

async function load(e: { write(d: string): Promise<string[]>; manifest: { files: { module: string } } }): Promise<any> {
  const dir = mkdtempSync(join(tmpdir(), "adgen-runtime-"));
  dirs.push(dir);
  await e.write(dir);
  return import(/* @vite-ignore */ pathToFileURL(join(dir, e.manifest.files.module)).href);
}

function expectBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
}

function interp(f: F, args: Tensor[]): Float32Array {
  config.update({ backend: "interp" });
  const r = jit((...a: Tensor[]) => f(...a))(...args) as Tensor;
  config.update(saved);
  return r.data as Float32Array;
}

/** Runs `body` with WebAssembly.Memory (or its grow) replaced; restores it afterwards. */
async function withMemory<T>(patch: { create?: (pages: number) => never; grow?: () => never }, body: () => Promise<T> | T): Promise<T> {
  const Memory = WA.Memory;
  const grow = Memory.prototype.grow;
  if (patch.create) {
    WA.Memory = function (d: { initial: number }) {
      return patch.create!(d.initial);
    };
  }
  if (patch.grow) Memory.prototype.grow = patch.grow;
  try {
    return await body();
  } finally {
    WA.Memory = Memory;
    Memory.prototype.grow = grow;
  }
}

// a shape-polymorphic program with a reduction, a pad and several temporaries
const f: F = (x) => np.add(np.multiply(np.tanh(x), np.sum(np.exp(np.pad(x, [[1, 2]])))), np.sin(np.multiply(x, x)));
const data = (n: number, s = 0.37) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s) * 3);

describe("issue 9 / issue 10.1: exported modules share the jit's WebAssembly memory fallback and pool", () => {
  it("issue 9 (export memory): a module whose WebAssembly memory cannot be created at import runs every call in JavaScript, same bits as the interpreter", async () => {
    const e = exportFunction(f, [spec("float32", ["B"])], { name: "noMemory" });
    const x = data(5000);
    const want = interp(f, [np.array(x)]);
    let attempts = 0;
    const got = await withMemory(
      {
        create: () => {
          attempts++;
          throw new RangeError("WebAssembly.Memory(): could not allocate memory");
        },
      },
      async () => (await load(e)).noMemory({ data: x, shape: [5000] }),
    );
    expect(attempts, "the module tried to create its memory").toBeGreaterThan(0);
    expectBits(got.data, want, "fallback result");
  });

  it("issue 9 (export memory): a call whose memory cannot grow runs in JavaScript (same bits); smaller calls keep running", async () => {
    const m = await load(exportFunction(f, [spec("float32", ["B"])], { name: "noGrow" }));
    const small = data(10), large = data(100_000, 0.11);
    const wantSmall = interp(f, [np.array(small)]), wantLarge = interp(f, [np.array(large)]);
    let attempts = 0;
    await withMemory(
      {
        grow: () => {
          attempts++;
          throw new RangeError("WebAssembly.Memory.grow(): Unable to grow instance memory");
        },
      },
      () => {
        expectBits(m.noGrow({ data: large, shape: [100_000] }).data, wantLarge, "large call, memory cannot grow");
        expectBits(m.noGrow({ data: small, shape: [10] }).data, wantSmall, "small call after it");
      },
    );
    expect(attempts, "the module asked its memory to grow").toBeGreaterThan(0);
    expectBits(m.noGrow({ data: large, shape: [100_000] }).data, wantLarge, "large call once the memory can grow");
  });

  it("issue 9 (export memory): large calls run in a pooled memory reused across calls (the module's own memory stays small)", async () => {
    // the limits are the jit's, read at export time: lowered here so a 2 MiB call counts as large
    wasmMemoryLimits.retainBytes = 1 * MiB;
    wasmMemoryLimits.poolBytes = 16 * MiB;
    const e = exportFunction(f, [spec("float32", ["B"])], { name: "pooled" });
    Object.assign(wasmMemoryLimits, limits);
    const m = await load(e);
    const large = data(200_000, 0.13);
    const want = interp(f, [np.array(large)]);
    const sizes: number[] = [];
    const Memory = WA.Memory;
    await withMemory({ create: ((pages: number) => (sizes.push(pages), new Memory({ initial: pages }))) as never }, () => {
      for (let k = 0; k < 3; k++) expectBits(m.pooled({ data: large, shape: [200_000] }).data, want, `call ${k + 1}`);
    });
    expect(sizes.length, "one pooled memory for three large calls").toBe(1);
    expect(sizes[0]! * 65536).toBeGreaterThan(1 * MiB);
  });

  it("issue 9 (export memory): when the JavaScript form cannot allocate its working memory either, the call throws an AdgenModuleError naming the cause", async () => {
    const m = await load(exportFunction(f, [spec("float32", ["B"])], { name: "noArena" }));
    const x = data(100_000, 0.7);
    const AB = globalThis.ArrayBuffer;
    class NoArrayBuffer extends AB {
      constructor(n: number) {
        super(0);
        throw new RangeError(`Array buffer allocation failed (${n} bytes)`);
      }
    }
    const err = await withMemory(
      {
        grow: () => {
          throw new RangeError("WebAssembly.Memory.grow(): Unable to grow instance memory");
        },
      },
      () => {
        globalThis.ArrayBuffer = NoArrayBuffer as ArrayBufferConstructor;
        try {
          m.noArena({ data: x, shape: [100_000] });
          return null;
        } catch (e) {
          return e as Error;
        } finally {
          globalThis.ArrayBuffer = AB;
        }
      },
    );
    expect(err).not.toBeNull();
    expect(err!.name).toBe("AdgenModuleError");
    expect(err!.message).toMatch(/noArena: this call needs \d+ bytes of working memory, which the engine could not allocate \(Array buffer allocation failed \(\d+ bytes\)\)/);
  });
});

describe("issue 9: a matrix product too large for the GEMM's WebAssembly memory runs in the JS kernel", () => {
  const K = 1_000_000; // 4 MB per operand: a product the GEMM takes (B*M*N*K >= fastMatmulMinWork)
  const a = Float32Array.from({ length: K }, (_, i) => Math.sin(i * 0.001) + 0.5);
  const b = Float32Array.from({ length: K }, (_, i) => Math.cos(i * 0.0007));
  // the JS kernel: float64 accumulation over k in order, one rounding to float32 at the end
  let acc = 0;
  for (let k = 0; k < K; k++) acc += a[k]! * b[k]!;
  const want = Float32Array.of(acc);

  it("issue 9 (GEMM memory): eager 1xK by Kx1 with the GEMM's memory capped below the operands gives the JS kernel's bits, no RangeError", () => {
    expect(useFastMatmul(1, 1, K), "the size goes to the GEMM").toBe(true);
    wasmMemoryLimits.maxBytes = 4 * MiB; // stands for 4 GiB: the operands (8 MB) do not fit
    const got = np.matmul(np.array(a).reshape([1, K]), np.array(b).reshape([K, 1]));
    expectBits(got.data, want, "eager product");
    // the same through the runtime's own JS loop
    const out = new Float32Array(1);
    matmulKernels.jsMatmul({ f64: false, B: 1, M: 1, N: 1, K, a, aOff: 0, aStrides: [0, K, 1], b, bOff: 0, bStrides: [0, 1, 1], out, outOff: 0 });
    expectBits(out, want, "runtime jsMatmul");
  });

  it("issue 9 (GEMM memory): a GEMM memory that refuses to grow (engine limit) falls back the same way, eager and jitted on wasm", () => {
    wasmMemoryLimits.grow = () => {
      throw new RangeError("WebAssembly.Memory.grow(): Unable to grow instance memory");
    };
    const A = np.array(a).reshape([1, K]), B = np.array(b).reshape([K, 1]);
    expectBits(np.matmul(A, B).data, want, "eager product");
    config.update({ backend: "wasm", interpretBelowWork: 0 });
    const j = jit((x: Tensor, y: Tensor) => np.matmul(x, y));
    expectBits((j(A, B) as Tensor).data, want, "jitted product (wasm backend; its own memory falls back to JS as well)");
  });
});

describe("issue 10.1: live ranges come from the memory planner only", () => {
  it("the arena runtime on the planner's schedule gives the in-process plan; an export embeds that schedule", () => {
    const lp = lowerProgram(optimizeForBackend(makeProgram(f)(spec("float32", ["N"]))));
    const sched = memorySchedule(lp);
    expect(sched.temps.length, "the program has temporaries").toBeGreaterThan(0);
    for (const N of [1, 7, 1000]) {
      const sizes = lp.buffers.map((b) => evalDim(b.size, { [lp.symbols[0]!]: N }));
      const plan = planMemory(lp, sizes);
      const direct = planArena(sched, sizes, lp.buffers.map((b) => byteSize(b.dtype)));
      expect(direct.end).toBe(plan.arenaBytes);
      expect(direct.offsets).toEqual(plan.offsets);
      // no two temporaries live at once overlap (an in-place donor shares its block by design)
      const bytes = (t: number) => Math.ceil((sizes[t]! * byteSize(lp.buffers[t]!.dtype)) / 16) * 16;
      for (const t of sched.temps) expect(plan.offsets[t]! + bytes(t)).toBeLessThanOrEqual(plan.arenaBytes);
    }
    const src: string = (exportFunction(f, [spec("float32", ["N"])], { name: "sched" }) as unknown as { source: string }).source;
    expect(src).toContain(`$planArena(${JSON.stringify(sched)}`);
    expect(src).not.toMatch(/\$plan\(/);
  });
});

describe("issue 10.1: embedded runtime texts are compacted without changing their meaning", () => {
  it("compactSource drops indentation and comments that start a line, keeps strings, trailing comments and code after a block comment", () => {
    const src = [
      "function rt() {",
      "    // a line comment",
      "    /** a block",
      "     * comment */",
      "    const s = \"// not a comment\", t = '/* nor this */';",
      "    /* inline */ const u = 1; // trailing",
      "    const v = u",
      "      + 2;",
      "    return { s, t, u, v };",
      "}",
    ].join("\n");
    const out = compactSource(src);
    expect(out).toBe(
      ["function rt() {", "const s = \"// not a comment\", t = '/* nor this */';", "const u = 1; // trailing", "const v = u", "+ 2;", "return { s, t, u, v };", "}"].join("\n"),
    );
    expect(new Function(`return (${out})();`)()).toEqual({ s: "// not a comment", t: "/* nor this */", u: 1, v: 3 });
  });

  it("every embedded runtime evaluates from its compacted text to the same functions (planArena, matmul, pool)", () => {
    const arena = new Function(`${ARENA_JS}\nreturn $planArena;`)() as typeof planArena;
    const lp = lowerProgram(optimizeForBackend(makeProgram(f)(spec("float32", ["N"]))));
    const sizes = lp.buffers.map((b) => evalDim(b.size, { [lp.symbols[0]!]: 33 }));
    expect(arena(memorySchedule(lp), sizes, lp.buffers.map((b) => byteSize(b.dtype)))).toEqual(planArena(memorySchedule(lp), sizes, lp.buffers.map((b) => byteSize(b.dtype))));
    const mm = new Function(`const $gemmFor = () => null, $matmulMinWork = () => 0;\n${MATMUL_JS}\nreturn $matmul;`)() as typeof matmulKernels.matmul;
    const a = Float64Array.from({ length: 12 }, (_, i) => Math.sin(i)), b = Float64Array.from({ length: 20 }, (_, i) => Math.cos(i));
    const out1 = new Float64Array(15), out2 = new Float64Array(15);
    const p = (out: Float64Array) => ({ f64: true, B: 1, M: 3, N: 5, K: 4, a, aOff: 0, aStrides: [0, 4, 1] as const, b, bOff: 0, bStrides: [0, 5, 1] as const, out, outOff: 0 });
    mm(p(out1), true);
    matmulKernels.jsMatmul(p(out2));
    expectBits(out1, out2, "embedded matmul");
    expect(WASM_MEMORY_JS).toContain("$growTo");
  });
});
