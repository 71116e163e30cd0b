// jit(f, {shapes}): the user's declared shapes, resolved to one spec per dynamic argument leaf
// (a list with a symbol name, a size or null per axis) and checked on every call. A call whose
// argument contradicts its declared spec (another rank, or another size where a number is
// declared) is a ShapeError naming the argument, the declared and the actual shape: jit never
// serves it a program specialized for something else. Two dimensions that share a symbol but
// differ in one call are not a contradiction: that call gets its own concrete specialization
// (polymorphism.ts). Declared constraints on those symbols (`constraints: ["B >= 2"]`) are
// facts the shape rules use while tracing (x[1] along B is valid when B >= 2) and are checked on
// every call: a call that violates one is a ShapeError naming it.

import { ArgumentError, ShapeError } from "../core/errors.js";
import { type DimFacts, shapeToString } from "../core/shape.js";
import { type DimConstraint, boundsOf, constraintHolds, parseConstraints } from "../core/symbols.js";
import type { Tensor } from "../core/tensor.js";
import { flatten } from "../core/tree.js";
import type { ShapeSpec } from "./polymorphism.js";

/** Resolves `jit(f, {shapes})` into one spec per dynamic leaf of `dyn` (the argument list). */
export function declaredLeafSpecs(name: string, shapes: unknown[] | undefined, dyn: unknown[]): ShapeSpec[] {
  if (!shapes) return [];
  const isSpec = (x: unknown) => Array.isArray(x) && x.every((d) => d === null || typeof d === "string" || typeof d === "number");
  const out: ShapeSpec[] = [];
  const walk = (spec: unknown, value: unknown): void => {
    const [leaves] = flatten(value);
    if (spec === null || spec === undefined) {
      leaves.forEach(() => out.push(null));
    } else if (isSpec(spec)) {
      if (leaves.length !== 1) throw new ArgumentError(`jit(${name}): a shape spec was given for a pytree argument; give one per leaf`);
      out.push(spec as ShapeSpec);
    } else if (Array.isArray(spec) && Array.isArray(value) && spec.length === value.length) {
      spec.forEach((s, i) => walk(s, value[i]));
    } else if (typeof spec === "object" && value && typeof value === "object") {
      for (const k of Object.keys(value)) walk((spec as Record<string, unknown>)[k], (value as Record<string, unknown>)[k]);
    } else throw new ArgumentError(`jit(${name}): shapes ${JSON.stringify(spec)} does not match the argument structure`);
  };
  dyn.forEach((v, i) => walk(shapes[i], v));
  return out;
}

const specText = (spec: readonly (string | number | null)[]) => `[${spec.map((d) => (d === null ? "*" : String(d))).join(",")}]`;

/** Throws a ShapeError when an argument leaf contradicts its declared spec. */
export function checkDeclaredShapes(name: string, specs: readonly ShapeSpec[], tensors: readonly Tensor[], paths: readonly string[]): void {
  specs.forEach((spec, i) => {
    if (!spec) return;
    const actual = tensors[i]!.aval.shape;
    let why: string | null = null;
    if (spec.length !== actual.length) why = `rank ${actual.length}, declared rank ${spec.length}`;
    else {
      const axis = spec.findIndex((d, ax) => typeof d === "number" && d !== actual[ax]);
      if (axis >= 0) why = `axis ${axis} has size ${actual[axis]}, declared ${spec[axis]}`;
    }
    if (why === null) return;
    const where = paths[i] ?? `argument leaf ${i}`;
    throw new ShapeError(
      `jit(${name}): ${where} has shape ${shapeToString(actual)} but its declared shape (jit's shapes option) is ${specText(spec)}: ${why}. ` +
        `Pass an argument of the declared shape, or declare that axis null (any size) or symbolic (a name).`,
    );
  });
}

/** The symbol names anywhere in jit's shapes option. */
function declaredSymbols(shapes: unknown): string[] {
  const out = new Set<string>();
  const rec = (v: unknown): void => {
    if (typeof v === "string") out.add(v);
    else if (Array.isArray(v)) v.forEach(rec);
    else if (v && typeof v === "object") Object.values(v).forEach(rec);
  };
  rec(shapes);
  return [...out].sort();
}

/**
 * jit's constraints option: bounds on the symbols of its shapes option ("B >= 2", "B <= 4096",
 * "B == 8"), as the facts the shape rules assume while tracing. Divisibility and relations between
 * symbols are export options (exportFunction's constraints), refused here by name.
 */
export function declaredConstraints(name: string, constraints: unknown, shapes: unknown[] | undefined): { checks: DimConstraint[]; facts: DimFacts | undefined } {
  if (constraints === undefined) return { checks: [], facts: undefined };
  const what = `jit(${name})`;
  const syms = declaredSymbols(shapes);
  const checks = parseConstraints(constraints as string[], syms, what);
  for (const c of checks) {
    if (c.op === "%") throw new ArgumentError(`${what}: the constraint ${JSON.stringify(c.text)} is a divisibility constraint, which jit does not take; jit's constraints are bounds ("B >= 2", "B <= 4096", "B == 8") (exportFunction takes divisibility and relations)`);
  }
  return { checks, facts: { bounds: boundsOf(checks, 0) } };
}

/** Throws a ShapeError when the sizes a call binds to declared symbols violate a declared constraint. */
export function checkDeclaredConstraints(name: string, checks: readonly DimConstraint[], specs: readonly ShapeSpec[], tensors: readonly Tensor[], paths: readonly string[]): void {
  if (!checks.length) return;
  specs.forEach((spec, i) =>
    spec?.forEach((d, axis) => {
      if (typeof d !== "string") return;
      const v = tensors[i]!.aval.shape[axis];
      if (typeof v !== "number") return; // inside another trace: the enclosing one checks its sizes
      const bad = checks.find((c) => c.symbol === d && !constraintHolds(c, v));
      if (bad) throw new ShapeError(`jit(${name}): ${paths[i] ?? `argument leaf ${i}`} has shape ${shapeToString(tensors[i]!.aval.shape)}, which binds ${d} = ${v} (axis ${axis}) and violates the declared constraint ${bad.text}`);
    }),
  );
}
