// Several functions in one exported module (public API): `exportModule({ loss: f, grad: grad(f),
// step: vjpOf(f, {argnums: 0}), tangent: jvpOf(f) }, argSpecs, {name})`. Every entry is traced at
// the same specs; a plain function becomes a value export under its key, `vjpOf(f)` the pair
// `<key>_forward` / `<key>_backward`, `jvpOf(f)` one `<key>` taking primals then tangents. The
// module holds one runtime (imported from the shared runtime file by default, embedded with
// `{bundle: true}`) and one constant pool (parameters closed over by several entries are embedded
// once), and its manifest carries each entry's IR for importModule.

import { ArgumentError } from "../core/errors.js";
import { checkOptions, is } from "../core/options.js";
import { type Entry, type ExportOptions, type Exported, exportOptionsSchema, exportRules, finish, jvpEntry, traceAtSpecs, valueEntry, vjpEntry } from "./export.js";
import { exportNameProblem } from "./names.js";
import { type DimFacts, withDimFacts } from "../core/shape.js";

const MARK = Symbol("adgen.exportEntry");

/** A reverse-mode entry of exportModule: exports `<key>_forward` and `<key>_backward`. */
export interface VjpOf {
  readonly [MARK]: "vjp";
  readonly f: (...args: any[]) => unknown;
  readonly argnums?: number | number[];
}

/** A forward-mode entry of exportModule: exports `<key>(...primals, ...tangents) -> {out, tangents}`. */
export interface JvpOf {
  readonly [MARK]: "jvp";
  readonly f: (...args: any[]) => unknown;
}

/** Marks f for exportModule as a reverse-mode split (forward + backward), optionally with argnums. */
export function vjpOf(f: (...args: any[]) => unknown, opts: { argnums?: number | number[] } = {}): VjpOf {
  if (typeof f !== "function") throw new ArgumentError(`vjpOf: expected a function, got ${f === null ? "null" : typeof f}`);
  checkOptions("vjpOf", opts, { argnums: is.either(is.int(), is.arrayOf(is.int(), "integers")) });
  return { [MARK]: "vjp", f, ...(opts.argnums !== undefined ? { argnums: opts.argnums } : {}) };
}

/** Marks f for exportModule as a forward-mode (JVP) export. */
export function jvpOf(f: (...args: any[]) => unknown, opts?: Record<string, never>): JvpOf {
  if (typeof f !== "function") throw new ArgumentError(`jvpOf: expected a function, got ${f === null ? "null" : typeof f}`);
  checkOptions("jvpOf", opts, {}); // (it takes none: a typo such as {argnums} is not silently ignored)
  return { [MARK]: "jvp", f };
}

export type ModuleEntry = ((...args: any[]) => unknown) | VjpOf | JvpOf;

export interface ModuleExportOptions extends ExportOptions {
  /** true: embed the runtime (one file importing nothing); default false: import the shared runtime file */
  bundle?: boolean;
}

/**
 * One module exporting every entry of `entries` (see the file comment for the names). `argSpecs`
 * is one list of argument specs for every entry, or an object giving each entry its own list
 * ({ loss: [spec(...), spec(...)], predict: [spec(...)] }); the declared constraints then apply
 * to the symbols of all of them.
 */
export function exportModule(entries: Record<string, ModuleEntry>, argSpecs: unknown[] | Record<string, unknown[]>, opts: ModuleExportOptions = {}): Exported {
  return exportModuleWith(entries, argSpecs, opts);
}

