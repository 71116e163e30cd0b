// Adding derivatives to an exported artifact without the original source (public API):
// `extendModule(artifact, (fns) => ({ loss_vjp: vjpOf(fns.loss) }))` loads the artifact's IR
// (importModule), and exports one new module holding every entry the artifact had (re-exported
// from its IR, same kinds and argnums) plus the new ones, traced at the artifact's own argument
// specs. The new module imports the shared runtime by default, so written beside the original it
// adds kernels and constants only.

import { ArgSpec } from "../core/spec.js";
import { ArgumentError } from "../core/errors.js";
import { parseInequality, symbolsOf } from "./dim-rules.js";
import { checkOptions } from "../core/options.js";
import { type TreeDef, treedefToString, unflatten } from "../core/tree.js";
import { shapeToString } from "../core/shape.js";
import type { Exported } from "./export.js";
import { exportOptionsSchema } from "./export.js";
import { type ModuleEntry, type ModuleExportOptions, exportModule, jvpOf, vjpOf } from "./export-module.js";
import { type ImportedFunction, loadArtifact } from "./import.js";

/**
 * A new module: the artifact's entries (from its IR) and the entries `add` returns for its
 * functions (keyed by entry name). Options as exportModule's; the default name is the
 * artifact's, and its declared constraints on dimensions the specs keep are declared again.
 */
export function extendModule(artifact: unknown, add: (fns: Record<string, ImportedFunction>) => Record<string, ModuleEntry>, opts: ModuleExportOptions = {}): Exported {
  checkOptions("extendModule", opts, exportOptionsSchema);
  if (typeof add !== "function") throw new ArgumentError("extendModule: the second argument must be a function (fns) => ({ key: vjpOf(fns.loss), ... })");
  const { manifest, entries } = loadArtifact(artifact);
  const what = `extendModule ${manifest.name}`;
  // every entry of one module was traced at the same specs; a module of several specs cannot be extended as one
  const specOf = (i: number) => `${treedefToString(entries[i]!.ir.inTree as TreeDef)}: ${entries[i]!.program.inAvals.map((a) => `${a.dtype}${shapeToString(a.shape)}`).join(", ")}`;
  entries.forEach((_, i) => {
    if (specOf(i) !== specOf(0)) throw new ArgumentError(`${what}: entries ${entries[0]!.ir.key} and ${entries[i]!.ir.key} take different arguments (${specOf(0)} vs ${specOf(i)}); extend one at a time`);
  });
  const avals = entries[0]!.program.inAvals;
  const specs = unflatten(entries[0]!.ir.inTree as TreeDef, avals.map((a) => new ArgSpec(a.dtype, a.shape))) as unknown[];
  const fns = Object.fromEntries(entries.map((e) => [e.ir.key, e.fn]));
  const kept: Record<string, ModuleEntry> = {};
  for (const e of entries) kept[e.ir.key] = e.ir.kind === "vjp" ? vjpOf(e.fn, e.ir.argnums ? { argnums: e.ir.argnums } : {}) : e.ir.kind === "jvp" ? jvpOf(e.fn) : e.fn;
  const added = add(fns);
  if (added === null || typeof added !== "object" || Array.isArray(added)) throw new ArgumentError(`${what}: the function must return an object { key: function | vjpOf(f) | jvpOf(f) }`);
  for (const k of Object.keys(added)) if (k in kept) throw new ArgumentError(`${what}: the artifact already has an entry ${JSON.stringify(k)}; choose another key`);
  // declared constraints on the symbols the traced specs still hold (a B rewritten to 2*B/2 is
  // checked by its shape: the binding of B/2 refuses an odd size)
  const syms = symbolsOf(avals);
  const inSyms = (c: string) => {
    const q = parseInequality(c);
    return !q || [q.lhs, q.rhs].every((x) => typeof x === "number" || x.symbols().every((s) => syms.includes(s)));
  };
  const constraints = opts.constraints ?? [...new Set(manifest.symbolicDims.flatMap((d) => (syms.includes(d.name) ? d.constraints.filter((c) => c !== `${d.name} >= 1` && !/==.*[A-Za-z_]/.test(c) && inSyms(c)) : [])))];
  return exportModule({ ...kept, ...added }, specs, { ...opts, name: opts.name ?? manifest.name, constraints });
}
