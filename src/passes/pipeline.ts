// The optimization pipeline: named passes run in order (by default simplify, fold, cse, dce),
// repeated until a round changes nothing (then every pass returns its input object; at most
// `maxRounds`, default 4). With `verify`, the IR verifier re-checks the program after every
// pass; `trace(name, program, round)` sees every intermediate program so each stage can be
// dumped (DESIGN principle 6).

import { ArgumentError } from "../core/errors.js";
import { profiled } from "../core/profile.js";
import { type Program, subPrograms } from "../ir/program.js";
import { verifyProgram } from "../ir/verify.js";
import { activity } from "./activity.js";
import { cse } from "./cse.js";
import { dce } from "./dce.js";
import { fold } from "./fold.js";
import { type Pass, mapSubPrograms, rebuild } from "./rewrite.js";
import { simplify } from "./simplify.js";

/** Every pass by name. */
export const PASSES: Record<string, Pass> = { simplify, fold, cse, dce, activity };

export const DEFAULT_PASSES: readonly string[] = ["simplify", "fold", "cse", "dce"];

export interface OptimizeOptions {
  /** Pass names, run in this order each round (default DEFAULT_PASSES). */
  passes?: readonly string[];
  /** Run the IR verifier after every pass. */
  verify?: boolean;
  /** Called after every pass with its name, its result and the round number (from 1). */
  trace?: (name: string, program: Program, round: number) => void;
  /** Upper bound on rounds (default 4). */
  maxRounds?: number;
  /**
   * Also optimize the sub-programs of higher-order equations (default false: they are left
   * exactly as they are). Every pass keeps a program's signature, so this is safe.
   */
  recurse?: boolean;
}

/** The number of equations, counting those inside sub-programs. */
export function countEquations(p: Program): number {
  let n = 0;
  for (const e of p.equations) {
    n += 1;
    for (const sp of subPrograms(e)) n += countEquations(sp);
  }
  return n;
}

/** `pass` applied to every sub-program (innermost first) and then to `p` itself. */
export function recursively(pass: Pass): Pass {
  const run: Pass = (p) => {
    const equations = p.equations.map((e) => mapSubPrograms(e, run));
    const inner = equations.every((e, i) => e === p.equations[i]) ? p : rebuild(p, { equations });
    return pass(inner);
  };
  return run;
}

export function lookupPass(name: string): Pass {
  const pass = Object.prototype.hasOwnProperty.call(PASSES, name) ? PASSES[name] : undefined;
  if (!pass) throw new ArgumentError(`optimize: unknown pass ${JSON.stringify(name)}; known passes: ${Object.keys(PASSES).join(", ")}`);
  return pass;
}

export function optimize(program: Program, opts: OptimizeOptions = {}): Program {
  const names = opts.passes ?? DEFAULT_PASSES;
  const passes = names.map((n) => {
    const pass = lookupPass(n);
    return [n, opts.recurse ? recursively(pass) : pass] as const;
  });
  const maxRounds = opts.maxRounds ?? 4;
  let p = program;
  for (let round = 1; round <= maxRounds; round++) {
    const start = p;
    for (const [name, pass] of passes) {
      const before = p;
      p = profiled(name, () => pass(before));
      if (opts.verify) profiled("verify", () => verifyProgram(p, `after pass ${name} (round ${round})`));
      opts.trace?.(name, p, round);
    }
    // passes return their input object when they change nothing (rewrite.ts rebuild)
    if (p === start) break;
  }
  return p;
}
