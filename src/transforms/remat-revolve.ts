// Binomial checkpointing (Griewank's Revolve) for reversing an n-step iteration x_{i+1} = F_i(x_i)
// with at most `snapshots` stored states (the initial state included). The reverse pass needs
// every x_i, last first; with s snapshots the fewest forward steps it must recompute is
//   t(n, s) = r*n - C(s + r, s + 1),  r the least integer with C(s + r, s) >= n
// (Griewank & Walther 2000, "Algorithm 799: revolve"). The schedule is the recursion that attains
// it: advance m steps from the held state, snapshot x_m, reverse the last n - m steps with one
// snapshot fewer, release it, reverse the first m steps with the same snapshots; m minimises
// m + t(n - m, s - 1) + t(m, s) (evaluated with the closed form, so planning is O(n) per split).
// The driver is generic over the state (values, or tensors of a scan carry); it reports the forward
// steps it recomputed and the most states it held at once.

/** C(a, b), exact for the sizes used here (a <= a few thousand, b small or near a). */
function binom(a: number, b: number): number {
  if (b < 0 || b > a) return 0;
  const k = Math.min(b, a - b);
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (a - k + i)) / i;
  return Math.round(r);
}

/** The fewest forward steps that reverse n steps holding at most `snapshots` states (>= 1). */
export function revolveForwardSteps(n: number, snapshots: number): number {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(snapshots) || snapshots < 1) throw new RangeError(`revolve: need n >= 0 and snapshots >= 1, got n=${n}, snapshots=${snapshots}`);
  if (n <= 1) return 0;
  if (snapshots === 1) return (n * (n - 1)) / 2;
  let r = 0;
  while (binom(snapshots + r, snapshots) < n) r++;
  return r * n - binom(snapshots + r, snapshots + 1);
}

/** The split of the optimal schedule for n steps with s snapshots (s >= 2, n >= 2). */
function bestSplit(n: number, s: number): number {
  let best = 1;
  let cost = Infinity;
  for (let m = 1; m < n; m++) {
    const c = m + revolveForwardSteps(n - m, s - 1) + revolveForwardSteps(m, s);
    if (c < cost) [best, cost] = [m, c];
  }
  return best;
}

export interface RevolveStats {
  /** forward steps recomputed during the reverse pass */
  forwardSteps: number;
  /** the most states held at once (the initial state included) */
  maxStored: number;
  /** reverse steps taken (n) */
  reverseSteps: number;
}

/**
 * One action of a schedule: take the state x_lo held in slot `from`, advance it to x_hi, store it
 * in slot `to` (when >= 0), then (when `reverse` >= 0, always equal to hi) take the reverse step of
 * step `reverse` at it. Slots are a stack: slot d holds the d-th snapshot taken (slot 0: x_0).
 */
export interface RevolveAction {
  from: number;
  lo: number;
  hi: number;
  to: number;
  reverse: number;
}

/** The optimal schedule reversing n steps with at most `snapshots` held states, as a list of actions. */
export function revolveSchedule(n: number, snapshots: number): RevolveAction[] {
  revolveForwardSteps(n, snapshots); // validates
  const out: RevolveAction[] = [];
  const reverse = (lo: number, hi: number, slot: number, slots: number): void => {
    if (hi - lo === 1) {
      out.push({ from: slot, lo, hi: lo, to: -1, reverse: lo });
    } else if (slots === 1) {
      for (let i = hi - 1; i >= lo; i--) out.push({ from: slot, lo, hi: i, to: -1, reverse: i });
    } else {
      const m = bestSplit(hi - lo, slots);
      out.push({ from: slot, lo, hi: lo + m, to: slot + 1, reverse: -1 });
      reverse(lo + m, hi, slot + 1, slots - 1);
      reverse(lo, lo + m, slot, slots);
    }
  };
  if (n > 0) reverse(0, n, 0, snapshots);
  return out;
}

/** What a schedule costs: recomputed steps (the sum of its advances) and the most slots it uses. */
export function scheduleStats(actions: RevolveAction[]): RevolveStats {
  return {
    forwardSteps: actions.reduce((s, a) => s + a.hi - a.lo, 0),
    maxStored: actions.reduce((m, a) => Math.max(m, a.to + 1, a.from + 1), 1),
    reverseSteps: actions.filter((a) => a.reverse >= 0).length,
  };
}

/**
 * Reverses steps 0..n-1 from state x0: `step(x, i)` computes x_{i+1}; `reverseStep(x_i, i, adj)`
 * is the adjoint of step i at x_i applied to adj (it returns the adjoint w.r.t. x_i). Returns the
 * adjoint of x0 and the schedule's statistics. (The schedule runs the same way compiled:
 * higher-order/while-reverse.ts reads it from a table.)
 */
export function revolveReverse<S, A>(
  n: number,
  snapshots: number,
  x0: S,
  step: (x: S, i: number) => S,
  reverseStep: (x: S, i: number, adj: A) => A,
  adjN: A,
): { adjoint: A; stats: RevolveStats } {
  const actions = revolveSchedule(n, snapshots);
  const slots: S[] = [x0];
  let adj = adjN;
  for (const a of actions) {
    let x = slots[a.from] as S;
    for (let i = a.lo; i < a.hi; i++) x = step(x, i);
    if (a.to >= 0) {
      slots.length = a.to;
      slots.push(x);
    }
    if (a.reverse >= 0) adj = reverseStep(x, a.reverse, adj);
  }
  return { adjoint: adj, stats: scheduleStats(actions) };
}
