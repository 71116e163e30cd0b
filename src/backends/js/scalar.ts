// JavaScript syntax for the backend-neutral scalar ops of the kernel IR, with the rounding each
// dtype needs so that results are bit-identical to the interpreter (float32 ops are rounded with
// Math.fround after every operation, int32 ops wrap with `| 0`, bools are 0/1). Float32
// transcendentals call our math runtime (math/runtime.ts, embedded in the prelude), as the
// interpreter does.

import { type DType, TO_INT32_JS } from "../../core/dtype.js";
import { BINARY, POW_JS } from "../../prims/binary.js";
import { DIVMOD_JS } from "../../prims/divmod.js";
import { COMPARE, type CompareOp, LOGICAL, type LogicalOp } from "../../prims/compare.js";
import { UNARY } from "../../prims/unary.js";
import { ERF_JS } from "../../prims/special.js";
import { SCALAR_JS } from "../../runtime/scalar.js";
import { MATH_F32_RUNTIME } from "../../math/runtime.js";

/** Helper functions the generated code may call (declared once per module). */
export const JS_PRELUDE = `${ERF_JS}
${POW_JS}
${DIVMOD_JS}
${TO_INT32_JS}
${SCALAR_JS}
const $f = Math.fround;`;

/** Our float32 math functions ($exp_f32, ...), declared by code that calls them (see usesMathF32). */
export const MATH_F32_PRELUDE = MATH_F32_RUNTIME.text;

/** Whether generated code calls a float32 math function (then it needs MATH_F32_PRELUDE). */
export const usesMathF32 = (code: string): boolean => /\$\w+_f32\(/.test(code);

/**
 * A numeric literal in JS syntax, exact for every double (NaN, Infinity and -0 included: String
 * is the shortest round trip). Negative ones are parenthesized so that any template can splice
 * them in: `-${a}` with a = -1 would otherwise read `--1`, a syntax error.
 */
export function jsNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (Object.is(v, -0)) return "(-0)";
  return v < 0 ? `(${String(v)})` : String(v);
}

/** Rounds a JS expression to the storage semantics of `dtype`. */
export function roundTo(expr: string, dtype: DType): string {
  switch (dtype) {
    case "float32":
      return `$f(${expr})`;
    case "int32":
      return `(${expr} | 0)`;
    default:
      return expr;
  }
}

/** The JS expression for scalar op `op` applied to argument expressions. */
export function jsScalarOp(op: string, args: string[], dtype: DType, argDTypes: DType[]): string {
  const [a, b, c] = args as [string, string, string];
  const u = UNARY[op];
  // float32: our math functions (float32 in, float32 out: no rounding to add)
  if (u) return dtype === "float32" && u.f32 ? `$${u.f32}(${a})` : roundTo(u.js(a), dtype);
  const bin = BINARY[op];
  if (bin) {
    const js = dtype === "int32" && bin.jsInt ? bin.jsInt : bin.js;
    return roundTo(js(a, b), dtype);
  }
  if (op === "neg") return roundTo(`(-${a})`, dtype);
  if (op === "erf") return roundTo(`$erf(${a})`, dtype);
  if (op === "select") return `(${a} ? ${b} : ${c})`;
  if (op === "not") return argDTypes[0] === "bool" ? `(${a} ? 0 : 1)` : `(~${a})`;
  if (op.startsWith("cmp:")) return `(${a} ${COMPARE[op.slice(4) as CompareOp].js} ${b} ? 1 : 0)`;
  if (op.startsWith("logical:")) return `(${a} ${LOGICAL[op.slice(8) as LogicalOp].js} ${b})`;
  if (op.startsWith("convert:")) {
    const to = op.slice(8) as DType;
    if (to === "bool") return `(${a} !== 0 ? 1 : 0)`;
    if (to === "int32") return argDTypes[0] === "int32" || argDTypes[0] === "bool" ? a : `$toInt32Sat(${a})`;
    return roundTo(`(+${a})`, to);
  }
  throw new Error(`js backend: no syntax for scalar op ${op}`);
}
