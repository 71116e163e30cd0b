// `adgen export <module> --fn <name> --arg <spec>...`: imports the user's module, exports one of
// its functions (its value, its gradient, its split VJP or its JVP) at the given argument specs
// with adgen's AOT export, writes the module, its .d.mts and manifest, and prints a summary.
// With --onnx the same function and specs go to the ONNX export instead (export-onnx.ts).

import * as fs from "node:fs";
import { existsSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Manifest } from "../aot/manifest.js";
import { readRegularFile } from "../core/fs-guard.js";
import { exportNameProblem } from "../aot/names.js";
import { CliError, UsageError } from "./errors.js";
import { signature, sumBytes } from "./inspect-cmd.js";
import { onnxNameProblem, runOnnxExport } from "./export-onnx.js";
import { type Api, type Fn, exportFailure, gradArgnums, oneLine, writeAndList } from "./export-shared.js";
import { type ExportMode, mapTree, parseArgs, parseFn } from "./export-args.js";

export type { ExportMode };

export interface ExportArgs {
  module: string;
  fn: string;
  args: string[];
  mode: ExportMode;
  /** every --fn given (several: one module exporting each; see export-args.ts for the syntax) */
  fns?: string[];
  /** whether a mode flag (--grad, ...) was given, rather than defaulted */
  modeFlag?: boolean;
  /** a JSON file of argument specs (pytrees allowed) instead of --arg */
  specFile?: string;
  /** --constraint: declared constraints on symbolic dimensions */
  constraints?: string[];
  /** --bundle (true) / --shared (false): embed the runtime or import the shared runtime file */
  bundle?: boolean;
  out: string;
  name?: string;
  /** kernels of the module: WebAssembly (default) or JavaScript */
  backend?: "wasm" | "js";
  /** write ONNX models (export-onnx.ts) instead of an ES module */
  onnx?: boolean;
}

const MODULE_EXT = /\.(m?js|cjs|m?ts|cts)$/;
const TS_EXT = /\.(m?ts|cts)$/;

/**
 * Lets Node import TypeScript: nothing to do when the CLI itself runs under tsx; else tsx's ESM
 * and CommonJS loaders (a .ts file outside a "type": "module" package is CommonJS to tsx).
 */
async function enableTypeScript(file: string): Promise<void> {
  if (import.meta.url.endsWith(".ts")) return;
  const from = (spec: string): string[] => {
    const out = [spec];
    try {
      out.push(pathToFileURL(createRequire(file).resolve(spec)).href);
    } catch {
      /* not installed next to the module */
    }
    return out;
  };
  let ok = false;
  for (const api of ["tsx/esm/api", "tsx/cjs/api"]) {
    for (const c of from(api)) {
      try {
        const tsx = (await import(c)) as { register?: () => unknown };
        if (typeof tsx.register !== "function") continue;
        tsx.register();
        ok = true;
        break;
      } catch {
        /* try the next candidate */
      }
    }
  }
  if (ok || (process.features as { typescript?: unknown }).typescript) return; // or Node strips types itself
  throw new CliError(
    `adgen export: ${path.basename(file)} is TypeScript and tsx is not installed: npm i -D tsx (then rerun), or compile it to .js (tsc) and export that`,
  );
}

