// Reverse mode through lax.whileLoop, whose trip count T is known only at run time, by re-running
// the loop from snapshots rather than stacking per-iteration residuals.
//
// Why this and not a run-time-length residual stack: a stack of T residual sets has a shape no
// compiled program can lay out (T is bound when the loop runs), so the old split interpreted the
// top level under jit, could not be exported, and had no rules for differentiating it again. Here
// every shape is static: the forward pass is the loop itself plus a counter (it keeps the initial
// carry and T, O(1) memory while T is still unknown: the online part), and the tangent half is
// `while_lin`, a linear primitive whose transpose is built from whileP, select and gather only, so
//   - it lowers natively (loops of fixed-size buffers) and exports like any while loop;
//   - it is higher-order: differentiating the reverse loops again applies these same rules.
// The reverse pass uses two-level checkpointing with k slots (`snapshots`, default 32) per level:
// once T is known, a sweep stores every s-th carry (s = ceil(T / k)); then, last segment first,
// a refill stores every s2-th carry of the segment (s2 = ceil(s / k)) and each step j recomputes
// x_j from the nearest one. Forward body runs: T (forward) + T (sweep) + T (refills) + T (the
// residuals of each step) + sum_j ((j - segmentStart) mod s2), i.e. 4T when T <= k^2; memory 2k
// carries. Revolve needs n in advance: with T unknown this is the bounded-memory online scheme;
// when the count is known while tracing (foriLoop with static bounds, `trips`), the reverse runs
// Revolve's optimal schedule from a constant table instead (k slots, `revolve` below).

import { ShapedArray } from "../core/aval.js";
import { GradError } from "../core/errors.js";
import { Tensor } from "../core/tensor.js";
import type { Program } from "../ir/program.js";
import { add, floorDivide, max, min, mod, mul, sub } from "../prims/binary.js";
import { compare, logical, select } from "../prims/compare.js";
import { gather } from "../prims/gather.js";
import { definePrimitive, type PartialEvalContext, type Primitive } from "../prims/primitive.js";
import { iotaInt } from "../prims/scatter.js";
import { broadcastInDim } from "../prims/shape.js";
import { addTangents, instantiate, zerosLike } from "../prims/rule-helpers.js";
import { scalar } from "../rules/scalar.js";
import { isLinearIn } from "../rules/zero.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { jvpFlat } from "../transforms/jvp.js";
import { partialEvalProgram, stageTranspose, vmapProgram } from "../transforms/program.js";
import { revolveSchedule } from "../transforms/remat-revolve.js";
import { runProgram } from "./runner.js";
import { type WhileParams, whileP } from "./while.js";

/** Snapshot slots per level when whileLoop is not given {checkpoint: {snapshots}}. */
export const DEFAULT_WHILE_SNAPSHOTS = 32;

/** Binds a while loop from JS functions of (consts, carry): the building block of every loop here. */
function loop(condConsts: Tensor[], bodyConsts: Tensor[], init: Tensor[], cond: (c: Tensor[], k: Tensor[]) => Tensor, body: (c: Tensor[], k: Tensor[]) => Tensor[]): Tensor[] {
  const av = (xs: Tensor[]) => xs.map((x) => x.aval.strong());
  const nC = condConsts.length;
  const nB = bodyConsts.length;
  const c = traceFlat((xs) => [cond(xs.slice(0, nC), xs.slice(nC))], [...av(condConsts), ...av(init)], "while reverse").program;
  const b = traceFlat((xs) => body(xs.slice(0, nB), xs.slice(nB)), [...av(bodyConsts), ...av(init)], "while reverse").program;
  return whileP.bind([...condConsts, ...bodyConsts, ...init], { cond: c, body: b, numCondConsts: nC, numBodyConsts: nB });
}

const i32 = (v: number) => scalar(v, "int32");

/** buf [k, ...] with slot `slot` replaced by x when `enable` (select: static shapes, every rule exists). */
function writeSlot(buf: Tensor, slot: Tensor, x: Tensor, enable: Tensor): Tensor {
  const k = buf.aval.shape[0] as number;
  const shape = buf.aval.shape;
  const hit = logical(compare(iotaInt(k), broadcastInDim(slot, [k], []), "eq"), broadcastInDim(enable, [k], []), "and");
  const rest = x.aval.shape.map((_, i) => i + 1);
  return select(broadcastInDim(hit, shape, [0]), broadcastInDim(x, shape, rest), buf);
}

