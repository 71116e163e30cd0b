// Primitives for user-defined derivative rules. custom_jvp_call runs a traced function whose JVP
// is the user's rule; custom_vjp_call runs a function whose reverse-mode rule is the user's
// fwd/bwd pair: its JVP calls fwd and emits custom_lin, a linear primitive whose transpose calls
// bwd. Rules are JS closures, so programs holding these primitives cannot be serialized.

import { GradError, ShapeError } from "../core/errors.js";
import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import type { Program } from "../ir/program.js";
import { runProgram } from "./runner.js";
import { instantiate, moveBatchAxis } from "../prims/rule-helpers.js";
import { type Tangent, Zero, isLinearIn, isZero } from "../rules/zero.js";
import { vmapProgram } from "../transforms/program.js";
import { vmapFlat } from "../transforms/vmap.js";
import { definePrimitive, type Primitive } from "../prims/primitive.js";

/** A user JVP rule over flat lists: (primals, tangents) -> [outs, outTangents]. */
export type FlatJvp = (primals: Tensor[], tangents: Tensor[]) => [Tensor[], Tensor[]];
/** A user fwd over flat lists: primals -> [outs, residual leaves]. */
export type FlatFwd = (primals: Tensor[]) => [Tensor[], Tensor[]];
/** A user bwd over flat lists: (residuals, output cotangents) -> input cotangents. */
export type FlatBwd = (residuals: Tensor[], cts: Tensor[]) => Tensor[];

export interface CustomJvpParams {
  program: Program;
  jvp: FlatJvp;
  name: string;
  /** operands past this index are values the function closed over (their tangent must be zero) */
  numArgs: number;
}

function checkOuts(name: string, what: string, got: Tensor[], want: ShapedArray[]): void {
  if (got.length !== want.length) throw new ShapeError(`${name}: ${what} has ${got.length} leaves, expected ${want.length}`);
  got.forEach((t, i) => {
    if (!t.aval.strong().equals(want[i]!.strong())) throw new ShapeError(`${name}: ${what} leaf ${i} is ${t.aval}, expected ${want[i]}`);
  });
}

/**
 * Runs a flat rule per example: every input carries a leading batch axis of `size` (they are
 * operands or tangents of the batched call), and so does every output.
 */
function mapRule(size: number, groups: Tensor[][], rule: (...groups: Tensor[][]) => Tensor[][]): Tensor[][] {
  const counts = groups.map((g) => g.length);
  let outCounts: number[] = [];
  const outs = vmapFlat(
    (xs) => {
      let k = 0;
      const r = rule(...counts.map((n) => xs.slice(k, (k += n))));
      outCounts = r.map((g) => g.length);
      return r.flat();
    },
    groups.flat(),
    groups.flat().map(() => 0),
    size,
    (n) => new Array(n).fill(0),
  );
  let k = 0;
  return outCounts.map((n) => outs.slice(k, (k += n)));
}

export const customJvpCallP: Primitive<CustomJvpParams> = definePrimitive<CustomJvpParams>({
  name: "custom_jvp_call",
  traits: { higherOrder: true },
  abstractEval: (_ins, { program }) => program.outAvals,
  impl: (ins, { program }) => runProgram(program, ins).map((t) => t.data),
  jvp: (primals, tangents, { program, jvp, name, numArgs }) => {
    if (tangents.slice(numArgs).some((t) => !isZero(t))) {
      throw new GradError(`${name}: the function closes over a value that is being differentiated; pass it as an argument instead`);
    }
    const ts = tangents.map(instantiate);
    const [outs, outTs] = jvp(primals, ts);
    checkOuts(name, "the jvp rule's primal output", outs, program.outAvals);
    checkOuts(name, "the jvp rule's tangent output", outTs, program.outAvals);
    return [outs, outTs];
  },
  batch: (args, dims, { program, jvp, name, numArgs }, size) => {
    const xs = args.map((x, i) => moveBatchAxis(x, dims[i]!, 0, size));
    const bp = vmapProgram(program, xs.map(() => 0), size);
    const bj: FlatJvp = (ps, ts) => mapRule(size, [ps, ts], (p, t) => jvp(p!, t!)) as [Tensor[], Tensor[]];
    const outs = customJvpCallP.bind(xs, { program: bp, jvp: bj, name, numArgs });
    return [outs, outs.map(() => 0)];
  },
});

