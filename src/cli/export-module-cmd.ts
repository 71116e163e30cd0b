// `adgen export` of several functions into one module (`--fn loss --fn loss:grad --fn
// step=loss:vjp`: adgen's exportModule, one runtime and one constant pool), and of derivatives
// added to an exported artifact without its source (`adgen export build/model.manifest.json
// --fn loss:vjp`: extendModule, which re-exports the artifact's entries from its IR and adds the
// new ones at its own argument specs). Prints what was written and each function's signature.

import * as fs from "node:fs";
import path from "node:path";
import { readRegularFile } from "../core/fs-guard.js";
import type { ParsedSpec } from "./spec-parse.js";
import type { Manifest } from "../aot/manifest.js";
import { exportNameProblem } from "../aot/names.js";
import { CliError, UsageError } from "./errors.js";
import type { ExportArgs } from "./export-cmd.js";
import { loadUserModule, pickFunction } from "./export-cmd.js";
import { type FnEntry, type ParsedArgs, mapTree } from "./export-args.js";
import { type Api, type Fn, exportFailure, gradArgnums, writeAndList } from "./export-shared.js";
import { signature } from "./inspect-cmd.js";

export interface ModuleJob extends ExportArgs {
  entries: FnEntry[];
  parsed: ParsedArgs;
  constraints: string[];
}

type Exported = { manifest: Manifest; write(dir: string): Promise<string[]> };

/** The module's name: --name, else the user module's (or artifact's) file name as an identifier. */
function moduleName(a: ModuleJob): string {
  if (a.name !== undefined) return a.name;
  const base = path.basename(a.module).replace(/\.manifest\.json$|\..*$/, "").replace(/[^A-Za-z0-9_$]/g, "_").replace(/^(?=\d)/, "_");
  return exportNameProblem(base) === null ? base : "module";
}

function entryFor(api: Api, e: FnEntry, f: Fn, leaves: ParsedArgs["leaves"]): unknown {
  if (e.mode === "value") return f;
  if (e.mode === "jvp") return api.jvpOf!(f);
  if (e.mode === "vjp") return api.vjpOf!(f);
  return api.grad(f, { argnums: gradArgnums(leaves).argnums });
}

/** The leaves of each argument of an artifact's entry `key` (from its manifest's inputs: paths "0.W1", "1"). */
function artifactLeaves(m: Manifest, key: string): ParsedArgs["leaves"] {
  const fn = m.functions.find((f) => f.name === key || f.name === `${key}_forward`) ?? m.functions[0];
  const out: ParsedArgs["leaves"] = [];
  for (const x of fn?.inputs ?? []) {
    const i = Number(/^\d+/.exec(x.path)?.[0] ?? NaN);
    if (Number.isInteger(i)) (out[i] ??= []).push({ dtype: x.dtype as ParsedSpec["dtype"], shape: [] });
  }
  return out;
}

export async function runModuleExport(a: ModuleJob, print: (line: string) => void): Promise<void> {
  const keys = new Map<string, string>();
  for (const e of a.entries) {
    const bad = exportNameProblem(e.key);
    if (bad) throw new UsageError(`adgen export: --fn ${e.fn}:${e.mode} would export ${JSON.stringify(e.key)}, which ${bad}; name it: --fn <key>=${e.fn}:${e.mode}`);
    if (keys.has(e.key)) throw new UsageError(`adgen export: two --fn export ${JSON.stringify(e.key)}; name one: --fn <key>=${e.fn}:${e.mode}`);
    keys.set(e.key, e.fn);
  }
  const name = moduleName(a);
  const opts = { name, backend: a.backend ?? "wasm", ...(a.bundle !== undefined ? { bundle: a.bundle } : {}), ...(a.constraints.length ? { constraints: a.constraints } : {}) };
  let e: Exported;
  let source: string;
  if (/\.json$/.test(a.module)) {
    // an exported artifact: its functions come from its IR, its argument specs with them
    if (a.parsed.args.length) throw new UsageError(`adgen export: ${a.module} is an exported artifact: its own argument specs are used; drop --arg/--spec`);
    const api = (await import("../index.js")) as Api;
    source = `${a.module} (extended)`;
    if (!fs.existsSync(a.module)) throw new CliError(`adgen: no such file: ${a.module}`);
    let art: Manifest;
    try {
      art = JSON.parse(readRegularFile(fs, a.module).toString("utf8")) as Manifest;
    } catch (err) {
      throw new CliError(`adgen export: ${a.module} is not an adgen manifest (${(err as Error).message.replace(/\s+/g, " ")})`);
    }
    try {
      e = api.extendModule!(
        a.module,
        (fns) =>
          Object.fromEntries(
            a.entries.map((en) => {
              const f = fns[en.fn];
              if (!f) throw new CliError(`adgen export: ${a.module} has no entry ${JSON.stringify(en.fn)} (entries: ${Object.keys(fns).join(", ")})`);
              return [en.key, entryFor(api, en, f as Fn, artifactLeaves(art, en.fn))];
            }),
          ) as never,
        opts,
      );
    } catch (err) {
      throw exportFailure(err, "");
    }
  } else {
    const { mod, api } = await loadUserModule(a);
    if (!api.exportModule || !api.vjpOf || !api.jvpOf) throw new CliError(`adgen export: the adgen installation ${a.module} imports has no exportModule; upgrade it, or run its own adgen`);
    const fns = a.entries.map((en) => pickFunction(a, mod, en.fn));
    const specs = a.parsed.args.map((t) => mapTree(t, (p) => api.spec(p.dtype, p.shape)));
    const first = fns.find((f) => f.length > a.parsed.args.length);
    if (!a.parsed.args.length && first) throw new UsageError(`adgen export: missing --arg: ${first.name || "the function"} takes ${first.length} argument${first.length > 1 ? "s" : ""}; give one --arg <spec> per argument (or --spec file.json)`);
    source = a.module;
    try {
      e = api.exportModule(Object.fromEntries(a.entries.map((en, i) => [en.key, entryFor(api, en, fns[i]!, a.parsed.leaves)])) as never, specs, opts);
    } catch (err) {
      throw exportFailure(err, "");
    }
  }
  const m = e.manifest;
  const what = a.entries.map((en) => `${en.key} (${en.mode === "value" ? "" : `${en.mode} of `}${en.fn})`).join(", ");
  await writeAndList(e, a.out, `exported ${m.name}: ${what} from ${source} (${m.kind} export, adgen ${m.adgenVersion})`, "", print);
  for (const fn of m.functions) print(`  ${signature(fn)}`);
  print(`  symbolic dims: ${m.symbolicDims.length ? m.symbolicDims.map((d) => `${d.name} (${d.constraints.join(", ")})`).join(", ") : "none"}`);
  if (m.sizes) print(`  sizes: runtime ${m.sizes.runtime}, kernels ${m.sizes.kernels}, constants ${m.sizes.constants} bytes${m.runtime ? ` (+ ${m.runtime.file}, ${m.runtime.bytes} bytes, shared)` : ""}`);
  const mod = path.join(a.out, m.files.module).split(path.sep).join("/");
  print(`  use: import { ${m.functions.map((fn) => fn.name).join(", ")} } from "${path.isAbsolute(mod) || mod.startsWith("../") ? mod : `./${mod}`}";`);
}
