// Reverse mode: vjp = linearize + transpose, and the user-facing vjp, grad and valueAndGrad.
// The split is explicit, and written once: linearizing computes the primal outputs and the
// residuals; the pullback transposes the linear program against those residuals, as many times as
// it is called. `vjpFlat` runs the split on values (eager vjp/grad, or inside any trace);
// `vjpSplit` is the same split staged into two programs, forward (inputs -> outputs, residuals)
// and backward (residuals, output cotangents -> input cotangents), used by jit's lowered stages
// and by exportVjp (ONNX too). Residuals are reported in one form, `ResidualInfo` (residuals.ts).

import { leafToTensor } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { ArgumentError, DTypeError, GradError, ShapeError } from "../core/errors.js";
import { describeValue } from "../core/options.js";
import { Tensor } from "../core/tensor.js";
import { type TreeDef, checkStructure, flatten, treedefToString, unflatten } from "../core/tree.js";
import { convert } from "../prims/unary.js";
import { instantiate, zerosLike } from "../prims/rule-helpers.js";
import { scalar } from "../rules/scalar.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import type { ShapedArray } from "../core/aval.js";
import { InternalError } from "../core/errors.js";
import { Program } from "../ir/program.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { type Linearized, linearizeFlat } from "./linearize.js";
import { evalTranspose } from "./transpose.js";
import { argnumsArg, checkFunction, checkTransform, gradCaptureHook, gradOptionsSchema, rematHook } from "./args.js";

export interface VjpResult {
  outs: Tensor[];
  /** cotangents of the active inputs, given cotangents of all outputs */
  pullback: (cts: Tangent[]) => Tangent[];
  lin: Linearized;
}

/** The split on values: primal outputs now, and the pullback over the saved residuals. */
export function vjpFlat(fn: (xs: Tensor[]) => Tensor[], primals: Tensor[], active: boolean[]): VjpResult {
  const lin = linearizeFlat(fn, primals, active);
  const resVals = lin.residuals.map((r) => r.value);
  return { outs: lin.outs, pullback: (cts) => pullbackOf(lin, resVals, cts), lin };
}

/**
 * The pullback of a linearization: cotangents of the active inputs, given the residual values
 * (`lin.residuals`' values, or stand-ins for them) and one cotangent per primal output.
 */
export function pullbackOf(lin: Linearized, residuals: Tensor[], cts: Tangent[]): Tangent[] {
  return evalTranspose(lin.linear, residuals, cts.filter((_, i) => !lin.outZero[i]));
}

export interface VjpSplit {
  /** primal inputs -> the primal outputs, then the residuals */
  forward: Program;
  /** the residuals, then one cotangent per primal output -> one cotangent per active input */
  backward: Program;
  /** the tangent map: the residuals, then the active inputs' tangents -> the non-zero output tangents */
  linear: Program;
  numOutputs: number;
  numResiduals: number;
  /** per primal output: its tangent is a symbolic zero (it does not depend on the active inputs) */
  outZero: boolean[];
}

const splits = new WeakMap<Program, Map<string, VjpSplit>>();

/**
 * `vjpFlat` staged: the split of a program, differentiated with respect to the inputs marked in
 * `active`, as a forward and a backward program. Residuals that are constants (concrete values)
 * stay constants of the backward program; every other one is a forward output. Cached per program.
 */