export interface CustomVjpParams {
  program: Program;
  fwd: FlatFwd;
  bwd: FlatBwd;
  name: string;
  numArgs: number;
}

export const customVjpCallP: Primitive<CustomVjpParams> = definePrimitive<CustomVjpParams>({
  name: "custom_vjp_call",
  traits: { higherOrder: true },
  abstractEval: (_ins, { program }) => program.outAvals,
  impl: (ins, { program }) => runProgram(program, ins).map((t) => t.data),
  jvp: (primals, tangents, { program, fwd, bwd, name, numArgs }) => {
    if (tangents.slice(numArgs).some((t) => !isZero(t))) {
      throw new GradError(`${name}: the function closes over a value that is being differentiated; pass it as an argument instead`);
    }
    const [outs, res] = fwd(primals);
    checkOuts(name, "fwd's primal output", outs, program.outAvals);
    if (tangents.every(isZero)) return [outs, outs.map((o) => new Zero(o.aval.strong()))];
    const outTs = customLinP.bind([...res, ...tangents.map(instantiate)], {
      bwd,
      name,
      numRes: res.length,
      outAvals: program.outAvals.map((a) => a.strong()),
    });
    return [outs, outTs];
  },
  batch: (args, dims, { program, fwd, bwd, name, numArgs }, size) => {
    const xs = args.map((x, i) => moveBatchAxis(x, dims[i]!, 0, size));
    const bp = vmapProgram(program, xs.map(() => 0), size);
    const bf: FlatFwd = (ps) => mapRule(size, [ps], (p) => fwd(p!)) as [Tensor[], Tensor[]];
    const bb: FlatBwd = (r, c) => mapRule(size, [r, c], (rr, cc) => [bwd(rr!, cc!)])[0]!;
    const outs = customVjpCallP.bind(xs, { program: bp, fwd: bf, bwd: bb, name, numArgs });
    return [outs, outs.map(() => 0)];
  },
});

export interface CustomLinParams {
  bwd: FlatBwd;
  name: string;
  numRes: number;
  outAvals: ShapedArray[];
}

const forwardModeError = (name: string) =>
  new GradError(`${name}: a customVjp function cannot be differentiated in forward mode (jvp/jacfwd); use customJvp, or reverse mode (grad/vjp/jacrev)`);

/** The tangent map of a customVjp function: linear in its tangents, transposed by bwd. */
export const customLinP: Primitive<CustomLinParams> = definePrimitive<CustomLinParams>({
  name: "custom_lin",
  traits: { higherOrder: true },
  linear: true,
  abstractEval: (_ins, { outAvals }) => outAvals,
  impl: (_ins, { name }) => {
    throw forwardModeError(name);
  },
  jvp: (_p, _t, { name }) => {
    throw forwardModeError(name);
  },
  batch: (_a, _d, { name }) => {
    throw forwardModeError(name);
  },
  transpose: (cts, inputs, { bwd, numRes, outAvals, name }) => {
    const res = inputs.slice(0, numRes) as Tensor[];
    const lin = inputs.slice(numRes);
    if (res.some(isLinearIn)) throw new GradError(`${name}: residuals of a customVjp function cannot depend on the cotangent`);
    const ctIn = bwd(res, cts.map((c, i) => (isZero(c) ? instantiate(new Zero(outAvals[i]!)) : c)));
    checkOuts(name, "bwd's result", ctIn, lin.map((l) => l.aval));
    return [...res.map(() => null), ...lin.map((_, i) => ctIn[i]! as Tangent)];
  },
});