/** exportModule, with facts the shape rules may also assume (extendModule: those its artifact's IR was traced under). */
export function exportModuleWith(entries: Record<string, ModuleEntry>, argSpecs: unknown[] | Record<string, unknown[]>, opts: ModuleExportOptions, extraFacts?: DimFacts): Exported {
  checkOptions("exportModule", opts, exportOptionsSchema);
  if (entries === null || typeof entries !== "object" || Array.isArray(entries)) throw new ArgumentError("exportModule: entries must be an object { exportName: function | vjpOf(f) | jvpOf(f) }");
  const name = opts.name ?? "module";
  const why = exportNameProblem(name);
  if (why) throw new ArgumentError(`exportModule: name ${JSON.stringify(name)} ${why}; pass another {name}`);
  const keys = Object.keys(entries);
  if (!keys.length) throw new ArgumentError("exportModule: entries is empty");
  const specsOf = entrySpecs(argSpecs, keys);
  const rules = exportRules(keys.flatMap((k) => specsOf(k)), opts.constraints, `export ${name}`);
  const facts = mergeFacts(rules.facts, extraFacts);
  const withFacts = { ...rules, facts };
  return withDimFacts(facts, () => {
    const built: Entry[] = [];
    const taken = new Map<string, string>();
    const claim = (n: string, key: string) => {
      const bad = exportNameProblem(n);
      if (bad) throw new ArgumentError(`exportModule: entry ${JSON.stringify(key)} would export ${JSON.stringify(n)}, which ${bad}`);
      if (taken.has(n)) throw new ArgumentError(`exportModule: entries ${JSON.stringify(taken.get(n))} and ${JSON.stringify(key)} both export ${JSON.stringify(n)}`);
      taken.set(n, key);
      return n;
    };
    for (const key of keys) {
      const e = entries[key] as ModuleEntry;
      const what = `exportModule: entry ${JSON.stringify(key)}`;
      const specs = specsOf(key);
      if (typeof e === "function") built.push(valueEntry(traceAtSpecs(e, specs, what, withFacts), claim(key, key)));
      else if (e && typeof e === "object" && e[MARK] === "vjp") {
        const names: [string, string] = [claim(`${key}_forward`, key), claim(`${key}_backward`, key)];
        built.push(vjpEntry(traceAtSpecs(e.f, specs, what, withFacts), key, names, e.argnums, what));
      } else if (e && typeof e === "object" && e[MARK] === "jvp") built.push(jvpEntry(traceAtSpecs(e.f, specs, what, withFacts), claim(key, key)));
      else throw new ArgumentError(`${what} must be a function, vjpOf(f) or jvpOf(f), got ${e === null ? "null" : typeof e}`);
    }
    return finish(name, "module", built, opts, false, withFacts);
  });
}

/** The argument specs of each entry: the one list, or the entry's own (an object keyed by entry). */
function entrySpecs(argSpecs: unknown, keys: string[]): (key: string) => unknown[] {
  if (Array.isArray(argSpecs)) return () => argSpecs;
  if (argSpecs === null || typeof argSpecs !== "object") throw new ArgumentError("exportModule: argSpecs must be an array of specs (every entry's) or an object { entryKey: [specs] }");
  const per = argSpecs as Record<string, unknown>;
  for (const k of Object.keys(per)) if (!keys.includes(k)) throw new ArgumentError(`exportModule: argSpecs names ${JSON.stringify(k)}, which is not an entry (${keys.join(", ")})`);
  for (const k of keys) if (!Array.isArray(per[k])) throw new ArgumentError(`exportModule: argSpecs has no list of specs for entry ${JSON.stringify(k)}`);
  return (k) => per[k] as unknown[];
}

/** Both sets of facts: the tighter bound of each symbol, every non-negative polynomial. */
function mergeFacts(a: DimFacts, b: DimFacts | undefined): DimFacts {
  if (!b) return a;
  const bounds: Record<string, { min?: number; max?: number }> = { ...a.bounds };
  for (const [s, v] of Object.entries(b.bounds)) {
    const w = bounds[s] ?? {};
    const min = Math.max(w.min ?? 0, v.min ?? 0);
    const max = Math.min(w.max ?? Infinity, v.max ?? Infinity);
    bounds[s] = max === Infinity ? { min } : { min, max };
  }
  return { bounds, nonneg: [...(a.nonneg ?? []), ...(b.nonneg ?? [])] };
}
