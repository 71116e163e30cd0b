// Cache keys as values (DESIGN principle 8). A key has named components: the pytree structure of
// the arguments, each argument leaf's dtype and shape, each static argument's value (functions
// and other objects by identity), the backend (for "onnxruntime" with its device: execution
// provider and thread count) and compiler options, and the transformation
// context. The options component holds every option that changes generated code, so the memory
// cache (jit.ts) and the disk cache (disk-cache.ts) share one key builder (`keyParts`). A miss is
// explained by naming the first component that changed, old -> new. Every
// component is canonical and injective (core/encode, core/tree's printed structure), and so is
// their combination, so equal keys mean interchangeable calls (DESIGN principle 13).

import type { ShapedArray } from "../core/aval.js";
import { config } from "../core/config.js";
import { encodeValue, identityOf } from "../core/encode.js";
import { shapeToString } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { type TreeDef, treedefToString } from "../core/tree.js";
import { useFastMatmul } from "../prims/ref/matmul.js";

export interface KeyParts {
  tree: string;
  /** one entry per dynamic leaf: [path, aval string] */
  leaves: [string, string][];
  /** one entry per static argument: [argument index, canonical value] */
  statics: [number, string][];
  backend: string;
  /** the options that change what is compiled (tiering, matmul kernels) */
  options: string;
}

/** The options that change the compiled form of a program (one text, in every key). */
export function compilerOptions(): string {
  const wasmGemm = useFastMatmul(2 ** 20, 2 ** 20, 2 ** 20);
  const ort = config.backend === "onnxruntime" ? `;ortMinWork=${config.ortMinWork}` : "";
  return `interpretBelow=${config.interpretBelowWork};fastMatmulMinWork=${config.fastMatmulMinWork};wasmGemm=${wasmGemm}${ort}`;
}

/** The device an ONNX Runtime session runs on, as key text: provider and intra-op thread count (0: ONNX Runtime's default). */
export function ortDevice(provider: string, threads: number): string {
  return `onnxruntime:${provider}:threads=${threads}`;
}

/** The backend component of a key: the backend, with its device for "onnxruntime". */
export function backendKey(): string {
  return config.backend === "onnxruntime" ? ortDevice(config.ortProvider, config.ortThreads) : config.backend;
}

/** The key of one call: argument structure, leaf avals, static argument values, backend, options. */
export function keyParts(def: TreeDef, avals: readonly ShapedArray[], statics: readonly [number, unknown][], paths = leafPaths(def), tree = treeKey(def)): KeyParts {
  return {
    tree,
    leaves: avals.map((a, i) => [paths[i] ?? `leaf ${i}`, avalKey(a)]),
    statics: statics.map(([i, v]) => [i, staticKey(v)]),
    backend: backendKey(),
    options: compilerOptions(),
  };
}

/** True when two keys differ only in the sizes of same-rank, same-dtype leaves. */
export function onlySizesChanged(a: KeyParts, b: KeyParts): boolean {
  if (a.tree !== b.tree || a.backend !== b.backend || a.options !== b.options) return false;
  if (a.statics.some((s, i) => s[1] !== b.statics[i]?.[1])) return false;
  const dtypeRank = (k: string) => k.replace(/\[.*\]/, (m) => `[rank ${m === "[]" ? 0 : m.split(",").length}]`);
  return a.leaves.every((l, i) => dtypeRank(l[1]) === dtypeRank(b.leaves[i]![1]));
}

/**
 * The canonical, injective text of a static argument (core/encode's encodeValue): primitives by
 * value (-0, NaN distinct), arrays and plain objects structurally with quoted keys, functions,
 * tensors and class instances by identity (so two different functions with the same source never
 * share an entry).
 */
export function staticKey(v: unknown): string {
  return encodeValue(v, (o) => (o instanceof Tensor ? `tensor#${identityOf(o)}` : undefined));
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

/**
 * True when two aval lists key the same (same dtype, weak typing and, dim by dim, the same size or
 * the same symbol object): then their avalKey texts are equal, so a key built for one serves the
 * other. Used to skip rebuilding the key text on repeated calls (the per-call cost of a cache hit).
 */
export function sameAvals(a: readonly ShapedArray[], b: readonly ShapedArray[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (x.dtype !== y.dtype || x.weak !== y.weak || x.shape.length !== y.shape.length) return false;
    for (let j = 0; j < x.shape.length; j++) if (x.shape[j] !== y.shape[j]) return false;
  }
  return true;
}

export function avalKey(a: ShapedArray): string {
  return `${a.dtype}${shapeToString(a.shape)}${a.weak ? "~" : ""}`;
}

/**
 * The key as one string, injective by construction: a JSON array of the components (each
 * already canonical), so no component's text can run into the next one's. Leaf paths are left
 * out: they follow from the tree.
 */
export function keyString(k: KeyParts): string {
  return JSON.stringify([k.tree, k.leaves.map((l) => l[1]), k.statics, k.backend, k.options]);
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
