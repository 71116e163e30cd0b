// The `np` namespace: NumPy-like functions over tensors (creation, elementwise, reductions,
// linear algebra, shape manipulation and indexing).

export * from "./elementwise.js";
export * from "./reductions.js";
export * from "./linalg.js";
export { arrayFromData } from "./coerce.js";
