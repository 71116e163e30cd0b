// The lazy trace of a jitted function with graph breaks: primitives are recorded into a pending
// straight-line region, as jit records them, but a recorded value may be observed (.item(),
// Number(x), toArray(), a JS branch). Observing one flushes the region: it is closed into a
// Program over the values it reads from outside, run as one compiled jit_call on the trace that
// was current when the jitted function was called, and every value it produced becomes known.
// The JS then continues, and later primitives open the next region.

import { ShapedArray } from "../core/aval.js";
import { config } from "../core/config.js";
import type { TypedArray } from "../core/dtype.js";
import { captureSource, userSourceLine } from "../core/source.js";
import type { Tensor } from "../core/tensor.js";
import { type Equation, Program, Var } from "../ir/program.js";
import type { Primitive } from "../prims/primitive.js";
import { Trace, Tracer, checkNotEscaped, withTrace } from "../trace/trace.js";

/**
 * A region's program restricted to the outputs a run actually used (later runs of a region skip
 * what the JS never read), one Program per output mask, cached so each is compiled once.
 */
export class OutputVariants {
  private readonly byMask = new Map<string, Program>();
  constructor(readonly full: Program) {}
  /** The full program and every variant made so far. */
  all(): Program[] {
    return [this.full, ...this.byMask.values()];
  }

  get(mask: readonly boolean[]): Program {
    const key = mask.map(Number).join("");
    let p = this.byMask.get(key);
    if (!p) {
      const f = this.full;
      this.byMask.set(key, (p = new Program(f.inputs, f.consts, f.constValues, f.equations, f.outputs.filter((_, i) => mask[i]))));
    }
    return p;
  }
}

export class LazyTracer extends Tracer {
  /** The computed value (a tensor of the parent trace) once its region has run. */
  value: Tensor | null = null;
  /** the flushed region that computes it, and its output index there (argument leaf index for an argument) */
  home: RegionRun | null = null;
  slot = -1;

  constructor(
    readonly trace: LazyTrace,
    readonly v: Var,
    /** the equation that computes it (none for an argument) */
    readonly producer?: Equation,
  ) {
    super(v.aval);
  }

  protected override concretize(what: string): TypedArray {
    // under an enclosing transformation the value is that trace's tracer: it observes or raises
    const data = this.trace.materialize(this)._observe(what);
    this.trace.hooks.observed(this, what, userSourceLine); // (the line is costly: asked for new sites only)
    return data;
  }
}

/** A flushed region: the program it ran (its outputs are every value it produced) and its inputs. */
export interface RegionRun {
  program: Program;
  /** outside values the program read, in input order */
  inputs: Tensor[];
  /** which outputs the rest of the call used (the runner may skip the others next time) */
  used: boolean[];
}

/** Supplied by the caller (graph-breaks.ts), which caches regions by structure and reports breaks. */
export interface LazyHooks {
  /**
   * Runs a closed region on its inputs; returns one value per program output, or null for an
   * output it chose not to compute (one that earlier calls did not use).
   */
  run(run: RegionRun, index: number): (Tensor | null)[];
  /** Runs the region again computing every output (a skipped output turned out to be needed). */
  recompute(run: RegionRun): Tensor[];
  /** A value of this trace (a region's result or an argument) was observed by the JS: a graph break. */
  observed(t: LazyTracer, what: string, source: () => string | undefined): void;
}

export class LazyTrace extends Trace {
  readonly kind: string;
  private equations: Equation[] = [];
  /** outside values (arguments, earlier regions' results, captured tensors) and their input variables */
  private inputs = new Map<Tensor, Var>();
  private produced: LazyTracer[] = [];
  regions = 0;

  constructor(
    parent: Trace,
    kind: string,
    readonly hooks: LazyHooks,
    /**
     * record the source line of every operation, or of the first of each region only (a miss
     * explanation names it); either way only with config.captureSourceLines
     */
    private readonly sources: "all" | "first" = "all",
  ) {
    super(parent);
    this.kind = kind;
  }

  /** An argument: a known value that is still watched, so that observing it is a graph break. */
  watch(x: Tensor, leaf: number): LazyTracer {
    const t = new LazyTracer(this, new Var(x.aval));
    t.value = x;
    t.slot = leaf;
    return t;
  }

  /** The value of a flushed tracer (recomputing its region if it was skipped); marks it used. */
  materialize(t: LazyTracer): Tensor {
    if (t.value === null && t.home === null) this.flush();
    const home = t.home;
    if (home) {
      home.used[t.slot] = true;
      if (t.value === null) {
        const all = withTrace(this.parent!, () => this.hooks.recompute(home));
        this.tracersOf.get(home)!.forEach((u, i) => (u.value ??= all[i]!));
      }
    }
    return t.value!;
  }

  /** each flushed region's tracers, in output order (to fill in a recomputed region) */
  private tracersOf = new Map<RegionRun, LazyTracer[]>();

  private atomOf(x: Tensor, primName: string): Var {
    if (x instanceof LazyTracer && x.trace === this) {
      if (x.value === null && x.home === null) return x.v; // pending in this region
      x = this.materialize(x);
    }
    checkNotEscaped(x, this, primName);
    // every outside value, scalars included, is a run-time input: a JS number computed from an
    // observed value changes from call to call, and must not change the region's structure
    let v = this.inputs.get(x);
    if (!v) {
      v = new Var(new ShapedArray(x.aval.shape, x.aval.dtype, x.aval.weak));
      this.inputs.set(x, v);
    }
    return v;
  }

  processPrimitive(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] {
    const atoms = inputs.map((x) => this.atomOf(x, prim.name));
    const source = config.captureSourceLines && (this.sources === "all" || this.equations.length === 0) ? captureSource() : undefined;
    const outAvals = prim.abstractEval(atoms.map((a) => a.aval), params);
    const outs = outAvals.map((a) => new Var(a));
    const eqn = { prim, inputs: atoms, params, outs, source };
    this.equations.push(eqn);
    return outs.map((v) => {
      const t = new LazyTracer(this, v, eqn);
      this.produced.push(t);
      return t;
    });
  }

  /**
   * Closes the pending region and runs it. Every value it produced is a program output (the JS
   * may hold any of them); the runner may skip those earlier calls did not use (materialize).
   */
  flush(): void {
    const produced = this.produced;
    if (produced.length === 0) return;
    const program = new Program([...this.inputs.values()], [], [], this.equations, produced.map((t) => t.v));
    const run: RegionRun = { program, inputs: [...this.inputs.keys()], used: produced.map(() => false) };
    this.equations = [];
    this.inputs = new Map();
    this.produced = [];
    this.tracersOf.set(run, produced);
    const outs = withTrace(this.parent!, () => this.hooks.run(run, this.regions++));
    produced.forEach((t, i) => {
      t.home = run;
      t.slot = i;
      t.value = outs[i] ?? null;
    });
  }

  /** The value of a result leaf, flushing the final region if it is still pending. */
  resolve(x: Tensor): Tensor {
    return x instanceof LazyTracer && x.trace === this ? this.materialize(x) : x;
  }
}
