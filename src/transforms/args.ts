// Validation shared by the public transformations (grad, valueAndGrad, vjp, jvp, linearize,
// jacfwd, jacrev, hessian, checkpoint, linearTranspose): the function argument, argnums, the
// options objects, and argument lists that must be arrays. One place, so that every transform
// rejects the same bad input with the same typed error instead of computing something else.

import { ArgumentError } from "../core/errors.js";
import { type Rule, type Schema, checkOptions, describeValue, is } from "../core/options.js";

/** An argnums option: an integer or a list of integers (range checks need the call's arity). */
const argnumsRule: Rule = is.either(is.int(), is.arrayOf(is.int(), "integers"));

export const gradOptionsSchema: Schema = { argnums: argnumsRule, hasAux: is.boolean, memoryBudget: is.any, dims: is.any };

type Fn = (...args: any[]) => any;
/**
 * grad's memoryBudget option: f as one checkpoint region whose saved values the planner chooses
 * (higher-order/checkpoint, a higher layer: index.ts installs it).
 */
export const rematHook: { wrap: ((what: string, f: Fn, memoryBudget: unknown, dims: unknown) => Fn) | null } = { wrap: null };
/**
 * grad/valueAndGrad under automatic capture (hybrid/capture-grad.ts, a higher layer: index.ts
 * installs it): returns the call's [value, grads] from a cached compiled program, or null to take
 * the ordinary path.
 */
export const gradCaptureHook: { run: ((name: string, f: Fn, opts: { argnums?: number | number[]; hasAux?: boolean; memoryBudget?: unknown }, args: any[]) => [any, any] | null) | null } = { run: null };
export const jacOptionsSchema: Schema = { argnums: argnumsRule };

/** Checks that `f` is a function (transformations are applied to functions, not values). */
export function checkFunction(name: string, f: unknown): void {
  if (typeof f !== "function") throw new ArgumentError(`${name}: expected a function as first argument, got ${describeValue(f)}`);
}

/** checkFunction plus checkOptions: what every `transform(f, opts)` does before anything else. */
export function checkTransform(name: string, f: unknown, opts: object | undefined, schema: Schema): void {
  checkFunction(name, f);
  checkOptions(name, opts, schema);
}

/**
 * argnums normalized against a call with `nargs` arguments: negative entries count from the end
 * (as JAX); out of range, non-integer or repeated entries are ArgumentErrors (a repeated argnum
 * would ask for two gradients of one argument, and substituting it twice cannot give both).
 */
export function argnumsArg(name: string, argnums: number | readonly number[] | undefined, nargs: number): number[] {
  const list = argnums === undefined ? [0] : Array.isArray(argnums) ? argnums : [argnums as number];
  const out = list.map((a) => {
    if (!Number.isInteger(a)) throw new ArgumentError(`${name}: argnums entries must be integers, got ${describeValue(a)}`);
    const n = a < 0 ? a + nargs : a;
    if (n < 0 || n >= nargs) throw new ArgumentError(`${name}: argnums ${a} is out of range for a call with ${nargs} argument(s)`);
    return n;
  });
  const seen = new Set<number>();
  for (const [k, n] of out.entries()) {
    if (seen.has(n)) throw new ArgumentError(`${name}: argnums ${describeValue(list)} names argument ${n} twice (entry ${k}); list each argument once`);
    seen.add(n);
  }
  return out;
}

/** A list argument (jvp's primals and tangents): an array, never a tensor spread as a list. */
export function listArg(name: string, what: string, x: unknown): unknown[] {
  if (!Array.isArray(x)) {
    throw new ArgumentError(`${name}: ${what} must be an array with one entry per argument of the function (e.g. [x] for one argument), got ${describeValue(x)}`);
  }
  return x;
}
