// `lax`: structured control flow that can be traced, compiled and differentiated: cond/switch,
// whileLoop, foriLoop and scan. Each traces its function arguments into Programs once (values
// captured from enclosing transformations become explicit operands) and binds one primitive.

import { ShapedArray } from "../core/aval.js";
import { leafToTensor } from "../core/convert.js";
import { type DType, promoteTypes } from "../core/dtype.js";
import { ArgumentError, DTypeError, ShapeError } from "../core/errors.js";
import { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, treedefEqual, treedefToString, unflatten } from "../core/tree.js";
import { type Program, reorderProgram } from "../ir/program.js";
import { condP, predicateIndex } from "../higher-order/cond.js";
import { scanP } from "../higher-order/scan.js";
import { revolveScan } from "./scan-revolve.js";
import { whileP } from "../higher-order/while.js";
import { scalar } from "../rules/scalar.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { convert } from "../prims/unary.js";
import { arange } from "./np/creation.js";
import { checkOptions, is } from "../core/options.js";

interface TracedFn {
  program: Program;
  consts: Tensor[];
  outTree: TreeDef;
}

/** Traces fn at `avals`; captured outer values become leading inputs (consts first). */
function traceWithConsts(fn: (xs: Tensor[]) => unknown, avals: ShapedArray[], what: string): TracedFn {
  const t = traceFlat(fn, avals, what);
  const n = avals.length;
  const nc = t.tracerConsts.length;
  const order = [...Array.from({ length: nc }, (_, i) => n + i), ...Array.from({ length: n }, (_, i) => i)];
  return { program: reorderProgram(t.program, order), consts: t.tracerConsts, outTree: t.outTree };
}

const leaves = (tree: unknown, what: string) => {
  const [ls, def] = flatten(tree);
  return { xs: ls.map((l, i) => leafToTensor(l, `${what} leaf ${i}`)), def };
};

function checkSameTypes(what: string, got: ShapedArray[], want: ShapedArray[], gotName: string, wantName: string): void {
  got.forEach((a, i) => {
    if (!a.strong().equals(want[i]!.strong())) {
      const Err = a.dtype !== want[i]!.dtype ? DTypeError : ShapeError;
      throw new Err(`${what}: ${gotName} ${i} is ${a} but ${wantName} ${i} is ${want[i]}; they must have the same shape and dtype`);
    }
  });
}

/**
 * JAX's rule for weakly typed values (a JS number as a loop's initial carry or a branch's result):
 * a weak value meeting a strong dtype takes that dtype when the lattice join is that dtype (a
 * carry initialised with 0 in a float64 loop is float64), instead of a dtype mismatch. `avals[k]`
 * are the types each of several producers gives position i; returns per position the dtype all
 * must take, or undefined where they already agree or cannot be unified (left to the type check).
 */
function joinWeak(avals: ShapedArray[][], n: number): (DType | undefined)[] {
  return Array.from({ length: n }, (_, i) => {
    const at = avals.map((a) => a[i]).filter((a): a is ShapedArray => a !== undefined);
    if (at.length < 2 || at.every((a) => a.dtype === at[0]!.dtype)) return undefined;
    const join = promoteTypes(at);
    if (!at.every((a) => a.weak || a.dtype === join.dtype)) return undefined;
    return join.dtype;
  });
}

/** The leaves of a function's result cast to the dtypes `joinWeak` chose (JS numbers exactly). */
function castLeaves(tree: unknown, to: (DType | undefined)[] | undefined): unknown {
  if (!to) return tree;
  const [ls, def] = flatten(tree);
  return unflatten(
    def,
    ls.map((l, i) => {
      if (to[i] === undefined) return l;
      const t = leafToTensor(l, `output leaf ${i}`);
      return t.aval.dtype === to[i] ? t : castStrong(t, to[i]!);
    }),
  );
}

/** The avals with the dtypes `joinWeak` chose (strong, as a converted value is). */
const retype = (avals: readonly ShapedArray[], to: (DType | undefined)[]) =>
  avals.map((a, i) => (to[i] !== undefined && to[i] !== a.dtype ? new ShapedArray(a.shape, to[i]!) : a));

