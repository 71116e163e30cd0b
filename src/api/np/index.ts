// The `np` namespace: NumPy-like functions over tensors (creation, elementwise, reductions,
// linear algebra, shape manipulation, joining/splitting, indexing and statistics).

export * from "./creation.js";
export * from "./elementwise.js";
export * from "./reductions.js";
export * from "./linalg.js";
export * from "./shape.js";
export * from "./join.js";
export * from "./indexing.js";
export * from "./stats.js";
export { arrayFromData } from "./coerce.js";
export type { ArrayInput } from "./coerce.js";
export { einsum, tensordot } from "./einsum.js";
export * as linalg from "./linalg-ns.js";
export { at } from "./at.js";
export type { IndexUpdate, IndexSpec } from "./at.js";
export { sort, argsort } from "./sorting.js";
export type { SortOpts } from "./sorting.js";
export { roll, diagonal, trace, tril, triu } from "./structure.js";
export type { DiagonalOpts, PadMode } from "./structure.js";