const readSlot = (buf: Tensor, slot: Tensor) => gather(buf, slot, { axis: 0, batchDims: 0 });

export interface WhileLinParams {
  /** the known body: [known body consts, known carry] -> [known carry, residuals] */
  known: Program;
  /** the tangent body: [residuals, linear body consts, linear carry] -> [linear carry] */
  unknown: Program;
  numKnownConsts: number;
  numKnownCarry: number;
  numResiduals: number;
  numLinConsts: number;
  numLinCarry: number;
  snapshots: number;
  /** the trip count when known while tracing (foriLoop): the reverse follows Revolve's schedule */
  trips?: number;
  /** the whole map as one program (impl, lowering, export, jvp, vmap): [T, kbc, x0, lbc, t0] -> [t_T] */
  program: Program;
}

/**
 * The tangent half of a differentiated while loop: t_{i+1} = unknown(residuals(x_i), lbc, t_i) for
 * i < T, with x_{i+1} the known carry; linear in the linear consts and carry.
 */
export const whileLinP: Primitive<WhileLinParams> = definePrimitive<WhileLinParams>({
  name: "while_lin",
  traits: { higherOrder: true },
  linear: true,
  abstractEval: (_ins, p) => p.program.outAvals.map((a) => a.strong()),
  impl: (ins, p) => runProgram(p.program, ins).map((t) => t.data),
  jvp: (primals, tangents, p) => jvpFlat((xs) => evalProgram(p.program, xs), primals, tangents),
  batch: (args, dims, p, size) => [evalProgram(vmapProgram(p.program, dims, size), args), p.program.outputs.map(() => 0)],
  transpose: (cts, inputs, p) => {
    const nK = 1 + p.numKnownConsts + p.numKnownCarry;
    const rev = reverseProgram(p);
    const outs = evalProgram(rev, [...(inputs.slice(0, nK) as Tensor[]), ...cts.map(instantiate)]);
    return inputs.map((x, i) => (i >= nK && isLinearIn(x) ? outs[i - nK]! : null));
  },
});

/** Per (known, unknown) body pair (partialEvalProgram caches those): eager grad in a loop builds the tangent and reverse programs once. */
const forwards = new WeakMap<Program, WeakMap<Program, Program>>();

function forwardProgram(known: Program, unknown: Program, n: { kb: number; kc: number; lb: number; lc: number }): Program {
  let byUnknown = forwards.get(known);
  if (!byUnknown) forwards.set(known, (byUnknown = new WeakMap()));
  let prog = byUnknown.get(unknown);
  if (!prog) byUnknown.set(unknown, (prog = traceForward(known, unknown, n)));
  return prog;
}

const traceForward = (known: Program, unknown: Program, n: { kb: number; kc: number; lb: number; lc: number }) =>
  traceFlat(
    (xs) => {
      const [T, ...rest] = xs;
      const kbc = rest.slice(0, n.kb);
      const x0 = rest.slice(n.kb, n.kb + n.kc);
      const lbc = rest.slice(n.kb + n.kc, n.kb + n.kc + n.lb);
      const t0 = rest.slice(n.kb + n.kc + n.lb);
      const outs = loop([T!], [...kbc, ...lbc], [i32(0), ...x0, ...t0], ([t], [i]) => compare(i!, t!, "lt"), (c, [i, ...k]) => {
        const step = evalProgram(known, [...c.slice(0, n.kb), ...k.slice(0, n.kc)]);
        const tNext = evalProgram(unknown, [...step.slice(n.kc), ...c.slice(n.kb), ...k.slice(n.kc)]);
        return [add(i!, i32(1)), ...step.slice(0, n.kc), ...tNext];
      });
      return outs.slice(1 + n.kc);
    },
    [new ShapedArray([], "int32"), ...known.inAvals, ...unknown.inAvals.slice(unknown.inAvals.length - n.lb - n.lc)].map((a) => a.strong()),
    "while_lin",
  ).program;

