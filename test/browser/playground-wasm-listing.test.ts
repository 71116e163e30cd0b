// The WebAssembly listing (src/jit/wasm-listing.ts, the playground's "wasm" pane) on modules adgen
// generates: kernels of jitted programs (elementwise, reductions, control flow, int/bool/float64)
// and the SIMD GEMM (plain and relaxed). The listing must decode every function body completely
// (no opcode left undecoded), and its structure must be consistent with the bytes: each body's
// last instruction is the function's own `end`, blocks open and close in pairs, the number of
// functions listed equals the function section's count, and imports and exports match the engine's.
import { describe, expect, it } from "vitest";
import * as adgen from "../../src/index.js";
import { generateWasm } from "../../src/backends/wasm/kernels.js";
import { generateGemmModuleBytes } from "../../src/runtime/wasm/gemm.js";
import { wasmListing } from "../../src/jit/wasm-listing.js";

const { np, lax, jit } = adgen;
// (WebAssembly's types are not in this tsconfig's libs)
const WA = (globalThis as any).WebAssembly;

function check(bytes: Uint8Array): string {
  const text = wasmListing(bytes, 1e9);
  expect(text).not.toMatch(/not decoded/);
  const funcs = text.split("\n  func ").slice(1);
  expect(funcs.length).toBe(Number(/(\d+) defined functions/.exec(text)![1]));
  expect(funcs.length).toBeGreaterThan(0);
  // imports and exports as the engine reads them (where it can compile the module: Node 20 has no relaxed SIMD)
  if (WA.validate(bytes)) {
    const mod = new WA.Module(bytes);
    expect(text.split("\n").filter((l) => l.startsWith("  import ")).length).toBe(WA.Module.imports(mod).length);
    expect(text.split("\n").filter((l) => l.startsWith("  export ")).length).toBe(WA.Module.exports(mod).length);
  }
  for (const f of funcs) {
    const body = f.split("\n").slice(1).map((l) => l.trim()).filter((l) => l && !l.startsWith("section"));
    const open = body.filter((l) => /^(block|loop|if)\b/.test(l)).length;
    const ends = body.filter((l) => l === "end").length;
    expect(ends).toBe(open + 1);
    expect(body.at(-1)).toBe("end");
  }
  return text;
}

describe("playground wasm listing", () => {
  it("decodes whole kernel modules of jitted programs", () => {
    const x = np.array([0.5, -1, 2, 3], { dtype: "float32" }).reshape([2, 2]);
    const programs: [(...a: any[]) => any, unknown[]][] = [
      [(a: adgen.Tensor) => np.mean(np.square(np.tanh(np.matmul(a, a)))), [x]],
      [(a: adgen.Tensor) => np.where(np.greater(a, 0), np.exp(np.astype(a, "float64")), np.astype(np.astype(a, "int32"), "float64")), [x]],
      [(a: adgen.Tensor) => lax.foriLoop(0, 3, (_i: unknown, c: adgen.Tensor) => np.add(np.multiply(c, 0.5), np.sin(c)), a), [x]],
      [adgen.grad((a: adgen.Tensor) => np.sum(np.maximum(a, np.transpose(a)))), [x]],
    ];
    for (const [f, args] of programs) {
      const text = check(generateWasm(jit(f).lower(...args).lowered).bytes);
      expect(text).toMatch(/local\.get \d+/);
    }
  });

  it("decodes the SIMD GEMM module, plain and with relaxed-SIMD fused multiply-adds", () => {
    for (const fma of [false, true]) {
      const text = check(generateGemmModuleBytes({ fma }));
      expect(text).toContain("v128.load");
      if (fma) expect(text).toContain("f32x4.relaxed_madd");
    }
  });
});
