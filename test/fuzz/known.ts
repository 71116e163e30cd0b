// Failures the fuzzer knows about and does not count against `npm test` while they are being
// fixed: each entry names the case of issue 9 (or the finding in /work/notes/fuzz-findings.md)
// and matches as narrowly as it can. The lead empties this list as fixes land; an entry that no
// longer matches anything is reported by the long run (scripts/fuzz.ts) as stale.

import { type Prog, nodes } from "./ast.js";
import type { Failure } from "./paths.js";

export interface Known {
  /** the issue case or finding id, e.g. "9.1" or "F3" */
  id: string;
  why: string;
  match: (f: Failure, p: Prog) => boolean;
}

/** Does the program use a node of kind `k` (optionally with a predicate)? */
export const uses = (p: Prog, k: string, pred: (e: any) => boolean = () => true) => [...nodes(p.body)].some((e) => e.k === k && pred(e));

export const KNOWN: Known[] = [
  {
    id: "9.7",
    why: "the gradient of a strided slice or of np.prod (a pad with interior padding) cannot be exported yet",
    match: (f) => f.path.startsWith("export") && /pad cannot be compiled into a standalone module/.test(f.detail),
  },
];

export function knownOf(f: Failure, p: Prog): Known | undefined {
  return KNOWN.find((k) => k.match(f, p));
}
