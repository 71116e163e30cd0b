// The run-time binding of symbolic dimensions ("B" -> 32) while a shape-polymorphic program runs:
// derived from the concrete shapes of the program's inputs, checked for consistency, and made
// available to primitives that need a dimension's value (dim_value) and to parameters that hold
// symbolic shapes.

import { ShapeError } from "./errors.js";
import { type Dim, SymDim, shapeToString, type Shape } from "./shape.js";

export type Binding = Readonly<Record<string, number>>;

let current: Binding = {};

export function currentBinding(): Binding {
  return current;
}

export function withBinding<T>(b: Binding, fn: () => T): T {
  const prev = current;
  current = b;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/**
 * Binds the symbols of `declared` shapes from `actual` concrete shapes (a dimension that is a bare
 * symbol binds it; every other dimension is checked once all are bound). Throws a ShapeError
 * naming the argument and the symbol on any mismatch.
 */
export function bindSymbols(declared: readonly Shape[], actual: readonly (readonly number[])[], names: (i: number) => string, outer: Binding = {}): Binding {
  const env: Record<string, number> = { ...outer };
  const fail = (i: number, why: string) =>
    new ShapeError(`${names(i)} has shape ${shapeToString(actual[i]!)} but ${shapeToString(declared[i]!)} was declared: ${why}`);
  declared.forEach((shape, i) => {
    const got = actual[i]!;
    if (got.length !== shape.length) throw fail(i, `rank ${got.length} != ${shape.length}`);
    shape.forEach((d, k) => {
      if (!(d instanceof SymDim) || d.terms.size !== 1 || d.terms.values().next().value !== 1) return;
      const name = [...d.terms.keys()][0]!;
      if (name.includes("*")) return;
      const v = got[k]!;
      if (env[name] !== undefined && env[name] !== v) throw fail(i, `${name} is ${env[name]} from an earlier argument but ${v} here`);
      env[name] = v;
    });
  });
  declared.forEach((shape, i) => {
    shape.forEach((d: Dim, k) => {
      let want: number;
      try {
        want = typeof d === "number" ? d : d.evaluate(env);
      } catch {
        throw fail(i, `dimension ${d} cannot be determined from the arguments`);
      }
      if (want !== actual[i]![k]) throw fail(i, `axis ${k} should be ${d} = ${want}, got ${actual[i]![k]}`);
    });
  });
  return env;
}

/** Replaces symbolic dimensions anywhere in a parameter value by their bound numbers. */
export function instantiateParams(v: unknown, env: Binding): unknown {
  if (v instanceof SymDim) return v.evaluate(env);
  if (Array.isArray(v)) {
    let changed = false;
    const out = v.map((x) => {
      const y = instantiateParams(x, env);
      if (y !== x) changed = true;
      return y;
    });
    return changed ? out : v;
  }
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const y = instantiateParams(x, env);
      if (y !== x) changed = true;
      out[k] = y;
    }
    return changed ? out : v;
  }
  return v;
}
