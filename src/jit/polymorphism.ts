// Shape polymorphism for jit: which argument dimensions are symbolic. Declared with
// `jit(f, {shapes})` (one entry per argument: a list with a symbol name, a number or null per
// axis), or learned: when a call misses only because some sizes changed, those dimensions become
// symbolic (dimensions that changed together share one symbol), so one compiled program then
// serves every size. A call whose sizes are inconsistent with the pattern (two dimensions that
// share a symbol but differ) simply gets its own concrete specialization.
//
// Learned generalization must never change what the user's JS computes from a size: a function
// may branch on `x.shape[0] === 1`, which no object can intercept. So (jit.ts) a learned program
// is verified once per new concrete size: the function is traced concretely at that size and
// the canonical form of that trace is compared with the generalized program instantiated at the
// same size (`sizeCanonicalHash`); a mismatch gets its own specialization. JS conversions of a
// learned dimension (template strings, JSON, arithmetic) are seen while tracing and make jit
// refuse to generalize at all.

import { ShapedArray } from "../core/aval.js";
import { ArgumentError } from "../core/errors.js";
import { type Dim, SymDim, dimSubstitute } from "../core/shape.js";
import type { Binding } from "../core/symbols.js";
import type { Tensor } from "../core/tensor.js";
import { type Atom, type Equation, Literal, Program, Var } from "../ir/program.js";
import { programHash } from "../ir/serialize.js";
import { optimize } from "../passes/pipeline.js";
import { broadcastInDimP } from "../prims/shape.js";

export type ShapeSpec = readonly (string | number | null)[] | null | undefined;

/** Per leaf: axis -> symbol name. */
type Pattern = Map<number, Map<number, string>>;

export class ShapePolicy {
  private readonly pattern: Pattern = new Map();
  /** dimensions that failed to trace symbolically: never generalized again */
  private readonly pinned = new Set<string>();
  private nextSymbol = 0;
  /** symbols jit invented (as opposed to declared with `shapes`) */
  private readonly learned = new Set<string>();

  /** `declared[i]` is the spec of dynamic leaf i (argument-level specs resolved by the caller). */
  constructor(declared: ShapeSpec[] = []) {
    declared.forEach((spec, leaf) => {
      if (!spec) return;
      spec.forEach((d, axis) => {
        if (typeof d === "string") {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(d)) throw new ArgumentError(`jit: invalid symbolic dimension name ${JSON.stringify(d)}`);
          this.set(leaf, axis, d);
        } else if (d !== null && (!Number.isInteger(d) || d < 0)) {
          throw new ArgumentError(`jit: shapes entry ${JSON.stringify(d)} is not a dimension (a name, a size or null)`);
        }
      });
    });
  }

  private set(leaf: number, axis: number, sym: string): void {
    let m = this.pattern.get(leaf);
    if (!m) this.pattern.set(leaf, (m = new Map()));
    m.set(axis, sym);
  }

  get isEmpty(): boolean {
    return this.pattern.size === 0;
  }

  /**
   * The avals to trace and key on: the pattern's dimensions replaced by symbols, or null when
   * the pattern does not apply to these shapes (wrong rank, or sizes that should agree differ).
   */
  abstract(tensors: Tensor[]): ShapedArray[] | null {
    if (this.pattern.size === 0) return null;
    const seen = new Map<string, number>();
    const out: ShapedArray[] = [];
    for (let leaf = 0; leaf < tensors.length; leaf++) {
      const a = tensors[leaf]!.aval;
      const m = this.pattern.get(leaf);
      if (!m) {
        out.push(a);
        continue;
      }
      const shape: Dim[] = [...a.shape];
      for (const [axis, sym] of m) {
        if (axis >= shape.length) return null;
        const v = shape[axis] as number;
        if (seen.has(sym) && seen.get(sym) !== v) return null;
        seen.set(sym, v);
        shape[axis] = SymDim.symbol(sym);
      }
      out.push(new ShapedArray(shape, a.dtype, a.weak));
    }
    return out;
  }

  /**
   * After a miss caused only by sizes: makes every changed dimension symbolic (dimensions with
   * the same old and new sizes share a symbol). Returns a description, or null if nothing new.
   */
  generalize(prev: readonly (readonly number[])[], cur: readonly (readonly number[])[], names: (leaf: number) => string): string | null {
    if (prev.length !== cur.length) return null;
    const groups = new Map<string, { sym: string; where: string[] }>();
    for (let leaf = 0; leaf < cur.length; leaf++) {
      const p = prev[leaf]!;
      const c = cur[leaf]!;
      if (p.length !== c.length) return null;
      for (let axis = 0; axis < c.length; axis++) {
        if (p[axis] === c[axis] || this.pattern.get(leaf)?.has(axis) || this.pinned.has(`${leaf}:${axis}`)) continue;
        const k = `${p[axis]}->${c[axis]}`;
        let g = groups.get(k);
        if (!g) groups.set(k, (g = { sym: `D${this.nextSymbol++}`, where: [] }));
        this.learned.add(g.sym);
        this.set(leaf, axis, g.sym);
        g.where.push(`${names(leaf)} axis ${axis}`);
      }
    }
    if (groups.size === 0) return null;
    return [...groups.values()].map((g) => `${g.where.join(", ")} as symbol ${g.sym}`).join("; ");
  }

  /** Whether a dimension involves a symbol jit learned (rather than one the user declared). */
  isLearned(d: Dim): boolean {
    return typeof d !== "number" && d.symbols().some((s) => this.learned.has(s));
  }

  /** Whether any of these avals has a learned dimension (its program must be verified per size). */
  hasLearned(avals: readonly ShapedArray[]): boolean {
    return avals.some((a) => a.shape.some((d) => this.isLearned(d)));
  }

  /** Forgets learned symbols after a symbolic trace failed; they stay concrete from now on. */
  pinLearned(declared: ShapeSpec[]): void {
    for (const [leaf, m] of this.pattern) {
      for (const axis of [...m.keys()]) {
        if (typeof declared[leaf]?.[axis] === "string") continue;
        m.delete(axis);
        this.pinned.add(`${leaf}:${axis}`);
      }
      if (m.size === 0) this.pattern.delete(leaf);
    }
  }
}