/** Whether the nearest package.json above `dir` says "type": "module". */
function isEsmPackage(dir: string): boolean {
  for (;;) {
    const pj = path.join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        return (JSON.parse(readRegularFile(fs, pj).toString("utf8")) as { type?: string }).type === "module";
      } catch {
        return false;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}


/**
 * The adgen instance the user's module uses: tracing works only when the function's np calls and
 * the export run in the same copy of adgen. When the module's directory resolves another
 * installation of "adgen" (say a project-local one while this CLI is global), that one is used.
 */
async function adgenFor(file: string): Promise<Api> {
  try {
    // always the package entry the module itself gets when it imports "adgen" (also for our own
    // installation: its entry is a bundle, a different module instance from this CLI's sources)
    const pj = createRequire(file).resolve("adgen/package.json");
    const root = realpathSync(path.dirname(pj));
    const pkg = JSON.parse(readRegularFile(fs, pj).toString("utf8")) as { main?: string; exports?: { ".": { import?: string } } };
    const entry = pkg.exports?.["."]?.import ?? pkg.main;
    if (entry) {
      const api = (await import(pathToFileURL(path.join(root, entry)).href)) as Partial<Api>;
      if (api.exportFunction && api.exportVjp && api.exportJvp && api.grad && api.spec) return api as Api;
    }
  } catch {
    /* no other installation: use ours */
  }
  return (await import("../index.js")) as Api;
}

/** The user's module (its exports) and the adgen instance it uses. */
export async function loadUserModule(a: { module: string }): Promise<{ mod: Record<string, unknown>; api: Api }> {
  const st = (() => {
    try {
      return statSync(a.module);
    } catch {
      return null;
    }
  })();
  if (!st) throw new CliError(`adgen: no such file: ${a.module}`);
  if (st.isDirectory()) throw new CliError(`adgen export: ${a.module} is a directory; give the module file (.js, .mjs, .ts, .mts)`);
  // importing a FIFO or a device would block forever
  if (!st.isFile()) throw new CliError(`adgen export: ${a.module} is not a regular file (a FIFO, device or socket); give the module file`);
  if (!MODULE_EXT.test(a.module)) throw new CliError(`adgen export: ${a.module} is not a JavaScript or TypeScript module (.js, .mjs, .cjs, .ts, .mts, .cts)`);
  const file = path.resolve(a.module);
  if (TS_EXT.test(file)) await enableTypeScript(file);
  const api = await adgenFor(file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const hint = /\.ts$/.test(file) && !isEsmPackage(path.dirname(file)) ? ` (note: a .ts file outside a "type": "module" package loads as CommonJS; rename it to .mts or add "type": "module" to package.json)` : "";
    throw new CliError(`adgen export: cannot load ${a.module}: ${oneLine(e)}${hint}`);
  }
  return { mod, api };
}

/** The module's export `name`, which must be a function. */
export function pickFunction(a: { module: string }, mod: Record<string, unknown>, name: string): Fn {
  const fns = Object.keys(mod).filter((k) => typeof mod[k] === "function" && k !== "default");
  const list = fns.length ? `exports: ${fns.join(", ")}` : "it exports no functions";
  if (!(name in mod)) throw new CliError(`adgen export: ${a.module} has no export named ${JSON.stringify(name)} (${list})`);
  const f = mod[name];
  if (typeof f !== "function") throw new CliError(`adgen export: export ${JSON.stringify(name)} of ${a.module} is a ${f === null ? "null" : typeof f}, not a function (${list})`);
  return f as Fn;
}

async function loadUserFunction(a: ExportArgs): Promise<{ f: Fn; api: Api }> {
  const { mod, api } = await loadUserModule(a);
  return { f: pickFunction(a, mod, a.fn), api };
}

function defaultName(a: ExportArgs, f: Fn): string {
  // a JavaScript identifier; an ONNX model name also excludes "$"
  const valid = (n: string) => exportNameProblem(a.mode === "value" ? n : `${n}_${a.mode}`) === null && !(a.onnx && n.includes("$"));
  let base = a.fn;
  if (!valid(base)) base = valid(f.name) ? f.name : path.basename(a.module).replace(/\..*$/, "").replace(/[^A-Za-z0-9_$]/g, "_").replace(/^(?=\d)/, "_");
  if (!valid(base)) base = "exported";
  return a.mode === "value" ? base : `${base}_${a.mode}`;
}

export async function runExport(a: ExportArgs, print: (line: string) => void, warn: (line: string) => void): Promise<void> {
  const bad = a.name === undefined ? null : a.onnx ? onnxNameProblem(a.name) : exportNameProblem(a.name);
  if (bad) throw new UsageError(`adgen export: bad --name ${JSON.stringify(a.name)}: ${bad.replace(/^is /, "")}`);
  // several --fn, a keyed one, or an exported artifact to extend: one module of several functions
  const entries = (a.fns ?? [a.fn]).map((t) => parseFn(t, a.modeFlag ? a.mode : undefined));
  if (entries.length > 1 && a.modeFlag) throw new UsageError(`adgen export: with several --fn, give each its mode (--fn ${entries[0]!.fn}:${a.mode}) instead of --${a.mode}`);
  const pa = parseArgs(a.args, a.specFile);
  const constraints = [...pa.constraints, ...(a.constraints ?? [])];
  if (entries.length > 1 || entries[0]!.keyed || /\.json$/.test(a.module)) {
    if (a.onnx) throw new UsageError(`adgen export: --onnx exports one function (one --fn <name> and a mode flag)`);
    const { runModuleExport } = await import("./export-module-cmd.js");
    return runModuleExport({ ...a, entries, parsed: pa, constraints }, print);
  }
  if (a.onnx && (constraints.length || a.bundle !== undefined)) throw new UsageError(`adgen export: ${constraints.length ? "--constraint" : a.bundle ? "--bundle" : "--shared"} applies to ES module exports, not --onnx`);
  a = { ...a, fn: entries[0]!.fn, mode: entries[0]!.mode };
  const { f, api } = await loadUserFunction(a);
  if (pa.args.length === 0 && f.length > 0) {
    throw new UsageError(`adgen export: missing --arg: ${a.fn} takes ${f.length} argument${f.length > 1 ? "s" : ""}; give one --arg <spec> per argument, e.g. --arg "float32[B,784]"`);
  }
  const fewer = pa.args.length < f.length ? `${a.fn} declares ${f.length} parameters but ${pa.args.length} --arg ${pa.args.length === 1 ? "was" : "were"} given` : "";
  const specs = pa.args.map((t) => mapTree(t, (p) => api.spec(p.dtype, p.shape)));
  const name = a.name ?? defaultName(a, f);
  if (a.onnx) return runOnnxExport({ a, f, api, specs, parsed: pa.leaves, name, fewer }, print, warn);
  let e: { manifest: Manifest; write(dir: string): Promise<string[]> };
  let note = "";
  try {
    const opts = { name, backend: a.backend ?? "wasm", ...(a.bundle !== undefined ? { bundle: a.bundle } : {}), ...(constraints.length ? { constraints } : {}) };
    if (a.mode === "value") e = api.exportFunction(f, specs, opts);
    else if (a.mode === "vjp") e = api.exportVjp(f, specs, opts);
    else if (a.mode === "jvp") e = api.exportJvp(f, specs, opts);
    else {
      const g = gradArgnums(pa.leaves);
      note = g.note;
      e = api.exportFunction(api.grad(f, { argnums: g.argnums }), specs, opts);
    }
  } catch (err) {
    throw exportFailure(err, fewer);
  }
  if (fewer) warn(`adgen export: warning: ${fewer}`);
  const m = e.manifest;
  const what = { value: "", grad: "gradient of ", vjp: "split VJP of ", jvp: "JVP of " }[a.mode];
  await writeAndList(e, a.out, `exported ${m.name}: ${what}${a.module}#${a.fn} (${m.kind} export, adgen ${m.adgenVersion}, IR hash ${m.irHash})`, note, print);
  for (const fn of m.functions) print(`  ${signature(fn)}`);
  print(`  symbolic dims: ${m.symbolicDims.length ? m.symbolicDims.map((d) => `${d.name} (${d.constraints.join(", ")})`).join(", ") : "none"}`);
  if (m.kind === "vjp") print(`  residuals: ${m.residuals.length}, ${sumBytes(m.residuals.map((r) => r.bytes))} (adgen inspect ${a.out} for the table)`);
  const exported = m.functions.length === 1 ? `${m.name}` : m.functions.map((fn) => fn.name).join(", ");
  const mod = path.join(a.out, m.files.module).split(path.sep).join("/");
  print(`  use: import { ${exported} } from "${path.isAbsolute(mod) || mod.startsWith("../") ? mod : `./${mod}`}";`);
}
