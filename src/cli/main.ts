#!/usr/bin/env node
// The `adgen` command: `adgen export` (ahead-of-time export of a function from a module),
// `adgen inspect` (print an export's manifest) and `adgen cache clear` (delete the jit disk cache). A small flag parser, help texts, and error
// reporting: one line on stderr, exit code 2 for usage errors and 1 for failures (ADGEN_DEBUG=1
// adds the stack trace). The commands are loaded on demand so that --help stays fast.

import { ADGEN_VERSION } from "../core/version.js";
import { CliError, UsageError } from "./errors.js";
import { closestName } from "../core/options.js";
import type { ExportMode } from "./export-cmd.js";

const HELP = `adgen ${ADGEN_VERSION}: automatic differentiation for TypeScript, ahead-of-time export

Usage:
  adgen export <module> --fn <name> --arg <spec>... [--grad | --vjp | --jvp | --value] --out <dir> [--name <id>] [--js | --onnx]
  adgen export <module> --fn <name>[:<mode>] --fn ... (--arg <spec>... | --spec <file.json>) --out <dir>
  adgen export <artifact.manifest.json> --fn <entry>:<mode>... --out <dir>
  adgen inspect <dir | manifest.json>
  adgen cache clear <cacheDir>
  adgen <command> --help
  adgen --version

Commands:
  export    compile a function of a module (or its gradient, VJP, JVP) to a standalone ES module
            (or, with --onnx, to ONNX models for ONNX Runtime)
  inspect   print the signature, symbolic dims, residuals, kernels and files of an export
  cache     clear: delete the jit disk cache (config.cacheDir) in a directory

Examples:
  adgen export model.mjs --fn loss --arg "float32[784,10]" --arg "float32[B,784]" --grad --out build/
  adgen inspect build/

Set ADGEN_DEBUG=1 to see stack traces of errors.`;

const EXPORT_HELP = `Usage: adgen export <module> --fn <name> --arg <spec>... [mode] --out <dir> [--name <id>] [--js | --onnx]
       adgen export <module> --fn <name>[:<mode>] --fn ... (--arg <spec>... | --spec <file>) --out <dir>
       adgen export <artifact.manifest.json> --fn <entry>:<mode>... --out <dir> [--name <id>]

Imports <module> (.js/.mjs; .ts/.mts when tsx is installed), traces its export <name> at the
argument specs and writes <id>.mjs (a standalone ES module: it imports nothing), <id>.d.mts and
<id>.manifest.json into <dir>. With --onnx it writes ONNX models (opset 18) and
<id>.manifest.json instead: <id>.onnx, or <id>.forward.onnx and <id>.backward.onnx for --vjp.

Options:
  --fn <name>      the exported function of the module to export ("default" for the default export)
  --arg <spec>     one per argument, in order: a dtype and a bracketed shape, e.g.
                     float32[B,784]   float64[3]   int32[]   float32[2*B,T+1]
                   dtypes: float32, float64, int32, bool; dimensions: integers or symbolic
                   expressions of named dims (B, 2*B, T+1, B*T) bound when the module is called.
                   Each --arg is one tensor (pytree arguments: --spec).
  --spec <file>    the argument specs as JSON instead of --arg: an array with one entry per
                   argument, each a spec string or an object/array of them (a pytree argument),
                   or {"args": [...], "constraints": ["B % 8 == 0"]}
  --constraint <c> a declared constraint on a symbolic dim, checked when the module is called and
                   used by the shape rules: "B >= 2", "B <= 4096", "B % 8 == 0", "B == 2*K"
  --bundle         embed the runtime: one file that imports nothing (the default for one --fn)
  --shared         import the shared runtime file adgen-runtime-<hash>.mjs, written beside the
                   module once for every module in <dir> (the default for several --fn)
  --out <dir>      output directory (created if needed; files of the same name are replaced)
  --name <id>      module and function name (default: <name>, <name>_grad, <name>_vjp, <name>_jvp)
  --js             generated JavaScript kernels instead of WebAssembly (for engines without it)
  --onnx           ONNX models for ONNX Runtime (onnxruntime-node, onnxruntime-web) instead of a
                   module; symbolic dims become dim_params, inputs/outputs are named arg0, out, ...
Several functions in one module: give --fn once per entry as <name>, <name>:<mode> or
<key>=<name>:<mode> (mode: value, grad, vjp, jvp; the key defaults to <name> or <name>_<mode>);
a vjp entry exports <key>_forward and <key>_backward. The module is named --name (default: the
module's file name). Given an exported artifact (<id>.manifest.json, which carries its IR) instead
of a module, --fn names its entries: the new module holds the artifact's entries and the added
ones (e.g. --fn loss:vjp), without the original source.
Mode (one of, for a single --fn):
  --value          the function itself (default)
  --grad           its gradient with respect to every float argument (returns one per argument)
  --vjp            split reverse mode: forward(...args) -> {out, residuals}, backward(residuals, outBar)
                   (with --onnx: two models, and int32/bool arguments get no cotangent)
  --jvp            forward mode: f(...primals, ...tangents) -> {out, tangents}

Examples:
  adgen export model.mjs --fn predict --arg "float32[784,10]" --arg "float32[B,784]" --out build/
  adgen export model.mjs --fn loss --arg "float32[784,10]" --arg "float32[B,784]" --vjp --out build/
  adgen export src/model.ts --fn loss --arg "float64[3]" --grad --name lossGrad --out build/
  adgen export model.mjs --fn loss --arg "float32[784,10]" --arg "float32[B,784]" --grad --onnx --out build/
  adgen export model.mjs --fn loss --fn loss:grad --fn step=loss:vjp --spec specs.json --out build/
  adgen export build/model.manifest.json --fn loss:jvp --out build/`;