/** Makes a branch program take [operands, all consts], ignoring the consts of other branches. */
function widen(t: TracedFn, allConsts: Tensor[], nOps: number, avals: ShapedArray[]): Program {
  const own = t.consts;
  return traceFlat(
    (xs) => {
      const ops = xs.slice(0, nOps);
      const cs = own.map((c) => xs[nOps + allConsts.indexOf(c)]!);
      return evalProgram(t.program, [...cs, ...ops]);
    },
    [...avals, ...allConsts.map((c) => c.aval)],
    "cond",
  ).program;
}

/** `lax.switch(index, branches, ...operands)`: run branches[index] (index clamped). */
export function switch_(index: Tensor | number, branches: ((...ops: any[]) => unknown)[], ...operands: unknown[]): any {
  return switchNamed(index, branches, branches.map((_, k) => `branch ${k}`), operands);
}

function switchNamed(index: Tensor | number, branches: ((...ops: any[]) => unknown)[], names: string[], operands: unknown[]): any {
  if (branches.length === 0) throw new ArgumentError("lax.switch: at least one branch is needed");
  const idx = typeof index === "number" ? scalar(index, "int32") : index;
  if (idx.aval.dtype !== "int32" || idx.aval.ndim !== 0) throw new DTypeError(`lax.switch: the index must be an int32 scalar, got ${idx.aval}`);
  const { xs: all, def } = leaves(operands, "lax.switch operand");
  // JS numbers among the operands are static: each branch sees the number itself (a weak scalar
  // keeping its exact value), not a float32 operand that a float64 branch would see rounded.
  const isStatic = all.map((x) => x._exact !== undefined);
  const ops = all.filter((_, i) => !isStatic[i]);
  const avals = ops.map((x) => x.aval);
  const withStatic = (xs: Tensor[]) => {
    let k = 0;
    return all.map((x, i) => (isStatic[i] ? x : xs[k++]!));
  };
  const traceAll = (outTypes?: (DType | undefined)[]) =>
    branches.map((b, k) => traceWithConsts((xs) => castLeaves(b(...(unflatten(def, withStatic(xs)) as unknown[])), outTypes), avals, `lax.cond ${names[k]}`));
  let traced = traceAll();
  traced.forEach((t, k) => {
    if (!treedefEqual(t.outTree, traced[0]!.outTree)) {
      throw new ShapeError(`lax.cond: the ${names[k]} returns structure ${treedefToString(t.outTree)} but the ${names[0]} returns ${treedefToString(traced[0]!.outTree)}`);
    }
  });
  // weak branch outputs (JS numbers) take the strong dtype of the others: trace again casting them
  const outTypes = joinWeak(traced.map((t) => t.program.outAvals), traced[0]!.program.outAvals.length);
  if (outTypes.some((d) => d !== undefined)) traced = traceAll(outTypes);
  const first = traced[0]!;
  traced.forEach((t, k) => {
    checkSameTypes("lax.cond", t.program.outAvals, first.program.outAvals, `${names[k]} output`, `${names[0]} output`);
  });
  const allConsts = [...new Set(traced.flatMap((t) => t.consts))];
  const progs = traced.map((t) => widen(t, allConsts, ops.length, avals));
  const outs = condP.bind([idx, ...ops, ...allConsts], { branches: progs });
  return unflatten(traced[0]!.outTree, outs);
}

/** `lax.cond(pred, trueFn, falseFn, ...operands)`. */
export function cond(pred: Tensor | boolean, trueFn: (...ops: any[]) => unknown, falseFn: (...ops: any[]) => unknown, ...operands: unknown[]): any {
  const p = typeof pred === "boolean" ? scalar(pred ? 1 : 0, "bool") : pred;
  if (!(p instanceof Tensor)) throw new ArgumentError("lax.cond: the predicate must be a boolean or a scalar tensor");
  return switchNamed(predicateIndex(p), [falseFn, trueFn], ["false branch", "true branch"], operands);
}

export interface WhileOptions {
  /** reverse mode keeps at most 2 * snapshots carries (default 32 per level; docs/memory.md) */
  checkpoint?: { snapshots: number };
}

/** `lax.whileLoop(condFn, bodyFn, init, {checkpoint?})`: differentiable in forward and reverse mode, to any order. */
export function whileLoop(condFn: (carry: any) => unknown, bodyFn: (carry: any) => unknown, init: unknown, opts: WhileOptions = {}): any {
  return bindWhile("lax.whileLoop", condFn, bodyFn, init, opts);
}

