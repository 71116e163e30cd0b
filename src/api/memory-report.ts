// memoryReport: the peak memory of a gradient before and after checkpointing, as formulas in the
// symbolic dimensions. Both gradients are traced under jit (with the `shapes` given, so sizes such
// as a batch B stay symbolic), lowered and memory-planned; the report is the peak live bytes of
// their intermediates (lower/memory.ts livePeak: a polynomial per kernel, dominated ones dropped)
// and, comparing the two formulas for every size at once (dimLeq), whether checkpointing lowers
// the peak for all sizes, raises it for all, or which one wins depends on the sizes.
// With `donateArgnums` the report is about one call of f itself (a training step): the peak of
// the whole call (inputs + intermediates + outputs, lower/memory-donate.ts callPeak) without and
// with the donated arguments' memory reused in place, as jit(f, {donateArgnums}) runs it.

import { ArgumentError } from "../core/errors.js";
import { dimLeq } from "../core/shape.js";
import { type LivePeak, livePeak } from "../lower/memory.js";
import { callPeak, donationFor } from "../lower/memory-donate.js";
import { jit, leafArgIndices } from "../jit/jit.js";
import { grad } from "../transforms/vjp.js";
import { type CheckpointOptions, checkpoint } from "./checkpoint.js";

export interface MemoryReportOptions {
  /** the checkpointed variant: options for checkpoint(f, ...) or the function itself (e.g. per-layer checkpoints) */
  checkpoint?: CheckpointOptions | ((...args: any[]) => any);
  /** jit's symbolic shapes, one entry per argument (e.g. [null, ["B", 784]]) */
  shapes?: unknown[];
  /** symbol values to print the peaks at */
  at?: Record<string, number>;
  /** report one call of f (not its gradient) without and with these arguments donated */
  donateArgnums?: number[];
}

export interface MemoryReport {
  symbols: string[];
  without: LivePeak;
  with: LivePeak;
  /** what is compared: checkpointing grad(f), or donating arguments of f */
  compares: "checkpoint" | "donation";
  /** for every size: "lower", "higher", "equal", or "depends" on the sizes */
  verdict: "lower" | "higher" | "equal" | "depends";
  toString(): string;
}

/** max(a) <= max(b) for every size when each candidate of a is below some candidate of b. */
const below = (a: LivePeak, b: LivePeak) => a.candidates.every((x) => b.candidates.some((y) => dimLeq(x, y) === true));

/** The peak live bytes of grad(f) (all arguments) without and with checkpointing, at `args`. */
export function memoryReport(f: (...args: any[]) => any, opts: MemoryReportOptions, ...args: unknown[]): MemoryReport {
  if (typeof f !== "function") throw new ArgumentError(`memoryReport: expected a function, got ${typeof f}`);
  if (opts.donateArgnums) return donationReport(f, opts, args);
  const variant = typeof opts.checkpoint === "function" ? opts.checkpoint : checkpoint(f, opts.checkpoint ?? {});
  const argnums = args.map((_, i) => i);
  const lowered = (g: (...a: any[]) => any) => jit(grad(g, { argnums }), { name: "memoryReport", ...(opts.shapes ? { shapes: opts.shapes } : {}) }).lower(...args).lowered;
  const lpA = lowered(f);
  const lpB = lowered(variant);
  const without = livePeak(lpA);
  const withC = livePeak(lpB);
  return report(without, withC, [...new Set([...lpA.symbols, ...lpB.symbols])], opts, "grad's intermediates (compiled forward + backward)", "checkpointing", "checkpoint");
}

/** One call of jit(f) without and with donateArgnums: the whole call's peak (callPeak). */
function donationReport(f: (...args: any[]) => any, opts: MemoryReportOptions, args: unknown[]): MemoryReport {
  if (opts.checkpoint !== undefined) throw new ArgumentError(`memoryReport: give either checkpoint (compares grad(f) with and without it) or donateArgnums (compares a call of f with and without donation), not both`);
  const lp = jit(f, { name: "memoryReport", ...(opts.shapes ? { shapes: opts.shapes } : {}) }).lower(...args).lowered;
  // the donated arguments' leaf positions, as jit(f, {donateArgnums}) gives them to the executable
  const donated = new Set(opts.donateArgnums);
  const positions = leafArgIndices(args, new Set()).flatMap((a, i) => (donated.has(a) ? [i] : []));
  return report(callPeak(lp), callPeak(lp, donationFor(lp, positions)), lp.symbols, opts, "one call (inputs + intermediates + outputs)", "donation", "donation");
}

function report(without: LivePeak, withC: LivePeak, symbols: string[], opts: MemoryReportOptions, what: string, change: string, compares: MemoryReport["compares"]): MemoryReport {
  const lo = below(withC, without);
  const hi = below(without, withC);
  const verdict = lo && hi ? "equal" : lo ? "lower" : hi ? "higher" : "depends";
  const words = { lower: "lowers the peak for every size", higher: "raises the peak for every size", equal: "leaves the peak unchanged", depends: "lowers or raises the peak depending on the sizes" };
  const at = opts.at && Object.keys(opts.at).length ? opts.at : null;
  const pad = (s: string) => `${s}:`.padEnd(`without ${change}:`.length);
  const text = [
    `peak live bytes of ${what}${symbols.length ? `, in ${symbols.join(", ")}` : ""}:`,
    `  ${pad(`without ${change}`)} ${without.formula}`,
    `  ${pad(`with ${change}`)} ${withC.formula}`,
    `  ${change} ${words[verdict]}`,
    ...(at ? [`  at ${Object.entries(at).map(([k, v]) => `${k}=${v}`).join(", ")}: ${without.at(at)} -> ${withC.at(at)} bytes`] : []),
  ].join("\n");
  return { symbols, without, with: withC, compares, verdict, toString: () => text };
}
