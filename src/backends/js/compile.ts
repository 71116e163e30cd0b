// Turns a lowered program into a callable: plans the arena, generates the JS source, compiles it
// with `new Function` (the source is built only from the kernel IR) and wraps inputs/outputs.

import { ShapedArray } from "../../core/aval.js";
import { type TypedArray, allocArray } from "../../core/dtype.js";
import { Tensor } from "../../core/tensor.js";
import type { LoweredProgram } from "../../lower/kernel-ir.js";
import { planMemory } from "../../lower/memory.js";
import { generateJs } from "./codegen.js";
import { matmul } from "../../prims/ref/matmul.js";

export interface Executable {
  /** runs on concrete tensors, returns one tensor per program output */
  run(args: Tensor[]): Tensor[];
  readonly source: string;
  readonly lowered: LoweredProgram;
}

function arrayView(buffer: ArrayBuffer, dtype: string, offset: number, size: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer, offset, size);
    case "float64":
      return new Float64Array(buffer, offset, size);
    case "int32":
      return new Int32Array(buffer, offset, size);
    default:
      return new Uint8Array(buffer, offset, size);
  }
}

export function compileJs(lp: LoweredProgram, name = "program"): Executable {
  planMemory(lp);
  const source = generateJs(lp, name);
  const factory = new Function("consts", "temps", "calls", "matmul", source) as (
    consts: TypedArray[],
    temps: TypedArray[],
    calls: ((...a: TypedArray[]) => void)[],
    mm: typeof matmul,
  ) => (inputs: TypedArray[]) => TypedArray[];
  const arena = new ArrayBuffer(Math.max(8, lp.arenaBytes));
  const temps: TypedArray[] = [];
  for (const b of lp.buffers) if (b.kind === "temp") temps[b.id] = arrayView(arena, b.dtype, b.offset!, b.size);
  const calls: ((...a: TypedArray[]) => void)[] = [];
  lp.kernels.forEach((k, i) => {
    if (k.kind !== "call") return;
    calls[i] = (...arrays: TypedArray[]) => {
      const ins = k.inAvals.map((a, j) => new Tensor(a, arrays[j]!));
      const res = k.prim.impl(ins, k.params, k.outAvals);
      res.forEach((r, j) => arrays[k.ins.length + j]!.set(r));
    };
  });
  const run = factory(lp.consts.map((c) => c.value.data), temps, calls, matmul);
  const outBufs = lp.buffers.filter((b) => b.kind === "output").map((b) => b.id);
  const outPos = new Map(outBufs.map((id, i) => [id, i]));
  const outAvals = lp.outAvals.map((a) => new ShapedArray(a.shape, a.dtype, a.weak));
  return {
    source,
    lowered: lp,
    run(args: Tensor[]): Tensor[] {
      const outs = run(args.map((a) => a.data));
      return lp.outputs.map((o, i) => {
        switch (o.kind) {
          case "buffer":
            return new Tensor(outAvals[i]!, outs[outPos.get(o.buf)!]!);
          case "input":
            return args[o.index]!;
          case "const":
            return o.value;
          case "literal": {
            const d = allocArray(o.dtype, 1);
            d[0] = o.value;
            return new Tensor(outAvals[i]!, d);
          }
        }
      });
    },
  };
}
