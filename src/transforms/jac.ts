// Jacobians and Hessians: jacfwd pushes a basis of input tangents through jvp under vmap (one
// batched forward pass); jacrev pulls a basis of output cotangents through the pullback under vmap
// (one linearization, one batched backward pass). Results are laid out as out.shape + in.shape.
// Under a shape-polymorphic trace (an export at spec("float32", ["N"])) the basis has a symbolic
// size: vmap runs over it like over a symbolic batch.

import { ShapedArray } from "../core/aval.js";
import { leafToTensor } from "../core/convert.js";
import { type DType, allocArray, isFloat } from "../core/dtype.js";
import { GradError } from "../core/errors.js";
import { type Dim, dimAdd, dimMul, dimSub, shapeSize } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { pad, reshape, slice } from "../prims/shape.js";
import { full, instantiate } from "../prims/rule-helpers.js";
import { jvpFlat } from "./jvp.js";
import { vjpFlat } from "./vjp.js";
import { vmapFlat } from "./vmap.js";
import { argnumsArg, checkTransform, jacOptionsSchema } from "./args.js";

export interface JacOptions {
  argnums?: number | number[];
}

/** A leaf's element count, which sizes the Jacobian's basis (symbolic under a shape-polymorphic trace). */
const basisSize = (aval: ShapedArray): Dim => shapeSize(aval.shape);

/** Rows [offset, offset+n) of an identity of size total, shaped [total, ...shape]. */
function basis(total: Dim, offset: Dim, aval: ShapedArray): Tensor {
  const n = basisSize(aval);
  if (typeof total !== "number" || typeof offset !== "number" || typeof n !== "number") {
    // a symbolic size: the identity rows are built by data movement, which any size supports
    const rows = pad(eyeOf(n, aval.dtype), [offset, 0], [dimSub(dimSub(total, offset), n), 0]);
    return reshape(rows, [total, ...aval.shape]);
  }
  const d = allocArray(aval.dtype, total * n);
  for (let i = 0; i < n; i++) d[(offset + i) * n + i] = 1;
  return new Tensor(new ShapedArray([total, ...aval.shape], aval.dtype), d);
}

/**
 * The n x n identity for a size n known only at run time: a column of ones padded to n + 1
 * columns has its ones at i * (n + 1) = i * n + i in row-major order, so its first n * n elements
 * are the identity's.
 */
function eyeOf(n: Dim, dtype: DType): Tensor {
  const wide = pad(full([n, 1], dtype, 1), [0, 0], [0, n]);
  const flat = reshape(wide, [dimMul(n, dimAdd(n, 1))]);
  return reshape(slice(flat, [0], [dimMul(n, n)]), [n, n]);
}

/** Splits a [total, ...] batched result into per-leaf blocks [n_i, ...]. */
function splitRows(x: Tensor, sizes: Dim[]): Tensor[] {
  const s = x.aval.shape;
  let off: Dim = 0;
  return sizes.map((n) => {
    const start = s.map((_, i) => (i === 0 ? off : 0));
    const limit = s.map((d, i) => (i === 0 ? dimAdd(off, n) : d));
    off = dimAdd(off, n);
    return slice(x, start, limit);
  });
}

interface Prepared {
  xs: Tensor[];
  inDef: TreeDef;
  call: (xs: Tensor[]) => Tensor[];
  outDef: () => TreeDef;
}