function snapshotsOption(op: string, opts: WhileOptions): number | undefined {
  checkOptions(op, opts, { checkpoint: is.any });
  const snapshots = opts.checkpoint?.snapshots;
  if (snapshots !== undefined && !(Number.isInteger(snapshots) && snapshots >= 1)) {
    throw new ArgumentError(`${op}: checkpoint.snapshots must be an integer >= 1, got ${String(snapshots)}`);
  }
  return snapshots;
}

/** whileLoop with the reverse-mode parameters: snapshots and, for foriLoop, the known trip count. */
function bindWhile(op: string, condFn: (carry: any) => unknown, bodyFn: (carry: any) => unknown, init: unknown, opts: WhileOptions, trips?: number): any {
  const snapshots = snapshotsOption(op, opts);
  const { xs: carry, def } = leaves(init, "lax.whileLoop init");
  let avals = carry.map((x) => x.aval.strong());
  let b = traceWithConsts((xs) => bodyFn(unflatten(def, xs)), avals, "lax.whileLoop body");
  // a weak initial carry takes the dtype the body gives it: trace again with that carry type
  const adopt = joinWeak([carry.map((x) => x.aval), b.program.outAvals], carry.length);
  if (adopt.some((d) => d !== undefined)) {
    avals = retype(avals, adopt);
    b = traceWithConsts((xs) => bodyFn(unflatten(def, xs)), avals, "lax.whileLoop body");
  }
  const c = traceWithConsts((xs) => condFn(unflatten(def, xs)), avals, "lax.whileLoop cond");
  const pred = c.program.outAvals;
  if (pred.length !== 1 || pred[0]!.dtype !== "bool" || pred[0]!.ndim !== 0) {
    throw new DTypeError(`lax.whileLoop: condFn must return a bool scalar, got ${pred.join(", ")}`);
  }
  if (!treedefEqual(b.outTree, def)) {
    throw new ShapeError(`lax.whileLoop: bodyFn returns structure ${treedefToString(b.outTree)} but the carry is ${treedefToString(def)}`);
  }
  checkSameTypes("lax.whileLoop", b.program.outAvals, avals, "bodyFn output", "initial carry");
  const outs = whileP.bind([...c.consts, ...b.consts, ...carry.map((x, i) => (x.aval.weak ? castStrong(x, avals[i]!.dtype) : x))], {
    cond: c.program,
    body: b.program,
    numCondConsts: c.consts.length,
    numBodyConsts: b.consts.length,
    ...(snapshots === undefined ? {} : { snapshots }),
    ...(trips === undefined ? {} : { trips }),
  });
  return unflatten(def, outs);
}

/**
 * A weakly typed initial carry (a JS number) takes the dtype the loop body settled on; a JS
 * number keeps its exact value (0.1 as a float64 carry is the double 0.1, not float32's).
 */
function castStrong(x: Tensor, dtype: DType): Tensor {
  return x._exact !== undefined ? scalar(x._exact, dtype) : convert(x, dtype);
}

export interface ScanOptions {
  length?: number;
  reverse?: boolean;
  /** reverse mode with binomial checkpointing: at most `snapshots` stored carries (docs/memory.md) */
  checkpoint?: { snapshots: number };
}