/** by the forward program, then by schedule (snapshots and trips) */
const reverses = new WeakMap<Program, Map<string, Program>>();

/** The transpose of while_lin as a program: [T, kbc, x0, cts of t_T] -> [cts of lbc, cts of t0]. */
function reverseProgram(p: WhileLinParams): Program {
  const key = `${p.snapshots}:${p.trips ?? ""}`;
  let bySchedule = reverses.get(p.program);
  if (!bySchedule) reverses.set(p.program, (bySchedule = new Map()));
  let prog = bySchedule.get(key);
  if (!prog) {
    const knownAvals = p.known.inAvals.map((a) => a.strong());
    const nKB = p.numKnownConsts;
    prog = traceFlat(
      (xs) => {
        const [T, ...rest] = xs;
        const r: ReverseInputs = { T: T!, kbc: rest.slice(0, nKB), x0: rest.slice(nKB, nKB + p.numKnownCarry), ct: rest.slice(nKB + p.numKnownCarry) };
        const [ct, acc] = p.trips === undefined ? twoLevel(p, r) : revolve(p, r, p.trips);
        return [...acc, ...ct];
      },
      [new ShapedArray([], "int32"), ...knownAvals, ...p.program.outAvals.map((a) => a.strong())],
      "while_lin transpose",
    ).program;
    bySchedule.set(key, prog);
  }
  return prog;
}

interface ReverseInputs {
  T: Tensor;
  kbc: Tensor[];
  x0: Tensor[];
  ct: Tensor[];
}

/** What both schedules share: one forward step, the re-run from a snapshot, one reverse step. */
function tools(p: WhileLinParams) {
  const nKB = p.numKnownConsts;
  const nKC = p.numKnownCarry;
  const nL = p.numLinConsts;
  const unknownT = stageTranspose(p.unknown, p.unknown.inputs.map((_, i) => i >= p.numResiduals));
  const carryAvals = p.known.inAvals.slice(nKB).map((a) => a.strong());
  const step = (kbc: Tensor[], x: Tensor[]) => evalProgram(p.known, [...kbc, ...x]).slice(0, nKC);
  return {
    nKB,
    nKC,
    nL,
    step,
    /** k-slot snapshot buffers, one per known carry */
    buffers: (k: number) => carryAvals.map((a) => zerosLike(new ShapedArray([k, ...a.shape], a.dtype))),
    /** x_j from x_m0: run the body j - m0 times */
    advance: (kbc: Tensor[], m0: Tensor, x: Tensor[], j: Tensor) =>
      loop([j], kbc, [m0, ...x], ([jj], [m]) => compare(m!, jj!, "lt"), (c, [m, ...xx]) => [add(m!, i32(1)), ...step(c, xx)]).slice(1),
    /** the reverse step at x: [cts of t_{j+1}] -> [cts of t_j], with the linear consts' cts added to acc */
    back: (kbc: Tensor[], x: Tensor[], ct: Tensor[], acc: Tensor[]) => {
      const out = evalProgram(unknownT, [...evalProgram(p.known, [...kbc, ...x]).slice(nKC), ...ct]);
      return { ct: out.slice(nL), acc: acc.map((a, i) => addTangents(a, out[i]!) as Tensor) };
    },
    accZeros: () => p.unknown.inAvals.slice(p.numResiduals, p.numResiduals + nL).map((a) => zerosLike(a.strong())),
  };
}

