// What `adgen export` is asked to export, read from its flags before anything is loaded: the
// argument specs (one --arg per tensor argument, or a JSON --spec file whose arguments may be
// pytrees: objects and arrays of "float32[B,784]" strings, with optional declared constraints)
// and the --fn entries ("loss", "loss:grad", "step=loss:vjp"): which function, which mode, and
// under which key a module of several functions exports it.

import * as fs from "node:fs";
import { readRegularFile } from "../core/fs-guard.js";
import { UsageError } from "./errors.js";
import { type ParsedSpec, SpecError, parseSpec } from "./spec-parse.js";

export type ExportMode = "value" | "grad" | "vjp" | "jvp";
const MODES: readonly ExportMode[] = ["value", "grad", "vjp", "jvp"];

/** A pytree of parsed specs (the structure of one argument). */
export type SpecTree = ParsedSpec | SpecTree[] | { [key: string]: SpecTree };

export interface ParsedArgs {
  /** one tree per argument */
  args: SpecTree[];
  /** the leaves of each argument */
  leaves: ParsedSpec[][];
  /** constraints declared in the spec file */
  constraints: string[];
}

const isLeaf = (t: SpecTree): t is ParsedSpec => !Array.isArray(t) && typeof (t as ParsedSpec).dtype === "string" && Array.isArray((t as ParsedSpec).shape);

export function treeLeaves(t: SpecTree): ParsedSpec[] {
  if (isLeaf(t)) return [t];
  return Array.isArray(t) ? t.flatMap(treeLeaves) : Object.values(t).flatMap(treeLeaves);
}

/** The tree with each leaf replaced by `leaf(spec)` (adgen's spec(dtype, shape)). */
export function mapTree(t: SpecTree, leaf: (p: ParsedSpec) => unknown): unknown {
  if (isLeaf(t)) return leaf(t);
  return Array.isArray(t) ? t.map((c) => mapTree(c, leaf)) : Object.fromEntries(Object.entries(t).map(([k, c]) => [k, mapTree(c, leaf)]));
}

function badArg(text: string, e: unknown): never {
  if (e instanceof SpecError) throw new UsageError(`adgen export: bad --arg ${JSON.stringify(text)}: ${e.message}`);
  throw e;
}

/**
 * The --spec file: `[argSpec, ...]` or `{ "args": [argSpec, ...], "constraints": ["B % 8 == 0"] }`,
 * where an argSpec is a spec string or an object / array of them (a pytree argument).
 */
function readSpecFile(file: string): { args: SpecTree[]; constraints: string[] } {
  const bad = (why: string): never => {
    throw new UsageError(`adgen export: bad --spec ${file}: ${why}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(readRegularFile(fs, file).toString("utf8"));
  } catch (e) {
    bad((e as Error).message.replace(/\s+/g, " "));
  }
  const top = Array.isArray(json) ? { args: json } : (json as { args?: unknown; constraints?: unknown });
  if (top === null || typeof top !== "object" || !Array.isArray(top.args)) bad(`expected an array of argument specs, or {"args": [...], "constraints": [...]}`);
  const cons = top.constraints ?? [];
  if (!Array.isArray(cons) || cons.some((c) => typeof c !== "string")) bad(`"constraints" must be an array of strings such as "B % 8 == 0"`);
  const conv = (v: unknown, where: string): SpecTree => {
    if (typeof v === "string") {
      try {
        return parseSpec(v);
      } catch (e) {
        if (e instanceof SpecError) bad(`${where}: ${JSON.stringify(v)}: ${e.message}`);
        throw e;
      }
    }
    if (Array.isArray(v)) return v.map((c, i) => conv(c, `${where}[${i}]`));
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, c]) => [k, conv(c, `${where}.${k}`)]));
    return bad(`${where} is ${v === null ? "null" : typeof v}; a leaf is a spec string such as "float32[B,784]"`);
  };
  return { args: (top.args as unknown[]).map((a, i) => conv(a, `argument ${i}`)), constraints: cons as string[] };
}

/** The argument specs from --arg flags or a --spec file (not both). */
export function parseArgs(args: string[], specFile: string | undefined): ParsedArgs {
  if (specFile !== undefined && args.length) throw new UsageError(`adgen export: give the arguments with --arg or with --spec, not both`);
  if (specFile !== undefined) {
    const { args: trees, constraints } = readSpecFile(specFile);
    return { args: trees, leaves: trees.map(treeLeaves), constraints };
  }
  const parsed = args.map((text) => {
    try {
      return parseSpec(text);
    } catch (e) {
      return badArg(text, e);
    }
  });
  return { args: parsed, leaves: parsed.map((p) => [p]), constraints: [] };
}

export interface FnEntry {
  /** the entry's key in a module of several functions */
  key: string;
  /** the module's export */
  fn: string;
  mode: ExportMode;
  /** written as key=...: always a module export */
  keyed: boolean;
}

/** `--fn loss`, `--fn loss:grad`, `--fn step=loss:vjp` (the mode defaults to `mode`). */
export function parseFn(text: string, mode: ExportMode | undefined): FnEntry {
  const m = /^(?:([^=:]+)=)?([^=:]+)(?::([^=:]*))?$/.exec(text);
  if (!m) throw new UsageError(`adgen export: bad --fn ${JSON.stringify(text)}: write <name>, <name>:<mode> or <key>=<name>:<mode> (modes: ${MODES.join(", ")})`);
  const own = m[3];
  if (own !== undefined && !MODES.includes(own as ExportMode)) throw new UsageError(`adgen export: bad --fn ${JSON.stringify(text)}: unknown mode ${JSON.stringify(own)} (modes: ${MODES.join(", ")})`);
  const md = (own as ExportMode | undefined) ?? mode ?? "value";
  const fn = m[2]!;
  return { key: m[1] ?? (md === "value" ? fn : `${fn}_${md}`), fn, mode: md, keyed: m[1] !== undefined };
}
