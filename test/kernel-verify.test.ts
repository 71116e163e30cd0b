// The kernel-IR verifier (src/lower/verify.ts): it runs on every lowered program of the suite
// (ADGEN_VERIFY=1, so every other test file passing through jit or export is a test that it
// accepts correct programs), and here each rule is broken on purpose in a hand-built program and
// must be reported exactly: the rule and the kernel it names.

import { describe, expect, it } from "vitest";
import "../src/index.js";
import { ShapedArray } from "../src/core/aval.js";
import { KernelVerifyError, type KernelRule } from "../src/core/errors.js";
import { type Dim, SymDim, dimAdd, dimMul } from "../src/core/shape.js";
import type { Buffer, Expr, Kernel, LoweredProgram, View } from "../src/lower/kernel-ir.js";
import { verifyLowered, verifyLoweredEnabled } from "../src/lower/verify.js";

const f32 = "float32" as const;
const buf = (id: number, kind: Buffer["kind"], size: number, dtype: Buffer["dtype"] = f32, index = 0): Buffer => ({ id, kind, dtype, size, index });
const view = (b: number, offset: Dim = 0, strides: Dim[] = [1]): View => ({ buf: b, offset, strides });
const load = (b: number, offset: Dim = 0, strides: Dim[] = [1], dtype: Buffer["dtype"] = f32): Expr => ({ k: "load", view: view(b, offset, strides), dtype });
const op = (name: string, args: Expr[], dtype: Buffer["dtype"] = f32): Expr => ({ k: "op", op: name, args, dtype });
const map = (out: number, expr: Expr, shape = [4]): Kernel => ({ kind: "map", out, shape, expr, eqns: [] });

/** x (input 0) -> t = exp(x) (temp 1) -> y = t + t (output 2), all [4] float32. */
function program(over: Partial<LoweredProgram> = {}): LoweredProgram {
  return {
    buffers: [buf(0, "input", 4), buf(1, "temp", 4), buf(2, "output", 4)],
    kernels: [map(1, op("exp", [load(0)])), map(2, op("add", [load(1), load(1)]))],
    inputs: [0],
    consts: [],
    outputs: [{ kind: "buffer", buf: 2 }],
    outAvals: [new ShapedArray([4], f32)],
    inShapes: [[4]],
    arenaBytes: 0,
    offsets: [],
    symbols: [],
    ...over,
  };
}

/** The error verifyLowered throws (rule, kernel), or null when it accepts the program. */
function verdict(lp: LoweredProgram): { rule: KernelRule; kernel: string } | null {
  try {
    verifyLowered(lp);
    return null;
  } catch (e) {
    if (!(e instanceof KernelVerifyError)) throw e;
    expect(e.message).toContain(`${e.kernel} breaks ${e.rule}`);
    return { rule: e.rule, kernel: e.kernel };
  }
}

