// Shared by the export commands (export-cmd.ts for ES modules, export-onnx.ts for ONNX models):
// which arguments --grad differentiates, how an export's error becomes the command's one line,
// and writing an export with the list of what was written.

import { statSync } from "node:fs";
import { CliError } from "./errors.js";
import { fmtBytes } from "./inspect-cmd.js";
import type { ParsedSpec } from "./spec-parse.js";

/** The adgen functions the export commands call (from the adgen instance the user's module uses). */
export type Api = Pick<typeof import("../index.js"), "exportFunction" | "exportVjp" | "exportJvp" | "grad" | "spec"> &
  Partial<Pick<typeof import("../index.js"), "exportOnnx" | "exportOnnxVjp" | "exportOnnxJvp" | "exportModule" | "vjpOf" | "jvpOf" | "extendModule">>;
export type Fn = (...args: any[]) => unknown;

export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s+/g, " ").trim();
}

/** The arguments with a float leaf, which --grad differentiates, and a note when some are not (one leaf list per argument). */
export function gradArgnums(args: ParsedSpec[][]): { argnums: number[]; note: string } {
  const parsed = args.flat();
  const argnums = args.flatMap((leaves, i) => (leaves.some((p) => p.dtype === "float32" || p.dtype === "float64") ? [i] : []));
  if (argnums.length === 0) throw new CliError(`adgen export: --grad needs at least one float argument (all --arg specs are ${[...new Set(parsed.map((p) => p.dtype))].join("/")})`);
  const note = argnums.length < args.length ? `gradient with respect to argument${argnums.length > 1 ? "s" : ""} ${argnums.join(", ")} (the non-float ones are not differentiated)` : "";
  return { argnums, note };
}

/** An export's error as the one-line CliError the command prints. */
export function exportFailure(err: unknown, fewer: string): CliError {
  if (err instanceof CliError) return err;
  const msg = oneLine(err);
  const dual = /expected a Tensor.*got object/.test(msg) ? " (note: does the module import another copy of adgen than this command? run the adgen installed next to it)" : "";
  return new CliError(`adgen export: ${msg}${fewer ? ` (note: ${fewer})` : ""}${dual}`);
}

/**
 * Writes an export to `out` and prints what was written: the summary line, the note, and each
 * file with its size (shared by the module and the ONNX export commands).
 */
export async function writeAndList(e: { write(dir: string): Promise<string[]> }, out: string, summary: string, note: string, print: (s: string) => void): Promise<string[]> {
  let paths: string[];
  try {
    paths = await e.write(out);
  } catch (err) {
    throw new CliError(`adgen export: cannot write to ${out}: ${oneLine(err)}`);
  }
  print(summary);
  if (note) print(`  ${note}`);
  for (const p of paths) print(`  wrote ${p}  ${fmtBytes(statSync(p).size)}`);
  return paths;
}
