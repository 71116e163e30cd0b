// `adgen inspect <dir | manifest.json>`: reads the manifest of an exported module and prints its
// signature, symbolic dimensions, residual ABI, kernels, arena size, its size split (runtime,
// kernels, constants; the shared runtime file it imports) and the sizes of its files;
// for an ONNX export (`adgen export --onnx`, format adgen-onnx) each model's inputs and outputs,
// opset, dim_params and residual ABI. Also holds the signature formatting that `adgen export` reuses.

import * as fs from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { readRegularFile } from "../core/fs-guard.js";
import path from "node:path";
import { MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, type ManifestArray } from "../aot/manifest.js";
import type { OnnxManifest } from "../onnx/export.js";
import { CliError } from "./errors.js";

type Fn = Manifest["functions"][number];
type JsonDim = number | string;

export const typeText = (a: { dtype: string; shape: JsonDim[] }): string => `${a.dtype}[${a.shape.join(",")}]`;

/** "label: type, ..." with the arrays of one top-level argument grouped ("residuals: 5 arrays"). */
function arraysText(arrays: ManifestArray[], single: string): string {
  if (arrays.length === 1 && arrays[0]!.path === single) return typeText(arrays[0]!);
  const groups = new Map<string, ManifestArray[]>();
  for (const a of arrays) {
    const label = a.path.split(/[[.]/)[0]!;
    groups.set(label, [...(groups.get(label) ?? []), a]);
  }
  return [...groups]
    .map(([label, as]) => (as.length > 4 ? `${label}: ${as.length} arrays` : as.map((a) => `${a.path}: ${typeText(a)}`).join(", ")))
    .join(", ");
}

export function signature(f: Fn): string {
  return `${f.name}(${arraysText(f.inputs, "\0")}) -> ${arraysText(f.outputs, "out")}`;
}

export function fmtBytes(n: number): string {
  const s = `${n.toLocaleString("en-US")} bytes`;
  return n < 1024 ? s : n < 1024 ** 2 ? `${s} (${(n / 1024).toFixed(1)} KiB)` : `${s} (${(n / 1024 ** 2).toFixed(1)} MiB)`;
}

/** Sum of residual sizes such as 31360, "3136*B", "40*B" -> "31360 + 3176*B" (bytes). */
export function sumBytes(sizes: (JsonDim | undefined)[]): string {
  let n = 0;
  const sym = new Map<string, number>();
  const other: string[] = [];
  for (const s of sizes) {
    if (typeof s === "number") n += s;
    else if (s === undefined) other.push("?");
    else {
      const m = /^(\d+)\*(.+)$/.exec(s);
      if (m) sym.set(m[2]!, (sym.get(m[2]!) ?? 0) + Number(m[1]));
      else other.push(s);
    }
  }
  const parts = [...(n || (!sym.size && !other.length) ? [String(n)] : []), ...[...sym].map(([k, c]) => `${c}*${k}`), ...other];
  return `${parts.join(" + ")} bytes`;
}

function table(rows: string[][], indent = "  "): string[] {
  const w = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows.map((r) => indent + r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(w[j]!))).join("  ").trimEnd());
}

/** Finds and validates the manifest named by `target` (a manifest, a module next to one, or a directory). */
export async function loadManifest(target: string): Promise<{ file: string; manifest: Manifest | OnnxManifest }> {
  const st = await stat(target).catch(() => null);
  if (!st) throw new CliError(`adgen: no such file: ${target}`);
  let file = target;
  if (st.isDirectory()) {
    const found = (await readdir(target)).filter((f) => f.endsWith(".manifest.json")).sort();
    if (found.length === 0) throw new CliError(`adgen inspect: no *.manifest.json in ${target}`);
    if (found.length > 1) throw new CliError(`adgen inspect: ${target} holds ${found.length} manifests (${found.join(", ")}); name one`);
    file = path.join(target, found[0]!);
  } else if (/\.(mjs|d\.mts)$/.test(target)) {
    const m = target.replace(/\.(mjs|d\.mts)$/, ".manifest.json");
    if (await stat(m).catch(() => null)) file = m;
  }
  let data: unknown;
  try {
    data = JSON.parse(readRegularFile(fs, file).toString("utf8")); // never blocks on a FIFO
  } catch (e) {
    throw new CliError(`adgen inspect: ${file} is not an adgen manifest (not JSON: ${(e as Error).message.replace(/\s+/g, " ")})`);
  }
  const m = data as Partial<Manifest> | null;
  const o = data as Partial<OnnxManifest> | null;
  if (o && typeof o === "object" && o.format === "adgen-onnx") {
    if (typeof o.version !== "number" || o.version > 1) throw new CliError(`adgen inspect: ${file} has ONNX manifest version ${String(o.version)}; this adgen reads version 1 (upgrade adgen)`);
    if (!Array.isArray(o.models) || !Array.isArray(o.residuals) || !Array.isArray(o.symbolicDims)) throw new CliError(`adgen inspect: ${file} is a malformed adgen ONNX manifest (models, residuals or symbolicDims missing)`);
    return { file, manifest: o as OnnxManifest };
  }
  if (!m || typeof m !== "object" || m.format !== MANIFEST_FORMAT) {
    throw new CliError(`adgen inspect: ${file} is not an adgen manifest (no "format": "${MANIFEST_FORMAT}" field)`);
  }
  if (typeof m.version !== "number" || m.version > MANIFEST_VERSION) {
    throw new CliError(`adgen inspect: ${file} has manifest version ${String(m.version)}; this adgen reads version ${MANIFEST_VERSION} (upgrade adgen)`);
  }
  if (!Array.isArray(m.functions) || !m.files || !Array.isArray(m.symbolicDims)) {
    throw new CliError(`adgen inspect: ${file} is a malformed adgen manifest (functions, symbolicDims or files missing)`);
  }
  return { file, manifest: m as Manifest };
}

