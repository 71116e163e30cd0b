// checkpoint (rematerialization): a sub-Program whose intermediate values are recomputed in the
// backward pass instead of being saved. Its partial-evaluation rule is the whole point: the
// known half computes only the outputs (no residuals kept), and the tangent half re-runs the
// primal computation from the checkpoint's inputs, which are the only residuals.

import { ShapeError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { Program } from "../ir/program.js";
import { runProgram } from "./runner.js";
import { instantiate } from "../rules/helpers.js";
import { type Tangent, Zero, isLinearIn, isZero } from "../rules/zero.js";
import { jvpProgram, partialEvalProgram, transposedProgram, vmapProgram } from "../transforms/program.js";
import { definePrimitive, type Primitive } from "../prims/primitive.js";

export type CheckpointPolicy = "nothingSaveable" | "everythingSaveable";

export interface CheckpointParams {
  program: Program;
  policy: CheckpointPolicy;
}

/** The same program computing only the outputs selected by `keep`. */
function onlyOutputs(p: Program, keep: boolean[]): Program {
  return new Program(p.inputs, p.consts, p.constValues, p.equations, p.outputs.filter((_, i) => keep[i]));
}

export const checkpointP: Primitive<CheckpointParams> = definePrimitive<CheckpointParams>({
  name: "checkpoint",
  traits: { higherOrder: true },
  linear: true,
  abstractEval: (ins, { program }) => {
    ins.forEach((a, i) => {
      if (!a.strong().equals(program.inAvals[i]!.strong())) throw new ShapeError(`checkpoint: operand ${i} is ${a}, the function expects ${program.inAvals[i]}`);
    });
    return program.outAvals;
  },
  impl: (ins, { program }) => runProgram(program, ins).map((t) => t.data),
  jvp: (primals, tangents, { program, policy }) => {
    const nz = tangents.map((t) => !isZero(t));
    const { program: jp, outNonZero } = jvpProgram(program, nz);
    const outs = checkpointP.bind([...primals, ...(tangents.filter((t) => !isZero(t)) as Tensor[])], { program: jp, policy });
    const n = program.outputs.length;
    let k = n;
    const ts: Tangent[] = program.outAvals.map((a, i) => (outNonZero[i] ? outs[k++]! : new Zero(a.strong())));
    return [outs.slice(0, n), ts];
  },
  batch: (args, dims, { program, policy }, size) => {
    const outs = checkpointP.bind(args, { program: vmapProgram(program, dims, size), policy });
    return [outs, outs.map(() => 0)];
  },
  transpose: (cts, inputs, { program, policy }) => {
    const linear = inputs.map(isLinearIn);
    const tp = transposedProgram(program, linear);
    const nonLin = inputs.filter((x) => !isLinearIn(x)) as Tensor[];
    const res = checkpointP.bind([...nonLin, ...cts.map(instantiate)], { program: tp, policy });
    let k = 0;
    return inputs.map((x) => (isLinearIn(x) ? res[k++]! : null));
  },
  partialEval: (ctx, inputs, { program, policy }) => {
    const unknown = inputs.map((x) => ctx.isUnknown(x));
    const pe = partialEvalProgram(program, unknown);
    const knownIns = inputs.filter((_, i) => !unknown[i]);
    const nKnownOut = pe.outUnknown.filter((u) => !u).length;
    if (policy === "everythingSaveable") {
      // ordinary partial evaluation: save every residual
      const known = ctx.known(() => checkpointP.bind(knownIns, { program: pe.known, policy }));
      const ukOuts = ctx.stage(checkpointP, [...known.slice(nKnownOut), ...inputs.filter((_, i) => unknown[i])], { program: pe.unknown, policy });
      let a = 0;
      let b = 0;
      return pe.outUnknown.map((u) => (u ? ukOuts[b++]! : known[a++]!));
    }
    // save nothing: the known half drops its residuals; the unknown half recomputes from the inputs
    const keepKnown = pe.known.outputs.map((_, i) => i < nKnownOut);
    const known = ctx.known(() => checkpointP.bind(knownIns, { program: onlyOutputs(pe.known, keepKnown), policy }));
    const ukOuts = ctx.stage(checkpointP, inputs, { program: onlyOutputs(program, pe.outUnknown), policy });
    let a = 0;
    let b = 0;
    return pe.outUnknown.map((u) => (u ? ukOuts[b++]! : known[a++]!));
  },
});
