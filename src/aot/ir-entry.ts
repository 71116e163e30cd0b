// The IR an exported artifact carries so that adgen can load it back (aot/import.ts): per entry
// of the module, the traced program of the user's function (before differentiation or lowering,
// serialized by ir/serialize.ts in its current version), its argument and result trees, which
// exports it backs and, for a vjp entry, its argnums. Versioned with the IR format: an artifact
// whose IR is newer than this adgen, or corrupt, is refused by the importer with a typed error.

import { ArgumentError } from "../core/errors.js";
import type { TreeDef } from "../core/tree.js";
import { type DimFacts, dimToString, parseDim } from "../core/shape.js";
import { IR_FORMAT, IR_VERSION, programToJson } from "../ir/serialize.js";
import type { Traced } from "./export.js";

export interface IrEntry {
  format: typeof IR_FORMAT;
  version: number;
  /** the entry's name: the exported function's name, or its key in exportModule */
  key: string;
  /** how the entry was exported */
  kind: "value" | "vjp" | "jvp";
  /** the module exports backed by this entry (value: [name]; vjp: [forward, backward]) */
  exports: string[];
  /** vjp: the arguments differentiated */
  argnums?: number[];
  inTree: TreeDef;
  outTree: TreeDef;
  /** the declared bounds the shape rules assumed when tracing it (the program verifies under them) */
  dimFacts?: { bounds: DimFacts["bounds"]; nonneg?: string[] };
  /** the program as compact JSON text (ir/serialize.ts ProgramJson; a string keeps the pretty-printed manifest small) */
  program: string;
}

/** The entry, or why the program cannot be carried (it holds a JS custom rule: customJvp/customVjp). */
export function irEntry(t: Traced, key: string, kind: IrEntry["kind"], exports: string[], argnums?: number[]): IrEntry | string {
  let program: string;
  try {
    program = JSON.stringify(programToJson(t.program, { sources: true }));
  } catch (e) {
    if (e instanceof ArgumentError) return `${key}: ${e.message}`;
    throw e;
  }
  return {
    format: IR_FORMAT,
    version: IR_VERSION,
    key,
    kind,
    exports,
    ...(argnums ? { argnums } : {}),
    inTree: t.inDef,
    outTree: t.outTree,
    ...(Object.keys(t.facts.bounds).length || t.facts.nonneg?.length ? { dimFacts: factsJson(t.facts) } : {}),
    program,
  };
}

function factsJson(f: DimFacts): NonNullable<IrEntry["dimFacts"]> {
  return { bounds: f.bounds, ...(f.nonneg?.length ? { nonneg: f.nonneg.map(dimToString) } : {}) };
}

/** The facts an entry's program was traced under (none for an artifact that records none). */
export function entryFacts(e: IrEntry): DimFacts {
  const j = e.dimFacts;
  if (!j || typeof j !== "object" || typeof j.bounds !== "object" || j.bounds === null) return { bounds: {} };
  return { bounds: j.bounds, nonneg: (j.nonneg ?? []).map((d) => parseDim(String(d))) };
}