async function fileRows(dir: string, names: string[]): Promise<string[]> {
  const rows: string[][] = [];
  for (const name of names) {
    const s = await stat(path.join(dir, name)).catch(() => null);
    rows.push([name, s ? fmtBytes(s.size) : "(missing)"]);
  }
  return table(rows);
}

async function inspectOnnx(file: string, m: OnnxManifest, print: (line: string) => void): Promise<void> {
  const dir = path.dirname(file);
  print(`${m.name}  (ONNX ${m.kind} export)`);
  print(`  manifest   ${file}`);
  print(`  adgen      ${m.adgenVersion}, manifest format ${m.format} v${m.version}`);
  print(`  ONNX       opset ${m.opset}, IR version ${m.irVersion}`);
  print(`  IR hash    ${m.irHash}`);
  for (const model of m.models) {
    print("");
    print(`model ${model.role}: ${model.file}`);
    print("  inputs:");
    for (const line of table(model.inputs.map((a) => [a.name, a.dtype, `[${a.shape.join(",")}]`]), "    ")) print(line);
    print("  outputs:");
    for (const line of table(model.outputs.map((a) => [a.name, a.dtype, `[${a.shape.join(",")}]`]), "    ")) print(line);
  }
  print("");
  print(`symbolic dims: ${m.symbolicDims.length ? `${m.symbolicDims.join(", ")} (ONNX dim_params)` : "none (all shapes static)"}`);
  if (m.kind === "vjp") {
    print("");
    print(`residuals (${m.residuals.length}; forward returns them after the outputs, backward takes them first, in this order):`);
    const rows = [["name", "dtype", "shape", "producedBy"], ...m.residuals.map((r) => [r.name, r.dtype, `[${r.shape.join(",")}]`, r.producedBy])];
    for (const line of table(rows)) print(line);
  }
  print("");
  print(`files (in ${dir}):`);
  for (const line of await fileRows(dir, [...m.files.models, m.files.manifest])) print(line);
}

export async function runInspect(target: string, print: (line: string) => void): Promise<void> {
  const loaded = await loadManifest(target);
  if (loaded.manifest.format === "adgen-onnx") return inspectOnnx(loaded.file, loaded.manifest, print);
  const { file } = loaded;
  const m = loaded.manifest as Manifest;
  const dir = path.dirname(file);
  print(`${m.name}  (${m.kind} export)`);
  print(`  manifest   ${file}`);
  print(`  adgen      ${m.adgenVersion}, manifest format ${m.format} v${m.version}`);
  print(`  IR hash    ${m.irHash}`);
  for (const f of m.functions) {
    print("");
    print(`function ${signature(f)}`);
    print("  inputs:");
    for (const line of table(f.inputs.map((a) => [a.path, a.dtype, `[${a.shape.join(",")}]`]), "    ")) print(line);
    print("  outputs:");
    for (const line of table(f.outputs.map((a) => [a.path, a.dtype, `[${a.shape.join(",")}]`]), "    ")) print(line);
    print(`  kernels (${f.kernels.length}):`);
    f.kernels.forEach((k, i) => print(`    ${String(i).padStart(2)}  ${k}`));
    print(`  arena: ${typeof f.arenaBytes === "number" ? fmtBytes(f.arenaBytes) : `${f.arenaBytes} (sized when the symbolic dims are bound)`}`);
  }
  print("");
  if (m.symbolicDims.length) {
    print("symbolic dims:");
    for (const d of m.symbolicDims) print(`  ${d.name}: ${d.constraints.join(", ") || "(no constraints)"}`);
    for (const d of m.derivedDims ?? []) print(`  ${d.name} = ${d.definition}`);
  } else print("symbolic dims: none (all shapes static)");
  const res = m.residuals ?? [];
  const byRef = new Set((m.residualInputs ?? []).map((r) => r.residual));
  if (m.kind === "vjp" || res.length) {
    print("");
    print(`residuals (${res.length}, ${sumBytes(res.map((r) => r.bytes))}; forward returns them, backward takes them in this order):`);
    if (res.length) {
      const rows = [["name", "dtype", "shape", "bytes", "producedBy"], ...res.map((r, i) => [r.name, r.dtype, `[${r.shape.join(",")}]`, String(r.bytes ?? "?"), `${r.producedBy}${byRef.has(i) ? " (the caller's array, not a copy)" : ""}`])];
      for (const line of table(rows)) print(line);
    }
  }
  if (m.sizes) {
    const s = m.sizes;
    print("");
    print(`module size: ${fmtBytes(s.total)} = runtime ${s.runtime} + kernels ${s.kernels} + constants ${s.constants}`);
    print(m.runtime ? `  runtime: imported from ${m.runtime.file} (${fmtBytes(m.runtime.bytes)}, shared by every module in ${dir})` : "  runtime: embedded (a single file that imports nothing)");
  }
  if (m.ir?.length) print(`IR: ${m.ir.map((e) => `${e.key} (${e.kind}, adgen-ir v${e.version})`).join(", ")}; load back with importModule`);
  print("");
  print(`files (in ${dir}):`);
  for (const line of await fileRows(dir, [m.files.module, m.files.types, m.files.manifest, ...(m.files.runtime ? [m.files.runtime] : [])])) print(line);
}
