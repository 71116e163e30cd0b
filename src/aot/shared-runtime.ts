// The runtime of exported modules as one factory, `$adgenRuntime($NAME, $OPTS)`, whose body is
// the runtime texts (argument checking, arena planner, WebAssembly memory and program runner,
// matmul with its GEMM, scalar prelude, standalone primitive kernels such as Threefry: all written
// once in src/runtime and beside their primitives) and which returns every name they declare.
// A module either embeds the factory with only the parts it needs (`bundle: true`: one file that
// imports nothing) or imports the complete factory from a shared file, adgen-runtime-<hash>.mjs,
// written once beside any number of modules (separate compilation: modules then grow by their
// kernels and constants only). Either way the module calls the factory once with its name (for
// error messages) and the GEMM functions to warm up, and destructures the names its code uses.
// The shared file is named by the hash of its text, so modules of different adgen versions or
// settings never overwrite each other's runtime.

import { config } from "../core/config.js";
import { hashString } from "../ir/serialize.js";
import { ARENA_JS } from "../runtime/arena.js";
import { WASM_PROGRAM_JS } from "../runtime/wasm/memory.js";
import { JS_PRELUDE } from "../backends/js/scalar.js";
import { primitives } from "../higher-order/registry.js";
import { RUNTIME_CORE, matmulRuntime, wasmMemorySource } from "./runtime.js";
import { wasmImportsSource } from "./wasm-runner.js";

/** What a module's code needs of the runtime. */
export interface RuntimeNeeds {
  /** shape-polymorphic programs (the arena planner) */
  symbols: boolean;
  /** WebAssembly kernels (memory, program runner, imports) */
  wasm: boolean;
  /** matrix products at all, and the float dtypes multiplied by GEMM */
  matmul: boolean;
  gemm: ("float32" | "float64")[];
  /** standalone sources of fallback call kernels */
  standalone: string[];
}

/**
 * Names the runtime texts declare at their top level: their public names all start with `$`
 * (core/runtime-text.ts binds every runtime's results so), plus the module helpers below. Inner
 * names are skipped (texts need not be compacted, so a nested declaration may start a line too).
 */
function declaredNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/^(?:const|let|var|function|class)\s*(\{[^}]*\}|\[[^\]]*\]|[$\w]+)/gm)) {
    const d = m[1]!;
    if (d.startsWith("{")) for (const n of d.slice(1, -1).split(",")) names.add(n.split(":").pop()!.trim());
    else if (d.startsWith("[")) for (const n of d.slice(1, -1).split(",")) names.add(n.trim());
    else names.add(d);
  }
  return [...names].filter((n) => n.startsWith("$") || n === "matmul" || n === "AdgenModuleError");
}

/** The factory around runtime parts, and the names it returns. */
function factory(parts: string[]): { text: string; names: string[] } {
  const body = parts.filter(Boolean).join("\n");
  const names = declaredNames(body);
  return { text: `function $adgenRuntime($NAME, $OPTS) {\n${body}\nreturn { ${names.join(", ")} };\n}`, names };
}

/** The runtime parts a module needs (bundle mode). */
function neededParts(n: RuntimeNeeds): string[] {
  return [
    RUNTIME_CORE,
    n.symbols ? ARENA_JS : "",
    n.wasm || n.gemm.length ? wasmMemorySource() : "",
    n.matmul ? matmulRuntime(config.fastMatmulMinWork, n.gemm) : "const matmul = null;",
    ...n.standalone,
    ...(n.wasm ? [JS_PRELUDE, wasmImportsSource()] : []),
    n.wasm ? WASM_PROGRAM_JS : "",
  ];
}

/** Every runtime part (the shared file): GEMM for both float dtypes, warmed up as $OPTS.prime says. */
function allParts(): string[] {
  const standalone = [...new Set([...primitives.values()].flatMap((p) => (p.standalone ? [p.standalone.source] : [])))];
  return [
    RUNTIME_CORE,
    ARENA_JS,
    wasmMemorySource(),
    matmulRuntime(config.fastMatmulMinWork, ["float32", "float64"], "$OPTS.prime"),
    ...standalone,
    JS_PRELUDE,
    wasmImportsSource(),
    WASM_PROGRAM_JS,
  ];
}

export interface SharedRuntime {
  /** adgen-runtime-<hash>.mjs */
  file: string;
  source: string;
  names: string[];
}

let shared: { key: string; rt: SharedRuntime } | null = null;

/** The shared runtime module (for the current settings: GEMM threshold, WebAssembly limits). */
export function sharedRuntime(): SharedRuntime {
  const parts = allParts();
  const key = hashString(parts.join("\n"));
  if (shared?.key === key) return shared.rt;
  const f = factory(parts);
  const source = [
    `// The runtime shared by modules exported by adgen (argument checks, arena planner, WebAssembly`,
    `// memory and program runner, matmul and GEMM, scalar math, random bits) -- do not edit.`,
    `// Modules import it by this file name, which is the hash of its content.`,
    `export ${f.text}`,
    "",
  ].join("\n");
  const rt = { file: `adgen-runtime-${hashString(source).slice(0, 12)}.mjs`, source, names: f.names };
  shared = { key, rt };
  return rt;
}

/** Names of `names` that `code` refers to (a `$` may start or appear inside an identifier). */
function usedNames(names: string[], code: string): string[] {
  const ids = new Set(code.match(/[$\w]+/g) ?? []);
  return names.filter((n) => ids.has(n));
}

/**
 * The runtime section of a module whose own code is `code`: the embedded factory (bundle) or the
 * import of the shared file, then one call binding the names the code uses.
 */
export function runtimeSection(name: string, code: string, needs: RuntimeNeeds, bundle: boolean): { text: string; shared: SharedRuntime | null } {
  const prime = JSON.stringify([...new Set(needs.gemm)].map((d) => (d === "float32" ? "sgemm" : "dgemm")));
  if (bundle) {
    const f = factory(neededParts(needs));
    return { text: `${f.text}\nconst { ${usedNames(f.names, code).join(", ")} } = $adgenRuntime(${JSON.stringify(name)}, {});`, shared: null };
  }
  const rt = sharedRuntime();
  return {
    text: `import { $adgenRuntime } from "./${rt.file}";\nconst { ${usedNames(rt.names, code).join(", ")} } = $adgenRuntime(${JSON.stringify(name)}, { prime: ${prime} });`,
    shared: rt,
  };
}
