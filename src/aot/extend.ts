// Adding derivatives to an exported artifact without the original source (public API):
// `extendModule(artifact, (fns) => ({ loss_vjp: vjpOf(fns.loss) }))` loads the artifact's IR
// (importModule), and exports one new module holding every entry the artifact had (re-exported
// from its IR, same kinds and argnums, each at the argument specs it was traced at) plus the new
// ones, traced at the artifact's specs: when its entries take different specs, a new entry takes
// those of the entry it wraps or, failing that, the one set at which it traces, or `{specs}`. The
// new module imports the shared runtime by default, so written beside the original it adds
// kernels and constants only.

import { ArgSpec } from "../core/spec.js";
import { ArgumentError } from "../core/errors.js";
import { NO_RULES, parseInequality, symbolsOf, withQuotientBases } from "./dim-rules.js";
import { checkOptions } from "../core/options.js";
import { type TreeDef, treedefToString, unflatten } from "../core/tree.js";
import { shapeToString } from "../core/shape.js";
import type { Exported } from "./export.js";
import { exportOptionsSchema, traceAtSpecs } from "./export.js";
import { type ModuleEntry, type ModuleExportOptions, exportModuleWith, jvpOf, vjpOf } from "./export-module.js";
import { type ImportedFunction, type LoadedEntry, loadArtifact } from "./import.js";
import { entryFacts } from "./ir-entry.js";
import type { DimFacts } from "../core/shape.js";

/**
 * A new module: the artifact's entries (from its IR) and the entries `add` returns for its
 * functions (keyed by entry name). Options as exportModule's; the default name is the
 * artifact's, and its declared constraints on dimensions the specs keep are declared again.
 */
export function extendModule(artifact: unknown, add: (fns: Record<string, ImportedFunction>) => Record<string, ModuleEntry>, opts: ExtendOptions = {}): Exported {
  const { specs: given, ...rest } = opts ?? {};
  checkOptions("extendModule", rest, exportOptionsSchema);
  if (typeof add !== "function") throw new ArgumentError("extendModule: the second argument must be a function (fns) => ({ key: vjpOf(fns.loss), ... })");
  const { manifest, entries } = loadArtifact(artifact);
  const what = `extendModule ${manifest.name}`;
  // each entry is re-exported at the specs it was traced at (entries of one module may differ)
  const own = new Map(entries.map((e) => [e.ir.key, unflatten(e.ir.inTree as TreeDef, e.program.inAvals.map((a) => new ArgSpec(a.dtype, a.shape))) as unknown[]]));
  const specText = (k: string) => `${treedefToString(entries.find((e) => e.ir.key === k)!.ir.inTree as TreeDef)}: ${entries.find((e) => e.ir.key === k)!.program.inAvals.map((a) => `${a.dtype}${shapeToString(a.shape)}`).join(", ")}`;
  const distinct = [...new Map(entries.map((e) => [specText(e.ir.key), e.ir.key])).values()];
  const fns = Object.fromEntries(entries.map((e) => [e.ir.key, e.fn]));
  const kept: Record<string, ModuleEntry> = {};
  for (const e of entries) kept[e.ir.key] = e.ir.kind === "vjp" ? vjpOf(e.fn, e.ir.argnums ? { argnums: e.ir.argnums } : {}) : e.ir.kind === "jvp" ? jvpOf(e.fn) : e.fn;
  const added = add(fns);
  if (added === null || typeof added !== "object" || Array.isArray(added)) throw new ArgumentError(`${what}: the function must return an object { key: function | vjpOf(f) | jvpOf(f) }`);
  for (const k of Object.keys(added)) if (k in kept) throw new ArgumentError(`${what}: the artifact already has an entry ${JSON.stringify(k)}; choose another key`);
  if (given !== undefined && (given === null || typeof given !== "object" || Array.isArray(given))) throw new ArgumentError(`${what}: specs must be an object { newEntryKey: [specs] }`);
  for (const k of Object.keys(given ?? {})) if (!(k in added)) throw new ArgumentError(`${what}: specs names ${JSON.stringify(k)}, which is not a new entry (${Object.keys(added).join(", ")})`);
  // declared constraints on the symbols the traced specs still hold, and on B where they hold B/2
  // (B % 2 == 0 is then checked by the shape 2*B/2 too; B <= 64 by the module computing B)
  const syms = withQuotientBases(symbolsOf(entries.flatMap((e) => e.program.inAvals)));
  const inSyms = (c: string) => {
    const q = parseInequality(c);
    return !q || [q.lhs, q.rhs].every((x) => typeof x === "number" || x.symbols().every((s) => syms.includes(s)));
  };
  const constraints = rest.constraints ?? [...new Set(manifest.symbolicDims.flatMap((d) => (syms.includes(d.name) ? d.constraints.filter((c) => c !== `${d.name} >= 1` && !/==.*[A-Za-z_]/.test(c) && inSyms(c)) : [])))];
  const all = { ...kept, ...added };
  const facts = entries.map((e) => entryFacts(e.ir)).reduce((a, b) => ({ bounds: { ...a.bounds, ...b.bounds }, nonneg: [...(a.nonneg ?? []), ...(b.nonneg ?? [])] }), { bounds: {} });
  const options = { ...rest, name: rest.name ?? manifest.name, constraints };
  if (distinct.length === 1) return exportModuleWith(all, own.get(distinct[0]!)!, options, facts);
  const per: Record<string, unknown[]> = Object.fromEntries(own);
  for (const [k, e] of Object.entries(added)) per[k] = given?.[k] ?? addedSpecs(k, e, entries, own, distinct, what, facts);
  return exportModuleWith(all, per, options, facts);
}

export interface ExtendOptions extends ModuleExportOptions {
  /** argument specs of new entries, by key (needed only when the artifact's entries take different specs and a new entry wraps none of them directly) */
  specs?: Record<string, unknown[]>;
}

/**
 * The specs of a new entry when the artifact's entries take different ones: those of the entry
 * it wraps (fns.k, vjpOf(fns.k), jvpOf(fns.k)), else the one set of specs among the entries' at
 * which it traces (grad(fns.k) traces only at k's: an imported function refuses other symbolic
 * shapes), else an ArgumentError asking for `specs`.
 */
function addedSpecs(key: string, e: ModuleEntry, entries: LoadedEntry[], own: Map<string, unknown[]>, distinct: string[], what: string, facts: DimFacts): unknown[] {
  const f = typeof e === "function" ? e : (e as { f?: unknown })?.f;
  const direct = entries.find((x) => x.fn === f);
  if (direct) return own.get(direct.ir.key)!;
  const fits = distinct.filter((k) => {
    try {
      traceAtSpecs(f as (...a: unknown[]) => unknown, own.get(k)!, what, { ...NO_RULES, facts });
      return true;
    } catch {
      return false;
    }
  });
  if (fits.length === 1) return own.get(fits[0]!)!;
  const choices = distinct.map((k) => `${k}'s`).join(", ");
  throw new ArgumentError(
    `${what}: the artifact's entries take different argument specs, and the new entry ${JSON.stringify(key)} ${fits.length ? `traces at several of them (${fits.join(", ")}'s)` : `traces at none of them (${choices})`}; ` +
      `give its specs: extendModule(artifact, add, { specs: { ${key}: [spec(...), ...] } })`,
  );
}