function prepare(name: string, f: (...a: any[]) => any, opts: JacOptions, args: any[]): Prepared {
  const list = argnumsArg(name, opts.argnums, args.length);
  const argnums = Array.isArray(opts.argnums) ? list : list[0]!;
  const chosen = Array.isArray(argnums) ? list.map((i) => args[i]) : args[argnums];
  const [leaves, inDef] = flatten(chosen);
  const xs = leaves.map((l, i) => leafToTensor(l, `${name}: argument leaf ${i}`));
  xs.forEach((x, i) => {
    if (!isFloat(x.aval.dtype)) throw new GradError(`${name}: input leaf ${i} has dtype ${x.aval.dtype}; only float inputs can be differentiated`);
  });
  let od: TreeDef | undefined;
  const call = (ins: Tensor[]) => {
    const sel = unflatten(inDef, ins);
    const callArgs = [...args];
    if (Array.isArray(argnums)) list.forEach((a, k) => (callArgs[a] = (sel as unknown[])[k]));
    else callArgs[argnums] = sel;
    const [outLeaves, def] = flatten(f(...callArgs));
    od = def;
    return outLeaves.map((l, i) => leafToTensor(l, `${name}: output leaf ${i}`));
  };
  return { xs, inDef, call, outDef: () => od! };
}

/** Assembles blocks[j][i] (output leaf j, input leaf i) into out-tree of in-trees. */
function assemble(outDef: TreeDef, inDef: TreeDef, blocks: Tensor[][]): any {
  return unflatten(outDef, blocks.map((row) => unflatten(inDef, row)));
}

export function jacfwd(f: (...a: any[]) => any, opts: JacOptions = {}): (...args: any[]) => any {
  checkTransform("jacfwd", f, opts, jacOptionsSchema);
  return (...args) => {
    const { xs, inDef, call, outDef } = prepare("jacfwd", f, opts, args);
    const sizes = xs.map((x) => basisSize(x.aval));
    const total = sizes.reduce<Dim>((a, b) => dimAdd(a, b), 0);
    let off: Dim = 0;
    const bases = xs.map((x, i) => {
      const b = basis(total, off, x.aval);
      off = dimAdd(off, sizes[i]!);
      return b;
    });
    // one batched JVP: the batch runs over the columns of the Jacobian
    const outs = vmapFlat(
      (ts) => jvpFlat(call, xs, ts)[1].map(instantiate),
      bases,
      bases.map(() => 0),
      total,
      (n) => new Array(n).fill(-1),
    );
    const blocks = outs.map((o) => {
      // o: [...out.shape, total] -> per input leaf [...out.shape, ...in.shape]
      const os = o.aval.shape.slice(0, -1);
      let start: Dim = 0;
      return xs.map((x, i) => {
        const n = sizes[i]!;
        const lim = [...os, dimAdd(start, n)];
        const blk = slice(o, [...os.map(() => 0), start], lim);
        start = dimAdd(start, n);
        return reshape(blk, [...os, ...x.aval.shape]);
      });
    });
    return assemble(outDef(), inDef, blocks);
  };
}

export function jacrev(f: (...a: any[]) => any, opts: JacOptions = {}): (...args: any[]) => any {
  checkTransform("jacrev", f, opts, jacOptionsSchema);
  return (...args) => {
    const { xs, inDef, call, outDef } = prepare("jacrev", f, opts, args);
    const { outs, pullback } = vjpFlat(call, xs, xs.map(() => true));
    const outSizes = outs.map((o) => basisSize(o.aval));
    const total = outSizes.reduce<Dim>((a, b) => dimAdd(a, b), 0);
    let off: Dim = 0;
    const bases = outs.map((o, j) => {
      const b = basis(total, off, o.aval.strong());
      off = dimAdd(off, outSizes[j]!);
      return b;
    });
    // one linearization, one batched pullback over the rows of the Jacobian
    const inBars = vmapFlat(
      (cts) => pullback(cts).map(instantiate),
      bases,
      bases.map(() => 0),
      total,
      (n) => new Array(n).fill(0),
    );
    const perIn = inBars.map((xb) => splitRows(xb, outSizes)); // [in][out] blocks [n_j, ...x.shape]
    const blocks = outs.map((o, j) => xs.map((x, i) => reshape(perIn[i]![j]!, [...o.aval.shape, ...x.aval.shape])));
    return assemble(outDef(), inDef, blocks);
  };
}

export function hessian(f: (...a: any[]) => any, opts: JacOptions = {}): (...args: any[]) => any {
  checkTransform("hessian", f, opts, jacOptionsSchema);
  return jacfwd(jacrev(f, opts), opts);
}
