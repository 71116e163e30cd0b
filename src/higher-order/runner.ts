// How higher-order primitives run their sub-programs on concrete values: by default the
// interpreter; the JIT installs its compiled runner (cached per Program) when it loads.

import type { Tensor } from "../core/tensor.js";
import type { Program } from "../ir/program.js";
import { interpret } from "../backends/interp/interpret.js";
import { config } from "../core/config.js";

type Runner = (p: Program, args: Tensor[]) => Tensor[];
let runner: Runner = interpret;

export function installProgramRunner(r: Runner): void {
  runner = r;
}

/** Runs a closed program on concrete tensors with the best available backend. */
export function runProgram(p: Program, args: Tensor[]): Tensor[] {
  // debugNans checks each equation of control-flow bodies, so the inner op is named, not the loop
  return config.debugNans ? interpret(p, args) : runner(p, args);
}
