// The known half of a function's linearization as a remat graph: what checkpoint's budget planner
// (transforms/remat.ts) sees, for tests that call the planner directly.

import type { Tensor } from "../../src/index.js";
import { makeProgram } from "../../src/trace/make-program.js";
import { jvpProgram, partialEvalProgram } from "../../src/transforms/program.js";
import { type RematGraph, rematGraph } from "../../src/transforms/remat.js";

export function graphOf(f: (...a: Tensor[]) => Tensor, ...args: Tensor[]): RematGraph {
  const p = makeProgram(f)(...args);
  const jp = jvpProgram(p, args.map(() => true)).program;
  const pe = partialEvalProgram(jp, [...args.map(() => false), ...args.map(() => true)]);
  const nKnownOut = pe.outUnknown.filter((u) => !u).length;
  return rematGraph(pe.known, pe.known.outputs.slice(nKnownOut));
}