/** Two levels of k snapshots for a trip count known only at run time (the file's first comment). */
function twoLevel(p: WhileLinParams, { T, kbc, x0, ct: ct0 }: ReverseInputs): [Tensor[], Tensor[]] {
  const k = p.snapshots;
  const { nKB, nKC, nL, step, buffers, advance, back, accZeros } = tools(p);
  // store every `stride`-th carry of steps [start, end) into fresh k-slot buffers
  const sweep = (kbc: Tensor[], start: Tensor, end: Tensor, stride: Tensor, x: Tensor[]) =>
    loop([end], [...kbc, start, stride], [start, ...x, ...buffers(k)], ([e], [m]) => compare(m!, e!, "lt"), (c, [m, ...rest]) => {
      const [st, sd] = c.slice(nKB);
      const off = sub(m!, st!);
      const slot = floorDivide(off, sd!);
      const on = compare(mod(off, sd!), i32(0), "eq");
      const xs = rest.slice(0, nKC);
      const written = rest.slice(nKC).map((b, i) => writeSlot(b, slot, xs[i]!, on));
      return [add(m!, i32(1)), ...step(c.slice(0, nKB), xs), ...written];
    }).slice(1 + nKC);
  const ceilDiv = (a: Tensor, b: Tensor) => floorDivide(add(a, sub(b, i32(1))), b);
  const s = max(i32(1), ceilDiv(T, i32(k)));
  const s2 = max(i32(1), ceilDiv(s, i32(k)));
  const bufs = sweep(kbc, i32(0), T, s, x0);
  const lastSeg = sub(ceilDiv(T, s), i32(1));
  const outs = loop([], [T, s, s2, ...kbc, ...bufs], [lastSeg, ...ct0, ...accZeros()], (_, [seg]) => compare(seg!, i32(0), "ge"), (c, [seg, ...carry]) => {
    const [TT, ss, ss2] = c;
    const cb = c.slice(3, 3 + nKB);
    const start = mul(seg!, ss!);
    const end = min(TT!, add(start, ss!));
    const segBufs = sweep(cb, start, end, ss2!, c.slice(3 + nKB).map((b) => readSlot(b, seg!)));
    const inner = loop([start], [start, ss2!, ...cb, ...segBufs], [sub(end, i32(1)), ...carry], ([st], [j]) => compare(j!, st!, "ge"), (d, [j, ...cj]) => {
      const [st, sd] = d;
      const db = d.slice(2, 2 + nKB);
      const slot = floorDivide(sub(j!, st!), sd!);
      const xj = advance(db, add(st!, mul(slot, sd!)), d.slice(2 + nKB).map((b) => readSlot(b, slot)), j!);
      const r = back(db, xj, cj.slice(0, cj.length - nL), cj.slice(cj.length - nL));
      return [sub(j!, i32(1)), ...r.ct, ...r.acc];
    });
    return [sub(seg!, i32(1)), ...inner.slice(1)];
  });
  return [outs.slice(1, outs.length - nL), outs.slice(outs.length - nL)];
}

/**
 * Binomial checkpointing for a trip count known when tracing (foriLoop with static bounds): the
 * optimal Revolve schedule (transforms/remat-revolve.ts) as a constant table of actions that one
 * loop executes, so the program's size does not grow with n (no unrolling) and the snapshots
 * live in one k-slot buffer per carry.
 */
function revolve(p: WhileLinParams, { kbc, x0, ct: ct0 }: ReverseInputs, n: number): [Tensor[], Tensor[]] {
  const k = p.snapshots;
  const { nKB, nL, buffers, advance, back, accZeros } = tools(p);
  const actions = revolveSchedule(n, k);
  if (!actions.length) return [ct0, accZeros()];
  const flat = Int32Array.from(actions.flatMap((a) => [a.from, a.lo, a.hi, a.to, a.reverse]));
  const table = new Tensor(new ShapedArray([flat.length], "int32"), flat);
  const init = buffers(k).map((b, i) => writeSlot(b, i32(0), x0[i]!, scalar(1, "bool")));
  const nB = init.length;
  const outs = loop([], [table, ...kbc], [i32(0), ...init, ...ct0, ...accZeros()], (_, [r]) => compare(r!, i32(actions.length), "lt"), (c, [r, ...carry]) => {
    const [tab, ...cb] = c;
    const field = (j: number) => gather(tab!, add(mul(r!, i32(5)), i32(j)), { axis: 0, batchDims: 0 });
    const [from, lo, hi, to, rev] = [0, 1, 2, 3, 4].map(field);
    const bufs = carry.slice(0, nB);
    const ct = carry.slice(nB, carry.length - nL);
    const acc = carry.slice(carry.length - nL);
    const x = advance(cb.slice(0, nKB), lo!, bufs.map((b) => readSlot(b, from!)), hi!);
    const stored = bufs.map((b, i) => writeSlot(b, max(to!, i32(0)), x[i]!, compare(to!, i32(0), "ge")));
    // an action either stores or reverses; the step is computed for both and kept when it reverses
    const on = compare(rev!, i32(0), "ge");
    const bk = back(cb.slice(0, nKB), x, ct, acc);
    return [add(r!, i32(1)), ...stored, ...bk.ct.map((t, i) => select(on, t, ct[i]!)), ...bk.acc.map((t, i) => select(on, t, acc[i]!))];
  });
  return [outs.slice(1 + nB, outs.length - nL), outs.slice(outs.length - nL)];
}

