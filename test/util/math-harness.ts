// Test harness for the math functions' WebAssembly code (backends/wasm/math.ts): a module that maps
// each function over a float32 buffer, scalar (one lane at a time) or SIMD (four lanes).

import { ModuleBuilder } from "../../src/runtime/wasm/encoder.js";
import { type WasmMemory, wasmApi } from "../../src/runtime/wasm/wasm-api.js";
import type { MathFn } from "../../src/math/dsl.js";
import { emitScalar, emitSimd } from "../../src/backends/wasm/math.js";

export interface MathHarness {
  /** f applied to each element of xs (length a multiple of 4), scalar or SIMD code */
  run(name: string, xs: Float32Array, mode: "scalar" | "simd"): Float32Array;
}

export function buildHarness(fns: readonly MathFn[], maxLen: number): MathHarness {
  const m = new ModuleBuilder();
  const pages = Math.ceil((maxLen * 4) / 65536) + 1;
  m.importMemory("env", "memory", { initial: pages });
  const sin = m.importFunc("m", "sin", ["f64"], ["f64"]);
  const cos = m.importFunc("m", "cos", ["f64"], ["f64"]);
  const lib = (n: "sin" | "cos") => (n === "sin" ? sin : cos);
  const inner = fns.map((fn) => ({ fn, s: emitScalar(m, fn, lib), v: emitSimd(m, fn, lib) }));
  for (const { fn, s, v } of inner) {
    for (const [mode, idx, step] of [["scalar", s, 4], ["simd", v, 16]] as const) {
      const w = m.func(`${mode}_${fn.name}`, ["i32", "i32"], []); // (ptr, bytes)
      const c = w.code;
      const p = 0;
      const end = 1;
      c.localGet(p).localGet(end).i32Add().localSet(end);
      const out = c.block();
      const top = c.loop();
      c.localGet(p).localGet(end).raw(0x4f).brIf(out); // i32.ge_u
      c.localGet(p);
      c.localGet(p);
      if (mode === "scalar") c.f32Load().call(idx).f32Store();
      else c.v128Load().call(idx).v128Store();
      c.localGet(p).i32Const(step).i32Add().localSet(p);
      c.br(top);
      c.end();
      c.end();
    }
  }
  const wa = wasmApi();
  const memory: WasmMemory = new wa.Memory({ initial: pages });
  const inst = new wa.Instance(new wa.Module(m.build()), { env: { memory }, m: { sin: Math.sin, cos: Math.cos } });
  const ex = inst.exports as Record<string, (p: number, n: number) => void>;
  return {
    run(name, xs, mode) {
      if (xs.length % 4 !== 0 || xs.length > maxLen) throw new Error("harness: length must be a multiple of 4 and <= maxLen");
      const view = new Float32Array(memory.buffer, 0, xs.length);
      view.set(xs);
      ex[`${mode}_${name}`]!(0, xs.length * 4);
      return view.slice();
    },
  };
}