const INSPECT_HELP = `Usage: adgen inspect <dir | manifest.json | module.mjs>

Prints an export's name, kind, adgen version and IR hash, each function's signature (inputs and
outputs with dtypes and shapes), the symbolic dims and their constraints, the residual ABI (name,
dtype, shape, bytes, producedBy) of a --vjp export, the kernels, the arena size and the sizes of
the files; for an --onnx export each model's inputs and outputs, the opset and the dim_params.
A directory must hold exactly one *.manifest.json.

Example:
  adgen inspect build/loss_vjp.manifest.json`;

const CACHE_HELP = `Usage: adgen cache clear <cacheDir>

Deletes the jit disk cache that config.cacheDir = <cacheDir> created: the entries and temp files
in its own subfolder (<cacheDir>/adgen-jit-v<N>/), then that subfolder if nothing else is in it.
Other files in <cacheDir> (a shared directory) are never touched.`;

type Kind = "bool" | "string" | "list";
type Values = Record<string, string | boolean | string[] | undefined>;

/** Parses `--flag value`, `--flag=value`, repeated list flags, booleans and positionals (`--` ends flags). */
function parseFlags(cmd: string, argv: string[], flags: Record<string, Kind>): { positional: string[]; values: Values } {
  const positional: string[] = [];
  const values: Values = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a === "-h") {
      values.help = true;
      continue;
    }
    if (!a.startsWith("-") || a === "-") {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.startsWith("--") ? a.slice(2, eq < 0 ? undefined : eq) : "";
    const kind = flags[name];
    if (!kind) {
      const guess = a.startsWith("--") ? closestName(name, Object.keys(flags)) : undefined;
      throw new UsageError(`adgen ${cmd}: unknown flag ${JSON.stringify(eq < 0 ? a : a.slice(0, eq))} (${guess ? `did you mean "--${guess}"? ` : ""}see adgen ${cmd} --help)`);
    }
    if (kind === "bool") {
      if (eq >= 0) throw new UsageError(`adgen ${cmd}: --${name} takes no value`);
      values[name] = true;
      continue;
    }
    let v: string | undefined = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || (eq < 0 && v.startsWith("--"))) throw new UsageError(`adgen ${cmd}: --${name} needs a value`);
    if (kind === "list") values[name] = [...((values[name] as string[] | undefined) ?? []), v];
    else if (values[name] !== undefined) throw new UsageError(`adgen ${cmd}: --${name} given twice`);
    else values[name] = v;
  }
  return { positional, values };
}

function onePositional(cmd: string, positional: string[], what: string): string {
  if (positional.length === 0) throw new UsageError(`adgen ${cmd}: missing ${what} (see adgen ${cmd} --help)`);
  if (positional.length > 1) throw new UsageError(`adgen ${cmd}: unexpected argument ${JSON.stringify(positional[1])} (one ${what} only)`);
  return positional[0]!;
}

const print = (line: string) => void process.stdout.write(line + "\n");
const warn = (line: string) => void process.stderr.write(line + "\n");