describe("kernel-IR verifier", () => {
  it("is on for the whole suite (ADGEN_VERIFY=1) and accepts the well-formed program", () => {
    expect(verifyLoweredEnabled()).toBe(true);
    expect(verdict(program())).toBeNull();
  });

  it("unknown-buffer: a load from a buffer that does not exist", () => {
    const lp = program({ kernels: [map(1, op("exp", [load(7)])), map(2, load(1))] });
    expect(verdict(lp)).toEqual({ rule: "unknown-buffer", kernel: "kernel 0 (map)" });
  });

  it("use-before-def: a kernel reads a temporary before the kernel that writes it", () => {
    const lp = program({ kernels: [map(2, op("add", [load(1), load(1)])), map(1, op("exp", [load(0)]))] });
    expect(verdict(lp)).toEqual({ rule: "use-before-def", kernel: "kernel 0 (map)" });
  });

  it("use-before-def inside control flow: a cond defines only what every branch writes", () => {
    const idx = buf(3, "input", 1, "int32", 1);
    const cond: Kernel = { kind: "cond", index: 3, branches: [[map(1, load(0))], []], eqns: [] };
    const lp = program({ buffers: [...program().buffers, idx], inputs: [0, 3], kernels: [cond, map(2, load(1))] });
    expect(verdict(lp)).toEqual({ rule: "use-before-def", kernel: "kernel 1 (map)" });
    const both: Kernel = { ...cond, branches: [[map(1, load(0))], [map(1, op("neg", [load(0)]))]] };
    expect(verdict(program({ buffers: lp.buffers, inputs: [0, 3], kernels: [both, map(2, load(1))] }))).toBeNull();
  });

  it("write-readonly: a kernel writes a program input", () => {
    const lp = program({ kernels: [map(0, op("exp", [load(0)])), map(1, load(0)), map(2, load(1))] });
    expect(verdict(lp)).toEqual({ rule: "write-readonly", kernel: "kernel 0 (map)" });
  });

  it("out-of-bounds: a shifted read past the end, a write past the end, a read inside a loop body", () => {
    expect(verdict(program({ kernels: [map(1, op("exp", [load(0, 1)])), map(2, load(1))] }))).toEqual({ rule: "out-of-bounds", kernel: "kernel 0 (map)" });
    expect(verdict(program({ kernels: [map(1, load(0)), { ...map(2, load(1), [4]), outOffset: 1 } as Kernel] }))).toEqual({ rule: "out-of-bounds", kernel: "kernel 1 (map)" });
    // a loop of 2 iterations writing slices of 2: offset 2 * i is fine, 2 * i + 1 overruns at i = 1
    const i = SymDim.symbol("__loop0");
    const loop = (extra: number): Kernel => ({
      kind: "loop",
      index: "__loop0",
      length: 2,
      reverse: false,
      body: [{ kind: "map", out: 2, shape: [2], expr: load(1, dimMul(i, 2)), outOffset: dimAdd(dimMul(i, 2), extra), eqns: [] }],
      eqns: [],
    });
    expect(verdict(program({ kernels: [map(1, load(0)), loop(0)] }))).toBeNull();
    expect(verdict(program({ kernels: [map(1, load(0)), loop(1)] }))).toEqual({ rule: "out-of-bounds", kernel: "kernel 1 (loop) > body 0 (map)" });
  });

  it("out-of-bounds is judged under guards: the guarded side is read only where the guard holds", () => {
    // y[i] = i >= 1 ? x[i - 1] : 0 over [4]: in bounds; without the guard x[-1] would be read
    const shifted: Expr = { k: "guard", dim: 0, lo: 1, hi: 4, body: load(0, -1), other: { k: "const", value: 0, dtype: f32 }, dtype: f32 };
    expect(verdict(program({ kernels: [map(1, shifted), map(2, load(1))] }))).toBeNull();
    expect(verdict(program({ kernels: [map(1, load(0, -1)), map(2, load(1))] }))).toEqual({ rule: "out-of-bounds", kernel: "kernel 0 (map)" });
    // concatenate-like: i < 2 ? x[i] : x[i - 2 + 3] reads x[3], x[4] on the other side: out of bounds
    const concat: Expr = { k: "guard", dim: 0, lo: 0, hi: 2, body: load(0), other: load(0, 1), dtype: f32 };
    expect(verdict(program({ kernels: [map(1, concat), map(2, load(1))] }))).toEqual({ rule: "out-of-bounds", kernel: "kernel 0 (map)" });
  });

  it("dtype: a load typed unlike its buffer, a comparison not giving bool, a kernel storing another dtype", () => {
    expect(verdict(program({ kernels: [map(1, op("exp", [load(0, 0, [1], "int32")])), map(2, load(1))] }))).toEqual({ rule: "dtype", kernel: "kernel 0 (map)" });
    expect(verdict(program({ kernels: [map(1, op("cmp:lt", [load(0), load(0)], f32)), map(2, load(1))] }))).toEqual({ rule: "dtype", kernel: "kernel 0 (map)" });
    const toInt = op("convert:int32", [load(0)], "int32");
    expect(verdict(program({ kernels: [map(1, toInt), map(2, load(1))] }))).toEqual({ rule: "dtype", kernel: "kernel 0 (map)" });
    // the same convert into an int32 temporary is fine
    const lp = program({ buffers: [buf(0, "input", 4), buf(1, "temp", 4, "int32"), buf(2, "output", 4)], kernels: [map(1, toInt), map(2, op("convert:float32", [load(1, 0, [1], "int32")]))] });
    expect(verdict(lp)).toBeNull();
  });

  it("arena-overlap: two live temporaries sharing bytes; in place only element for element", () => {
    // x -> t1 = exp(x) -> t3 = t1 * 2 -> y = t1 + t3: t1 and t3 are live together
    const buffers = [buf(0, "input", 4), buf(1, "temp", 4), buf(2, "output", 4), buf(3, "temp", 4)];
    const kernels = [map(1, op("exp", [load(0)])), map(3, op("mul", [load(1), { k: "const", value: 2, dtype: f32 }])), map(2, op("add", [load(1), load(3)]))];
    expect(verdict(program({ buffers, kernels }))).toBeNull(); // the planner's own offsets
    expect(verdict(program({ buffers, kernels, offsets: [undefined as never, 0, undefined as never, 8] }))).toEqual({ rule: "arena-overlap", kernel: "kernel 1 (map)" });
    // t3 = t1 * 2 where t1 dies: t3 may take t1's block when it reads t1 element for element ...
    const inPlace = [map(1, op("exp", [load(0)])), map(3, op("mul", [load(1), { k: "const", value: 2, dtype: f32 }])), map(2, load(3))];
    expect(verdict(program({ buffers, kernels: inPlace, offsets: [undefined as never, 0, undefined as never, 0] }))).toBeNull();
    // ... but not when it reads t1 reversed (element i would read what element 3 - i overwrote)
    const reversed = [map(1, op("exp", [load(0)])), map(3, load(1, 3, [-1])), map(2, load(3))];
    expect(verdict(program({ buffers, kernels: reversed, offsets: [undefined as never, 0, undefined as never, 0] }))).toEqual({ rule: "arena-overlap", kernel: "kernel 1 (map)" });
  });

  it("output-unwritten: an output buffer no kernel writes", () => {
    expect(verdict(program({ kernels: [map(1, op("exp", [load(0)]))] }))).toEqual({ rule: "output-unwritten", kernel: "program" });
  });

  it("names nested kernels by their path", () => {
    const loop: Kernel = { kind: "loop", index: "__loop0", length: 2, reverse: false, body: [map(1, load(0)), map(2, load(9))], eqns: [] };
    expect(verdict(program({ kernels: [loop] }))).toEqual({ rule: "unknown-buffer", kernel: "kernel 0 (loop) > body 1 (map)" });
  });
});
