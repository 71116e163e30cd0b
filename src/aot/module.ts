// Assembles the source of a standalone exported ES module from lowered programs: the embedded
// runtime, the constants (base64), each program's generated kernels, and for each exported
// function a wrapper that converts and checks its arguments (dtype, rank, sizes, symbolic
// dimensions consistent across arguments, each symbol >= 1), runs the program (its arena planned
// now, or per binding of the symbols by the embedded planner from lower/memory.ts's schedule) and
// builds pytree results of {data, shape, dtype}. The runtimes (planner, WebAssembly memory and
// program runner, matmul) are the jit's own (src/runtime/), embedded once per module or imported
// from the shared runtime file (shared-runtime.ts). All
// generated names come from indices; user strings (names of object keys, the function name) only
// ever appear inside JSON string literals, except the export name, a checked identifier
// (names.ts) that appears only in `export { $f0 as <name> }`, never as a binding, so it cannot
// shadow the module's helpers or the globals they use.

import type { ShapedArray } from "../core/aval.js";
import type { Tensor } from "../core/tensor.js";
import { type TreeDef, numLeaves } from "../core/tree.js";
import { ARRAY, DimJs, generateJs } from "../backends/js/codegen.js";
import { bytesToBase64 } from "../ir/serialize.js";
import { type LoweredProgram, allKernels } from "../lower/kernel-ir.js";
import { memorySchedule, planMemory } from "../lower/memory.js";
import { type DonationPlan, donationFor } from "../lower/memory-donate.js";
import { byteSize } from "../core/dtype.js";
import { jsNumber } from "../backends/js/scalar.js";
import { wasmRunnerCode } from "./wasm-runner.js";
import { type SharedRuntime, runtimeSection } from "./shared-runtime.js";
import { callsArrayJs, checkCalls, standaloneSources } from "./calls.js";
import { type ShapeSpec, constraintChecks, shapeChecks } from "./shape-checks.js";
import { type DimRules, NO_RULES, symbolsOf } from "./dim-rules.js";

/** One input group of an exported function: a pytree argument and the leaves' declared types. */
export interface ArgGroup {
  /** "x", "params", "residuals", ... (used in error messages) */
  label: string;
  tree: TreeDef;
  leaves: ShapedArray[];
}

export interface ModuleFunction {
  /** exported JS name (validated identifier) */
  name: string;
  lowered: LoweredProgram;
  args: ArgGroup[];
  /** the result tree; its leaves are the program outputs in order */
  outTree: TreeDef;
  /** wrap the result as {out, residuals} with this many trailing residual outputs */
  residualOutputs?: number;
  /** input leaf positions the caller donates: results may be written into their arrays (lower/memory-donate.ts) */
  donate?: number[];
}

const js = (v: unknown) => JSON.stringify(v);

/** Access paths of every leaf of a tree value held in `root` (e.g. a0["W1"], a1[0]). */
function leafAccess(def: TreeDef, root: string, label: string): { expr: string; path: string; checks: string[] }[] {
  const out: { expr: string; path: string; checks: string[] }[] = [];
  const rec = (d: TreeDef, expr: string, path: string, checks: string[]) => {
    switch (d.kind) {
      case "leaf":
        out.push({ expr, path, checks });
        return;
      case "none":
        return;
      case "array": {
        const c = `if (!Array.isArray(${expr}) || ${expr}.length !== ${d.children.length}) $fail(${js(`argument ${label}${path}: expected an array of ${d.children.length}`)});`;
        d.children.forEach((ch, i) => rec(ch, `${expr}[${i}]`, `${path}[${i}]`, [...checks, c]));
        return;
      }
      case "object": {
        const c = `if (${expr} === null || typeof ${expr} !== "object") $fail(${js(`argument ${label}${path}: expected an object`)});`;
        d.keys.forEach((k, i) => rec(d.children[i]!, `${expr}[${js(k)}]`, `${path}.${k}`, [...checks, c]));
        return;
      }
    }
  };
  rec(def, root, "", []);
  return out;
}

/** JS building a pytree from leaf expressions. */
function buildTree(def: TreeDef, leaves: string[]): string {
  let i = 0;
  const rec = (d: TreeDef): string => {
    switch (d.kind) {
      case "leaf":
        return leaves[i++]!;
      case "none":
        return String(d.value);
      case "array":
        return `[${d.children.map(rec).join(", ")}]`;
      case "object":
        // computed keys: a literal "__proto__": v would set the prototype instead of a property
        return `{ ${d.keys.map((k, j) => `[${js(k)}]: ${rec(d.children[j]!)}`).join(", ")} }`;
    }
  };
  return rec(def);
}

