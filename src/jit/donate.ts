// Buffer donation, `jit(f, {donateArgnums})`: the caller promises not to use the donated
// arguments again, so their buffers may hold outputs. Each output takes the buffer of a donated
// argument leaf with the same dtype and element count (first come, first served, in output order),
// and every donated leaf is invalidated after the call: reading it raises an ArgumentError naming
// the jitted function and the argument (Tensor._donate).
//
// The reuse happens when the call returns: the output's elements move into the donated buffer,
// whose owner is dead by then, so any pairing is safe whatever the kernels' order (no alias
// analysis needed) and it works the same for the JS and WebAssembly backends and the interpreter.
// What it saves is the output's allocation living on past the call (a training step's new
// parameters land in the old parameters' arrays); it does not lower the peak during the call,
// which would need the kernels to write into the argument in place (a memory-planner condition:
// the argument's last read before the output's first write; not done yet).
//
// Only direct calls donate: a jitted function called inside another transformation (a trace, the
// eager tape) leaves its arguments valid, as JAX does for donation inside an outer jit.

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
  const free = [...new Set(leaves.map((l) => l.t))];
  const result = outs.map((o) => {
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
