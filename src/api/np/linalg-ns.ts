// The np.linalg namespace (NumPy / jax.numpy.linalg names in camelCase): factorizations, solvers,
// determinants and norms, batched over leading dimensions, differentiable by closed-form rules.
// docs/linalg.md lists each function and where it differs from NumPy and JAX.

export { cholesky, det, inv, slogdet, solve, triangularSolve } from "./linalg-solve.js";
export type { TriangularSolveOptions } from "./linalg-solve.js";
export { eigh, eigvalsh, qr, svd, svdvals } from "./linalg-decomp.js";
export type { QrMode, SvdOptions } from "./linalg-decomp.js";
export { norm } from "./linalg-norm.js";
export type { NormOptions, NormOrd } from "./linalg-norm.js";