/** Arena set-up for one program: static (planned now) or per binding of its symbols. */
function arenaCode(lp: LoweredProgram, id: string, d: DimJs, sched = memorySchedule(lp)): { decls: string[]; get: string } {
  const temps = lp.buffers.filter((b) => b.kind === "temp");
  const views = (arena: string, off: (bid: number) => string, size: (bid: number) => string) =>
    `const t = []; ${temps.map((b) => `t[${b.id}] = new ${ARRAY[b.dtype]}(${arena}, ${off(b.id)}, ${size(b.id)});`).join(" ")} return t;`;
  if (lp.symbols.length === 0) {
    const plan = planMemory(lp, lp.buffers.map((b) => b.size as number), sched);
    // allocated on first use (a module whose WebAssembly runs never needs it)
    return {
      decls: [
        `let $T${id} = null;`,
        `function $temps${id}() { return ($T${id} ??= (() => { const arena = $arena(${Math.max(8, plan.arenaBytes)}); ${views("arena", (b) => String(plan.offsets[b]), (b) => String(lp.buffers[b]!.size))} })()); }`,
      ],
      get: `$temps${id}()`,
    };
  }
  // the planner's schedule as data; sizes as expressions of the symbols
  const sym = lp.symbols.map((s, i) => `const ${d.sym(s)} = S[${i}];`).join(" ");
  return {
    decls: [
      `const $P${id} = new Map();`,
      `function $temps${id}(S) {`,
      `  const key = S.join(",");`,
      `  let t = $P${id}.get(key);`,
      `  if (t) return t;`,
      `  ${sym}`,
      `  const p = $planArena(${js(sched)}, [${lp.buffers.map((b) => d.js(b.size)).join(", ")}], ${js(lp.buffers.map((b) => byteSize(b.dtype)))});`,
      `  const arena = $arena(Math.max(8, p.end));`,
      `  t = (() => { ${views("arena", (b) => `p.offsets[${b}]`, (b) => d.js(lp.buffers[b]!.size))} })();`,
      `  if ($P${id}.size >= 8) $P${id}.delete($P${id}.keys().next().value);`,
      `  $P${id}.set(key, t);`,
      `  return t;`,
      `}`,
    ],
    get: `$temps${id}(S)`,
  };
}

/**
 * `$donated<idx>(temps, inputs, S)`: the JS form's temps with the buffers the donation plan puts in
 * donated inputs viewing those inputs' arrays (an output of the input's dtype and size is the
 * array itself); unchanged when a donated array shares memory with another input.
 */
function donatedTempsCode(lp: LoweredProgram, idx: number, d: DimJs, don: DonationPlan): string[] {
  const pos = (root: number) => lp.inputs.indexOf(root);
  const roots = [...new Set(don.aliases.values())].map(pos);
  const sets = [...don.aliases].map(([b, root]) => {
    const buf = lp.buffers[b]!, n = d.js(buf.size), src = `ins[${pos(root)}]`;
    const same = buf.dtype === lp.buffers[root]!.dtype ? `${src} instanceof ${ARRAY[buf.dtype]} && ${src}.length === ${n} ? ${src} : ` : "";
    return `t[${b}] = ${same}new ${ARRAY[buf.dtype]}(${src}.buffer, ${src}.byteOffset, ${n});`;
  });
  const syms = lp.symbols.map((s, i) => `const ${d.sym(s)} = S[${i}];`).join(" ");
  return [
    `function $donated${idx}(t, ins, S) {`,
    `  const shares = (a, b) => a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;`,
    `  for (const r of ${js(roots)}) for (let j = 0; j < ins.length; j++) if (j !== r && shares(ins[r], ins[j])) return t;`,
    `  ${syms}`,
    `  t = t.slice();`,
    ...sets.map((l) => `  ${l}`),
    `  return t;`,
    `}`,
  ];
}

