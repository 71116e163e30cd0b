// The public `tree` namespace: pytree utilities over nested arrays and plain objects whose leaves
// are tensors, numbers or booleans (null/undefined are empty subtrees), as jax.tree.

import {
  type TreeDef,
  flatten as flattenTree,
  numLeaves,
  treeLeaves,
  treeMap,
  treedefEqual,
  treedefToString,
  unflatten as unflattenTree,
} from "../core/tree.js";

export type { TreeDef };

/** map(fn, tree, ...rest): applies fn to corresponding leaves; `rest` must share tree's structure. */
export function map(fn: (...leaves: any[]) => unknown, tree: unknown, ...rest: unknown[]): any {
  return treeMap(fn, tree, ...rest);
}

/** flatten(tree) -> [leaves, treedef] (depth first; object keys in insertion order). */
export function flatten(tree: unknown): [unknown[], TreeDef] {
  return flattenTree(tree);
}

/** unflatten(treedef, leaves): rebuilds the structure with new leaves. */
export function unflatten(def: TreeDef, leaves: readonly unknown[]): any {
  return unflattenTree(def, leaves);
}

/** leaves(tree): the leaves in flatten order. */
export function leaves(tree: unknown): unknown[] {
  return treeLeaves(tree);
}

/** structure(tree): the treedef alone. */
export function structure(tree: unknown): TreeDef {
  return flattenTree(tree)[1];
}

export { numLeaves, treedefEqual as structureEqual, treedefToString as structureToString };
