// Failures the fuzzer knows about and does not count against `npm test` while they are being
// fixed: each entry names the case of issue 9 or the finding in /work/notes/fuzz-findings.md
// (F1, F2, ...) and matches as narrowly as it can. The lead empties this list as fixes land; the
// long run (scripts/fuzz.ts) prints how often each entry matched, so a stale one shows as 0.

import { type Prog, nodes } from "./ast.js";
import type { Failure } from "./paths.js";

export interface Known {
  /** the issue case or finding id, e.g. "9.7" or "F3" */
  id: string;
  why: string;
  match: (f: Failure, p: Prog) => boolean;
}

/** Does the program use a node of kind `k` (optionally with a predicate)? */
export const uses = (p: Prog, k: string, pred: (e: any) => boolean = () => true) => [...nodes(p.body)].some((e) => e.k === k && pred(e));

/** The got/expected numbers of a mismatch detail. */
function gotExpected(detail: string): [number, number] | null {
  const m = /got (\S+), expected ([^\s(]+)/.exec(detail);
  return m ? [Number(m[1]!.replace(/,$/, "")), Number(m[2]!)] : null;
}
/** A mismatch of at most a few units in the last place (float64 or float32). */
function fewUlps(f: Failure, ulps = 8): boolean {
  const ge = gotExpected(f.detail);
  if (!ge || !Number.isFinite(ge[0]) || !Number.isFinite(ge[1])) return false;
  const [a, b] = ge;
  return Math.abs(a - b) <= ulps * Math.max(Math.abs(a), Math.abs(b)) * 2 ** -23 || Math.abs(a - b) < 1e-300; // or subnormal noise
}

export const KNOWN: Known[] = [
  {
    id: "F5",
    why: "the eager tape sums fan-out cotangents in a different order than grad (pow(x, x) + x + x): last-bit differences (the README states it)",
    match: (f) => f.path === "tape" && fewUlps(f),
  },
];

export function knownOf(f: Failure, p: Prog): Known | undefined {
  return KNOWN.find((k) => k.match(f, p));
}
