// The JS API's implementation limits on a function (50000 locals including params, 7654321 body
// bytes): the encoder refuses such a module with a WasmLimitError (so the jit runs the program
// with the JS backend, logged) instead of handing the engine bytes it rejects, and a module just
// under the limit compiles. Module bytes are written once, so large bodies are fine.
import { describe, expect, it } from "vitest";
import { ModuleBuilder, WasmLimitError } from "../src/runtime/wasm/encoder.js";
import { wasmApi } from "../src/runtime/wasm/wasm-api.js";

const WA = wasmApi();

function moduleWithLocals(n: number, bodyOps = 0): Uint8Array {
  const m = new ModuleBuilder();
  const f = m.func("f", ["i32"], ["i32"]);
  for (let i = 1; i < n; i++) f.local(i % 2 ? "f64" : "i32"); // alternating: one declaration group each
  for (let i = 0; i < bodyOps; i++) f.code.localGet(0).localSet(0);
  f.code.localGet(0);
  return m.build();
}

describe("WebAssembly function limits", () => {
  it("50000 locals (params included) compile and run; 50001 are refused with WasmLimitError", () => {
    const ok = new WA.Instance(new WA.Module(moduleWithLocals(50000)), {}).exports["f"] as (x: number) => number;
    expect(ok(7)).toBe(7);
    expect(() => moduleWithLocals(50001)).toThrow(WasmLimitError);
    expect(() => moduleWithLocals(50001)).toThrow(/50001 locals/);
  });

  it("a body of 600000 instructions (1.2 MB) is written whole (no argument spreading) and runs", () => {
    const bytes = moduleWithLocals(1, 300_000); // 4 bytes per pair: 1.2 MB of body
    expect(bytes.length).toBeGreaterThan(1_200_000);
    const f = new WA.Instance(new WA.Module(bytes), {}).exports["f"] as (x: number) => number;
    expect(f(-3)).toBe(-3);
  });
});