function substAval(a: ShapedArray, env: Binding): ShapedArray {
  return a.shape.every((d) => typeof d === "number") ? a : new ShapedArray(a.shape.map((d) => dimSubstitute(d, env)), a.dtype, a.weak);
}

function substParam(v: unknown, env: Binding): unknown {
  if (v instanceof SymDim) return dimSubstitute(v, env);
  if (v instanceof ShapedArray) return substAval(v, env);
  if (v instanceof Program) return instantiateProgram(v, env);
  if (Array.isArray(v)) return v.map((x) => substParam(x, env));
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substParam(x, env)]));
  }
  return v;
}

/**
 * The program a concrete trace at the sizes `env` would give if the function never read a size:
 * every shape and shape parameter evaluated, and each `dim_value` of a now-known dimension
 * replaced by its literal (as a concrete trace has it).
 */
export function instantiateProgram(p: Program, env: Binding): Program {
  const vars = new Map<Var, Atom>();
  const fresh = (v: Var) => {
    const w = new Var(substAval(v.aval, env));
    vars.set(v, w);
    return w;
  };
  const atom = (a: Atom): Atom => (a instanceof Literal ? new Literal(a.value, substAval(a.aval, env)) : vars.get(a)!);
  const consts = p.consts.map(fresh);
  const inputs = p.inputs.map(fresh);
  const equations: Equation[] = [];
  for (const e of p.equations) {
    const params = substParam(e.params, env) as Record<string, unknown>;
    if (e.prim.name === "dim_value" && typeof params["dim"] === "number") {
      vars.set(e.outs[0]!, new Literal(params["dim"], e.outs[0]!.aval));
      continue;
    }
    equations.push({ prim: e.prim, inputs: e.inputs.map(atom), params, outs: e.outs.map(fresh), source: e.source });
  }
  return new Program(inputs, consts, p.constValues, equations, p.outputs.map(atom));
}

/**
 * Captured constants filled with one value become a broadcast of that value, which is what the
 * same code stages at a symbolic size (np.ones(x.shape) is data at a concrete size).
 */
function uniformConstsAsBroadcasts(p: Program): Program {
  const keep: number[] = [];
  const fills: Equation[] = [];
  const vars = new Map<Var, Var>();
  p.consts.forEach((v, i) => {
    const d = p.constValues[i]!.data;
    const uniform = v.aval.shape.length > 0 && d.length > 0 && d.every((x) => Object.is(x, d[0]));
    if (!uniform) return keep.push(i);
    const out = new Var(v.aval);
    vars.set(v, out);
    const lit = new Literal(Number(d[0]), new ShapedArray([], v.aval.dtype, false));
    fills.push({ prim: broadcastInDimP, inputs: [lit], params: { shape: v.aval.shape, dims: [] }, outs: [out] });
  });
  if (fills.length === 0) return p;
  const atom = (a: Atom): Atom => (a instanceof Var ? (vars.get(a) ?? a) : a);
  const equations = [...fills, ...p.equations.map((e) => ({ ...e, inputs: e.inputs.map(atom) }))];
  return new Program(p.inputs, keep.map((i) => p.consts[i]!), keep.map((i) => p.constValues[i]!), equations, p.outputs.map(atom));
}

/**
 * A structural hash of what a program computes at concrete sizes, comparable between a concrete
 * trace (env omitted) and a generalized program instantiated at `env`: both are optimized the
 * same way first, so differences the optimizer removes (a size-1 broadcast, a folded 1/n) do not
 * count. Null when the program cannot be hashed (it holds JS functions, e.g. custom rules).
 */
export function sizeCanonicalHash(p: Program, env?: Binding): string | null {
  try {
    return programHash(optimize(uniformConstsAsBroadcasts(env ? instantiateProgram(p, env) : p), { recurse: true }));
  } catch {
    return null;
  }
}
