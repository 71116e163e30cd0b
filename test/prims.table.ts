// The per-primitive test table: one row per primitive (several for primitives with variants).
// Each row says how to call the primitive and where its inputs may be drawn from; the drivers in
// prims.test.ts turn every row into gradient, second-order, vmap, eager-tape and backend checks.

import type { Tensor } from "../src/index.js";
import * as b from "../src/prims/binary.js";
import * as c from "../src/prims/compare.js";
import { dotGeneral } from "../src/prims/dot.js";
import * as r from "../src/prims/reduce.js";
import * as cum from "../src/prims/cumulative.js";
import * as s from "../src/prims/shape.js";
import * as u from "../src/prims/unary.js";
import { dimValueP } from "../src/prims/dim.js";
import { checkpoint, checkpointName, checkpointPolicies, customJvp, customVjp, jit, lax, np } from "../src/index.js";
import { gather, scatterAdd } from "../src/prims/gather.js";
import { erf } from "../src/prims/special.js";
import * as sc from "../src/prims/scatter.js";
import * as so from "../src/prims/sort.js";
import * as rnd from "../src/prims/random.js";
import { windowPatches } from "../src/prims/windows.js";

export interface ArgSpec {
  shape: number[];
  lo?: number;
  hi?: number;
  dtype?: "float64" | "int32" | "bool";
}

export interface Row {
  /** primitive name as registered */
  prim: string;
  /** distinguishes several rows of one primitive */
  variant?: string;
  args: ArgSpec[];
  fn: (...xs: Tensor[]) => Tensor;
  /** zero derivative everywhere (comparisons, argmax, rounding, ...): only value checks */
  nondiff?: boolean;
  /** looser tolerance for the finite-difference check (kinks nearby etc.) */
  rtol?: number;
  /** finite-difference step (larger for functions that round, e.g. through float32) */
  eps?: number;
  /** why second-order checks are skipped (a documented limitation), if they are */
  firstOrderOnly?: string;
  /** no forward mode (customVjp): first-order checks compare the vjp with central differences */
  reverseOnly?: boolean;
}

const f = (shape: number[], lo = -1, hi = 1): ArgSpec => ({ shape, lo, hi });
const pos = (shape: number[]) => f(shape, 0.5, 2);
const key = (): ArgSpec => f([2], -1e6, 1e6);
const toInt = (x: Tensor) => u.convert(x, "int32");