async function exportCommand(argv: string[]): Promise<void> {
  const flags: Record<string, Kind> = { fn: "list", arg: "list", spec: "string", constraint: "list", bundle: "bool", shared: "bool", out: "string", name: "string", js: "bool", onnx: "bool", grad: "bool", vjp: "bool", jvp: "bool", value: "bool", help: "bool" };
  const { positional, values: v } = parseFlags("export", argv, flags);
  if (v.help) return print(EXPORT_HELP);
  const module = onePositional("export", positional, "<module>");
  const modes = (["value", "grad", "vjp", "jvp"] as const).filter((m) => v[m]);
  if (modes.length > 1) throw new UsageError(`adgen export: choose one of ${modes.map((m) => `--${m}`).join(", ")}`);
  const fns = (v.fn as string[] | undefined) ?? [];
  if (!fns.length) throw new UsageError(`adgen export: missing --fn <name> (the function to export)`);
  if (v.bundle && v.shared) throw new UsageError(`adgen export: choose one of --bundle, --shared`);
  if (v.out === undefined) throw new UsageError(`adgen export: missing --out <dir> (where to write the module)`);
  if (v.js && v.onnx) throw new UsageError(`adgen export: --js chooses the kernels of an ES module; it does not apply to --onnx`);
  const { runExport } = await import("./export-cmd.js");
  const mode: ExportMode = modes[0] ?? "value";
  const args = (v.arg as string[] | undefined) ?? [];
  const extra = { fns, modeFlag: modes.length > 0, specFile: v.spec as string | undefined, constraints: (v.constraint as string[] | undefined) ?? [], ...(v.bundle || v.shared ? { bundle: v.bundle === true } : {}) };
  await runExport({ module, fn: fns[0]!, args, mode, out: v.out as string, name: v.name as string | undefined, backend: v.js ? "js" : "wasm", onnx: v.onnx === true, ...extra }, print, warn);
}

async function inspectCommand(argv: string[]): Promise<void> {
  const { positional, values: v } = parseFlags("inspect", argv, { help: "bool" });
  if (v.help) return print(INSPECT_HELP);
  const target = onePositional("inspect", positional, "<dir | manifest.json>");
  const { runInspect } = await import("./inspect-cmd.js");
  await runInspect(target, print);
}

async function cacheCommand(argv: string[]): Promise<void> {
  const { positional, values: v } = parseFlags("cache", argv, { help: "bool" });
  if (v.help) return print(CACHE_HELP);
  const [action, ...rest] = positional;
  if (action !== "clear") throw new UsageError(`adgen cache: ${action === undefined ? "missing action" : `unknown action ${JSON.stringify(action)}`} (adgen cache clear <cacheDir>)`);
  const dir = onePositional("cache clear", rest, "<cacheDir>");
  const { clearDiskCache } = await import("../jit/disk-cache.js");
  const n = clearDiskCache(dir);
  print(`deleted ${n} file${n === 1 ? "" : "s"} of the adgen jit cache in ${dir}`);
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = { export: exportCommand, inspect: inspectCommand, cache: cacheCommand };

function suggestion(word: string): string {
  const best = closestName(word, Object.keys(COMMANDS));
  return best ? ` (did you mean "${best}"?)` : ` (commands: ${Object.keys(COMMANDS).join(", ")})`;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError(`adgen: missing command (export or inspect; see adgen --help)`);
  if (cmd === "--help" || cmd === "-h" || cmd === "help") {
    const sub = rest[0];
    return print(sub === "export" ? EXPORT_HELP : sub === "inspect" ? INSPECT_HELP : sub === "cache" ? CACHE_HELP : HELP);
  }
  if (cmd === "--version" || cmd === "-v" || cmd === "-V") return print(ADGEN_VERSION);
  const run = COMMANDS[cmd];
  if (!run) {
    if (cmd.startsWith("-")) throw new UsageError(`adgen: unknown flag ${JSON.stringify(cmd)} (see adgen --help)`);
    throw new UsageError(`adgen: unknown command ${JSON.stringify(cmd)}${suggestion(cmd)}`);
  }
  await run(rest);
}

async function exit(code: number): Promise<never> {
  await new Promise<void>((r) => process.stdout.write("", () => r()));
  await new Promise<void>((r) => process.stderr.write("", () => r()));
  process.exit(code);
}

// output piped into a reader that stops early (adgen inspect dir | head): end quietly
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

try {
  await main(process.argv.slice(2));
  await exit(0);
} catch (e) {
  const debug = process.env.ADGEN_DEBUG === "1";
  if (e instanceof CliError) warn(e.message);
  else {
    const msg = e instanceof Error ? e.message : String(e);
    const line = msg.replace(/\s+/g, " ").trim();
    warn(`adgen: ${e instanceof Error && e.name !== "Error" ? `${e.name}: ` : ""}${line}${debug ? "" : " (set ADGEN_DEBUG=1 for the stack trace)"}`);
  }
  if (debug && e instanceof Error && e.stack) warn(e.stack);
  await exit(e instanceof CliError ? e.exitCode : 1);
}
