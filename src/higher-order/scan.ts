// scan: a loop over the leading axis of its `xs` operands carrying state, as one primitive with
// a body Program (inputs [consts, carry, x slices] -> outputs [carry, y slices]). Every rule
// transforms the body: JVP and batching find a fixed point of which carries have tangents or a
// batch axis; partial evaluation splits the loop into a known scan that stacks per-iteration
// residuals and an unknown scan that consumes them; the transpose runs the loop backwards.

import { ShapedArray } from "../core/aval.js";
import { allocArray } from "../core/dtype.js";
import { ShapeError } from "../core/errors.js";
import { type Dim, concreteSize, shapeEq } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { type Program, reorderProgram } from "../ir/program.js";
import { runProgram } from "./runner.js";
import { addTangents, moveBatchAxis, zerosLike } from "../prims/rule-helpers.js";
import { type LinearIn, type Tangent, Zero, isLinearIn, isZero } from "../rules/zero.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { jvpProgram, partialEvalProgram, transposedProgram, vmapProgram } from "../transforms/program.js";
import { definePrimitive, type Primitive } from "../prims/primitive.js";

export interface ScanParams {
  body: Program;
  length: Dim;
  reverse: boolean;
  numConsts: number;
  numCarry: number;
}

const slice = <T>(xs: T[], p: ScanParams) => ({
  consts: xs.slice(0, p.numConsts),
  carry: xs.slice(p.numConsts, p.numConsts + p.numCarry),
  xs: xs.slice(p.numConsts + p.numCarry),
});

const stackedAval = (a: ShapedArray, n: Dim) => new ShapedArray([n, ...a.shape], a.dtype, a.weak);
const count = (m: boolean[]) => m.filter(Boolean).length;

function scanAval(ins: ShapedArray[], p: ScanParams): ShapedArray[] {
  const { body } = p;
  const parts = slice(ins, p);
  const want = body.inAvals;
  const fail = (what: string) => new ShapeError(`scan: ${what}`);
  if (ins.length !== want.length) throw fail(`got ${ins.length} operands, the body takes ${want.length}`);
  parts.consts.forEach((a, i) => {
    if (!a.strong().equals(want[i]!.strong())) throw fail(`constant ${i} is ${a}, the body expects ${want[i]}`);
  });
  parts.carry.forEach((a, i) => {
    const w = want[p.numConsts + i]!;
    if (!a.strong().equals(w.strong())) throw fail(`initial carry ${i} is ${a}, the body expects ${w}`);
  });
  parts.xs.forEach((a, i) => {
    const w = want[p.numConsts + p.numCarry + i]!;
    if (a.ndim === 0 || !shapeEq(a.shape.slice(1), w.shape) || a.dtype !== w.dtype) {
      throw fail(`xs ${i} is ${a}; each slice must be ${w} (a leading axis of length ${p.length})`);
    }
    if (typeof a.shape[0] === "number" && typeof p.length === "number" && a.shape[0] !== p.length) {
      throw fail(`xs ${i} has leading length ${a.shape[0]} but the scan length is ${p.length}`);
    }
  });
  // a symbolic length (a run-time trip count) is concrete once the stacked xs are
  const len = parts.xs.length && typeof parts.xs[0]!.shape[0] === "number" ? parts.xs[0]!.shape[0] : p.length;
  const outs = body.outAvals;
  return [...outs.slice(0, p.numCarry).map((a) => a.strong()), ...outs.slice(p.numCarry).map((a) => stackedAval(a.strong(), len))];
}

function scanImpl(ins: Tensor[], p: ScanParams, outAvals: ShapedArray[]) {
  const parts = slice(ins, p);
  const n = parts.xs.length ? (parts.xs[0]!.aval.shape[0] as number) : (p.length as number);
  let carry = parts.carry;
  const yAvals = outAvals.slice(p.numCarry);
  const ys = yAvals.map((a) => allocArray(a.dtype, concreteSize(a.shape as number[])));
  const ySizes = yAvals.map((a) => concreteSize(a.shape.slice(1) as number[]));
  const xSlice = parts.xs.map((x) => {
    const s = x.aval.shape.slice(1) as number[];
    const sz = concreteSize(s);
    const aval = new ShapedArray(s, x.aval.dtype);
    return (i: number) => new Tensor(aval, x.data.subarray(i * sz, (i + 1) * sz));
  });
  for (let k = 0; k < n; k++) {
    const i = p.reverse ? n - 1 - k : k;
    const outs = runProgram(p.body, [...parts.consts, ...carry, ...xSlice.map((f) => f(i))]);
    carry = outs.slice(0, p.numCarry);
    outs.slice(p.numCarry).forEach((y, j) => ys[j]!.set(y.data, i * ySizes[j]!));
  }
  return [...carry.map((c) => c.data), ...ys];
}