export const ROWS: Row[] = [
  // unary
  { prim: "neg", args: [f([3, 4])], fn: u.neg },
  { prim: "exp", args: [f([3, 4])], fn: u.exp },
  { prim: "log", args: [pos([3, 4])], fn: u.log },
  { prim: "log1p", args: [pos([5])], fn: u.log1p },
  { prim: "expm1", args: [f([5])], fn: u.expm1 },
  { prim: "sin", args: [f([2, 3])], fn: u.sin },
  { prim: "cos", args: [f([2, 3])], fn: u.cos },
  { prim: "tan", args: [f([4])], fn: u.tan },
  { prim: "tanh", args: [f([2, 3])], fn: u.tanh },
  { prim: "logistic", args: [f([2, 3], -3, 3)], fn: u.logistic },
  { prim: "sqrt", args: [pos([2, 3])], fn: u.sqrt },
  { prim: "abs", args: [f([6])], fn: u.abs },
  { prim: "sign", args: [f([6])], fn: u.sign, nondiff: true },
  { prim: "floor", args: [f([6], -3, 3)], fn: u.floor, nondiff: true },
  { prim: "ceil", args: [f([6], -3, 3)], fn: u.ceil, nondiff: true },
  { prim: "round", args: [f([6], -3, 3)], fn: u.round, nondiff: true },
  { prim: "asin", args: [f([2, 3], -0.9, 0.9)], fn: u.asin },
  { prim: "acos", args: [f([2, 3], -0.9, 0.9)], fn: u.acos },
  { prim: "atan", args: [f([2, 3], -3, 3)], fn: u.atan },
  { prim: "sinh", args: [f([2, 3], -3, 3)], fn: u.sinh },
  { prim: "cosh", args: [f([2, 3], -3, 3)], fn: u.cosh },
  { prim: "asinh", args: [f([2, 3], -3, 3)], fn: u.asinh },
  { prim: "acosh", args: [f([2, 3], 1.2, 4)], fn: u.acosh },
  { prim: "atanh", args: [f([2, 3], -0.9, 0.9)], fn: u.atanh },
  { prim: "log2", args: [pos([2, 3])], fn: u.log2 },
  { prim: "log10", args: [pos([2, 3])], fn: u.log10 },
  { prim: "exp2", args: [f([2, 3], -3, 3)], fn: u.exp2 },
  { prim: "stop_gradient", args: [f([3])], fn: u.stopGradient, nondiff: true },
  { prim: "convert_element_type", args: [f([3, 2])], fn: (x) => u.convert(u.convert(x, "float32"), "float64"), rtol: 1e-4, eps: 1e-2 },
  // binary
  { prim: "add", args: [f([2, 3]), f([2, 3])], fn: b.add },
  { prim: "add", variant: "scalar operand", args: [f([2, 3]), f([])], fn: b.add },
  { prim: "sub", args: [f([2, 3]), f([2, 3])], fn: b.sub },
  { prim: "sub", variant: "scalar operand", args: [f([]), f([4])], fn: b.sub },
  { prim: "mul", args: [f([2, 3]), f([2, 3])], fn: b.mul },
  { prim: "mul", variant: "scalar operand", args: [f([3]), f([])], fn: b.mul },
  { prim: "div", args: [f([2, 3]), pos([2, 3])], fn: b.div },
  { prim: "div", variant: "scalar denominator", args: [f([3]), pos([])], fn: b.div },
  { prim: "pow", args: [pos([2, 3]), f([2, 3])], fn: b.pow },
  { prim: "max", args: [f([8]), f([8])], fn: b.max },
  { prim: "min", args: [f([8]), f([8])], fn: b.min },
  // NumPy remainder / floor division (sign of the divisor); the divisor keeps away from 0 and the
  // quotient's jumps stay away from the drawn points only in probability, hence the fixed seeds
  { prim: "mod", args: [f([2, 3], -5, 5), f([2, 3], 0.7, 1.9)], fn: b.mod },
  { prim: "mod", variant: "negative divisor", args: [f([6], -5, 5), f([], -1.9, -0.7)], fn: b.mod },
  { prim: "mod", variant: "int32", args: [f([8], -20, 20), f([8], -6, 6)], fn: (x, y) => b.mod(toInt(x), toInt(y)), nondiff: true },
  { prim: "floor_divide", args: [f([2, 3], -5, 5), f([2, 3], 0.7, 1.9)], fn: b.floorDivide, nondiff: true },
  { prim: "floor_divide", variant: "int32", args: [f([8], -20, 20), f([8], -6, 6)], fn: (x, y) => b.floorDivide(toInt(x), toInt(y)), nondiff: true },
  { prim: "atan2", args: [f([2, 3], -2, 2), f([2, 3], -2, 2)], fn: b.atan2 },
  { prim: "atan2", variant: "scalar x", args: [f([4], -2, 2), f([], 0.5, 2)], fn: b.atan2 },
  { prim: "hypot", args: [f([2, 3], -2, 2), f([2, 3], -2, 2)], fn: b.hypot },
  // comparisons and logic
  // comparisons and logic
  { prim: "compare", variant: "lt", args: [f([5]), f([5])], fn: (x, y) => c.compare(x, y, "lt"), nondiff: true },
  { prim: "compare", variant: "eq", args: [f([5]), f([])], fn: (x, y) => c.compare(x, y, "eq"), nondiff: true },
  {
    prim: "logical",
    args: [f([5]), f([5])],
    fn: (x, y) => c.logical(c.compare(x, u.neg(x), "gt"), c.compare(y, u.neg(y), "gt"), "and"),
    nondiff: true,
  },
  { prim: "not", args: [f([5])], fn: (x) => c.not(c.compare(x, u.neg(x), "gt")), nondiff: true },
  { prim: "select", args: [f([6]), f([6]), f([6])], fn: (p, x, y) => c.select(c.compare(p, u.neg(p), "gt"), x, y) },
  // reductions
  { prim: "reduce_sum", args: [f([3, 4, 2])], fn: (x) => r.reduceSum(x, [0, 2]) },
  { prim: "reduce_max", args: [f([3, 4])], fn: (x) => r.reduceMax(x, [1]) },
  { prim: "reduce_min", args: [f([3, 4])], fn: (x) => r.reduceMin(x, [0]) },
  { prim: "reduce_prod", args: [f([3, 5])], fn: (x) => r.reduceProd(x, [1]) },
  { prim: "reduce_prod", variant: "all axes", args: [f([2, 3])], fn: (x) => r.reduceProd(x, [0, 1]) },
  { prim: "argmax", args: [f([3, 4])], fn: (x) => r.argmax(x, 1), nondiff: true },
  { prim: "argmin", args: [f([3, 4])], fn: (x) => r.argmin(x, 0), nondiff: true },
  // cumulative
  { prim: "cumsum", args: [f([3, 4])], fn: (x) => cum.cumsum(x, 1) },
  { prim: "cumsum", variant: "reverse, axis 0", args: [f([5, 2])], fn: (x) => cum.cumsum(x, 0, true) },
  { prim: "cumprod", args: [f([2, 5])], fn: (x) => cum.cumprod(x, 1) },
  { prim: "cumprod", variant: "reverse, axis 0", args: [f([6, 2])], fn: (x) => cum.cumprod(x, 0, true) },
  // contraction
  {
    prim: "dot_general",
    variant: "matmul",
    args: [f([3, 4]), f([4, 2])],
    fn: (x, y) => dotGeneral(x, y, { lhsContract: [1], rhsContract: [0], lhsBatch: [], rhsBatch: [] }),
  },
  {
    prim: "dot_general",
    variant: "batched, transposed operands",
    args: [f([2, 4, 3]), f([5, 2, 4])],
    fn: (x, y) => dotGeneral(x, y, { lhsContract: [1], rhsContract: [2], lhsBatch: [0], rhsBatch: [1] }),
  },
  {
    prim: "dot_general",
    variant: "inner product",
    args: [f([5]), f([5])],
    fn: (x, y) => dotGeneral(x, y, { lhsContract: [0], rhsContract: [0], lhsBatch: [], rhsBatch: [] }),
  },
  // data movement
  { prim: "reshape", args: [f([2, 6])], fn: (x) => s.reshape(x, [3, 4]) },
  { prim: "transpose", args: [f([2, 3, 4])], fn: (x) => s.transpose(x, [2, 0, 1]) },
  { prim: "broadcast_in_dim", args: [f([3, 1])], fn: (x) => s.broadcastInDim(x, [2, 3, 4], [1, 2]) },
  { prim: "concatenate", args: [f([2, 3]), f([4, 3])], fn: (x, y) => s.concatenate([x, y], 0) },
  { prim: "pad", args: [f([2, 3])], fn: (x) => s.pad(x, [1, 0], [0, 2], [1, 1], 0.5) },
  { prim: "slice", args: [f([5, 6])], fn: (x) => s.slice(x, [1, 0], [5, 6], [2, 3]) },
  { prim: "rev", args: [f([3, 4])], fn: (x) => s.rev(x, [1]) },
  { prim: "window_patches", args: [f([2, 5, 6])], fn: (x) => windowPatches(x, { window: [2, 3], strides: [1, 2], dilation: [2, 1] }) },
  { prim: "window_patches", variant: "1-d, overlapping, two lead dims", args: [f([2, 1, 7])], fn: (x) => windowPatches(x, { window: [3], strides: [2], dilation: [1] }) },
  // indexing: index and key operands are drawn as floats and truncated to int32 inside the row,
  // so every driver (including grad over all inputs) can treat them as ordinary inputs
  { prim: "gather", args: [f([4, 3]), f([2, 3], 0, 4)], fn: (x, i) => gather(x, toInt(i), { axis: 0, batchDims: 0 }) },
  {
    prim: "gather",
    variant: "batchDims 1",
    args: [f([2, 4, 3]), f([2, 5], 0, 4)],
    fn: (x, i) => gather(x, toInt(i), { axis: 1, batchDims: 1 }),
  },
  {
    prim: "scatter_add",
    args: [f([2, 3, 2]), f([3], 0, 4)],
    fn: (up, i) => scatterAdd(up, toInt(i), { axis: 1, batchDims: 0, size: 4 }),
  },
  {
    prim: "scatter_add",
    variant: "batchDims 1",
    args: [f([2, 3]), f([2, 3], 0, 4)],
    fn: (up, i) => scatterAdd(up, toInt(i), { axis: 1, batchDims: 1, size: 4 }),
  },
  // index updates (min / max / multiply) and sorting; multiply's update gradient assumes unique
  // positions, so its row scatters to fixed distinct positions
  { prim: "scatter", variant: "max", args: [f([4]), f([5], 0, 4), f([5])], fn: (x, i, u) => sc.scatter(x, toInt(i), u, "max") },
  { prim: "scatter", variant: "min", args: [f([4]), f([5], 0, 4), f([5])], fn: (x, i, u) => sc.scatter(x, toInt(i), u, "min") },
  {
    prim: "scatter",
    variant: "mul",
    args: [f([5]), f([3])],
    fn: (x, u) => sc.scatter(x, np.array([3, 0, 4], { dtype: "int32" }), u, "mul"),
  },
  { prim: "sort", args: [f([3, 5])], fn: (x) => so.sort(x)[0] },
  { prim: "sort", variant: "descending, rank 1", args: [f([6])], fn: (x) => so.sort(x, true)[0] },
  { prim: "sort", variant: "permutation", args: [f([2, 5])], fn: (x) => so.sort(x)[1], nondiff: true },
  // special functions
  { prim: "erf", args: [f([2, 3], -3, 3)], fn: erf },
  // random numbers
  { prim: "random_bits", args: [key()], fn: (k) => rnd.randomBits(toInt(k), [3], "float64"), nondiff: true },
  { prim: "random_bits", variant: "int32 words", args: [key()], fn: (k) => rnd.randomBits(toInt(k), [2, 2], "int32"), nondiff: true },
  { prim: "random_split", args: [key()], fn: (k) => rnd.randomSplit(toInt(k), 3), nondiff: true },
  {
    prim: "random_fold_in",
    args: [key(), f([], -100, 100)],
    fn: (k, d) => rnd.randomFoldIn(toInt(k), toInt(d)),
    nondiff: true,
  },
  // higher-order: inside a transformation a jitted function is one jit_call equation
  { prim: "jit_call", args: [f([2, 3]), f([3])], fn: (x, y) => jitted(x, y) },
  {
    prim: "scan",
    args: [f([4, 3]), f([3])],
    fn: (xs, c0) => {
      const [c, ys] = lax.scan((c: Tensor, x: Tensor) => [np.add(np.multiply(c, np.sin(x)), x), np.multiply(c, x)], c0, xs);
      return np.add(ys, np.multiply(c, 0.5));
    },
  },
  {
    prim: "scan",
    variant: "reverse, no xs, captured constant",
    args: [f([3]), f([3])],
    fn: (c0, w) => lax.scan((c: Tensor) => [np.tanh(np.multiply(c, w)), np.sum(c)], c0, null, { length: 4, reverse: true })[1],
  },
  {
    prim: "cond",
    args: [f([3]), f([3])],
    fn: (x, y) =>
      lax.cond(np.greater(np.sum(y), 0), (a: Tensor, b: Tensor) => np.multiply(np.sin(a), b), (a: Tensor, b: Tensor) => np.add(np.exp(a), b), x, y),
  },
  {
    prim: "while",
    args: [f([3]), f([])],
    fn: (x, s) =>
      lax.whileLoop(
        ([i]: [Tensor, Tensor]) => np.less(i, 3),
        ([i, v]: [Tensor, Tensor]) => [np.add(i, 1), np.add(np.multiply(np.sin(v), s), x)],
        [np.array(0, { dtype: "int32" }), x],
      )[1],
  },
  // (with a symbolic dimension its value comes from the run-time binding; see test/shapes.test.ts)
  { prim: "dim_value", args: [f([3])], fn: (x) => b.mul(x, u.convert(dimValueP.bind1([], { dim: 5 }), "float64")) },
  { prim: "custom_jvp_call", args: [f([4], -2, 2)], fn: (x) => softplus(x) },
  {
    prim: "custom_vjp_call",
    args: [f([4]), f([4])],
    fn: (x, y) => mulVjp(x, y),
    reverseOnly: true,
    firstOrderOnly: "the table's second-order check uses forward-over-reverse, which a customVjp rule does not support",
  },
  { prim: "checkpoint", args: [f([3]), f([3])], fn: (x, y) => checkpoint((a: Tensor, b: Tensor) => np.sin(np.multiply(np.sin(a), b)))(x, y) },
  {
    prim: "checkpoint_name",
    args: [f([3]), f([3])],
    fn: (x, y) =>
      checkpoint((a: Tensor, b: Tensor) => np.sin(np.multiply(checkpointName(np.sin(a), "s"), b)), { policy: checkpointPolicies.saveOnlyTheseNames(["s"]) })(x, y),
  },
];

// a custom JVP with the exact derivative, and a custom VJP with the exact pullback, so the table's
// numerical checks apply unchanged
const softplus = customJvp((x: Tensor) => np.log1p(np.exp(x)), {
  jvp: ([x], [t]) => [np.log1p(np.exp(x)), np.multiply(t, np.sigmoid(x))],
});
const mulVjp = customVjp((x: Tensor, y: Tensor) => np.multiply(np.sin(x), y), {
  fwd: (x: Tensor, y: Tensor) => [np.multiply(np.sin(x), y), [x, y]],
  bwd: ([x, y]: Tensor[], g: Tensor) => [np.multiply(g, np.multiply(np.cos(x!), y!)), np.multiply(g, np.sin(x!))],
});

const jitted = jit((x: Tensor, y: Tensor) => np.multiply(np.sin(x), np.add(y, np.tanh(x))));
