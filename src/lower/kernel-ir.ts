// The kernel IR: what code generators consume. A lowered program is a list of buffers (inputs,
// constants, arena temporaries, outputs) and a list of kernels, each one loop nest writing one
// buffer. Kernels read buffers through strided views, so transposes, broadcasts, slices and
// reversals cost nothing; fused elementwise work is a scalar expression tree. Sizes, loop
// bounds, offsets and strides are dimensions: numbers, or polynomials of symbolic dimensions
// (a batch size B) whose values the generated code receives at run time.

import type { ShapedArray } from "../core/aval.js";
import type { DType } from "../core/dtype.js";
import { encodeValue } from "../core/encode.js";
import { type Dim, SymDim } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { Primitive } from "../prims/primitive.js";

export type BufferKind = "input" | "const" | "temp" | "output";

export interface Buffer {
  id: number;
  kind: BufferKind;
  dtype: DType;
  /** number of elements */
  size: Dim;
  /** input/const/output position */
  index: number;
}

/** A read of buffer `buf` at `offset + sum_i strides[i] * loop[i]` over a kernel's loop space. */
export interface View {
  buf: number;
  offset: Dim;
  strides: Dim[];
}

/**
 * Scalar expressions over a kernel's loop index. A guard picks `body` when loop index `dim` is in
 * [lo, hi) and (with a `step`, interior padding) `(index - lo) % step == 0`, and `other`
 * otherwise (pad and concatenate); the untaken side is never read. With a step, hi - 1 - lo is a
 * multiple of step (the last taken index), so a reversed guard keeps the same form. `index` is
 * the loop index `dim` itself (int32: an interior pad reads its operand at (index - lo) / step).
 */
export type Expr =
  | { k: "load"; view: View; dtype: DType }
  | { k: "const"; value: number; dtype: DType }
  | { k: "dim"; dim: Dim; dtype: DType }
  | { k: "op"; op: string; args: Expr[]; dtype: DType }
  | { k: "guard"; dim: number; lo: Dim; hi: Dim; step?: number; body: Expr; other: Expr; dtype: DType }
  | { k: "index"; dim: number; dtype: DType }
  /** view.buf[view(loop) + clamp(index, 0, size - 1) * stride]: a gather along one axis */
  | { k: "gather"; view: View; index: Expr; stride: Dim; size: Dim; dtype: DType };

/**
 * The canonical key of a kernel expression (or of any plain value built from dims and numbers):
 * equal keys iff equal expressions, through core/encode (so literals 0 and -0, NaN, Infinity and
 * -Infinity stay distinct) with symbolic dims by their canonical polynomial text. Code generators
 * dedup subexpressions by this key.
 */
export function exprKey(e: unknown): string {
  return encodeValue(e, keyOf);
}

/**
 * Keys of expression nodes, computed once per node: code generators key every subexpression of a
 * tree, so without this a tree's key would be re-encoded at every level (quadratic in its depth).
 * Expression nodes are never mutated once built (lowering makes new ones), so a node's key stays
 * valid; the text is exactly what encodeValue would produce for it.
 */
const nodeKeys = new WeakMap<object, string>();
function keyOf(o: object): string | undefined {
  if (o instanceof SymDim) return `dim:${o.toString()}`;
  if (typeof (o as { k?: unknown }).k !== "string" || Array.isArray(o)) return undefined;
  let key = nodeKeys.get(o);
  if (key === undefined) {
    // encode the node itself (its children through keyOf again), bypassing this cache for it
    const self = o;
    key = encodeValue(o, (x) => (x === self ? undefined : keyOf(x)));
    nodeKeys.set(o, key);
  }
  return key;
}

/** out[outOffset + loop] = expr, over `shape`, output contiguous. */
export interface MapKernel {
  kind: "map";
  out: number;
  shape: Dim[];
  expr: Expr;
  /** element offset of the first write (a slice of a loop's stacked output); default 0 */
  outOffset?: Dim;
  /** equations fused into this kernel (for the fusion report) */
  eqns: number[];
}

/**
 * out[outer] = reduce over inner of expr, looping shape = [...outShape, ...redShape]. A
 * cumulative reduction (cumsum, cumprod) has one reduced dim and stores its running value at
 * every step, rounded to the dtype (the next step continues from the stored value), at
 * `scan.strides` over the loop space; with `scan.reverse` the reduced dim runs backwards.
 */
export interface ReduceKernel {
  kind: "reduce";
  out: number;
  outShape: Dim[];
  redShape: Dim[];
  /** argmax/argmin reduce one axis to the int32 index of the first extremum (or first NaN) */
  op: "sum" | "max" | "min" | "prod" | "argmax" | "argmin" | "cumsum" | "cumprod";
  expr: Expr;
  /** present exactly for cumsum and cumprod */
  scan?: { reverse: boolean; strides: Dim[] };
  eqns: number[];
}

/**
 * Batched matrix product out[b, m, n] = sum_k lhs[b, m, k] * rhs[b, k, n] over strided views. With
 * `batch` (batch dims whose strides do not merge into one, e.g. the heads of attention read
 * through a transpose), b runs over that shape (B is its size) and the views have one stride per
 * batch dim: loop spaces [...batch, M, K] and [...batch, K, N]; the output stays contiguous.
 */
