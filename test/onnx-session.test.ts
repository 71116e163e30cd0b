// The ONNX Runtime execution path (src/onnx/session.ts): a Program compiled once to an
// InferenceSession runs synchronously and asynchronously, serves several batch sizes through a
// symbolic dimension, agrees with the interpreter, and reports a missing or unusable execution
// provider with a clear error. The cache-key part names the provider and the thread count.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { ArgumentError, type Tensor, makeProgram, np, nn, spec } from "../src/index.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { availableProviders, compileOrt, ortKey } from "../src/onnx/session.js";
import { assertClose, rand } from "./util/check.js";

const f = (x: Tensor, w: Tensor) => nn.softmax(np.matmul(np.tanh(x), w), { axis: -1 });
const program = makeProgram(f)(spec("float64", ["B", 5]), spec("float64", [5, 3]));

describe("ONNX Runtime sessions", () => {
  it("one compiled session serves batches 1, 7 and 128 synchronously and agrees with the interpreter", () => {
    const c = compileOrt(program);
    const w = rand([5, 3], 9);
    for (const b of [1, 7, 128]) {
      const x = rand([b, 5], b);
      const [got] = c.run([x, w]);
      const [want] = interpret(program, [x, w]);
      expect(got!.shape).toEqual([b, 3]);
      expect(got!.dtype).toBe("float64");
      assertClose(got!.dataSync(), want!.dataSync(), { rtol: 1e-12, atol: 1e-14 });
    }
  });

  it("runAsync (the public Promise API) equals run", async () => {
    const c = compileOrt(program, { threads: 1 });
    const args = [rand([4, 5], 1), rand([5, 3], 2)];
    const [a] = c.run(args);
    const [b] = await c.runAsync(args);
    expect(Array.from(b!.dataSync())).toEqual(Array.from(a!.dataSync()));
  });

  it("bool and int32 results come back with their dtypes", () => {
    const g = (x: Tensor) => [np.greater(x, 0), np.argmax(x, { axis: 0 })];
    const p = makeProgram(g)(spec("float32", [6]));
    const x = rand([6], 3, -1, 1, "float32");
    const [gt, am] = compileOrt(p).run([x]);
    const [wgt, wam] = interpret(p, [x]);
    expect(gt!.dtype).toBe("bool");
    expect(Array.from(gt!.dataSync())).toEqual(Array.from(wgt!.dataSync()));
    expect(am!.dtype).toBe("int32");
    expect(am!.item()).toBe(wam!.item());
  });

  it("inputs of the wrong dtype or rank are rejected before reaching ONNX Runtime", () => {
    const c = compileOrt(program);
    expect(() => c.run([rand([4, 5], 1, -1, 1, "float32"), rand([5, 3], 2)])).toThrow(/input 0 is f32\[4,5\], the program expects f64\[B,5\]/);
  });

  it("an execution provider that is not in the build, or cannot start, is a clear ArgumentError", () => {
    expect(availableProviders()).toContain("cpu");
    expect(() => compileOrt(program, { executionProvider: "no-such-device" })).toThrow(ArgumentError);
    expect(() => compileOrt(program, { executionProvider: "no-such-device" })).toThrow(/"no-such-device" is not available in this onnxruntime-node build \(available: cpu/);
    if (availableProviders().includes("cuda")) {
      // listed by the linux build, but its binaries are only present after a CUDA install
      let err: unknown = null;
      try {
        compileOrt(program, { executionProvider: "cuda" });
      } catch (e) {
        err = e;
      }
      const lib = createRequire(import.meta.url).resolve("onnxruntime-node").replace(/dist\/index\.js$/, `bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so`);
      if (!existsSync(lib)) expect(err).not.toBeNull();
      if (err !== null) {
        expect(err).toBeInstanceOf(ArgumentError);
        expect(String(err)).toMatch(/execution provider "cuda" failed: .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
      }
    }
    expect(() => compileOrt(program, { threads: -1 })).toThrow(/threads/);
    expect(() => compileOrt(program, { thread: 2 } as never)).toThrow(/unknown option "thread". Did you mean "threads"\?/);
  });

  it("the bundled WebGPU provider either runs (a GPU is present) and agrees with the interpreter, or fails with an ArgumentError naming what it needs", () => {
    const x = rand([3, 5], 4, -1, 1);
    const p32 = makeProgram((v: Tensor) => nn.softmax(np.tanh(v), { axis: -1 }))(spec("float32", ["B", 5]));
    if (!availableProviders().includes("webgpu")) {
      // a build without it (other platforms): refused before ONNX Runtime is asked
      expect(() => compileOrt(p32, { executionProvider: "webgpu" })).toThrow(/"webgpu" is not available in this onnxruntime-node build/);
      return;
    }
    let c: ReturnType<typeof compileOrt> | null = null;
    let err: unknown = null;
    try {
      c = compileOrt(p32, { executionProvider: "webgpu" });
    } catch (e) {
      err = e;
    }
    if (c) {
      const xf = x.astype("float32");
      const [got] = c.run([xf]);
      assertClose(got!.dataSync(), interpret(p32, [xf])[0]!.dataSync(), { rtol: 1e-5, atol: 1e-6 });
      expect(c.key).toBe("onnxruntime:webgpu:threads=0");
    } else {
      expect(err).toBeInstanceOf(ArgumentError);
      expect(String(err)).toMatch(/execution provider "webgpu" failed: .*WebGPU provider \(Dawn\) needs a GPU and its native API: Vulkan/);
    }
  });

  it("the cache-key part names the provider and the thread count", () => {
    expect(ortKey()).toBe("onnxruntime:cpu:threads=0");
    expect(ortKey({ executionProvider: "cuda", threads: 4 })).toBe("onnxruntime:cuda:threads=4");
    expect(compileOrt(program, { threads: 2 }).key).toBe("onnxruntime:cpu:threads=2");
  });
});
