// What every code-generating backend produces for one lowered program: a callable on concrete
// tensors plus what introspection, the disk cache and ahead-of-time export need.

import type { Tensor } from "../core/tensor.js";
import type { LoweredProgram } from "../lower/kernel-ir.js";
import type { MemoryPlan } from "../lower/memory.js";
import type { WasmProgram } from "./wasm/kernels.js";

export interface Executable {
  /** runs on concrete tensors, returns one tensor per program output */
  run(args: Tensor[]): Tensor[];
  /** the generated JS (JS backend), or a one-line description (WebAssembly backend) */
  readonly source: string;
  readonly lowered: LoweredProgram;
  /** the memory plan of a static program (null when sizes are symbolic) */
  readonly plan: MemoryPlan | null;
  /** the generated module (WebAssembly backend) */
  readonly wasm?: WasmProgram;
}
