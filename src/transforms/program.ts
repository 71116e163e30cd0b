// Transformations of staged Programs into new Programs (used by higher-order primitives such as
// jit_call and control flow): JVP, batching, transposition and partial evaluation. Each works by
// re-tracing the program through the corresponding transformation, and each result is cached on
// the source Program so repeated differentiation of one jitted function reuses its programs.

import { ShapedArray } from "../core/aval.js";
import { InternalError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { type Atom, Program } from "../ir/program.js";
import { instantiate } from "../prims/rule-helpers.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import { StagingTrace } from "../trace/staging.js";
import { evalProgram, traceFlat } from "../trace/make-program.js";
import { currentTrace, withTrace } from "../trace/trace.js";
import { jvpFlat } from "./jvp.js";
import { PartialEvalTrace } from "./linearize.js";
import { evalTranspose } from "./transpose.js";
import { vmapFlat } from "./vmap.js";

const caches = new WeakMap<Program, Map<string, unknown>>();
function cached<T>(p: Program, key: string, make: () => T): T {
  let m = caches.get(p);
  if (!m) caches.set(p, (m = new Map()));
  if (!m.has(key)) m.set(key, make());
  return m.get(key) as T;
}

/**
 * The programs derived from `p` and cached with it (its jvp, vmap, transpose, partial-evaluation
 * halves): they live as long as `p` does, so a cache that holds `p` holds them (jit's byte budget
 * counts them, jit/jit.ts).
 */
export function derivedPrograms(p: Program): Program[] {
  const out: Program[] = [];
  for (const v of caches.get(p)?.values() ?? []) {
    if (v instanceof Program) out.push(v);
    else if (v && typeof v === "object") for (const f of Object.values(v)) if (f instanceof Program) out.push(f);
  }
  return out;
}

function closed(t: { program: Program; tracerConsts: Tensor[] }, what: string): Program {
  if (t.tracerConsts.length) throw new InternalError(`${what}: a closed program captured outer tracers`);
  return t.program;
}

export interface JvpProgram {
  /** inputs: primals, then the tangents of inputs whose mask is true */
  program: Program;
  /** which outputs have a (non-zero) tangent among the program's trailing outputs */
  outNonZero: boolean[];
}

/**
 * JVP of a program. `nonZero[i]`: input i has a tangent. `forceTangent[j]`: output j always gets a
 * tangent (materialized zeros if it would be a symbolic zero) — loops need fixed tangent sets.
 */
export function jvpProgram(p: Program, nonZero: boolean[], forceTangent?: boolean[]): JvpProgram {
  const key = `jvp:${nonZero.map(Number).join("")}:${(forceTangent ?? []).map(Number).join("")}`;
  return cached(p, key, () => {
    let outNonZero: boolean[] = [];
    const avals = [...p.inAvals, ...p.inAvals.filter((_, i) => nonZero[i]).map((a) => a.strong())];
    const t = traceFlat((xs) => {
      const n = p.inputs.length;
      let k = n;
      const ts: Tangent[] = p.inAvals.map((a, i) => (nonZero[i] ? xs[k++]! : new Zero(a.strong())));
      const [outs, rawTs] = jvpFlat((ys) => evalProgram(p, ys), xs.slice(0, n), ts);
      const outTs = rawTs.map((t, j) => (forceTangent?.[j] ? instantiate(t) : t));
      outNonZero = outTs.map((o) => !isZero(o));
      return [...outs, ...outTs.filter((o) => !isZero(o))];
    }, avals, "jvp");
    return { program: closed(t, "jvpProgram"), outNonZero };
  });
}

/** Batches a program; every output gets its batch axis at 0. */
export function vmapProgram(p: Program, inDims: (number | null)[], size: number): Program {
  return cached(p, `vmap:${inDims.join(",")}:${size}`, () => {
    const avals = p.inAvals.map((a, i) => {
      const d = inDims[i];
      if (d === null || d === undefined) return a;
      const s = [...a.shape];
      s.splice(d, 0, size);
      return new ShapedArray(s, a.dtype, a.weak);
    });
    const t = traceFlat(
      (xs) => vmapFlat((ys) => evalProgram(p, ys), xs, inDims.map((d) => d ?? null), size, p.outputs.map(() => 0)),
      avals,
      "vmap",
    );
    return closed(t, "vmapProgram");
  });
}

/**
 * Builds the transpose of a program linear in the inputs marked in `linear` (`evalTranspose`
 * evaluates it instead): the new program takes the non-linear inputs, then one cotangent per
 * output, and returns cotangents of the linear inputs.
 */
export function stageTranspose(p: Program, linear: boolean[]): Program {
  return cached(p, `transpose:${linear.map(Number).join("")}`, () => {
    const nonLin = p.inputs.filter((_, i) => !linear[i]);
    const lin = p.inputs.filter((_, i) => linear[i]);
    const avals = [...nonLin.map((v) => v.aval), ...p.outAvals.map((a) => a.strong())];
    const t = traceFlat((xs) => {
      const nl = xs.slice(0, nonLin.length);
      const cts = xs.slice(nonLin.length);
      const q = new Program(lin, [...p.consts, ...nonLin], [...p.constValues, ...nl], p.equations, p.outputs);
      return evalTranspose(q, q.constValues, cts).map(instantiate);
    }, avals, "transpose");
    return closed(t, "stageTranspose");
  });
}

/** @deprecated the old name of `stageTranspose` (kept while the higher-order primitives move) */
export const transposedProgram = stageTranspose;

export interface PartialEvalProgram {
  /** inputs: the known inputs; outputs: the known outputs, then the residuals */
  known: Program;
  /** inputs: the residuals, then the unknown inputs; outputs: the unknown outputs */
  unknown: Program;
  outUnknown: boolean[];
  numResiduals: number;
}

/**
 * Splits a program given which inputs are unknown: the known part computes everything it can
 * (and the residuals the rest needs); the unknown part computes the outputs that depend on
 * unknown inputs. `forceUnknown[i]` makes output i unknown even if it could be known.
 */
export function partialEvalProgram(p: Program, unknown: boolean[], forceUnknown?: boolean[]): PartialEvalProgram {
  const key = `pe:${unknown.map(Number).join("")}:${(forceUnknown ?? []).map(Number).join("")}`;
  return cached(p, key, () => {
    const staging = new StagingTrace(currentTrace(), "partial eval");
    const knownIns = p.inputs.filter((_, i) => !unknown[i]).map((v) => staging.newInput(v.aval));
    const pe = new PartialEvalTrace(staging);
    const unknownIns = p.inputs.filter((_, i) => unknown[i]).map((v) => pe.newUnknown(v.aval));
    let ki = 0;
    let ui = 0;
    const args = p.inputs.map((_, i) => (unknown[i] ? unknownIns[ui++]! : knownIns[ki++]!));
    let outs: Tensor[];
    try {
      outs = withTrace(pe, () => evalProgram(p, args));
    } finally {
      pe.finished = true;
    }
    const isUnknown = (x: Tensor) => pe.owns(x);
    // forced-unknown outputs that are known become residuals passed straight through
    const outAtoms = outs.map((o, i) => (forceUnknown?.[i] && !isUnknown(o) ? pe.atomOf(o, "output") : null));
    const outUnknown = outs.map((o, i) => isUnknown(o) || outAtoms[i] !== null);
    const knownOuts = outs.filter((_, i) => !outUnknown[i]);
    const unknownAtoms = outs
      .map((o, i) => outAtoms[i] ?? (outUnknown[i] ? pe.atomOf(o, "output") : null))
      .filter((a): a is Atom => a !== null);
    // residuals: known values the unknown equations use; concrete ones stay constants
    const resEntries = [...pe.residuals.entries()];
    const constRes = resEntries.filter(([v]) => v.isConcrete);
    const passRes = resEntries.filter(([v]) => !v.isConcrete);
    const { program: known, tracerConsts } = staging.build(knownIns, [...knownOuts, ...passRes.map(([v]) => v)]);
    if (tracerConsts.length) throw new InternalError("partialEvalProgram: a closed program captured outer tracers");
    const unknownProgram = new Program(
      [...passRes.map(([, v]) => v), ...unknownIns.map((t) => t.v)],
      constRes.map(([, v]) => v),
      constRes.map(([v]) => v),
      pe.equations,
      unknownAtoms,
    );
    return { known, unknown: unknownProgram, outUnknown, numResiduals: passRes.length };
  });
}
