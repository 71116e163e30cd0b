// What every code-generating backend produces for one lowered program: a callable on concrete
// tensors plus what introspection, the disk cache and ahead-of-time export need.

import type { ShapedArray } from "../core/aval.js";
import { type TypedArray, allocArray } from "../core/dtype.js";
import { Tensor } from "../core/tensor.js";
import type { LoweredProgram, OutputSource } from "../lower/kernel-ir.js";
import type { MemoryPlan } from "../lower/memory.js";
import type { WasmProgram } from "./wasm/kernels.js";

export interface Executable {
  /**
   * runs on concrete tensors, returns one tensor per program output; `donate`: positions of args
   * the caller gives away, whose memory results may be written into during the call
   * (lower/memory-donate.ts)
   */
  run(args: Tensor[], donate?: readonly number[]): Tensor[];
  /** the generated JS (JS backend), or a one-line description (WebAssembly backend) */
  readonly source: string;
  readonly lowered: LoweredProgram;
  /** the memory plan of a static program (null when sizes are symbolic) */
  readonly plan: MemoryPlan | null;
  /** the generated module (WebAssembly backend) */
  readonly wasm?: WasmProgram;
  /** bytes of memory this executable keeps between calls (WebAssembly backend: its own memory; larger calls borrow one from a shared, bounded pool) */
  memoryBytes?(): number;
}

/** The tensor for program output `o` (of type `aval`), given the data of its output buffers. */
export function outputTensor(o: OutputSource, aval: ShapedArray, args: Tensor[], bufferData: (buf: number) => TypedArray): Tensor {
  switch (o.kind) {
    case "buffer":
      return new Tensor(aval, bufferData(o.buf));
    case "input":
      return args[o.index]!;
    case "const":
      return o.value;
    case "literal": {
      const d = allocArray(o.dtype, 1);
      d[0] = o.value;
      return new Tensor(aval, d);
    }
  }
}
