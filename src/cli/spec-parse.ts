// Parses a command-line tensor spec such as "float32[B,784]", "float64[3]", "int32[]" or
// "float32[2*B,T+1]" (a dtype, then bracketed comma-separated dimensions: integers or symbolic
// expressions) strictly, with a one-line reason for anything it rejects.

import { type DType, isDType } from "../core/dtype.js";
import { parseDim } from "../core/shape.js";

export interface ParsedSpec {
  dtype: DType;
  /** integers, and symbolic dimensions in canonical text form ("B", "2*B", "T+1") */
  shape: (number | string)[];
}

/** A spec string was rejected; the message is the reason (without the spec itself). */
export class SpecError extends Error {}

const MAX_DIM = 2 ** 31 - 1;
const ALIASES: Record<string, DType> = { float: "float32", f32: "float32", f64: "float64", double: "float64", int: "int32", i32: "int32", boolean: "bool" };
const DTYPE_LIST = "float32, float64, int32, bool";
const EXAMPLE = "expected dtype[dims], e.g. float32[B,784] or int32[] for a scalar";

export function parseSpec(text: string): ParsedSpec {
  const s = text.trim();
  if (!s) throw new SpecError(`empty spec; ${EXAMPLE}`);
  const opens = s.split("[").length - 1;
  const closes = s.split("]").length - 1;
  if (opens === 0 && closes === 0) {
    throw new SpecError(isDType(s) ? `missing shape: write ${s}[] for a scalar or ${s}[3] for a vector` : EXAMPLE);
  }
  if (opens !== closes) throw new SpecError(`unbalanced brackets; ${EXAMPLE}`);
  if (opens > 1) throw new SpecError(`nested or repeated brackets; ${EXAMPLE}`);
  const open = s.indexOf("[");
  const close = s.indexOf("]");
  if (close < open) throw new SpecError(`unbalanced brackets; ${EXAMPLE}`);
  if (close !== s.length - 1) throw new SpecError(`unexpected text ${JSON.stringify(s.slice(close + 1))} after "]"`);
  const dtype = s.slice(0, open).trim();
  if (!dtype) throw new SpecError(`missing dtype before "["; ${EXAMPLE}`);
  if (!isDType(dtype)) {
    const hint = ALIASES[dtype.toLowerCase()] ?? (isDType(dtype.toLowerCase()) ? dtype.toLowerCase() : undefined);
    throw new SpecError(`unknown dtype ${dtype} (${hint ? `did you mean ${hint}? ` : ""}dtypes: ${DTYPE_LIST})`);
  }
  const inner = s.slice(open + 1, close);
  if (!inner.trim()) return { dtype, shape: [] };
  return { dtype, shape: inner.split(",").map((d, i) => parseDimText(d.trim(), i)) };
}

function parseDimText(d: string, i: number): number | string {
  if (!d) throw new SpecError(`dimension ${i + 1} is empty`);
  const q = JSON.stringify(d);
  if (/^\d+$/.test(d)) {
    const n = Number(d);
    if (n > MAX_DIM) throw new SpecError(`dimension ${d} is too large (at most ${MAX_DIM})`);
    return n;
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(d)) {
    const n = Number(d);
    throw new SpecError(Number.isInteger(n) && n < 0 ? `dimension ${d} is negative` : `dimension ${d} is not an integer`);
  }
  if (/[()]/.test(d)) throw new SpecError(`dimension ${q}: parentheses are not supported; expand it (e.g. 2*B+2 for 2*(B+1))`);
  const bad = d.match(/[^A-Za-z0-9_+*\-\s]/);
  if (bad) throw new SpecError(`dimension ${q}: unexpected character ${JSON.stringify(bad[0])}`);
  if (/[A-Za-z0-9_]\s+[A-Za-z0-9_]/.test(d)) throw new SpecError(`dimension ${q}: missing operator between terms`);
  let dim;
  try {
    dim = parseDim(d);
  } catch {
    throw new SpecError(`dimension ${q} is not an integer, a symbol name (B) or an expression of them (2*B, T+1, B*T)`);
  }
  if (typeof dim === "number") {
    if (dim < 0) throw new SpecError(`dimension ${q} is negative`);
    if (dim > MAX_DIM) throw new SpecError(`dimension ${q} is too large (at most ${MAX_DIM})`);
    return dim;
  }
  if ([...dim.terms.values()].every((c) => c < 0)) throw new SpecError(`dimension ${q} is negative`);
  return dim.toString();
}
