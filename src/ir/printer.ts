// Prints a Program in a jaxpr-like text form:
//   { lambda c:f32[3] ; a:f32[3]. let
//       b:f32[3] = mul a c          # model.ts:12:7
//     in (b) }
// Variable names are assigned in order of definition, so equal programs print equally.

import { type Atom, Literal, Program, type Var } from "./program.js";
import { SymDim } from "../core/shape.js";
import { ShapedArray } from "../core/aval.js";
import { encodeNumber } from "../core/encode.js";

export interface PrintOptions {
  /** append the user's source line to each equation (default true) */
  sources?: boolean;
}

function varName(i: number): string {
  let s = "";
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

function formatLiteral(l: Literal): string {
  // encodeNumber keeps -0 visible ("-0.0"): String(-0) is "0"
  const n = encodeNumber(l.value);
  const v = l.aval.dtype === "bool" ? String(l.value !== 0) : Number.isInteger(l.value) && l.aval.dtype !== "int32" ? `${n}.0` : n;
  return `${v}:${l.aval}`;
}

function formatParam(v: unknown, indent: string, opts: PrintOptions): string {
  if (v instanceof Program) return "\n" + printProgram(v, { ...opts }, indent + "    ");
  if (v instanceof SymDim || v instanceof ShapedArray) return v.toString();
  if (Array.isArray(v)) return `[${v.map((x) => formatParam(x, indent, opts)).join(",")}]`;
  if (typeof v === "function") return `<fn ${v.name || "anonymous"}>`;
  if (v !== null && typeof v === "object") {
    const inner = Object.entries(v).map(([k, x]) => `${k}=${formatParam(x, indent, opts)}`);
    return `{${inner.join(" ")}}`;
  }
  return typeof v === "string" ? v : typeof v === "number" ? encodeNumber(v) : String(v);
}

/** The printed name of every variable of `p` (top level), as printProgram names them. */
export function varNames(p: Program): Map<Var, string> {
  const names = new Map<Var, string>();
  for (const v of [...p.consts, ...p.inputs, ...p.equations.flatMap((e) => e.outs)]) names.set(v, varName(names.size));
  return names;
}

export function printProgram(p: Program, opts: PrintOptions = {}, indent = ""): string {
  const names = new Map<Var, string>();
  const define = (v: Var) => {
    const n = varName(names.size);
    names.set(v, n);
    return `${n}:${v.aval}`;
  };
  const use = (a: Atom) => (a instanceof Literal ? formatLiteral(a) : names.get(a) ?? `?${a.id}`);
  const consts = p.consts.map(define).join(" ");
  const inputs = p.inputs.map(define).join(" ");
  const lines = [`${indent}{ lambda ${consts}${consts ? " " : ""}; ${inputs}. let`];
  for (const e of p.equations) {
    const args = e.inputs.map(use).join(" ");
    const params = Object.entries(e.params ?? {})
      .map(([k, v]) => `${k}=${formatParam(v, indent, opts)}`)
      .join(" ");
    const outs = e.outs.map(define).join(" ");
    const at = opts.sources !== false && e.source ? String(e.source) : "";
    const src = at ? `    # ${at}` : "";
    lines.push(`${indent}    ${outs} = ${e.prim.name}${params ? `[${params}]` : ""} ${args}${src}`);
  }
  lines.push(`${indent}  in (${p.outputs.map(use).join(", ")}) }`);
  return lines.join("\n");
}
