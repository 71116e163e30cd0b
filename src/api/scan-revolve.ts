// lax.scan(f, init, xs, {checkpoint: {snapshots: k}}): reverse mode through the scan with binomial
// checkpointing (transforms/remat-revolve.ts). The forward pass runs the plain scan and keeps only
// its operands (the initial carry, xs and the values f closed over); the backward pass replays the
// Revolve schedule, holding at most k carries and recomputing the optimal number of steps, and
// pulls the cotangents back through one step at a time (the vjp of the body at that step's carry).
// It is a customVjp, so it differentiates once (not twice) and, under jit, the schedule is unrolled
// into the traced backward program (n steps: meant for eager training loops and moderate n).

import { isFloat } from "../core/dtype.js";
import { ArgumentError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import type { Program } from "../ir/program.js";
import { scanP } from "../higher-order/scan.js";
import { addTangents, instantiate, zerosLike } from "../prims/rule-helpers.js";
import { isZero } from "../rules/zero.js";
import { evalProgram } from "../trace/make-program.js";
import { type RevolveStats, revolveReverse } from "../transforms/remat-revolve.js";
import { vjpFlat } from "../transforms/vjp.js";
import { customVjp } from "./custom.js";
import { take } from "./np/indexing.js";
import { stack } from "./np/join.js";

/** Statistics of the last Revolve backward pass (tests and benchmarks read them). */
export const lastRevolveStats: { value: RevolveStats | null } = { value: null };

export function revolveScan(body: Program, consts: Tensor[], carry: Tensor[], xs: Tensor[], length: number, reverse: boolean, snapshots: number): Tensor[] {
  if (!Number.isInteger(snapshots) || snapshots < 1) throw new ArgumentError(`lax.scan: checkpoint.snapshots must be an integer >= 1, got ${String(snapshots)}`);
  const nC = consts.length;
  const nK = carry.length;
  const params = { body, length, reverse, numConsts: nC, numCarry: nK };
  const plain = (...a: Tensor[]) => scanP.bind(a, params);
  const at = (i: number) => (reverse ? length - 1 - i : i);
  const f = customVjp(plain, {
    fwd: (...a: Tensor[]) => [plain(...a), a],
    bwd: (a: Tensor[], outBar: Tensor[]) => {
      const cs = a.slice(0, nC);
      const xsv = a.slice(nC + nK);
      const xAt = (i: number) => xsv.map((x) => take(x, at(i), { axis: 0 }));
      const active = body.inAvals.map((v) => isFloat(v.dtype));
      const step = (c: Tensor[], i: number) => evalProgram(body, [...cs, ...c, ...xAt(i)]).slice(0, nK);
      let constBar = cs.map((c) => zerosLike(c.aval.strong()));
      const xsBars: Tensor[][] = xsv.map(() => new Array<Tensor>(length));
      const reverseStep = (c: Tensor[], i: number, cBar: Tensor[]) => {
        const ins = [...cs, ...c, ...xAt(i)];
        const { pullback } = vjpFlat((v) => evalProgram(body, v), ins, active);
        const ys = outBar.slice(nK).map((y) => take(y, at(i), { axis: 0 }));
        const bars = pullback([...cBar, ...ys]);
        let k = 0;
        const full = ins.map((x, j) => (active[j] ? bars[k++]! : null)).map((b, j) => (b === null || isZero(b) ? zerosLike(ins[j]!.aval.strong()) : instantiate(b)));
        constBar = constBar.map((s, j) => addTangents(s, full[j]!) as Tensor);
        xsv.forEach((_, j) => (xsBars[j]![at(i)] = full[nC + nK + j]!));
        return full.slice(nC, nC + nK);
      };
      const { adjoint, stats } = revolveReverse(length, snapshots, a.slice(nC, nC + nK), step, reverseStep, outBar.slice(0, nK).map(instantiate));
      lastRevolveStats.value = stats;
      return [...constBar, ...adjoint, ...xsBars.map((bs) => stack(bs))];
    },
  });
  return f(...consts, ...carry, ...xs) as Tensor[];
}
