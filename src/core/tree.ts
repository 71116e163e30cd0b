// Pytrees: nested arrays and plain objects whose leaves are tensors, numbers or booleans.
// flatten/unflatten with a structure descriptor (TreeDef) that can be compared and printed.
// The printed form is injective (jit cache keys are built from it, DESIGN principle 13): object
// keys that are not plain identifiers are printed as JSON strings, so `{"a: null, b": *}` and
// `{a: null, b: *}` print differently.

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
        d.keys.forEach((k, j) => {
          // `o["__proto__"] = v` would set the prototype instead of a member
          if (k === "__proto__") Object.defineProperty(o, k, { value: rec(d.children[j]!), enumerable: true, writable: true, configurable: true });
          else o[k] = rec(d.children[j]!);
        });
        return o;
      }
    }
  };
  return rec(def);
}

/** An object key as printed: bare when it is an identifier, else a JSON string (never ambiguous). */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
function keyToString(k: string): string {
  return IDENTIFIER.test(k) ? k : JSON.stringify(k);
}

/** e.g. `[*, {w: *, "b c": null}]`; equal strings iff equal structures. */
export function treedefToString(def: TreeDef): string {
  switch (def.kind) {
    case "leaf":
      return "*";
    case "none":
      return String(def.value);
    case "array":
      return `[${def.children.map(treedefToString).join(", ")}]`;
    case "object":
      return `{${def.keys.map((k, i) => `${keyToString(k)}: ${treedefToString(def.children[i]!)}`).join(", ")}}`;
  }
}

export function treedefEqual(a: TreeDef, b: TreeDef): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case "leaf":
      return b.kind === "leaf";
    case "none":
      return b.kind === "none" && a.value === b.value;
    case "array":
      return b.kind === "array" && a.children.length === b.children.length && a.children.every((c, i) => treedefEqual(c, b.children[i]!));
    case "object":
      return (
        b.kind === "object" &&
        a.keys.length === b.keys.length &&
        a.keys.every((k, i) => k === b.keys[i]) &&
        a.children.every((c, i) => treedefEqual(c, b.children[i]!))
      );
  }
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
