// Liveness over the linear schedule of a program's equations: for each variable, the index of
// the equation defining it (-1 for inputs and constants) and the index of its last use (the
// equation count for program outputs, which live to the end; its definition index when nothing
// uses it). The memory planner reuses a buffer once its variable's last use has run.
// Sub-programs are closed (they never read outer variables), so only top-level uses count.

import { type Atom, type Program, Var } from "../ir/program.js";

export interface LiveRange {
  v: Var;
  /** defining equation index; -1 for inputs and constants */
  def: number;
  /** last equation index reading it; equations.length for outputs; def when never read */
  lastUse: number;
}

export interface Liveness {
  ranges: Map<Var, LiveRange>;
  /** `dyingAt[k]`: variables whose last use is equation k (their buffers are free after it). */
  dyingAt: Var[][];
  /** Variables live across the point just after equation k (defined at or before k, used after). */
  liveAfter(k: number): Var[];
}

export function liveness(p: Program): Liveness {
  const n = p.equations.length;
  const ranges = new Map<Var, LiveRange>();
  const define = (v: Var, k: number) => ranges.set(v, { v, def: k, lastUse: k });
  const use = (a: Atom, k: number) => {
    if (!(a instanceof Var)) return;
    const r = ranges.get(a);
    if (r && k > r.lastUse) r.lastUse = k;
  };
  p.consts.forEach((v) => define(v, -1));
  p.inputs.forEach((v) => define(v, -1));
  p.equations.forEach((e, k) => {
    e.inputs.forEach((a) => use(a, k));
    e.outs.forEach((o) => define(o, k));
  });
  p.outputs.forEach((a) => use(a, n));

  const dyingAt: Var[][] = Array.from({ length: n }, () => []);
  for (const r of ranges.values()) if (r.lastUse >= 0 && r.lastUse < n) dyingAt[r.lastUse]!.push(r.v);

  const liveAfter = (k: number) => [...ranges.values()].filter((r) => r.def <= k && r.lastUse > k).map((r) => r.v);
  return { ranges, dyingAt, liveAfter };
}
