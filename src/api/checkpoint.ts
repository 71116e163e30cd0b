// checkpoint(f, {policy}) (public API, also called remat): in reverse mode, recompute f's
// intermediates during the backward pass instead of saving them. policy "nothingSaveable"
// (default) saves only f's inputs; "everythingSaveable" behaves like plain f.

import { leafToTensor } from "../core/convert.js";
import { ArgumentError } from "../core/errors.js";
import { is } from "../core/options.js";
import { checkTransform } from "../transforms/args.js";
import { flatten, unflatten } from "../core/tree.js";
import { type CheckpointPolicy, checkpointP } from "../higher-order/checkpoint.js";
import { traceFlat } from "../trace/make-program.js";

export interface CheckpointOptions {
  policy?: CheckpointPolicy;
}

export function checkpoint<F extends (...args: any[]) => any>(f: F, opts: CheckpointOptions = {}): F {
  checkTransform("checkpoint", f, opts, { policy: is.any });
  const policy = opts.policy ?? "nothingSaveable";
  if (policy !== "nothingSaveable" && policy !== "everythingSaveable") {
    throw new ArgumentError(`checkpoint: unknown policy ${JSON.stringify(policy)} (use "nothingSaveable" or "everythingSaveable")`);
  }
  return ((...args: unknown[]) => {
    const [leaves, def] = flatten(args);
    const xs = leaves.map((l, i) => leafToTensor(l, `checkpoint: argument leaf ${i}`));
    const t = traceFlat((ins) => f(...(unflatten(def, ins) as unknown[])), xs.map((x) => x.aval), "checkpoint");
    const outs = checkpointP.bind([...xs, ...t.tracerConsts], { program: t.program, policy });
    return unflatten(t.outTree, outs);
  }) as F;
}