function functionCode(f: ModuleFunction, idx: number, constIds: (t: Tensor) => number, wasm: boolean, rules: DimRules): string[] {
  const lp = f.lowered;
  checkCalls([lp]);
  // the arguments' symbols (the user's, or the program's for a backward's residuals), then the
  // program's own where declared constraints rewrote the user's (B = 2*B/2)
  const argSyms = symbolsOf(f.args.flatMap((g) => g.leaves));
  // user symbols the arguments do not hold but determine (B where they hold B/2): computed, then checked
  const computed = rules.rewrites.filter((r) => !argSyms.includes(r.symbol) && !lp.symbols.includes(r.symbol) && typeof r.def !== "number" && r.def.symbols().every((s) => argSyms.includes(s)));
  const d = new DimJs([...new Set([...lp.symbols, ...argSyms, ...computed.map((r) => r.symbol)])]);
  // the JavaScript kernels (readable; the fallback where WebAssembly is missing) ...
  const lines = [`// ---- ${f.name}: ${lp.kernels.length} kernels (${wasm ? "WebAssembly, with this JavaScript as the readable fallback" : "JavaScript"}) ----`];
  const factory = generateJs(lp, f.name);
  lines.push(
    `const $run${idx} = (function (consts, calls, matmul) {`,
    ...factory.split("\n").map((l) => "  " + l),
    `})([${lp.consts.map((c) => `$C${constIds(c.value)}`).join(", ")}], ${callsArrayJs(lp, d)}, matmul);`,
  );
  // donated inputs: the planner's in-place plan (the arena without the aliased temporaries)
  const donation = f.donate?.length ? donationFor(lp, f.donate) : null;
  const don = donation?.aliases.size ? donation : null;
  const arena = arenaCode(lp, String(idx), d, don?.schedule);
  lines.push(...arena.decls);
  let temps = arena.get;
  if (don) {
    lines.push(...donatedTempsCode(lp, idx, d, don));
    temps = `$donated${idx}(${arena.get}, [${lp.inputs.map((_, i) => `d${i}`).join(", ")}], S)`;
  }
  let runCall = (datas: string[]) => `$run${idx}([${datas.join(", ")}], ${temps}, S)`;
  // ... and the same program as WebAssembly (what runs when the engine has it)
  if (wasm) {
    lines.push(...wasmRunnerCode(lp, idx, d, constIds, don));
    const js = runCall;
    runCall = (datas) => `$wrun${idx}([${datas.join(", ")}], S) ?? ${js(datas)}`;
  }
  const params = f.args.map((_, i) => `a${i}`);
  const body: string[] = [`if (arguments.length !== ${f.args.length}) $fail(${js(`${f.name} takes ${f.args.length} argument(s), got `)} + arguments.length);`];
  const specs: ShapeSpec[] = [];
  const datas: string[] = [];
  let leaf = 0;
  f.args.forEach((g, gi) => {
    const acc = leafAccess(g.tree, `a${gi}`, g.label);
    if (acc.length !== numLeaves(g.tree)) throw new Error("export: argument tree mismatch");
    const seen = new Set<string>();
    acc.forEach((a, li) => {
      for (const c of a.checks) if (!seen.has(c)) (seen.add(c), body.push(c));
      const aval = g.leaves[li]!;
      const what = `argument ${g.label}${a.path} (${aval.dtype})`;
      body.push(`const [d${leaf}, sh${leaf}] = $toArray(${a.expr}, ${js(aval.dtype)}, ${js(`argument ${g.label}${a.path}`)});`);
      specs.push({ what, shape: aval.shape, sh: `sh${leaf}` });
      datas.push(`d${leaf}`);
      leaf++;
    });
  });
  body.push(...shapeChecks(specs, d, argSyms, f.name), ...constraintChecks(rules.checks, d, argSyms));
  for (const r of computed) body.push(`const ${d.sym(r.symbol)} = ${d.js(r.def)};`);
  body.push(...constraintChecks(rules.checks, d, computed.map((r) => r.symbol)));
  // each rewritten user symbol equals its definition: that solves the program's other symbols
  // (B = 2*B/2) and checks relations between the arguments' (T == S + 1)
  const derived = lp.symbols.filter((s) => !argSyms.includes(s));
  const rel = rules.rewrites.filter((r) => argSyms.includes(r.symbol));
  if (rel.length) {
    const relSpecs: ShapeSpec[] = rel.map((r) => ({
      what: r.text,
      shape: [r.def],
      sh: `[${d.sym(r.symbol)}]`,
      message: `${js(`the arguments bind ${r.symbol} = `)} + ${d.sym(r.symbol)} + ${js(`, which violates the declared constraint ${r.text}`)}`,
    }));
    body.push(...shapeChecks(relSpecs, d, derived, f.name, argSyms), ...constraintChecks(rules.checks, d, derived));
  }
  // declared inequalities between the user's symbols (T <= S): the shape rules assumed them
  for (const q of rules.inequalities) {
    const syms = [...new Set([q.lhs, q.rhs].flatMap((x) => (typeof x === "number" ? [] : x.symbols())))].sort();
    if (!syms.every((s) => argSyms.includes(s))) continue;
    const vals = syms.map((s, i) => `${js(`${i ? ", " : ""}${s} = `)} + ${d.sym(s)}`).join(" + ");
    body.push(`if (!(${d.js(q.lhs)} <= ${d.js(q.rhs)})) $fail(${js("the arguments bind ")} + ${vals} + ${js(`, which violates the declared constraint ${q.text}`)});`);
  }
  body.push(`const S = [${lp.symbols.map((s) => d.sym(s)).join(", ")}];`);
  // a RangeError of an allocation (the arena, the outputs) becomes an AdgenModuleError naming it
  body.push(`let outs;`, `try { outs = ${runCall(datas)}; } catch (e) { $memoryError(e); }`);
  // outputs: buffers come back in buffer-id order; inputs/constants/literals are wrapped here
  const outBufs = lp.buffers.filter((b) => b.kind === "output").map((b) => b.id);
  const nRes = f.residualOutputs ?? 0;
  const results = lp.outputs.map((o, i) => {
    const a = lp.outAvals[i]!;
    // a residual that is an input is the caller's array itself (the residual ABI says "input")
    if (o.kind === "input" && i >= lp.outputs.length - nRes) return `$result(d${o.index}, ${`[${a.shape.map((x) => d.js(x)).join(", ")}]`}, ${js(a.dtype)})`;
    const shape = `[${a.shape.map((x) => d.js(x)).join(", ")}]`;
    const data =
      o.kind === "buffer"
        ? `outs[${outBufs.indexOf(o.buf)}]`
        : o.kind === "input"
          ? `d${o.index}.slice()`
          : o.kind === "const"
            ? `$C${constIds(o.value)}.slice()`
            : `${ARRAY[o.dtype]}.of(${jsNumber(o.value)})`; // jsNumber: keeps -0 (template text would print 0)
    return `$result(${data}, ${shape}, ${js(a.dtype)})`;
  });
  const outLeaves = results.slice(0, results.length - nRes);
  const ret = nRes
    ? `{ out: ${buildTree(f.outTree, outLeaves)}, residuals: [${results.slice(results.length - nRes).join(", ")}] }`
    : buildTree(f.outTree, outLeaves);
  body.push(`return ${ret};`);
  lines.push(`function $f${idx}(${params.join(", ")}) {`, ...body.map((l) => "  " + l), `}`, `export { $f${idx} as ${f.name} };`);
  return lines;
}

