// How higher-order primitives run their sub-programs on concrete values: by default the
// interpreter; index.ts connects the jit's compiled runner (cached per Program), which lives in
// a higher layer (jit/), so this layer never imports it.

import type { Tensor } from "../core/tensor.js";
import type { Program } from "../ir/program.js";
import { interpret } from "../backends/interp/interpret.js";
import { config } from "../core/config.js";

/** Runs a closed program compiled; `name` names it in logs and errors. */
type Runner = (p: Program, args: Tensor[], name: string) => Tensor[];
let runner: Runner = (p, args) => interpret(p, args);

export function installProgramRunner(r: Runner): void {
  runner = r;
}

/** Runs a closed program on concrete tensors with the best available backend. */
export function runProgram(p: Program, args: Tensor[]): Tensor[] {
  // debugNans checks each equation of control-flow bodies, so the inner op is named, not the loop
  return config.debugNans ? interpret(p, args) : runner(p, args, "sub-program");
}

/** Runs a jitted program (jit_call applied to concrete values) with the installed runner. */
export function runJitted(p: Program, args: Tensor[], name: string): Tensor[] {
  return runner(p, args, name);
}
