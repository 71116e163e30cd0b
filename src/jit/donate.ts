// Buffer donation, `jit(f, {donateArgnums})`: the caller promises not to use the donated
// arguments again, so their memory belongs to the call. Two steps:
//   during the call: the memory planner (lower/memory-donate.ts) writes temporaries and outputs
//     in place of a donated argument once its last reader has run (map kernels reading it
//     element-for-element, the arena's in-place rule), which lowers the call's peak; the JS
//     backend writes into the argument's own array, WebAssembly into its copy in the memory;
//   after the call: each output not already in a donated leaf's memory takes the buffer of a
//     donated leaf with the same dtype and element count (first come, first served, in output
//     order), so a training step's new parameters land in the old parameters' arrays.
// Every donated leaf is invalidated after the call: reading it raises an ArgumentError naming the
// jitted function and the argument (Tensor._donate).
//
// Only direct calls donate: a jitted function called inside another transformation (a trace, the
// eager tape) leaves its arguments valid, as JAX does for donation inside an outer jit. The
// interpreted tier and debugNans (which may rerun the inputs) donate only after the call.

import { ArgumentError } from "../core/errors.js";
import { Tensor } from "../core/tensor.js";

/** Validates donateArgnums against staticArgnums; returns the donated argument indices. */
export function donatedArgs(name: string, donate: unknown, statics: ReadonlySet<number>): Set<number> {
  if (donate === undefined) return new Set();
  if (!Array.isArray(donate) || donate.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ArgumentError(`jit(${name}): donateArgnums must be a list of argument indices (integers >= 0), got ${JSON.stringify(donate)}`);
  }
  for (const d of donate) {
    if (statics.has(d)) throw new ArgumentError(`jit(${name}): argument ${d} is both static and donated; a static argument has no buffer to donate`);
  }
  return new Set(donate as number[]);
}

/** The leaf positions a direct call may overwrite in place: concrete plain tensors of donated arguments. */
export function donatedLeaves(donated: ReadonlySet<number>, tensors: Tensor[], leafArgs: number[]): number[] {
  return tensors.flatMap((t, i) => (donated.has(leafArgs[i]!) && t.constructor === Tensor && t.isConcrete && t._donated === null ? [i] : []));
}

/**
 * After a direct call: moves outputs into donated leaves' buffers and invalidates those leaves.
 * `leafArgs[i]` is the argument index of tensor leaf i; `paths[i]` names it.
 */
export function donateAfterCall(name: string, donated: ReadonlySet<number>, nArgs: number, tensors: Tensor[], leafArgs: number[], paths: readonly string[], outs: Tensor[]): Tensor[] {
  for (const d of donated) {
    if (d >= nArgs) throw new ArgumentError(`jit(${name}): donateArgnums names argument ${d} but the call has ${nArgs} arguments`);
  }
  const leaves = tensors.map((t, i) => ({ t, i })).filter(({ t, i }) => donated.has(leafArgs[i]!) && t.constructor === Tensor && t.isConcrete);
  if (!leaves.length) return outs;
  // a leaf whose memory an output was written into during the call (in place) is taken
  const inside = (o: Tensor, t: Tensor) => o.data.buffer === t.data.buffer && o.data.byteOffset < t.data.byteOffset + t.data.byteLength && t.data.byteOffset < o.data.byteOffset + o.data.byteLength;
  const inPlace = (o: Tensor) => o.isConcrete && !leaves.some((l) => l.t === o) && leaves.some((l) => inside(o, l.t));
  const free = [...new Set(leaves.map((l) => l.t))].filter((t) => !outs.some((o) => inPlace(o) && inside(o, t)));
  const result = outs.map((o) => {
    if (inPlace(o)) return o;
    const k = free.findIndex((t) => t.dtype === o.dtype && t.size === o.size);
    // an output that is a donated argument itself (returned unchanged) must outlive its invalidation
    if (k < 0) return leaves.some((l) => l.t === o) ? new Tensor(o.aval, o.data) : o;
    const [t] = free.splice(k, 1);
    const buf = t!.data;
    if (buf !== o.data) buf.set(o.data);
    return new Tensor(o.aval, buf);
  });
  for (const { t, i } of leaves) {
    if (t._donated === null) t._donate(`it was donated to jit(${name}) as ${paths[i] ?? `leaf ${i}`} (donateArgnums); use the call's outputs instead`);
  }
  return result;
}
