// `adgen export ... --onnx`: the same function, argument specs and mode as the module export, written
// as ONNX models instead (src/onnx: opset 18, symbolic dims as dim_params): --value and --grad one
// model <id>.onnx, --vjp <id>.forward.onnx and <id>.backward.onnx (residual ABI in the manifest and
// the models' metadata), --jvp one model taking primals then tangents; plus <id>.manifest.json.
// Prints each model's inputs and outputs and how to open it with ONNX Runtime.

import type { OnnxExported, OnnxValueInfo } from "../onnx/export.js";
import { CliError } from "./errors.js";
import { type Api, type Fn, exportFailure, gradArgnums, writeAndList } from "./export-shared.js";
import { typeText } from "./inspect-cmd.js";
import type { ParsedSpec } from "./spec-parse.js";

/** Why `name` cannot name an ONNX export (null when it can); the rule of exportOnnx's `name`. */
export function onnxNameProblem(name: string): string | null {
  return /^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(name) ? null : "must consist of letters, digits, _ and - (an ONNX model and file name)";
}

export interface OnnxJob {
  a: { module: string; fn: string; mode: "value" | "grad" | "vjp" | "jvp"; out: string; backend?: "wasm" | "js" };
  f: Fn;
  api: Api;
  specs: unknown[];
  /** the leaves of each argument */
  parsed: ParsedSpec[][];
  name: string;
  /** a warning when fewer --arg than declared parameters were given ("" when not) */
  fewer: string;
}

/** "name: type, ..." with a long run of residuals folded ("r0..r11: 12 residuals"). */
function valuesText(vs: OnnxValueInfo[]): string {
  const res = vs.filter((v) => /^r\d+$/.test(v.name));
  const shown = res.length > 3 ? vs.filter((v) => !res.includes(v)) : vs;
  const parts = shown.map((v) => `${v.name}: ${typeText(v)}`);
  if (shown !== vs) parts.splice(vs.indexOf(res[0]!), 0, `${res[0]!.name}..${res[res.length - 1]!.name}: ${res.length} residuals`);
  return parts.join(", ");
}

export async function runOnnxExport(j: OnnxJob, print: (line: string) => void, warn: (line: string) => void): Promise<void> {
  const { a, f, api, specs, name } = j;
  if (a.backend === "js") throw new CliError("adgen export: --js chooses the kernels of an ES module; it does not apply to --onnx");
  if (!api.exportOnnx || !api.exportOnnxVjp || !api.exportOnnxJvp) {
    throw new CliError(`adgen export: the adgen installation ${a.module} imports has no ONNX export (exportOnnx); upgrade it, or run its own adgen`);
  }
  let e: OnnxExported;
  let note = "";
  try {
    const opts = { name };
    if (a.mode === "value") e = api.exportOnnx(f, specs, opts);
    else if (a.mode === "vjp") e = api.exportOnnxVjp(f, specs, opts);
    else if (a.mode === "jvp") e = api.exportOnnxJvp(f, specs, opts);
    else {
      const g = gradArgnums(j.parsed);
      note = g.note;
      e = api.exportOnnx(api.grad(f, { argnums: g.argnums }), specs, opts);
    }
  } catch (err) {
    throw exportFailure(err, j.fewer);
  }
  if (j.fewer) warn(`adgen export: warning: ${j.fewer}`);
  const m = e.manifest;
  const what = { value: "", grad: "gradient of ", vjp: "split VJP of ", jvp: "JVP of " }[a.mode];
  const kind = a.mode === "grad" ? "grad" : m.kind;
  const summary = `exported ${m.name}: ${what}${a.module}#${a.fn} (ONNX ${kind} export, opset ${m.opset}, IR version ${m.irVersion}, adgen ${m.adgenVersion}, IR hash ${m.irHash})`;
  const paths = await writeAndList(e, a.out, summary, note, print);
  for (const model of m.models) print(`  ${model.role}(${valuesText(model.inputs)}) -> (${valuesText(model.outputs)})`);
  print(`  symbolic dims: ${m.symbolicDims.length ? `${m.symbolicDims.join(", ")} (ONNX dim_params: one session serves every size)` : "none"}`);
  if (m.kind === "vjp") print(`  residuals: ${m.residuals.length} (forward returns them after the outputs, backward takes them first; see the manifest)`);
  const first = paths[0]!.split("\\").join("/");
  print(`  use: (await import("onnxruntime-node")).InferenceSession.create(${JSON.stringify(first)})`);
}