/** `lax.scan(f, init, xs, {length?, reverse?}) -> [carry, ys]` with f(carry, x) -> [carry, y]. */
export function scan(f: (carry: any, x: any) => [unknown, unknown], init: unknown, xs: unknown, opts: ScanOptions = {}): [any, any] {
  checkOptions("lax.scan", opts, { length: is.int(0), reverse: is.boolean, checkpoint: is.any });
  const { xs: carry, def: carryDef } = leaves(init, "lax.scan init");
  const { xs: xsLeaves, def: xsDef } = leaves(xs ?? null, "lax.scan xs");
  let length = opts.length;
  for (const [i, x] of xsLeaves.entries()) {
    if (x.aval.ndim === 0) throw new ShapeError(`lax.scan: xs leaf ${i} is a scalar (${x.aval}); xs need a leading axis to scan over`);
    const n = x.aval.shape[0] as number;
    if (length !== undefined && n !== length) throw new ShapeError(`lax.scan: xs leaf ${i} has leading length ${n} but the scan length is ${length}`);
    length = n;
  }
  if (length === undefined) throw new ArgumentError("lax.scan: give xs or {length}");
  let carryAvals = carry.map((x) => x.aval.strong());
  const xAvals = xsLeaves.map((x) => new ShapedArray(x.aval.shape.slice(1), x.aval.dtype));
  let yDef: TreeDef | undefined;
  const traceBody = () => traceWithConsts(
    (ins) => {
      const out = f(unflatten(carryDef, ins.slice(0, carry.length)), unflatten(xsDef, ins.slice(carry.length)));
      if (!Array.isArray(out) || out.length !== 2) throw new ArgumentError("lax.scan: f must return [carry, y]");
      const [c, y] = out;
      const [cl, cd] = flatten(c);
      if (!treedefEqual(cd, carryDef)) {
        throw new ShapeError(`lax.scan: f returns carry structure ${treedefToString(cd)} but init is ${treedefToString(carryDef)}`);
      }
      const [yl, yd] = flatten(y);
      yDef = yd;
      return [...cl, ...yl];
    },
    [...carryAvals, ...xAvals],
    "lax.scan body",
  );
  let t = traceBody();
  // a weak initial carry takes the dtype f gives it: trace again with that carry type
  const adopt = joinWeak([carry.map((x) => x.aval), t.program.outAvals.slice(0, carry.length)], carry.length);
  if (adopt.some((d) => d !== undefined)) {
    carryAvals = retype(carryAvals, adopt);
    t = traceBody();
  }
  checkSameTypes("lax.scan", t.program.outAvals.slice(0, carry.length), carryAvals, "carry returned by f", "init carry");
  const init0 = carry.map((x, i) => (x.aval.weak ? castStrong(x, carryAvals[i]!.dtype) : x));
  const outs =
    opts.checkpoint !== undefined && length > 0
      ? revolveScan(t.program, t.consts, init0, xsLeaves, length, !!opts.reverse, opts.checkpoint.snapshots)
      : scanP.bind([...t.consts, ...init0, ...xsLeaves], {
          body: t.program,
          length,
          reverse: !!opts.reverse,
          numConsts: t.consts.length,
          numCarry: carry.length,
        });
  return [unflatten(carryDef, outs.slice(0, carry.length)), unflatten(yDef!, outs.slice(carry.length))];
}

/**
 * `lax.foriLoop(lower, upper, body(i, carry), init, {checkpoint?})`: a scan for static bounds, else
 * a while loop. With `{checkpoint: {snapshots: k}}` reverse mode keeps at most k carries: for
 * static bounds it follows Revolve's optimal schedule (n known), else the while loop's online one.
 */
export function foriLoop(lower: number | Tensor, upper: number | Tensor, body: (i: Tensor, carry: any) => unknown, init: unknown, opts: WhileOptions = {}): any {
  snapshotsOption("lax.foriLoop", opts);
  const lo = typeof lower === "number" ? lower : lower.isConcrete ? lower.item() : null;
  const hi = typeof upper === "number" ? upper : upper.isConcrete ? upper.item() : null;
  const static_ = lo !== null && hi !== null;
  if (static_) {
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) throw new ArgumentError(`lax.foriLoop: bounds must be integers, got ${lo} and ${hi}`);
    if (hi <= lo) return init;
    if (opts.checkpoint === undefined) {
      const [carry] = scan((c, i) => [body(i as Tensor, c), null], init, arange(lo, hi, 1, { dtype: "int32" }));
      return carry;
    }
  }
  const l = typeof lower === "number" ? scalar(lower, "int32") : lower;
  const u = typeof upper === "number" ? scalar(upper, "int32") : upper;
  const [, out] = bindWhile(
    "lax.foriLoop",
    ([i]: [Tensor, unknown]) => i.less(u),
    ([i, c]: [Tensor, unknown]) => [i.add(scalar(1, "int32")), body(i, c)],
    [l, init],
    opts,
    static_ ? hi - lo : undefined,
  );
  return out;
}
export { switch_ as switch };
export { topK } from "./np/sorting.js";
export { conv, conv as convGeneralDilated } from "./nn-conv.js";
export type { ConvOpts, Padding } from "./nn-conv.js";