export function vjpSplit(p: Program, active: boolean[]): VjpSplit {
  const key = active.map(Number).join("");
  let m = splits.get(p);
  if (!m) splits.set(p, (m = new Map()));
  const hit = m.get(key);
  if (hit) return hit;
  let lin: Linearized | undefined;
  let passed: Tensor[] = [];
  const fwd = traceFlat((xs) => {
    lin = linearizeFlat((ys) => evalProgram(p, ys), xs, active);
    passed = lin.residuals.map((r) => r.value).filter((v) => !v.isConcrete);
    return [...lin.outs, ...passed];
  }, p.inAvals, "vjp forward");
  const l = lin!;
  const resVals = l.residuals.map((r) => r.value);
  const isPassed = resVals.map((v) => !v.isConcrete);
  const resAvals: ShapedArray[] = passed.map((v) => v.aval);
  const bwd = traceFlat((xs) => {
    let k = 0;
    const res = resVals.map((v, i) => (isPassed[i] ? xs[k++]! : v));
    return pullbackOf(l, res, xs.slice(passed.length)).map(instantiate);
  }, [...resAvals, ...l.outs.map((o) => o.aval.strong())], "vjp backward");
  if (fwd.tracerConsts.length || bwd.tracerConsts.length) throw new InternalError("vjpSplit: a closed program captured outer tracers");
  const L = l.linear;
  const linear = new Program(
    [...L.consts.filter((_, i) => isPassed[i]), ...L.inputs],
    L.consts.filter((_, i) => !isPassed[i]),
    resVals.filter((_, i) => !isPassed[i]),
    L.equations,
    L.outputs,
  );
  const split: VjpSplit = { forward: fwd.program, backward: bwd.program, linear, numOutputs: l.outs.length, numResiduals: passed.length, outZero: l.outZero };
  m.set(key, split);
  return split;
}

/** Cotangent leaves checked against the outputs they belong to. */
function checkCotangents(what: string, outs: Tensor[], def: TreeDef, ct: unknown): Tangent[] {
  const leaves = checkStructure(`${what}: cotangent vs output`, def, ct);
  return leaves.map((l, i) => {
    const o = outs[i]!;
    let t = leafToTensor(l, `${what}: cotangent ${i}`);
    if (t.aval.weak && t.aval.dtype !== o.aval.dtype) t = convert(t, o.aval.dtype);
    if (t.aval.dtype !== o.aval.dtype) {
      throw new DTypeError(`${what}: cotangent ${i} has dtype ${t.aval.dtype} but the output is ${o.aval}`);
    }
    if (t.aval.shape.length !== o.aval.shape.length || !t.aval.equals(o.aval.strong())) {
      throw new ShapeError(`${what}: cotangent ${i} is ${t.aval} but the output is ${o.aval}`);
    }
    return t;
  });
}

/** `vjp(f, ...primals) -> [out, pullback]`; `pullback(outBar)` returns one cotangent per primal. */
export function vjp(f: (...args: any[]) => any, ...primals: any[]): [any, (outBar: any) => any[]] {
  checkFunction("vjp", f);
  const [pLeaves, pDef] = flatten(primals);
  const ps = pLeaves.map((x, i) => leafToTensor(x, `vjp: primal ${i}`));
  const active = ps.map((p) => isFloat(p.aval.dtype));
  let outDef: TreeDef | undefined;
  const { outs, pullback } = vjpFlat(
    (xs) => {
      const [leaves, def] = flatten(f(...unflatten(pDef, xs)));
      outDef = def;
      return leaves.map((l, i) => leafToTensor(l, `vjp: output ${i}`));
    },
    ps,
    active,
  );
  const pb = (outBar: any): any[] => {
    const cts = checkCotangents("vjp pullback", outs, outDef!, outBar);
    const inCts = pullback(cts);
    let k = 0;
    const full = ps.map((p, i) => (active[i] ? instantiate(inCts[k++]!) : zerosLike(p.aval)));
    return unflatten(pDef, full);
  };
  return [unflatten(outDef!, outs), pb];
}

export interface GradOptions {
  argnums?: number | number[];
  hasAux?: boolean;
  /** residual bytes allowed (or a function of the symbolic dims): the planner picks what to recompute */
  memoryBudget?: number | ((dims: Readonly<Record<string, number>>) => number);
  /** symbolic dimension values the memoryBudget is planned for */
  dims?: Record<string, number>;
}