/** Byte sizes of a module's parts (UTF-8): its runtime section, its kernels and wrappers, its constants. */
export interface SizeSplit {
  runtime: number;
  kernels: number;
  constants: number;
  total: number;
}

export interface ModuleText {
  source: string;
  /** the shared runtime file the module imports (null when bundled) */
  shared: SharedRuntime | null;
  sizes: SizeSplit;
}

const utf8 = (s: string) => new TextEncoder().encode(s).length;

/**
 * The complete module source. `header` lines become a leading comment. `backend` "wasm" embeds
 * each program as WebAssembly (what jit runs by default), "js" as generated JavaScript. `bundle`
 * embeds the runtime (one file importing nothing), else the module imports the shared runtime.
 */
export function moduleSource(name: string, header: string[], fns: ModuleFunction[], defaultExport: string | null, backend: "wasm" | "js" = "wasm", bundle = true, rules: DimRules = NO_RULES): ModuleText {
  // one pool for every function: a constant is embedded once, keyed by its dtype and exact bytes
  // (the same parameters closed over by loss, grad and vjp are one array; -0 and NaN payloads kept)
  const consts: Tensor[] = [];
  const byTensor = new Map<Tensor, number>();
  const byContent = new Map<string, number>();
  const constIds = (t: Tensor) => {
    let i = byTensor.get(t);
    if (i === undefined) {
      const key = `${t.dtype}:${bytesToBase64(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))}`;
      i = byContent.get(key);
      if (i === undefined) byContent.set(key, (i = consts.push(t) - 1));
      byTensor.set(t, i);
    }
    return i;
  };
  const wasm = backend === "wasm";
  const bodies = fns.map((f, i) => functionCode(f, i, constIds, wasm, rules));
  const usesMatmul = fns.some((f) => allKernels(f.lowered.kernels).some((k) => k.kind === "dot"));
  const gemmDtypes = fns.flatMap((f) => allKernels(f.lowered.kernels).flatMap((k) => (k.kind === "dot" && (k.dtype === "float32" || k.dtype === "float64") ? [k.dtype] : [])));
  const constLines = consts.map((c, i) => `const $C${i} = $decode(${js(bytesToBase64(new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength)))}, ${js(c.dtype)});`);
  const code = [...bodies.flat(), defaultExport !== null ? `export default $f${fns.findIndex((f) => f.name === defaultExport)};` : ""];
  const needs = { symbols: fns.some((f) => f.lowered.symbols.length > 0), wasm, matmul: usesMatmul, gemm: gemmDtypes, standalone: standaloneSources(fns.map((f) => f.lowered)) };
  const rt = runtimeSection(name, [...constLines, ...code].join("\n"), needs, bundle);
  const head = header.map((h) => `// ${h}`).join("\n");
  const constText = constLines.join("\n");
  const codeText = code.join("\n");
  const source = [head, rt.text, constText, codeText, ""].join("\n");
  const runtime = utf8(rt.text);
  const constants = utf8(constText);
  const total = utf8(source);
  return { source, shared: rt.shared, sizes: { runtime, constants, kernels: total - runtime - constants, total } };
}
