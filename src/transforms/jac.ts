// Jacobians and Hessians: jacfwd pushes a basis of input tangents through jvp under vmap (one
// batched forward pass); jacrev pulls a basis of output cotangents through the pullback under vmap
// (one linearization, one batched backward pass). Results are laid out as out.shape + in.shape.

import { ShapedArray } from "../core/aval.js";
import { leafToTensor } from "../core/convert.js";
import { allocArray, isFloat } from "../core/dtype.js";
import { GradError, ShapeError } from "../core/errors.js";
import { concreteSize, shapeToString } from "../core/shape.js";
import { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { reshape, slice } from "../prims/shape.js";
import { instantiate } from "../rules/helpers.js";
import { jvpFlat } from "./jvp.js";
import { vjpFlat } from "./vjp.js";
import { vmapFlat } from "./vmap.js";
import { argnumsArg, checkTransform, jacOptionsSchema } from "./args.js";

export interface JacOptions {
  argnums?: number | number[];
}

/**
 * A leaf's element count, which sizes the Jacobian's basis: it must be known at trace time, so a
 * symbolic dimension (an export at spec("float32", ["N"])) is refused here, naming it.
 */
function basisSize(name: string, what: string, aval: ShapedArray): number {
  const sym = aval.shape.filter((d) => typeof d !== "number");
  if (sym.length) {
    throw new ShapeError(
      `${name}: ${what} has the symbolic shape ${shapeToString(aval.shape)}; a Jacobian has one column (or row) per element, so ${sym.join(", ")} must be known when tracing: ` +
        `export ${name} at a concrete size (e.g. spec("float32", [8])), or export the function's JVP/VJP (exportJvp/exportVjp), which accept symbolic dimensions`,
    );
  }
  return concreteSize(aval.shape as number[]);
}

/** Rows [offset, offset+n) of an identity of size total, shaped [total, ...shape]. */
function basis(total: number, offset: number, aval: ShapedArray): Tensor {
  const n = concreteSize(aval.shape as number[]);
  const d = allocArray(aval.dtype, total * n);
  for (let i = 0; i < n; i++) d[(offset + i) * n + i] = 1;
  return new Tensor(new ShapedArray([total, ...aval.shape], aval.dtype), d);
}

/** Splits a [total, ...] batched result into per-leaf blocks [n_i, ...]. */
function splitRows(x: Tensor, sizes: number[]): Tensor[] {
  const s = x.aval.shape as number[];
  let off = 0;
  return sizes.map((n) => {
    const start = s.map((_, i) => (i === 0 ? off : 0));
    const limit = s.map((d, i) => (i === 0 ? off + n : d));
    off += n;
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
    const sizes = xs.map((x, i) => basisSize("jacfwd", `input leaf ${i}`, x.aval));
    const total = sizes.reduce((a, b) => a + b, 0);
    let off = 0;
    const bases = xs.map((x, i) => {
      const b = basis(total, off, x.aval);
      off += sizes[i]!;
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
      const os = (o.aval.shape as number[]).slice(0, -1);
      let start = 0;
      return xs.map((x, i) => {
        const n = sizes[i]!;
        const lim = [...os, start + n];
        const blk = slice(o, [...os.map(() => 0), start], lim);
        start += n;
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
    const outSizes = outs.map((o, j) => basisSize("jacrev", `output leaf ${j}`, o.aval));
    const total = outSizes.reduce((a, b) => a + b, 0);
    let off = 0;
    const bases = outs.map((o, j) => {
      const b = basis(total, off, o.aval.strong());
      off += outSizes[j]!;
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