export const scanP: Primitive<ScanParams> = definePrimitive<ScanParams>({
  name: "scan",
  traits: { higherOrder: true },
  linear: true,
  abstractEval: scanAval,
  impl: scanImpl,
  jvp: (primals, tangents, p) => {
    const nz = tangents.map((t) => !isZero(t));
    const parts = slice(nz, p);
    // fixed point: a carry has a tangent if its initial value does or the body gives it one
    let carryNz = parts.carry;
    let jp;
    for (;;) {
      const mask = [...parts.consts, ...carryNz, ...parts.xs];
      jp = jvpProgram(p.body, mask, [...carryNz, ...p.body.outAvals.slice(p.numCarry).map(() => false)]);
      const out = jp.outNonZero.slice(0, p.numCarry);
      if (out.every((o, i) => !o || carryNz[i])) break;
      carryNz = carryNz.map((c, i) => c || out[i]!);
    }
    const yNz = jp.outNonZero.slice(p.numCarry);
    // jvp program inputs: [consts, carry, xs, consts_t, carry_t, xs_t]; reorder for a scan:
    // [consts, consts_t, carry, carry_t, xs, xs_t]
    const nC = p.numConsts;
    const nK = p.numCarry;
    const nX = p.body.inputs.length - nC - nK;
    const tC = count(parts.consts);
    const tK = count(carryNz);
    const tX = count(parts.xs);
    const base = nC + nK + nX;
    const r = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
    const inOrder = [...r(0, nC), ...r(base, tC), ...r(nC, nK), ...r(base + tC, tK), ...r(nC + nK, nX), ...r(base + tC + tK, tX)];
    const nY = p.body.outputs.length - nK;
    const outOrder = [...r(0, nK), ...r(nK + nY, tK), ...r(nK, nY), ...r(nK + nY + tK, count(yNz))];
    const body = reorderProgram(jp.program, inOrder, outOrder);
    const pt = slice(tangents, p);
    const prim = slice(primals, p);
    const nonZeroOf = (ts: Tangent[], mask: boolean[]) => ts.filter((_, i) => mask[i]) as Tensor[];
    // carries whose initial tangent is zero but which become non-zero start from zeros
    const carryTangents = prim.carry.flatMap((c, i) =>
      carryNz[i] ? [isZero(pt.carry[i]) ? zerosLike(c.aval.strong()) : (pt.carry[i] as Tensor)] : [],
    );
    const args = [
      ...prim.consts,
      ...nonZeroOf(pt.consts, parts.consts),
      ...prim.carry,
      ...carryTangents,
      ...prim.xs,
      ...nonZeroOf(pt.xs, parts.xs),
    ];
    const outs = scanP.bind(args, { ...p, body, numConsts: nC + tC, numCarry: nK + tK });
    const carryOut = outs.slice(0, nK);
    const carryT = outs.slice(nK, nK + tK);
    const ysOut = outs.slice(nK + tK, nK + tK + nY);
    const ysT = outs.slice(nK + tK + nY);
    let kc = 0;
    let ky = 0;
    const outAvals = scanAval(primals.map((x) => x.aval), p);
    const tOut: Tangent[] = [
      ...carryNz.map((z, i) => (z ? carryT[kc++]! : new Zero(outAvals[i]!))),
      ...yNz.map((z, i) => (z ? ysT[ky++]! : new Zero(outAvals[nK + i]!))),
    ];
    return [[...carryOut, ...ysOut], tOut];
  },
  batch: (args, dims, p, size) => {
    // everything batched: carries at axis 0, xs at axis 1 (axis 0 is the scan axis)
    const parts = slice(args, p);
    const pd = slice(dims, p);
    const consts = parts.consts;
    const carry = parts.carry.map((c, i) => moveBatchAxis(c, pd.carry[i]!, 0, size));
    const xs = parts.xs.map((x, i) => moveBatchAxis(x, pd.xs[i]!, 1, size));
    const bodyDims = [...pd.consts, ...carry.map(() => 0), ...xs.map(() => 0)];
    const body = vmapProgram(p.body, bodyDims, size);
    const outs = scanP.bind([...consts, ...carry, ...xs], { ...p, body });
    return [outs, outs.map((_, i) => (i < p.numCarry ? 0 : 1))];
  },
  transpose: (cts, inputs, p) => transposeScan(cts, inputs, p),
  partialEval: (ctx, inputs, p) => {
    const unknown = inputs.map((x) => ctx.isUnknown(x));
    const parts = slice(unknown, p);
    let carryUk = parts.carry;
    let pe;
    for (;;) {
      const mask = [...parts.consts, ...carryUk, ...parts.xs];
      pe = partialEvalProgram(p.body, mask, [...carryUk, ...p.body.outAvals.slice(p.numCarry).map(() => false)]);
      const out = pe.outUnknown.slice(0, p.numCarry);
      if (out.every((o, i) => !o || carryUk[i])) break;
      carryUk = carryUk.map((c, i) => c || out[i]!);
    }
    const ins = slice(inputs, p);
    const pick = <T>(xs: T[], m: boolean[], want: boolean) => xs.filter((_, i) => m[i] === want);
    // known scan: [known consts] [known carry] [known xs] -> [known carry] [known ys, residuals]
    const nKC = count(carryUk.map((u) => !u));
    const knownConsts = pick(ins.consts, parts.consts, false);
    const knownXs = pick(ins.xs, parts.xs, false);
    const knownArgs = [...knownConsts, ...pick(ins.carry, carryUk, false), ...knownXs];
    const nYk = pe.outUnknown.slice(p.numCarry).filter((u) => !u).length;
    // A residual that is a known const of the body is loop-invariant: the unknown scan takes the
    // operand itself as a const; one that is a known x slice takes the operand itself as xs.
    // Only the others are stacked per iteration by the known scan.
    const nR = pe.numResiduals;
    const kin = pe.known.inputs;
    const res = pe.known.outputs.slice(nKC + nYk).map((a) => {
      const i = kin.indexOf(a as (typeof kin)[number]);
      if (i >= 0 && i < knownConsts.length) return { kind: "const" as const, operand: knownConsts[i]! };
      if (i >= knownConsts.length + nKC) return { kind: "xs" as const, operand: knownXs[i - knownConsts.length - nKC]! };
      return { kind: "stacked" as const };
    });
    const stackedOut = res.flatMap((r, i) => (r.kind === "stacked" ? [nKC + nYk + i] : []));
    const knownBody = reorderProgram(pe.known, kin.map((_, i) => i), [...Array.from({ length: nKC + nYk }, (_, i) => i), ...stackedOut]);
    // a known carry input that must become unknown enters the unknown scan as its initial value
    const knownOuts = ctx.known(() =>
      scanP.bind(knownArgs, { ...p, body: knownBody, numConsts: knownConsts.length, numCarry: nKC }),
    );
    let ks = nKC + nYk;
    const resOperands = res.map((r) => (r.kind === "stacked" ? knownOuts[ks++]! : r.operand));
    const invariant = res.map((r) => r.kind === "const");
    // unknown scan body inputs are [residuals, uk consts, uk carry, uk xs]; as a scan: uk consts and
    // invariant residuals, uk carry, then the other residuals and uk xs as xs
    const nUC = count(parts.consts);
    const nUK = count(carryUk);
    const nUX = count(parts.xs);
    const r = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
    const resIdx = r(0, nR);
    const body = reorderProgram(pe.unknown, [
      ...r(nR, nUC),
      ...resIdx.filter((i) => invariant[i]),
      ...r(nR + nUC, nUK),
      ...resIdx.filter((i) => !invariant[i]),
      ...r(nR + nUC + nUK, nUX),
    ]);
    const ukCarryInit = ins.carry.filter((_, i) => carryUk[i]);
    const ukArgs = [
      ...pick(ins.consts, parts.consts, true),
      ...resOperands.filter((_, i) => invariant[i]),
      ...ukCarryInit,
      ...resOperands.filter((_, i) => !invariant[i]),
      ...pick(ins.xs, parts.xs, true),
    ];
    const ukOuts = ctx.stage(scanP, ukArgs, { ...p, body, numConsts: nUC + count(invariant), numCarry: nUK });
    let kk = 0;
    let ku = 0;
    const outUk = [...carryUk, ...pe.outUnknown.slice(p.numCarry)];
    return outUk.map((u) => (u ? ukOuts[ku++]! : knownOuts[kk++]!));
  },
});

