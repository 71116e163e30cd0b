// Donation in the memory planner (jit's donateArgnums, exportFunction's donate): a donated
// input's memory belongs to the program once its last reader has run, so results may be written
// into it in place, which lowers the peak of a call (not only what outlives it). The rule is the
// arena's in-place rule (memory.ts inPlaceDonors): a map kernel that reads the dying input (or a
// result already living in its memory) element-for-element, never gathered, with the same element
// width, writes its output there when the output's bytes fit the input's for every size (dimLeq).
// Such aliased temporaries leave the arena; an aliased output is returned in the input's memory.
// The decision is size-independent (made once per program and donated set), so the JS backend,
// the WebAssembly layout and exported modules apply the same map. callPeak accounts a whole call:
// inputs (a donated one until its memory's last holder dies), arena temporaries and outputs.

import { byteSize } from "../core/dtype.js";
import { type Dim, dimAdd, dimLeq, dimMul } from "../core/shape.js";
import type { LoweredProgram } from "./kernel-ir.js";
import { verifyDonation, verifyLoweredEnabled } from "./verify.js";
import { type LivePeak, type MemorySchedule, inPlaceDonors, kernelSchedule, kernelWrites, lastUses, memorySchedule, peakOf, stepSums } from "./memory.js";

export interface DonationPlan {
  /** the donated input buffers (argument leaves the program does not return unchanged) */
  donated: number[];
  /** buffer id -> the donated input buffer whose memory it is written into */
  aliases: Map<number, number>;
  /** the arena schedule without the aliased temporaries */
  schedule: MemorySchedule;
}

const bytesOf = (lp: LoweredProgram, b: number): Dim => dimMul(lp.buffers[b]!.size, byteSize(lp.buffers[b]!.dtype));

/** The in-place plan for donating inputs at `positions` (indices into lp.inputs). */
export function planDonation(lp: LoweredProgram, positions: Iterable<number>): DonationPlan {
  const returned = new Set(lp.outputs.flatMap((o) => (o.kind === "input" ? [o.index] : [])));
  const donated = [...new Set(positions)].filter((i) => i < lp.inputs.length && !returned.has(i)).map((i) => lp.inputs[i]!);
  const lastUse = lastUses(lp);
  // who holds each donated input's memory now -> that input
  const holder = new Map<number, number>(donated.map((b) => [b, b]));
  const aliases = new Map<number, number>();
  const written = new Set<number>();
  lp.kernels.forEach((k, i) => {
    const out = k.kind === "map" && !k.outOffset ? k.out : -1;
    const kind = out >= 0 ? lp.buffers[out]!.kind : null;
    if (k.kind === "map" && !k.outOffset && (kind === "temp" || kind === "output") && !written.has(out)) {
      const fits = (b: number) => dimLeq(bytesOf(lp, out), bytesOf(lp, holder.get(b)!)) === true;
      const d = inPlaceDonors(lp, k, i, lastUse, (b) => holder.has(b) && lp.buffers[b]!.kind !== "output").find(fits);
      if (d !== undefined) {
        const root = holder.get(d)!;
        holder.delete(d);
        holder.set(out, root);
        aliases.set(out, root);
      }
    }
    for (const w of kernelWrites(k)) written.add(w);
    // a holder read for the last time frees the memory (not reused further: only in place)
    for (const b of [...holder.keys()]) if (lastUse.get(b) === i && lp.buffers[b]!.kind !== "output") holder.delete(b);
  });
  return { donated, aliases, schedule: memorySchedule(lp, aliases) };
}

/**
 * Peak bytes of one call: inputs, arena temporaries and outputs live at each kernel, as formulas
 * in the symbols (dominated kernels dropped). A donated input counts until the last holder of its
 * memory dies (the end of the call when an output holds it); an aliased buffer adds nothing.
 */
export function callPeak(lp: LoweredProgram, plan: DonationPlan | null = null): LivePeak {
  const aliases = plan?.aliases ?? new Map<number, number>();
  const sums = stepSums(lp, kernelSchedule(lp, aliases));
  const lastUse = lastUses(lp);
  const end = lp.kernels.length;
  // the last kernel at which each donated input's memory is held
  const blockEnd = new Map<number, number>();
  for (const b of plan?.donated ?? []) blockEnd.set(b, lastUse.get(b) ?? -1);
  for (const [b, root] of aliases) blockEnd.set(root, Math.max(blockEnd.get(root)!, lp.buffers[b]!.kind === "output" ? end : lastUse.get(b) ?? end));
  const firstWrite = new Map<number, number>();
  lp.kernels.forEach((k, i) => kernelWrites(k).forEach((b) => firstWrite.has(b) || firstWrite.set(b, i)));
  const at = (i: number): Dim => {
    let s: Dim = i < sums.length ? sums[i]! : 0;
    for (const b of lp.inputs) if (!blockEnd.has(b) || i <= blockEnd.get(b)!) s = dimAdd(s, bytesOf(lp, b));
    for (const buf of lp.buffers) if (buf.kind === "output" && !aliases.has(buf.id) && (firstWrite.get(buf.id) ?? end) <= i) s = dimAdd(s, bytesOf(lp, buf.id));
    return s;
  };
  return peakOf([...Array(end + 1).keys()].map(at));
}

const plans = new WeakMap<LoweredProgram, Map<string, DonationPlan>>();

/** planDonation, cached per program and donated set, checked by the kernel verifier when it is on. */
export function donationFor(lp: LoweredProgram, positions: readonly number[]): DonationPlan {
  let m = plans.get(lp);
  if (!m) plans.set(lp, (m = new Map()));
  const key = [...positions].sort((a, b) => a - b).join(",");
  let p = m.get(key);
  if (!p) {
    m.set(key, (p = planDonation(lp, positions)));
    if (verifyLoweredEnabled()) verifyDonation(lp, p.aliases);
  }
  return p;
}

/**
 * The donated positions whose memory no other input shares (the same tensor passed twice, or two
 * views of one buffer): writing into such memory would change what another input reads.
 */
export function unsharedInputs(datas: readonly ArrayBufferView[], positions: readonly number[]): number[] {
  const overlap = (a: ArrayBufferView, b: ArrayBufferView) => a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
  return positions.filter((i) => datas[i] !== undefined && datas.every((o, j) => j === i || !overlap(datas[i]!, o)));
}
