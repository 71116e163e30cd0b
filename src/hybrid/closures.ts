// Safety of values a jitted function closes over. The core jit traces once per specialization
// and bakes captured tensors and JS numbers into the program, so a closure value that changes
// later is silently served stale. `config.checkClosures` (opt-in: it re-traces on every call)
// compares the structural hash of a fresh trace (program text, constants included) with the one
// recorded for the specialization, warns once per function on a mismatch and recompiles, so the
// call returns the fresh result. Separately, jit() notes where each wrapper is created: wrappers
// re-created for the same function source at the same line (jit(f) inside a loop) each start with
// an empty cache and trace and compile again; that gets one warning per site.

import { log } from "../core/config.js";
import { leafToTensor } from "../core/convert.js";
import { callPathKey, userSourceLine } from "../core/source.js";
import { flatten, unflatten } from "../core/tree.js";
import { programHash } from "../ir/serialize.js";
import { traceFlat } from "../trace/make-program.js";
import { currentTrace } from "../trace/trace.js";

/** Wrappers created per (function source, creation line) before the re-definition warning. */
export const REDEFINED_WARN_AFTER = 3;

const definitions = new Map<string, { count: number; warned: boolean }>();

/** Called by jit(f): warns once per site when wrappers for the same function keep being created. */
export function noteDefinition(f: (...args: any[]) => any, name: string): void {
  // keyed by the raw call path (cheap); the readable line is formatted only for the warning
  const key = `${callPathKey() ?? "?"}\n${String(f)}`;
  let d = definitions.get(key);
  if (!d) {
    if (definitions.size > 4096) definitions.clear(); // a bound, not a cache: only counts are kept
    definitions.set(key, (d = { count: 0, warned: false }));
  }
  if (++d.count < REDEFINED_WARN_AFTER || d.warned) return;
  d.warned = true;
  const site = userSourceLine();
  log({
    kind: "recompile-warning",
    message:
      `jit(${name}) re-defined repeatedly: ${d.count} wrappers were created for the same function${site ? ` at ${site}` : ""}. ` +
      `Each new jit wrapper starts with an empty cache, so every one traces and compiles again. ` +
      `Create the jitted function once (outside the loop) and call it; pass values that change as arguments.`,
  });
}

/** The check of one jitted function: the structural hash recorded per specialization. */
export class ClosureCheck {
  private hashes = new Map<string, string>();
  private warned = false;

  constructor(
    private readonly f: (...args: any[]) => any,
    private readonly name: string,
    private readonly statics: Set<number>,
  ) {}

  /**
   * After a call with `args` under specialization `key` (`tracedNow`: the call traced it): false
   * when the cached program may be stale (the caller recompiles and calls again).
   */
  check(args: unknown[], key: string, tracedNow: boolean): boolean {
    if (currentTrace().parent !== null) return true; // inside a transformation: checked at the top
    let hash: string;
    try {
      hash = this.traceHash(args);
    } catch {
      return true; // the function does not trace as one program (graph breaks): nothing cached to compare
    }
    const seen = this.hashes.get(key);
    this.hashes.set(key, hash);
    if (seen === hash) return true;
    // not recorded yet: the cache holds this call's own trace when the call traced, else one from
    // before the check was turned on, which may be stale (recompiled without a warning)
    if (seen === undefined) return tracedNow;
    if (!this.warned) {
      this.warned = true;
      log({
        kind: "stale-closure",
        message:
          `jit(${this.name}): the function traces to a different program than the one compiled for these arguments: a value it ` +
          `closes over (a captured tensor or JS number) changed. The cached program would have used the old value; it was ` +
          `recompiled (config.checkClosures). Pass values that change as arguments instead.`,
      });
    }
    return false;
  }

  clear(): void {
    this.hashes.clear();
  }

  private traceHash(args: unknown[]): string {
    const [leaves, def] = flatten(args.map((a, i) => (this.statics.has(i) ? null : a)));
    const avals = leaves.map((l, i) => leafToTensor(l, `jit(${this.name}): argument leaf ${i}`).aval);
    const t = traceFlat(
      (xs) => {
        const dyn = unflatten(def, xs) as unknown[];
        return this.f(...args.map((a, i) => (this.statics.has(i) ? a : dyn[i])));
      },
      avals,
      `jit(${this.name}) (checkClosures)`,
    );
    return programHash(t.program);
  }
}
