// Pytrees: nested arrays and plain objects whose leaves are tensors, numbers or booleans.
// flatten/unflatten with a structure descriptor (TreeDef) that can be compared and printed.

import { TreeStructureError } from "./errors.js";

export type TreeDef =
  | { readonly kind: "leaf" }
  | { readonly kind: "none"; readonly value: null | undefined }
  | { readonly kind: "array"; readonly children: readonly TreeDef[] }
  | { readonly kind: "object"; readonly keys: readonly string[]; readonly children: readonly TreeDef[] };

const LEAF: TreeDef = { kind: "leaf" };

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

/** Leaves in depth-first order (object keys in insertion order) and the structure. */
export function flatten(tree: unknown): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  const rec = (t: unknown): TreeDef => {
    if (t === null || t === undefined) return { kind: "none", value: t };
    if (Array.isArray(t)) return { kind: "array", children: t.map(rec) };
    if (isPlainObject(t)) {
      const keys = Object.keys(t);
      return { kind: "object", keys, children: keys.map((k) => rec(t[k])) };
    }
    leaves.push(t);
    return LEAF;
  };
  const def = rec(tree);
  return [leaves, def];
}

export function numLeaves(def: TreeDef): number {
  switch (def.kind) {
    case "leaf":
      return 1;
    case "none":
      return 0;
    default:
      return def.children.reduce((n, c) => n + numLeaves(c), 0);
  }
}

export function unflatten(def: TreeDef, leaves: readonly unknown[]): any {
  if (leaves.length !== numLeaves(def)) {
    throw new TreeStructureError(`unflatten: structure ${treedefToString(def)} needs ${numLeaves(def)} leaves, got ${leaves.length}`);
  }
  let i = 0;
  const rec = (d: TreeDef): unknown => {
    switch (d.kind) {
      case "leaf":
        return leaves[i++];
      case "none":
        return d.value;
      case "array":
        return d.children.map(rec);
      case "object": {
        const o: Record<string, unknown> = {};
        d.keys.forEach((k, j) => (o[k] = rec(d.children[j]!)));
        return o;
      }
    }
  };
  return rec(def);
}

export function treedefToString(def: TreeDef): string {
  switch (def.kind) {
    case "leaf":
      return "*";
    case "none":
      return String(def.value);
    case "array":
      return `[${def.children.map(treedefToString).join(", ")}]`;
    case "object":
      return `{${def.keys.map((k, i) => `${k}: ${treedefToString(def.children[i]!)}`).join(", ")}}`;
  }
}

export function treedefEqual(a: TreeDef, b: TreeDef): boolean {
  return treedefToString(a) === treedefToString(b);
}

/** Throws a TreeStructureError naming `what` when `tree` does not have structure `def`. */
export function checkStructure(what: string, def: TreeDef, tree: unknown): unknown[] {
  const [leaves, got] = flatten(tree);
  if (!treedefEqual(def, got)) {
    throw new TreeStructureError(
      `${what}: expected structure ${treedefToString(def)}, got ${treedefToString(got)}`,
    );
  }
  return leaves;
}

/** Applies `fn` to corresponding leaves of `tree` and `rest` (which must share its structure). */
export function treeMap(fn: (...leaves: any[]) => unknown, tree: unknown, ...rest: unknown[]): any {
  const [leaves, def] = flatten(tree);
  const others = rest.map((r, i) => checkStructure(`tree.map (argument ${i + 2})`, def, r));
  return unflatten(def, leaves.map((l, j) => fn(l, ...others.map((o) => o[j]))));
}

export function treeLeaves(tree: unknown): unknown[] {
  return flatten(tree)[0];
}
