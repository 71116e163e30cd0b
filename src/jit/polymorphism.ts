// Shape polymorphism for jit: which argument dimensions are symbolic. Declared with
// `jit(f, {shapes})` (one entry per argument: a list with a symbol name, a number or null per
// axis), or learned: when a call misses only because some sizes changed, those dimensions become
// symbolic (dimensions that changed together share one symbol), so one compiled program then
// serves every size. A call whose sizes are inconsistent with the pattern (two dimensions that
// share a symbol but differ) simply gets its own concrete specialization.

import { ShapedArray } from "../core/aval.js";
import { ArgumentError } from "../core/errors.js";
import { type Dim, SymDim } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";

export type ShapeSpec = readonly (string | number | null)[] | null | undefined;

/** Per leaf: axis -> symbol name. */
type Pattern = Map<number, Map<number, string>>;

export class ShapePolicy {
  private readonly pattern: Pattern = new Map();
  /** dimensions that failed to trace symbolically: never generalized again */
  private readonly pinned = new Set<string>();
  private nextSymbol = 0;

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
        this.set(leaf, axis, g.sym);
        g.where.push(`${names(leaf)} axis ${axis}`);
      }
    }
    if (groups.size === 0) return null;
    return [...groups.values()].map((g) => `${g.where.join(", ")} as symbol ${g.sym}`).join("; ");
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
