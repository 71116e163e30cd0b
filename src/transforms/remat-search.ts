// Budget placement beyond EXACT_LIMIT candidates (transforms/remat.ts): the greedy plan, then a
// bounded local search from it. Why not exact: minimising recomputed FLOPs subject to residual
// bytes <= budget contains 0/1 knapsack (candidates whose recompute slices are disjoint are
// exactly knapsack items: bytes are weights, the FLOPs saved by keeping them are values), so it is
// NP-hard in the number of candidates, and a min-cut solves only its Lagrangian relaxation (exact
// at the lower convex hull of the FLOPs/bytes frontier, not at an arbitrary budget). The greedy
// drops saved values by freed bytes per recomputed FLOP, which is that relaxation's order: it
// typically ends one drop too far (a large value dropped where a smaller one sufficed) or keeps a
// value whose drop would pay once another is re-added. The local search repairs exactly those:
// moves add one candidate, drop one, or swap one saved for one unsaved; a move is taken when the
// plan still fits and recomputes fewer FLOPs (ties: fewer bytes), first improvement, until no
// move improves (a local optimum for these neighbourhoods) or MAX_EVALS plans were scored. It
// starts from the greedy plan, so it is never worse; it cannot beat the exact optimum, which
// test/memory-budget-search.test.ts checks on graphs small enough to enumerate.

import type { Var } from "../ir/program.js";
import type { RematGraph } from "./remat.js";

/** Plans scored by the local search at most (each scoring walks the recompute slice once). */
export const MAX_EVALS = 20000;

export interface Scored {
  saved: Var[];
  bytes: number;
  flops: number;
}

const better = (a: Scored, b: Scored) => a.flops < b.flops || (a.flops === b.flops && a.bytes < b.bytes);

/** The greedy plan: from everything saved, drop the value freeing the most bytes per recomputed FLOP until it fits. */
export function greedyPlan(all: Scored, none: Scored, budget: number, score: (saved: Var[]) => Scored): Scored | null {
  let cur = all;
  while (cur.bytes > budget && cur.saved.length) {
    let pick: Scored | null = null;
    let pickRate = -Infinity;
    for (const v of cur.saved) {
      const s = score(cur.saved.filter((x) => x !== v));
      const rate = (cur.bytes - s.bytes) / Math.max(1, s.flops - cur.flops);
      if (rate > pickRate) [pick, pickRate] = [s, rate];
    }
    cur = pick!;
  }
  if (cur.bytes > budget && none.bytes <= budget) cur = none;
  return cur.bytes <= budget ? cur : null;
}

/** Local search from a feasible plan (see the file comment); returns the plan and how many plans it scored. */
export function improvePlan(g: RematGraph, start: Scored, budget: number, score: (saved: Var[]) => Scored, maxEvals = MAX_EVALS): { best: Scored; evals: number } {
  let cur = start;
  let evals = 0;
  const tryMove = (saved: Var[]): boolean => {
    evals++;
    const s = score(saved);
    if (s.bytes <= budget && better(s, cur)) {
      cur = s;
      return true;
    }
    return false;
  };
  for (let improved = true; improved && evals < maxEvals; ) {
    improved = false;
    const inSet = new Set(cur.saved);
    const out = g.candidates.filter((v) => !inSet.has(v));
    // add one, drop one, then swap one for one (in candidate order: deterministic)
    for (const v of out) if (evals < maxEvals && tryMove([...cur.saved, v])) { improved = true; break; }
    if (improved) continue;
    for (const v of cur.saved) if (evals < maxEvals && tryMove(cur.saved.filter((x) => x !== v))) { improved = true; break; }
    if (improved) continue;
    swap: for (const v of cur.saved)
      for (const w of out) {
        if (evals >= maxEvals) break swap;
        if (tryMove([...cur.saved.filter((x) => x !== v), w])) {
          improved = true;
          break swap;
        }
      }
  }
  return { best: cur, evals };
}