/**
 * Transpose of a scan linear in its LinearIn operands (linear consts, every carry, linear xs;
 * the other consts and xs are residuals): a scan in the opposite direction whose carry
 * accumulates the cotangents of the linear consts and pulls the carry cotangent back.
 */
function transposeScan(cts: Tangent[], inputs: (Tensor | LinearIn)[], p: ScanParams): (Tangent | null)[] {
  const lin = inputs.map(isLinearIn);
  const parts = slice(inputs, p);
  const lm = slice(lin, p);
  // the body is linear in every carry; a carry whose initial value is a constant (e.g. zeros for
  // a tangent that starts at zero) simply gets no cotangent
  const resConsts = parts.consts.filter((_, i) => !lm.consts[i]) as Tensor[];
  const linConstAvals = parts.consts.filter((_, i) => lm.consts[i]).map((x) => x.aval);
  const resXs = parts.xs.filter((_, i) => !lm.xs[i]) as Tensor[];
  const bodyT = transposedProgram(p.body, [...lm.consts, ...lm.carry.map(() => true), ...lm.xs]);
  // bodyT: [res consts, res x slices] ++ [carry cts, y cts] -> [lin const cts, carry cts, lin x cts]
  const nRC = resConsts.length;
  const nLC = linConstAvals.length;
  const nK = p.numCarry;
  const xAvals = resXs.map((x) => new ShapedArray(x.aval.shape.slice(1), x.aval.dtype));
  const yCtAvals = p.body.outAvals.slice(nK).map((a) => a.strong());
  const carryAvals = p.body.outAvals.slice(0, nK).map((a) => a.strong());
  const body = traceFlat(
    (xs) => {
      const rc = xs.slice(0, nRC);
      const acc = xs.slice(nRC, nRC + nLC);
      const ck = xs.slice(nRC + nLC, nRC + nLC + nK);
      const rx = xs.slice(nRC + nLC + nK, nRC + nLC + nK + xAvals.length);
      const cy = xs.slice(nRC + nLC + nK + xAvals.length);
      const out = evalProgram(bodyT, [...rc, ...rx, ...ck, ...cy]);
      const newAcc = out.slice(0, nLC).map((c, i) => addTangents(acc[i]!, c) as Tensor);
      return [...newAcc, ...out.slice(nLC, nLC + nK), ...out.slice(nLC + nK)];
    },
    [...resConsts.map((x) => x.aval), ...linConstAvals.map((a) => a.strong()), ...carryAvals, ...xAvals, ...yCtAvals],
    "scan transpose",
  ).program;
  const carryCt = cts.slice(0, nK).map((c, i) => (isZero(c) ? zerosLike(carryAvals[i]!) : c));
  const yCts = cts.slice(nK).map((c, i) => (isZero(c) ? zerosLike(stackedAval(yCtAvals[i]!, p.length)) : c));
  const outs = scanP.bind([...resConsts, ...linConstAvals.map((a) => zerosLike(a.strong())), ...carryCt, ...resXs, ...yCts], {
    body,
    length: p.length,
    reverse: !p.reverse,
    numConsts: nRC,
    numCarry: nLC + nK,
  });
  const constCts = outs.slice(0, nLC);
  const initCts = outs.slice(nLC, nLC + nK);
  const xsCts = outs.slice(nLC + nK);
  let a = 0;
  let b = 0;
  return [
    ...lm.consts.map((l) => (l ? constCts[a++]! : null)),
    ...lm.carry.map((l, i) => (l ? initCts[i]! : null)),
    ...lm.xs.map((l) => (l ? xsCts[b++]! : null)),
  ];
}
