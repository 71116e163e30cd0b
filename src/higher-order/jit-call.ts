// The jit_call primitive: applying a staged, closed Program as one operation. It is what a jitted
// function becomes inside another transformation (grad(jit(f)), vmap(jit(f)), jit inside jit),
// and each rule transforms the whole program at once, keeping the result compiled.

import { ShapeError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import type { Program } from "../ir/program.js";
import { definePrimitive, type Primitive } from "../prims/primitive.js";
import { instantiate } from "../prims/rule-helpers.js";
import { type Tangent, Zero, isLinearIn, isZero } from "../rules/zero.js";
import type { ShapedArray } from "../core/aval.js";
import { jvpProgram, partialEvalProgram, transposedProgram, vmapProgram } from "../transforms/program.js";
import { runJitted } from "./runner.js";

export interface JitCallParams {
  program: Program;
  name: string;
}

export const jitCallP: Primitive<JitCallParams> = definePrimitive<JitCallParams>({
  name: "jit_call",
  traits: { higherOrder: true },
  linear: true,
  abstractEval: (ins, { program, name }) => {
    const want = program.inAvals;
    if (ins.length !== want.length) {
      throw new ShapeError(`jit_call ${name}: got ${ins.length} arguments, the program takes ${want.length}`);
    }
    ins.forEach((a, i) => {
      if (!a.strong().equals(want[i]!.strong())) {
        throw new ShapeError(`jit_call ${name}: argument ${i} is ${a} but the program expects ${want[i]}`);
      }
    });
    return program.outAvals;
  },
  impl: (ins, { program, name }) => runJitted(program, ins, name).map((t) => t.data),
  jvp: (primals, tangents, { program, name }) => {
    const nonZero = tangents.map((t) => !isZero(t));
    const { program: jp, outNonZero } = jvpProgram(program, nonZero);
    const res = jitCallP.bind([...primals, ...(tangents.filter((t) => !isZero(t)) as Tensor[])], { program: jp, name: `jvp(${name})` });
    const n = program.outputs.length;
    let k = n;
    const outTs: Tangent[] = program.outAvals.map((a, i) => (outNonZero[i] ? res[k++]! : zeroOf(a)));
    return [res.slice(0, n), outTs];
  },
  batch: (args, dims, { program, name }, size) => {
    const bp = vmapProgram(program, dims, size);
    const outs = jitCallP.bind(args, { program: bp, name: `vmap(${name})` });
    return [outs, outs.map(() => 0)];
  },
  transpose: (cts, inputs, { program, name }) => {
    const linear = inputs.map(isLinearIn);
    const tp = transposedProgram(program, linear);
    const nonLin = inputs.filter((x) => !isLinearIn(x)) as Tensor[];
    const res = jitCallP.bind([...nonLin, ...cts.map(instantiate)], { program: tp, name: `transpose(${name})` });
    let k = 0;
    return inputs.map((x) => (isLinearIn(x) ? res[k++]! : null));
  },
  partialEval: (ctx, inputs, { program, name }) => {
    const unknown = inputs.map((x) => ctx.isUnknown(x));
    const pe = partialEvalProgram(program, unknown);
    const knownIns = inputs.filter((_, i) => !unknown[i]);
    const knownRes = ctx.known(() => jitCallP.bind(knownIns, { program: pe.known, name: `known(${name})` }));
    const nKnownOut = pe.outUnknown.filter((u) => !u).length;
    const residuals = knownRes.slice(nKnownOut);
    const unknownOuts = ctx.stage(jitCallP, [...residuals, ...inputs.filter((_, i) => unknown[i])], {
      program: pe.unknown,
      name: `unknown(${name})`,
    });
    let ki = 0;
    let ui = 0;
    return pe.outUnknown.map((u) => (u ? unknownOuts[ui++]! : knownRes[ki++]!));
  },
});

function zeroOf(a: ShapedArray): Zero {
  return new Zero(a.strong());
}
