// while: loop a body Program while a cond Program returns true (operands: [cond consts, body
// consts, carry]). Forward mode finds a fixed point of which carries have tangents; batching
// runs until every example is done, masking finished ones. Reverse mode works with a trip count
// known only at run time: partial evaluation turns the known half into `while_stack`, which
// also stacks each iteration's residuals (their leading length is a symbolic dimension bound
// when the loop runs), and the tangent half into a linear scan over those stacks, which the
// scan transpose then runs backwards.

import { ShapedArray } from "../core/aval.js";
import { allocArray } from "../core/dtype.js";
import { DTypeError, GradError, ShapeError } from "../core/errors.js";
import { SymDim, concreteSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { type Program, reorderProgram } from "../ir/program.js";
import { runProgram } from "./runner.js";
import { moveBatchAxis, zerosLike } from "../rules/helpers.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { jvpProgram, partialEvalProgram, vmapProgram } from "../transforms/program.js";
import { select } from "../prims/compare.js";
import { definePrimitive, type Primitive } from "../prims/primitive.js";
import { reduceMax } from "../prims/reduce.js";
import { scanP } from "./scan.js";
import { broadcastInDim } from "../prims/shape.js";

export interface WhileParams {
  cond: Program;
  body: Program;
  numCondConsts: number;
  numBodyConsts: number;
}

const parts = <T>(xs: T[], p: { numCondConsts: number; numBodyConsts: number }) => ({
  cc: xs.slice(0, p.numCondConsts),
  bc: xs.slice(p.numCondConsts, p.numCondConsts + p.numBodyConsts),
  carry: xs.slice(p.numCondConsts + p.numBodyConsts),
});

function checkLoop(name: string, ins: ShapedArray[], p: WhileParams): ShapedArray[] {
  const { cc, bc, carry } = parts(ins, p);
  const cw = p.cond.inAvals;
  const bw = p.body.inAvals;
  const same = (a: ShapedArray, b: ShapedArray) => a.strong().equals(b.strong());
  if (cc.length + carry.length !== cw.length || bc.length + carry.length !== bw.length) {
    throw new ShapeError(`${name}: operand count does not match the loop's cond/body programs`);
  }
  carry.forEach((a, i) => {
    if (!same(a, bw[bc.length + i]!)) throw new ShapeError(`${name}: initial carry ${i} is ${a}, the body expects ${bw[bc.length + i]}`);
  });
  const pred = p.cond.outAvals[0]!;
  if (pred.dtype !== "bool" || pred.ndim !== 0) throw new DTypeError(`${name}: the condition must return a bool scalar, got ${pred}`);
  return carry.map((a) => a.strong());
}

function runLoop(ins: Tensor[], p: WhileParams, onIteration?: (outs: Tensor[]) => void): Tensor[] {
  const { cc, bc, carry: init } = parts(ins, p);
  let carry = init;
  while (runProgram(p.cond, [...cc, ...carry])[0]!.data[0]) {
    const outs = runProgram(p.body, [...bc, ...carry]);
    carry = outs.slice(0, init.length);
    onIteration?.(outs);
  }
  return carry;
}

export const whileP: Primitive<WhileParams> = definePrimitive<WhileParams>({
  name: "while",
  traits: { higherOrder: true },
  abstractEval: (ins, p) => checkLoop("whileLoop", ins, p),
  impl: (ins, p) => runLoop(ins, p).map((t) => t.data),
  jvp: (primals, tangents, p) => {
    const nz = parts(tangents.map((t) => !isZero(t)), p);
    let carryNz = nz.carry;
    let jp;
    for (;;) {
      jp = jvpProgram(p.body, [...nz.bc, ...carryNz], carryNz);
      const out = jp.outNonZero;
      if (out.every((o, i) => !o || carryNz[i])) break;
      carryNz = carryNz.map((c, i) => c || out[i]!);
    }
    const nB = p.numBodyConsts;
    const nK = carryNz.length;
    const tB = nz.bc.filter(Boolean).length;
    const tK = carryNz.filter(Boolean).length;
    const r = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
    // jvp inputs [bc, carry, bc_t, carry_t] -> loop order [bc, bc_t, carry, carry_t]
    const body = reorderProgram(jp.program, [...r(0, nB), ...r(nB + nK, tB), ...r(nB, nK), ...r(nB + nK + tB, tK)]);
    const prim = parts(primals, p);
    const tan = parts(tangents, p);
    const carryAvals = prim.carry.map((c) => c.aval.strong());
    // the condition ignores the tangent carries
    const cond = traceFlat(
      (xs) => evalProgram(p.cond, xs.slice(0, p.numCondConsts + nK)),
      [...p.cond.inAvals, ...carryAvals.filter((_, i) => carryNz[i])],
      "while jvp",
    ).program;
    const carryT = prim.carry.flatMap((c, i) => (carryNz[i] ? [isZero(tan.carry[i]) ? zerosLike(c.aval.strong()) : (tan.carry[i] as Tensor)] : []));
    const outs = whileP.bind([...prim.cc, ...prim.bc, ...(tan.bc.filter((t) => !isZero(t)) as Tensor[]), ...prim.carry, ...carryT], {
      cond,
      body,
      numCondConsts: p.numCondConsts,
      numBodyConsts: nB + tB,
    });
    let k = nK;
    const ts: Tangent[] = carryNz.map((z, i) => (z ? outs[k++]! : new Zero(carryAvals[i]!)));
    return [outs.slice(0, nK), ts];
  },
  batch: (args, dims, p, size) => {
    // run until every example's condition is false; finished examples keep their carry
    const a = parts(args, p);
    const d = parts(dims, p);
    const carry = a.carry.map((c, i) => moveBatchAxis(c, d.carry[i]!, 0, size));
    const condB = vmapProgram(p.cond, [...d.cc, ...carry.map(() => 0)], size);
    const bodyB = vmapProgram(p.body, [...d.bc, ...carry.map(() => 0)], size);
    const nCC = a.cc.length;
    const nBC = a.bc.length;
    const carryAvals = carry.map((c) => c.aval);
    const cond = traceFlat((xs) => [reduceMax(evalProgram(condB, xs)[0]!, [0])], [...a.cc.map((x) => x.aval), ...carryAvals], "while batch").program;
    const body = traceFlat(
      (xs) => {
        const cc = xs.slice(0, nCC);
        const bc = xs.slice(nCC, nCC + nBC);
        const ks = xs.slice(nCC + nBC);
        const pred = evalProgram(condB, [...cc, ...ks])[0]!;
        const next = evalProgram(bodyB, [...bc, ...ks]);
        return next.map((n, i) => select(broadcastInDim(pred, n.aval.shape, [0]), n, ks[i]!));
      },
      [...a.cc.map((x) => x.aval), ...a.bc.map((x) => x.aval), ...carryAvals],
      "while batch",
    ).program;
    const outs = whileP.bind([...a.cc, ...a.cc, ...a.bc, ...carry], { cond, body, numCondConsts: nCC, numBodyConsts: nCC + nBC });
    return [outs, outs.map(() => 0)];
  },
  partialEval: (ctx, inputs, p) => {
    const uk = parts(inputs.map((x) => ctx.isUnknown(x)), p);
    if (uk.cc.some(Boolean)) throw new GradError("whileLoop: the loop condition cannot depend on a differentiated value");
    let carryUk = uk.carry;
    let pe;
    for (;;) {
      pe = partialEvalProgram(p.body, [...uk.bc, ...carryUk], carryUk);
      if (pe.outUnknown.every((o, i) => !o || carryUk[i])) break;
      carryUk = carryUk.map((c, i) => c || pe!.outUnknown[i]!);
    }
    const condPe = partialEvalProgram(p.cond, [...uk.cc, ...carryUk]);
    if (condPe.outUnknown[0]) throw new GradError("whileLoop: the loop condition cannot depend on a differentiated value");
    const ins = parts(inputs, p);
    const knownCarryAvals = ins.carry.filter((_, i) => !carryUk[i]).map((x) => x.aval.strong());
    // the condition on the known carries only (unknown ones are tangents it never reads)
    const cond = traceFlat(
      (xs) => {
        let k = p.numCondConsts;
        const full = ins.carry.map((c, i) => (carryUk[i] ? zerosLike(c.aval.strong()) : xs[k++]!));
        return evalProgram(p.cond, [...xs.slice(0, p.numCondConsts), ...full]);
      },
      [...ins.cc.map((x) => x.aval), ...knownCarryAvals],
      "while partial eval",
    ).program;
    const nKB = uk.bc.filter((u) => !u).length;
    const stackParams: WhileStackParams = { cond, body: pe.known, numCondConsts: p.numCondConsts, numBodyConsts: nKB, numResiduals: pe.numResiduals, trip: SymDim.symbol(`T${tripCounter++}`) };
    const known = ctx.known(() =>
      whileStackP.bind([...ins.cc, ...ins.bc.filter((_, i) => !uk.bc[i]), ...ins.carry.filter((_, i) => !carryUk[i])], stackParams),
    );
    const nKC = knownCarryAvals.length;
    const stacks = known.slice(nKC); // [iteration index, residuals...]
    // the tangent half: a linear scan over the stacked residuals, in iteration order
    const nUB = uk.bc.filter(Boolean).length;
    const nUK = carryUk.filter(Boolean).length;
    const nR = pe.numResiduals;
    const r = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
    const unknownBody = reorderProgram(pe.unknown, [...r(nR, nUB), ...r(nR + nUB, nUK), ...r(0, nR)]);
    const scanBody = traceFlat(
      (xs) => evalProgram(unknownBody, xs.slice(0, nUB + nUK + nR)),
      [...unknownBody.inAvals, new ShapedArray([], "int32")],
      "while partial eval",
    ).program;
    const ukOuts = ctx.stage(
      scanP,
      [...ins.bc.filter((_, i) => uk.bc[i]), ...ins.carry.filter((_, i) => carryUk[i]), ...stacks.slice(1), stacks[0]!],
      { body: scanBody, length: stackParams.trip, reverse: false, numConsts: nUB, numCarry: nUK },
    );
    let a = 0;
    let b = 0;
    return carryUk.map((u) => (u ? ukOuts[b++]! : known[a++]!));
  },
});

let tripCounter = 0;

export interface WhileStackParams {
  cond: Program;
  /** the known body: [known body consts, known carry] -> [known carry, residuals] */
  body: Program;
  numCondConsts: number;
  numBodyConsts: number;
  numResiduals: number;
  /** the symbolic trip count naming the stacks' leading dimension */
  trip: SymDim;
}

/**
 * The known half of a differentiated while loop: runs the loop and returns the final carry, the
 * iteration indices [T] (int32) and each residual stacked over iterations [T, ...].
 */
export const whileStackP: Primitive<WhileStackParams> = definePrimitive<WhileStackParams>({
  name: "while_stack",
  traits: { higherOrder: true },
  abstractEval: (ins, p) => {
    const nK = ins.length - p.numCondConsts - p.numBodyConsts;
    const outs = p.body.outAvals;
    const carry = ins.slice(ins.length - nK).map((a) => a.strong());
    return [...carry, new ShapedArray([p.trip], "int32"), ...outs.slice(nK).map((a) => new ShapedArray([p.trip, ...a.shape], a.dtype))];
  },
  impl: (ins, p) => {
    const nK = ins.length - p.numCondConsts - p.numBodyConsts;
    const res: Tensor[][] = [];
    const carry = runLoop(ins, { cond: p.cond, body: p.body, numCondConsts: p.numCondConsts, numBodyConsts: p.numBodyConsts }, (outs) =>
      res.push(outs.slice(nK)),
    );
    const T = res.length;
    const stacks = p.body.outAvals.slice(nK).map((a, j) => {
      const sz = concreteSize(a.shape as number[]);
      const d = allocArray(a.dtype, T * sz);
      res.forEach((r, i) => d.set(r[j]!.data, i * sz));
      return d;
    });
    return [...carry.map((c) => c.data), Int32Array.from({ length: T }, (_, i) => i), ...stacks];
  },
  jvp: () => {
    throw new GradError("whileLoop: differentiating the reverse-mode split of a while loop again (second order) is not supported; use lax.scan or lax.foriLoop with static bounds");
  },
  batch: () => {
    throw new GradError("whileLoop: vmap of a reverse-mode differentiated while loop is not supported (examples would need different trip counts); vmap outside grad, or use lax.scan");
  },
});