/** Shared by grad and valueAndGrad: returns [value (or [value, aux]), grads]. */
function valueAndGradImpl(name: string, f0: (...args: any[]) => any, opts: GradOptions, args: any[]): [any, any] {
  const captured = gradCaptureHook.run?.(name, f0, opts, args);
  if (captured) return captured;
  const f = opts.memoryBudget === undefined ? f0 : rematHook.wrap!(name, f0, opts.memoryBudget, opts.dims);
  const argnums = argnumsArg(name, opts.argnums, args.length);
  const [leaves, def] = flatten(argnums.map((i) => args[i]));
  const ps = leaves.map((x, i) => leafToTensor(x, `${name}: argument leaf ${i}`));
  ps.forEach((p, i) => {
    if (!isFloat(p.aval.dtype)) {
      throw new GradError(
        `${name}: cannot differentiate with respect to an input of dtype ${p.aval.dtype} ` +
          `(argument ${describeLeaf(argnums, def, i)}, ${p.aval}); only float32/float64 inputs have ` +
          `gradients. Cast it with .astype("float32") or leave it out of argnums.`,
      );
    }
  });
  let aux: unknown;
  let outAval: string | undefined;
  const { outs, pullback } = vjpFlat(
    (xs) => {
      const chosen = unflatten(def, xs) as unknown[];
      const callArgs = [...args];
      argnums.forEach((a, k) => (callArgs[a] = chosen[k]));
      let out = f(...callArgs);
      if (opts.hasAux) {
        if (!Array.isArray(out) || out.length !== 2) {
          throw new ArgumentError(`${name}: with hasAux the function must return a pair [value, aux], got ${describeValue(out)}`);
        }
        [out, aux] = out;
      }
      const y = leafToTensor(out, `${name}: function output`);
      outAval = String(y.aval);
      if (y.aval.shape.length !== 0) {
        throw new GradError(
          `${name}: the function must return a scalar (shape []), got ${y.aval}. ` +
            `Use vjp or jacrev for non-scalar outputs, or reduce it (e.g. .sum()).`,
        );
      }
      if (!isFloat(y.aval.dtype)) throw new GradError(`${name}: the function must return a float scalar, got ${y.aval}`);
      const auxLeaves = opts.hasAux ? flatten(aux)[0].filter((l): l is Tensor => l instanceof Tensor) : [];
      return [y, ...auxLeaves];
    },
    ps,
    ps.map(() => true),
  );
  const y = outs[0]!;
  const cts: Tangent[] = outs.map((o, i) => (i === 0 ? scalar(1, y.aval.dtype) : new Zero(o.aval)));
  const grads = pullback(cts).map((g, i) => (isZero(g) ? zerosLike(ps[i]!.aval) : g));
  void outAval;
  const tree = unflatten(def, grads) as unknown[];
  const result = Array.isArray(opts.argnums) ? tree : tree[0];
  if (!opts.hasAux) return [y, result];
  // aux values come back as the primal values computed during linearization
  const auxTensors = outs.slice(1);
  const [auxLeaves, auxDef] = flatten(aux);
  let k = 0;
  const auxOut = unflatten(auxDef, auxLeaves.map((l) => (l instanceof Tensor ? auxTensors[k++] : l)));
  return [[y, auxOut], result];
}

function describeLeaf(argnums: number[], def: TreeDef, leaf: number): string {
  if (def.kind === "array" && def.children.every((c) => c.kind === "leaf")) return String(argnums[leaf]);
  return `leaf ${leaf} of ${treedefToString(def)}`;
}

export function grad(f: (...args: any[]) => any, opts: GradOptions = {}): (...args: any[]) => any {
  checkTransform("grad", f, opts, gradOptionsSchema);
  return (...args) => {
    const [value, g] = valueAndGradImpl("grad", f, opts, args);
    return opts.hasAux ? [g, value[1]] : g;
  };
}

export function valueAndGrad(f: (...args: any[]) => any, opts: GradOptions = {}): (...args: any[]) => [any, any] {
  checkTransform("valueAndGrad", f, opts, gradOptionsSchema);
  return (...args) => valueAndGradImpl("valueAndGrad", f, opts, args);
}
