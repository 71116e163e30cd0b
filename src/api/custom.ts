// User-defined derivative rules (public API): customJvp(f, {jvp}) and customVjp(f, {fwd, bwd}).
// f is traced once per call into a Program; the rules are kept as closures on the primitive, so
// every transformation (jit, vmap, grad of grad, ...) sees one operation with the user's rule.

import { leafToTensor } from "../core/convert.js";
import { ArgumentError, ShapeError, TreeStructureError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, treedefEqual, treedefToString, unflatten } from "../core/tree.js";
import { type FlatBwd, type FlatFwd, type FlatJvp, customJvpCallP, customVjpCallP } from "../higher-order/custom.js";
import { keyFunction } from "../ir/serialize.js";
import { zerosLike } from "../prims/rule-helpers.js";
import { traceFlat } from "../trace/make-program.js";
import { checkFunction } from "../transforms/args.js";

function flatOf(value: unknown, what: string, expect?: TreeDef): [Tensor[], TreeDef] {
  const [leaves, def] = flatten(value);
  if (expect && !treedefEqual(def, expect)) {
    throw new TreeStructureError(`${what}: expected structure ${treedefToString(expect)}, got ${treedefToString(def)}`);
  }
  return [leaves.map((l, i) => leafToTensor(l, `${what} leaf ${i}`)), def];
}

function traceCall(f: (...a: any[]) => unknown, args: unknown[], name: string) {
  const [xs, def] = flatOf(args, `${name}: argument`);
  const t = traceFlat((ins) => f(...(unflatten(def, ins) as unknown[])), xs.map((x) => x.aval), name);
  return { xs, def, ...t };
}

export interface CustomJvpRule {
  /** (primals, tangents) -> [out, outTangent]; primals/tangents are the argument lists */
  jvp: (primals: any[], tangents: any[]) => [unknown, unknown];
}

export function customJvp<F extends (...args: any[]) => any>(f: F, rule: CustomJvpRule): F {
  checkFunction("customJvp", f);
  if (typeof rule?.jvp !== "function") throw new ArgumentError("customJvp: pass {jvp: (primals, tangents) => [out, outTangent]}");
  const name = `customJvp(${f.name || "anonymous"})`;
  return ((...args: unknown[]) => {
    const { xs, def, program, tracerConsts, outTree } = traceCall(f, args, name);
    const n = xs.length;
    const jvp: FlatJvp = (ps, ts) => {
      const [out, outDot] = rule.jvp(unflatten(def, ps.slice(0, n)) as unknown[], unflatten(def, ts.slice(0, n)) as unknown[]);
      return [flatOf(out, `${name}: jvp primal output`, outTree)[0], flatOf(outDot, `${name}: jvp tangent output`, outTree)[0]];
    };
    keyFunction(jvp, [rule.jvp], `${treedefToString(def)} -> ${treedefToString(outTree)}`);
    const outs = customJvpCallP.bind([...xs, ...tracerConsts], { program, jvp, name, numArgs: n });
    return unflatten(outTree, outs);
  }) as F;
}

export interface CustomVjpRule {
  /** (...args) -> [out, residuals] */
  fwd: (...args: any[]) => [unknown, unknown];
  /** (residuals, outBar) -> one cotangent per argument */
  bwd: (residuals: any, outBar: any) => unknown[];
}

export function customVjp<F extends (...args: any[]) => any>(f: F, rule: CustomVjpRule): F {
  checkFunction("customVjp", f);
  if (typeof rule?.fwd !== "function" || typeof rule?.bwd !== "function") {
    throw new ArgumentError("customVjp: pass {fwd: (...args) => [out, residuals], bwd: (residuals, outBar) => argBars}");
  }
  const name = `customVjp(${f.name || "anonymous"})`;
  return ((...args: unknown[]) => {
    const { xs, def, program, tracerConsts, outTree } = traceCall(f, args, name);
    const n = xs.length;
    let resDef: TreeDef | undefined;
    const fwd: FlatFwd = (ps) => {
      const r = rule.fwd(...(unflatten(def, ps.slice(0, n)) as unknown[]));
      if (!Array.isArray(r) || r.length !== 2) throw new ArgumentError(`${name}: fwd must return [out, residuals]`);
      const [res, rd] = flatOf(r[1], `${name}: fwd residuals`);
      resDef = rd;
      return [flatOf(r[0], `${name}: fwd output`, outTree)[0], res];
    };
    const bwd: FlatBwd = (res, cts) => {
      const r = rule.bwd(unflatten(resDef!, res), unflatten(outTree, cts));
      if (!Array.isArray(r)) throw new ArgumentError(`${name}: bwd must return an array with one cotangent per argument`);
      const [bars] = flatOf(r, `${name}: bwd result`, def);
      bars.forEach((b, i) => {
        if (!b.aval.strong().equals(xs[i]!.aval.strong())) throw new ShapeError(`${name}: bwd cotangent ${i} is ${b.aval}, the argument is ${xs[i]!.aval}`);
      });
      // values the function closed over get no cotangent from bwd
      return [...bars, ...tracerConsts.map((c) => zerosLike(c.aval.strong()))];
    };
    const structure = `${treedefToString(def)} -> ${treedefToString(outTree)}`;
    keyFunction(fwd, [rule.fwd, rule.bwd], structure);
    keyFunction(bwd, [rule.fwd, rule.bwd], structure);
    const outs = customVjpCallP.bind([...xs, ...tracerConsts], { program, fwd, bwd, name, numArgs: n });
    return unflatten(outTree, outs);
  }) as F;
}
