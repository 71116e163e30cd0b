// while: loop a body Program while a cond Program returns true (operands: [cond consts, body
// consts, carry]). Forward mode finds a fixed point of which carries have tangents; batching
// runs until every example is done, masking finished ones. Reverse mode (partial evaluation,
// with a trip count known only at run time) lives in while-reverse.ts: the known loop counts its
// trips and the tangent half re-runs it backwards from snapshots.

import { ShapedArray } from "../core/aval.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import { Tensor } from "../core/tensor.js";
import { type Program, reorderProgram } from "../ir/program.js";
import { runProgram } from "./runner.js";
import { moveBatchAxis, zerosLike } from "../prims/rule-helpers.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { jvpProgram, vmapProgram } from "../transforms/program.js";
import { select } from "../prims/compare.js";
import { definePrimitive, type Primitive } from "../prims/primitive.js";
import { reduceMax } from "../prims/reduce.js";
import { whilePartialEval } from "./while-reverse.js";
import { broadcastInDim } from "../prims/shape.js";

export interface WhileParams {
  cond: Program;
  body: Program;
  numCondConsts: number;
  numBodyConsts: number;
  /** snapshot slots per level of the reverse pass (while-reverse.ts); default 32 */
  snapshots?: number;
  /** the trip count when known while tracing (foriLoop with static bounds): Revolve's schedule */
  trips?: number;
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

/** the reverse-mode option carried over to the loops the rules build (absent stays absent: cache keys) */
const keepSnapshots = (p: WhileParams) => ({
  ...(p.snapshots === undefined ? {} : { snapshots: p.snapshots }),
  ...(p.trips === undefined ? {} : { trips: p.trips }),
});

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
      ...keepSnapshots(p),
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
    const outs = whileP.bind([...a.cc, ...a.cc, ...a.bc, ...carry], { cond, body, numCondConsts: nCC, numBodyConsts: nCC + nBC, ...keepSnapshots(p) });
    return [outs, outs.map(() => 0)];
  },
  partialEval: (ctx, inputs, p) => whilePartialEval(ctx, inputs, p),
});