const parts = <T>(xs: T[], p: { numCondConsts: number; numBodyConsts: number }) => ({
  cc: xs.slice(0, p.numCondConsts),
  bc: xs.slice(p.numCondConsts, p.numCondConsts + p.numBodyConsts),
  carry: xs.slice(p.numCondConsts + p.numBodyConsts),
});

/**
 * whileP's partial evaluation under linearize: the known loop (with a trip counter) runs now; the
 * tangent loop is staged as while_lin over the known initial carry and the trip count.
 */
export function whilePartialEval(ctx: PartialEvalContext, inputs: Tensor[], p: WhileParams): Tensor[] {
  const uk = parts(inputs.map((x) => ctx.isUnknown(x)), p);
  const condError = () => new GradError("whileLoop: the loop condition cannot depend on a differentiated value");
  if (uk.cc.some(Boolean)) throw condError();
  let carryUk = uk.carry;
  let pe;
  for (;;) {
    pe = partialEvalProgram(p.body, [...uk.bc, ...carryUk], carryUk);
    if (pe.outUnknown.every((o, i) => !o || carryUk[i])) break;
    carryUk = carryUk.map((c, i) => c || pe!.outUnknown[i]!);
  }
  if (partialEvalProgram(p.cond, [...uk.cc, ...carryUk]).outUnknown[0]) throw condError();
  const ins = parts(inputs, p);
  const pick = <T>(xs: T[], m: boolean[], want: boolean) => xs.filter((_, i) => m[i] === want);
  const kx0 = pick(ins.carry, carryUk, false);
  const kbc = pick(ins.bc, uk.bc, false);
  const nKC = kx0.length;
  // the condition reads only known carries (the unknown ones are tangents)
  const cond = traceFlat(
    (xs) => {
      let j = p.numCondConsts;
      const full = ins.carry.map((c, i) => (carryUk[i] ? zerosLike(c.aval.strong()) : xs[j++]!));
      return evalProgram(p.cond, [...xs.slice(0, p.numCondConsts), ...full]);
    },
    [...ins.cc.map((x) => x.aval.strong()), ...kx0.map((x) => x.aval.strong())],
    "while partial eval",
  ).program;
  const known = pe.known;
  const [T, ...kxT] = ctx.known(() =>
    loop(ins.cc, kbc, [i32(0), ...kx0], (c, [, ...x]) => evalProgram(cond, [...c, ...x])[0]!, (c, [i, ...x]) => [
      add(i!, i32(1)),
      ...evalProgram(known, [...c, ...x]).slice(0, nKC),
    ]),
  );
  const nLB = uk.bc.filter(Boolean).length;
  const nLC = carryUk.filter(Boolean).length;
  const params: WhileLinParams = {
    known,
    unknown: pe.unknown,
    numKnownConsts: kbc.length,
    numKnownCarry: nKC,
    numResiduals: pe.numResiduals,
    numLinConsts: nLB,
    numLinCarry: nLC,
    snapshots: p.snapshots ?? DEFAULT_WHILE_SNAPSHOTS,
    ...(p.trips === undefined ? {} : { trips: p.trips }),
    program: forwardProgram(known, pe.unknown, { kb: kbc.length, kc: nKC, lb: nLB, lc: nLC }),
  };
  const tT = ctx.stage(whileLinP, [T!, ...kbc, ...kx0, ...pick(ins.bc, uk.bc, true), ...pick(ins.carry, carryUk, true)], params);
  let a = 0;
  let b = 0;
  return carryUk.map((u) => (u ? tT[b++]! : kxT[a++]!));
}
