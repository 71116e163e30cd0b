// memoryReport: the peak memory of a gradient before and after checkpointing, as formulas in the
// symbolic dimensions. Both gradients are traced under jit (with the `shapes` given, so sizes such
// as a batch B stay symbolic), lowered and memory-planned; the report is the peak live bytes of
// their intermediates (lower/memory.ts livePeak: a polynomial per kernel, dominated ones dropped)
// and, comparing the two formulas for every size at once (dimLeq), whether checkpointing lowers
// the peak for all sizes, raises it for all, or which one wins depends on the sizes.

import { ArgumentError } from "../core/errors.js";
import { dimLeq } from "../core/shape.js";
import { type LivePeak, livePeak } from "../lower/memory.js";
import { jit } from "../jit/jit.js";
import { grad } from "../transforms/vjp.js";
import { type CheckpointOptions, checkpoint } from "./checkpoint.js";

export interface MemoryReportOptions {
  /** the checkpointed variant: options for checkpoint(f, ...) or the function itself (e.g. per-layer checkpoints) */
  checkpoint?: CheckpointOptions | ((...args: any[]) => any);
  /** jit's symbolic shapes, one entry per argument (e.g. [null, ["B", 784]]) */
  shapes?: unknown[];
  /** symbol values to print the peaks at */
  at?: Record<string, number>;
}

export interface MemoryReport {
  symbols: string[];
  without: LivePeak;
  with: LivePeak;
  /** for every size: "lower", "higher", "equal", or "depends" on the sizes */
  verdict: "lower" | "higher" | "equal" | "depends";
  toString(): string;
}

/** max(a) <= max(b) for every size when each candidate of a is below some candidate of b. */
const below = (a: LivePeak, b: LivePeak) => a.candidates.every((x) => b.candidates.some((y) => dimLeq(x, y) === true));

/** The peak live bytes of grad(f) (all arguments) without and with checkpointing, at `args`. */
export function memoryReport(f: (...args: any[]) => any, opts: MemoryReportOptions, ...args: unknown[]): MemoryReport {
  if (typeof f !== "function") throw new ArgumentError(`memoryReport: expected a function, got ${typeof f}`);
  const variant = typeof opts.checkpoint === "function" ? opts.checkpoint : checkpoint(f, opts.checkpoint ?? {});
  const argnums = args.map((_, i) => i);
  const lowered = (g: (...a: any[]) => any) => jit(grad(g, { argnums }), { name: "memoryReport", ...(opts.shapes ? { shapes: opts.shapes } : {}) }).lower(...args).lowered;
  const lpA = lowered(f);
  const lpB = lowered(variant);
  const without = livePeak(lpA);
  const withC = livePeak(lpB);
  const lo = below(withC, without);
  const hi = below(without, withC);
  const verdict = lo && hi ? "equal" : lo ? "lower" : hi ? "higher" : "depends";
  const symbols = [...new Set([...lpA.symbols, ...lpB.symbols])];
  const words = { lower: "lowers the peak for every size", higher: "raises the peak for every size", equal: "leaves the peak unchanged", depends: "lowers or raises the peak depending on the sizes" };
  const at = opts.at && Object.keys(opts.at).length ? opts.at : null;
  const text = [
    `peak live bytes of grad's intermediates (compiled forward + backward)${symbols.length ? `, in ${symbols.join(", ")}` : ""}:`,
    `  without checkpointing: ${without.formula}`,
    `  with checkpointing:    ${withC.formula}`,
    `  checkpointing ${words[verdict]}`,
    ...(at ? [`  at ${Object.entries(at).map(([k, v]) => `${k}=${v}`).join(", ")}: ${without.at(at)} -> ${withC.at(at)} bytes`] : []),
  ].join("\n");
  return { symbols, without, with: withC, verdict, toString: () => text };
}
