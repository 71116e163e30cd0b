// vmap of a jitted function with graph breaks. Under vmap a region runs as a batched jit_call,
// whose rule batches every output, so a value the JS observes would be a batch tracer even when
// it does not depend on the mapped inputs (a norm of a closed-over tensor, a loop counter kept as
// a tensor). The part of a region that reads no traced input is therefore also run on its own:
// its outputs are ordinary values of the trace below, which the JS may observe (as in JAX, where
// such values stay unbatched). A value that does depend on a mapped input differs per example:
// observing it raises the vmap error (per-example branches need lax.cond / np.where).

import { type Atom, Program, Var } from "../ir/program.js";

/** The outputs of a program computed from the unmarked inputs alone, as a program over those inputs. */
export interface UnbatchedPart {
  program: Program;
  /** indices of the program inputs it takes (the unmarked ones) */
  inputs: number[];
  /** indices of the program outputs it computes */
  outputs: number[];
}

/**
 * The part of `p` that does not depend on the inputs marked in `traced`, or null when there is
 * nothing to split off (no marked input, or every output depends on one).
 */
export function unbatchedPart(p: Program, traced: readonly boolean[]): UnbatchedPart | null {
  if (!traced.some(Boolean) || p.consts.length !== 0) return null;
  const dep = new Set<Var>();
  p.inputs.forEach((v, i) => traced[i] && dep.add(v));
  const depends = (a: Atom) => a instanceof Var && dep.has(a);
  const equations = p.equations.filter((e) => {
    if (!e.inputs.some(depends)) return true;
    for (const o of e.outs) dep.add(o);
    return false;
  });
  const outputs = p.outputs.flatMap((a, i) => (depends(a) ? [] : [i]));
  if (outputs.length === 0) return null;
  const inputs = p.inputs.flatMap((_, i) => (traced[i] ? [] : [i]));
  const program = new Program(
    inputs.map((i) => p.inputs[i]!),
    [],
    [],
    equations,
    outputs.map((i) => p.outputs[i]!),
  );
  return { program, inputs, outputs };
}