export interface DotKernel {
  kind: "dot";
  out: number;
  B: Dim;
  batch?: Dim[];
  M: Dim;
  N: Dim;
  K: Dim;
  dtype: DType;
  /** views over loop space [B, M, K] and [B, K, N] */
  lhs: View;
  rhs: View;
  eqns: number[];
}

/** Fallback: run the primitive's reference implementation on whole buffers. */
export interface CallKernel {
  kind: "call";
  prim: Primitive<any>;
  params: unknown;
  ins: number[];
  inAvals: ShapedArray[];
  outs: number[];
  outAvals: ShapedArray[];
  eqns: number[];
}

/**
 * out = 0; for every loop index in order: out[base(loop) + clamp(index, 0, size - 1) * stride] +=
 * value. With `combine`, out is not zeroed (the kernel before it wrote the operand there) and
 * each update is combined as out[c] = combine(value, out[c]) with the elementwise max / min / mul
 * ops (NaN propagates; a tie keeps the old element), in loop order, so duplicates fold in order.
 */
export interface ScatterKernel {
  kind: "scatter";
  out: number;
  shape: Dim[];
  value: Expr;
  index: Expr;
  base: View;
  stride: Dim;
  size: Dim;
  combine?: "max" | "min" | "mul";
  eqns: number[];
}

/**
 * A counted loop (lax.scan): the `body` kernels run once per value of the loop index, 0 up to
 * length - 1 (down from length - 1 when `reverse`). Body kernels see the index as the symbolic
 * dimension named `index`, which appears only in view offsets and output offsets (the slice of
 * a stacked operand or result that one iteration reads or writes).
 */
export interface LoopKernel {
  kind: "loop";
  index: string;
  length: Dim;
  reverse: boolean;
  body: Kernel[];
  eqns: number[];
}

/** lax.cond / lax.switch: runs the kernels of branch clamp(index[0], 0, n - 1); each writes the outputs. */
export interface CondKernel {
  kind: "cond";
  /** buffer of the int32 branch index (one element) */
  index: number;
  branches: Kernel[][];
  eqns: number[];
}

/** lax.whileLoop: runs `cond` (which writes the bool `pred` buffer), stops when it is false, else `body`. */
export interface WhileKernel {
  kind: "while";
  cond: Kernel[];
  pred: number;
  body: Kernel[];
  eqns: number[];
}

export type Kernel = MapKernel | ReduceKernel | DotKernel | CallKernel | ScatterKernel | LoopKernel | CondKernel | WhileKernel;

/** The kernel lists nested in a control-flow kernel (none for the others). */
export function nestedKernels(k: Kernel): Kernel[][] {
  return k.kind === "loop" ? [k.body] : k.kind === "cond" ? k.branches : k.kind === "while" ? [k.cond, k.body] : [];
}

/** Every kernel, nested ones included, depth first in program order. */
export function allKernels(kernels: readonly Kernel[]): Kernel[] {
  // a plain walk (flatMap with spreads cost milliseconds per code generation of a large program)
  const out: Kernel[] = [];
  const walk = (ks: readonly Kernel[]): void => {
    for (const k of ks) {
      out.push(k);
      for (const list of nestedKernels(k)) walk(list);
    }
  };
  walk(kernels);
  return out;
}

/** The fallback call kernels, depth first: the generated code calls them as calls[position]. */
export function callKernels(kernels: readonly Kernel[]): CallKernel[] {
  return allKernels(kernels).filter((k): k is CallKernel => k.kind === "call");
}

/** Where each program output comes from. */
export type OutputSource =
  | { kind: "buffer"; buf: number }
  | { kind: "input"; index: number }
  | { kind: "const"; value: Tensor }
  | { kind: "literal"; value: number; dtype: DType };

export interface LoweredProgram {
  buffers: Buffer[];
  kernels: Kernel[];
  inputs: number[];
  consts: { buf: number; value: Tensor }[];
  outputs: OutputSource[];
  outAvals: ShapedArray[];
  /** declared (possibly symbolic) shapes of the inputs, to bind symbols at run time */
  inShapes: Dim[][];
  /** arena size in bytes of a static program (after memory planning; 0 when sizes are symbolic) */
  arenaBytes: number;
  /** arena byte offset of each temp buffer, for static programs (by buffer id) */
  offsets: number[];
  /** the symbols sizes depend on, in the order the generated code receives their values */
  symbols: string[];
}

/** The loop level a view's address depends on: 1 + its innermost dim of non-zero stride (0: none). */
export function viewLevel(v: View): number {
  let level = 0;
  v.strides.forEach((s, i) => s !== 0 && (level = Math.max(level, i + 1)));
  return level;
}

/** The loop level an expression depends on (where a code generator may compute it once). */
export function exprLevel(e: Expr): number {
  switch (e.k) {
    case "const":
    case "dim":
      return 0;
    case "load":
      return viewLevel(e.view);
    case "index":
      return e.dim + 1;
  }
  // code generators ask at every node of a tree: computed once per node (nodes are never mutated, see nodeKeys)
  let level = nodeLevels.get(e);
  if (level === undefined) {
    if (e.k === "gather") level = Math.max(viewLevel(e.view), exprLevel(e.index));
    else if (e.k === "op") {
      level = 0;
      for (const a of e.args) level = Math.max(level, exprLevel(a));
    } else level = Math.max(e.dim + 1, exprLevel(e.body), exprLevel(e.other));
    nodeLevels.set(e, level);
  }
  return level;
}
const nodeLevels = new WeakMap<Expr, number>();
