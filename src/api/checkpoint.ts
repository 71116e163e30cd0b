// checkpoint(f, {policy}) (public API, also called remat): in reverse mode, recompute f's
// intermediates during the backward pass instead of saving them. policy "nothingSaveable"
// (default) saves only f's inputs; "everythingSaveable" behaves like plain f; "dotsSaveable",
// "dotsWithNoBatchDimsSaveable", saveOnlyTheseNames / saveAnyNamesBut (values marked with
// checkpointName) and a predicate over (primitive, dtype, shape) save what they select;
// {memoryBudget} lets the planner (transforms/remat.ts) choose. planCheckpoint returns the plan.

import { leafToTensor } from "../core/convert.js";
import { ArgumentError } from "../core/errors.js";
import { is } from "../core/options.js";
import type { Tensor } from "../core/tensor.js";
import { checkTransform } from "../transforms/args.js";
import {
  type CheckpointPolicy,
  type MemoryBudget,
  type SaveablePredicate,
  budgetPolicy,
  checkpointNameP,
  checkpointed,
  rematPlanObservers,
} from "../higher-order/checkpoint.js";
import type { RematPlan } from "../transforms/remat.js";
import { vjp } from "../transforms/vjp.js";

export type { CheckpointPolicy, MemoryBudget, RematPlan, SaveablePredicate };

export interface CheckpointOptions {
  policy?: CheckpointPolicy;
  /** shorthand for policy {memoryBudget}: residual bytes allowed, chosen by the planner */
  memoryBudget?: MemoryBudget;
  /** symbolic dimension values a memoryBudget is planned for */
  dims?: Record<string, number>;
}

/** The policies by name (as jax.checkpoint_policies). */
export const checkpointPolicies = {
  nothingSaveable: "nothingSaveable",
  everythingSaveable: "everythingSaveable",
  dotsSaveable: "dotsSaveable",
  dotsWithNoBatchDimsSaveable: "dotsWithNoBatchDimsSaveable",
  saveOnlyTheseNames: (names: string[]) => ({ saveOnlyTheseNames: [...names] }),
  saveAnyNamesBut: (names: string[]) => ({ saveAnyNamesBut: [...names] }),
  saveable: (pred: SaveablePredicate) => ({ saveable: pred }),
  memoryBudget: (bytes: MemoryBudget, dims?: Record<string, number>) => (dims ? { memoryBudget: bytes, dims } : { memoryBudget: bytes }),
} as const;

/** Marks x with a name for saveOnlyTheseNames / saveAnyNamesBut (the identity otherwise). */
export function checkpointName<T>(x: T, name: string): T {
  if (typeof name !== "string" || name === "") throw new ArgumentError(`checkpointName: the name must be a non-empty string, got ${String(name)}`);
  const t = leafToTensor(x, "checkpointName: value");
  return checkpointNameP.bind([t], { name })[0] as T;
}

const NAMED = ["nothingSaveable", "everythingSaveable", "dotsSaveable", "dotsWithNoBatchDimsSaveable"];

function checkPolicy(p: unknown): CheckpointPolicy {
  const names = (k: string, v: unknown) => {
    if (!Array.isArray(v) || v.some((n) => typeof n !== "string")) throw new ArgumentError(`checkpoint: policy ${k} takes a list of names, got ${JSON.stringify(v)}`);
  };
  if (typeof p === "string" && NAMED.includes(p)) return p as CheckpointPolicy;
  if (typeof p === "function") return { saveable: p as SaveablePredicate };
  if (p !== null && typeof p === "object") {
    const o = p as Record<string, unknown>;
    if ("saveOnlyTheseNames" in o) return names("saveOnlyTheseNames", o.saveOnlyTheseNames), p as CheckpointPolicy;
    if ("saveAnyNamesBut" in o) return names("saveAnyNamesBut", o.saveAnyNamesBut), p as CheckpointPolicy;
    if ("saveable" in o && typeof o.saveable === "function") return p as CheckpointPolicy;
    if ("memoryBudget" in o && (typeof o.memoryBudget === "number" || typeof o.memoryBudget === "function")) return p as CheckpointPolicy;
  }
  throw new ArgumentError(
    `checkpoint: unknown policy ${typeof p === "string" ? JSON.stringify(p) : String(p)} (use ${NAMED.map((n) => `"${n}"`).join(", ")}, checkpointPolicies.saveOnlyTheseNames([...]), saveAnyNamesBut([...]), a predicate (prim, dtype, shape) => boolean, or {memoryBudget})`,
  );
}

export function checkpoint<F extends (...args: any[]) => any>(f: F, opts: CheckpointOptions = {}): F {
  checkTransform("checkpoint", f, opts, { policy: is.any, memoryBudget: is.any, dims: is.any });
  if (opts.policy !== undefined && opts.memoryBudget !== undefined) throw new ArgumentError("checkpoint: give either policy or memoryBudget, not both");
  const policy =
    opts.memoryBudget !== undefined ? budgetPolicy("checkpoint", opts.memoryBudget, opts.dims) : checkPolicy(opts.policy ?? "nothingSaveable");
  return checkpointed(f, policy);
}

/**
 * The memory plan(s) `checkpoint(f, {memoryBudget})` makes when differentiated at `args`: what is
 * saved, what is recomputed, residual bytes before and after, the FLOPs recomputed. `plan.toString()`
 * prints it.
 */
export function planCheckpoint(f: (...args: any[]) => any, opts: CheckpointOptions, ...args: unknown[]): RematPlan {
  const plans: RematPlan[] = [];
  const obs = (p: RematPlan) => plans.push(p);
  rematPlanObservers.add(obs);
  try {
    vjp(checkpoint(f, opts), ...(args as Tensor[]));
  } finally {
    rematPlanObservers.delete(obs);
  }
  if (plans.length !== 1) throw new ArgumentError(`planCheckpoint: expected one plan, the function made ${plans.length} (give a memoryBudget)`);
  return plans[0]!;
}
