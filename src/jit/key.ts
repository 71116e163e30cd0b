// Cache keys as values (DESIGN principle 8). A key has named components: the pytree structure of
// the arguments, each argument leaf's dtype and shape, each static argument's value (functions
// and other objects by identity), the backend and compiler options, and the transformation
// context. A miss is explained by naming the first component that changed, old -> new.

import type { ShapedArray } from "../core/aval.js";
import { shapeToString } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { type TreeDef, treedefToString } from "../core/tree.js";

export interface KeyParts {
  tree: string;
  /** one entry per dynamic leaf: [path, aval string] */
  leaves: [string, string][];
  /** one entry per static argument: [argument index, canonical value] */
  statics: [number, string][];
  backend: string;
  options: string;
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;
function identity(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = nextObjectId++));
  return id;
}

/**
 * A canonical string for a static argument: primitives by value, arrays and plain objects
 * structurally, functions/tensors/class instances by identity (so two different functions with
 * the same source never share an entry).
 */
export function staticKey(v: unknown): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "undefined":
      return "undefined";
    case "number":
      return Object.is(v, -0) ? "n:-0" : `n:${v}`;
    case "bigint":
      return `big:${v}`;
    case "string":
      return `s:${JSON.stringify(v)}`;
    case "boolean":
      return `b:${v}`;
    case "symbol":
      return `sym:${String(v.description)}#${identity(Object(v))}`;
    case "function":
      return `fn:${v.name || "anonymous"}#${identity(v)}`;
  }
  if (Array.isArray(v)) return `[${v.map(staticKey).join(",")}]`;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${staticKey((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  const kind = v instanceof Tensor ? "tensor" : (proto?.constructor?.name ?? "object");
  return `${kind}#${identity(v as object)}`;
}

/** Paths naming each leaf of the argument list, e.g. "arg 0", "arg 1.w", "arg 2[3]". */
export function leafPaths(def: TreeDef, prefix = ""): string[] {
  switch (def.kind) {
    case "leaf":
      return [prefix];
    case "none":
      return [];
    case "array":
      return def.children.flatMap((c, i) => leafPaths(c, prefix === "" ? `arg ${i}` : `${prefix}[${i}]`));
    case "object":
      return def.children.flatMap((c, i) => leafPaths(c, `${prefix}.${def.keys[i]}`));
  }
}

export function avalKey(a: ShapedArray): string {
  return `${a.dtype}${shapeToString(a.shape)}${a.weak ? "~" : ""}`;
}

export function keyString(k: KeyParts): string {
  return `${k.tree}|${k.leaves.map((l) => l[1]).join(";")}|${k.statics.map((s) => s[1]).join(";")}|${k.backend}|${k.options}`;
}

function describeAval(s: string): { dtype: string; shape: string; weak: boolean } {
  const m = /^([a-z0-9]+)(\[.*\])(~?)$/.exec(s)!;
  return { dtype: m[1]!, shape: m[2]!, weak: m[3] === "~" };
}

/** Names the key component that differs, old -> new (null when equal). */
export function explainDifference(prev: KeyParts, cur: KeyParts): string | null {
  if (prev.tree !== cur.tree) return `argument structure ${prev.tree} -> ${cur.tree}`;
  for (let i = 0; i < cur.leaves.length; i++) {
    const [path, a] = cur.leaves[i]!;
    const b = prev.leaves[i]![1];
    if (a === b) continue;
    const x = describeAval(b);
    const y = describeAval(a);
    if (x.dtype !== y.dtype) return `${path} dtype ${x.dtype} -> ${y.dtype}`;
    if (x.shape !== y.shape) return `${path} shape ${x.shape} -> ${y.shape}`;
    return `${path} ${x.weak ? "weakly typed (a JS number)" : "strongly typed"} -> ${y.weak ? "weakly typed (a JS number)" : "strongly typed"}`;
  }
  for (let i = 0; i < cur.statics.length; i++) {
    const [idx, v] = cur.statics[i]!;
    if (prev.statics[i]?.[1] !== v) return `static arg ${idx} value ${prev.statics[i]?.[1] ?? "(none)"} -> ${v}`;
  }
  if (prev.backend !== cur.backend) return `backend ${prev.backend} -> ${cur.backend}`;
  if (prev.options !== cur.options) return `compiler options ${prev.options} -> ${cur.options}`;
  return null;
}

export function treeKey(def: TreeDef): string {
  return treedefToString(def);
}
