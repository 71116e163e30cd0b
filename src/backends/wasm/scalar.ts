// WebAssembly for the backend-neutral scalar ops of the kernel IR, bit-identical to the
// interpreter: float32 values are f32 (an IEEE single add, multiply, divide or square root rounds
// exactly as Math.fround after the double operation), int32 arithmetic wraps, bools are i32 0/1.
// Library functions (exp, tanh, pow, logistic, erf, ...) are imports of the very JS functions
// the interpreter calls (V8 calls imported Math.* functions without a JS transition); float32
// arguments are widened to f64 for them and the result rounded back, as Math.fround does. Float32
// transcendentals with a row `f32` (exp, tanh, ...) call our math functions instead, emitted into
// the module (wasm/math.ts): the interpreter runs the same definitions (math/runtime.ts).

import type { DType } from "../../core/dtype.js";
import { InternalError } from "../../core/errors.js";
import { BINARY } from "../../prims/binary.js";
import type { CompareOp, LogicalOp } from "../../prims/compare.js";
import { erfScalar } from "../../prims/special.js";
import { UNARY } from "../../prims/unary.js";
import type { Code, ModuleBuilder, ValType } from "../../runtime/wasm/encoder.js";
import type { ModuleMath } from "./math.js";

export type VT = "f32" | "f64" | "i32";
export const VT_OF: Record<DType, VT> = { float32: "f32", float64: "f64", int32: "i32", bool: "i32" };

/** Load/store opcodes and alignment per dtype (bools are bytes). */
export const MEM: Record<DType, { load: number; store: number; align: number; bytes: number }> = {
  float32: { load: 0x2a, store: 0x38, align: 2, bytes: 4 },
  float64: { load: 0x2b, store: 0x39, align: 3, bytes: 8 },
  int32: { load: 0x28, store: 0x36, align: 2, bytes: 4 },
  bool: { load: 0x2d, store: 0x3a, align: 0, bytes: 1 },
};

/** JS functions every generated module imports (module "m"), by field name. */
export function importedFunctions(hooks: { dot: (k: number, aOff: number, bOff: number) => void; call: (k: number) => void }): Record<string, (...a: never[]) => unknown> {
  const fns: Record<string, (...a: never[]) => unknown> = { erf: erfScalar, toInt32: (a: number) => a | 0, dot: hooks.dot, call: hooks.call };
  for (const [name, u] of Object.entries(UNARY)) fns[`u_${name}`] = u.f;
  for (const [name, b] of Object.entries(BINARY)) {
    fns[`b_${name}`] = b.f;
    fns[`bi_${name}`] = (a: number, c: number) => (b.fInt ?? b.f)(a, c) | 0;
  }
  return fns;
}

/** Declares the imports of importedFunctions (before any function); returns their indices. */
export function declareImports(m: ModuleBuilder): Map<string, number> {
  const idx = new Map<string, number>();
  const F: ValType[] = ["f64"];
  const add = (name: string, params: ValType[], results: ValType[]) => idx.set(name, m.importFunc("m", name, params, results));
  add("erf", F, F);
  add("toInt32", F, ["i32"]);
  add("dot", ["i32", "i32", "i32"], []);
  add("call", ["i32"], []);
  for (const name of Object.keys(UNARY)) add(`u_${name}`, F, F);
  for (const name of Object.keys(BINARY)) {
    add(`b_${name}`, ["f64", "f64"], F);
    add(`bi_${name}`, ["i32", "i32"], ["i32"]);
  }
  return idx;
}

/** Pushes an argument's value (callable more than once: arguments are locals or constants). */
export type Push = () => void;

const CMP: Record<CompareOp, [number, number, number]> = {
  // [i32 signed, f32, f64]
  eq: [0x46, 0x5b, 0x61],
  ne: [0x47, 0x5c, 0x62],
  lt: [0x48, 0x5d, 0x63],
  gt: [0x4a, 0x5e, 0x64],
  le: [0x4c, 0x5f, 0x65],
  ge: [0x4e, 0x60, 0x66],
};
const LOGIC: Record<LogicalOp, number> = { and: 0x71, or: 0x72, xor: 0x73 };
const ARITH: Record<string, [number, number, number] | undefined> = {
  // [i32, f32, f64]; int division and min/max need JS semantics and are handled below
  add: [0x6a, 0x92, 0xa0],
  sub: [0x6b, 0x93, 0xa1],
  mul: [0x6c, 0x94, 0xa2],
};
const F_ARITH: Record<string, [number, number] | undefined> = { div: [0x95, 0xa3] };
/** Unary ops that are single exact float instructions: [f32, f64]. */
const F_UNARY: Record<string, [number, number] | undefined> = {
  abs: [0x8b, 0x99],
  sqrt: [0x91, 0x9f],
  floor: [0x8e, 0x9c],
  ceil: [0x8d, 0x9b],
  round: [0x90, 0x9e], // nearest, ties to even, as roundHalfEven
};

const col = (vt: VT) => (vt === "i32" ? 0 : vt === "f32" ? 1 : 2);

/** Converts the f64 on the stack to `to`, with JS's store semantics for int32 (ToInt32). */
export function fromF64(c: Code, imports: Map<string, number>, to: VT, scratch: () => number): void {
  if (to === "f64") return;
  if (to === "f32") {
    c.raw(0xb6); // f32.demote_f64
    return;
  }
  // ToInt32: exact truncation in range, the modular JS conversion (via the import) outside it
  const t = scratch();
  c.localTee(t).raw(0x99).f64Const(2147483648).raw(0x63); // |x| < 2^31
  c.if_("i32");
  c.localGet(t).raw(0xfc, 0x02); // i32.trunc_sat_f64_s
  c.else_();
  c.localGet(t).call(imports.get("toInt32")!);
  c.end();
}

/** Widens the value on the stack from `vt` to f64. */
export function toF64(c: Code, vt: VT): void {
  if (vt === "f32") c.raw(0xbb);
  else if (vt === "i32") c.raw(0xb7);
}

export interface OpContext {
  code: Code;
  imports: Map<string, number>;
  /** reusable scratch locals of a type (two distinct ones) */
  scratch: (vt: VT) => number;
  scratch2: (vt: VT) => number;
  /** the module's own math functions (float32 exp, tanh, ...) */
  math: ModuleMath;
}

/** Emits `op` applied to `args`, leaving one value of VT_OF[dtype] on the stack. */
export function emitScalarOp(ctx: OpContext, op: string, args: Push[], dtype: DType, argDTypes: DType[]): void {
  const c = ctx.code;
  const vt = VT_OF[dtype];
  const [a, b, s] = args as [Push, Push, Push];
  const callF64 = (name: string, n: number, inVt: VT) => {
    for (let i = 0; i < n; i++) {
      args[i]!();
      toF64(c, inVt);
    }
    c.call(ctx.imports.get(name)!);
    fromF64(c, ctx.imports, vt, () => ctx.scratch("f64"));
  };
  if (op === "neg") {
    if (vt === "i32") {
      c.i32Const(0);
      a();
      return void c.raw(0x6b);
    }
    a();
    return void c.raw(vt === "f32" ? 0x8c : 0x9a);
  }
  if (op === "erf") return callF64("erf", 1, vt);
  if (op === "select") {
    b();
    s();
    a();
    return void c.select();
  }
  if (op === "not") {
    a();
    if (argDTypes[0] === "bool") c.i32Eqz();
    else c.i32Const(-1).raw(0x73);
    return;
  }
  if (op.startsWith("cmp:")) {
    a();
    b();
    return void c.raw(CMP[op.slice(4) as CompareOp][col(VT_OF[argDTypes[0]!])]);
  }
  if (op.startsWith("logical:")) {
    a();
    b();
    return void c.raw(LOGIC[op.slice(8) as LogicalOp]);
  }
  if (op.startsWith("convert:")) return convert(ctx, a, VT_OF[argDTypes[0]!], dtype);
  const u = UNARY[op];
  if (u) {
    if (vt === "i32") return intUnary(ctx, op, a);
    if (vt === "f32" && u.f32) {
      a();
      return void c.call(ctx.math.scalar(u.f32));
    }
    if (op === "logistic") return logistic(ctx, a, vt);
    const native = F_UNARY[op];
    if (native) {
      a();
      return void c.raw(native[vt === "f32" ? 0 : 1]);
    }
    return callF64(`u_${op}`, 1, vt);
  }
  const bin = BINARY[op];
  if (!bin) throw new InternalError(`wasm backend: no code for scalar op ${op}`);
  const arith = ARITH[op];
  if (arith) {
    a();
    b();
    return void c.raw(arith[col(vt)]);
  }
  if (vt !== "i32" && F_ARITH[op]) {
    a();
    b();
    return void c.raw(F_ARITH[op]![vt === "f32" ? 0 : 1]);
  }
  if (op === "max" || op === "min") return minMax(ctx, op, a, b, vt);
  if (vt === "i32" && op === "div") return intDiv(ctx, a, b);
  if (vt === "i32") {
    a();
    b();
    return void c.call(ctx.imports.get(`bi_${op}`)!);
  }
  return callF64(`b_${op}`, 2, vt);
}

function intUnary(ctx: OpContext, op: string, a: Push): void {
  const c = ctx.code;
  if (op === "abs") {
    // (a < 0 ? 0 - a : a), wrapping like Math.abs(a) | 0
    c.i32Const(0);
    a();
    c.raw(0x6b);
    a();
    a();
    c.i32Const(0).raw(0x48).select();
    return;
  }
  if (op === "sign") {
    a();
    c.i32Const(0).raw(0x4a); // a > 0
    a();
    c.i32Const(0).raw(0x48); // a < 0
    c.raw(0x6b);
    return;
  }
  // other numeric unary ops on ints: the JS function on the value, ToInt32
  a();
  toF64(c, "i32");
  c.call(ctx.imports.get(`u_${op}`)!);
  fromF64(c, ctx.imports, "i32", () => ctx.scratch("f64"));
}

/**
 * The interpreter's logistic, inline (a JS call per element would dominate): a >= 0 ?
 * 1 / (1 + exp(-a)) : exp(a) / (1 + exp(a)), in double, with Math.exp imported.
 */
function logistic(ctx: OpContext, a: Push, vt: VT): void {
  const c = ctx.code;
  const exp = ctx.imports.get("u_exp")!;
  const x = ctx.scratch("f64");
  const e = ctx.scratch2("f64");
  a();
  toF64(c, vt);
  c.localTee(x).f64Const(0).raw(0x66); // x >= 0
  c.if_("f64");
  c.f64Const(1).f64Const(1).localGet(x).raw(0x9a).call(exp).raw(0xa0).raw(0xa3);
  c.else_();
  c.localGet(x).call(exp).localTee(e).f64Const(1).localGet(e).raw(0xa0).raw(0xa3);
  c.end();
  if (vt === "f32") c.raw(0xb6);
}

/** JS's (a !== a || b !== b ? NaN : a > b ? a : b) (and < for min); ints compare directly. */
function minMax(ctx: OpContext, op: "max" | "min", a: Push, b: Push, vt: VT): void {
  const c = ctx.code;
  const k = col(vt);
  const gt = op === "max" ? CMP.gt[k] : CMP.lt[k];
  if (vt === "i32") {
    a();
    b();
    a();
    b();
    c.raw(gt).select();
    return;
  }
  const add = vt === "f32" ? 0x92 : 0xa0;
  const ne = CMP.ne[k];
  a();
  b();
  c.raw(add); // NaN when either is
  a();
  b();
  a();
  b();
  c.raw(gt).select();
  a();
  a();
  c.raw(ne);
  b();
  b();
  c.raw(ne).raw(0x72); // either NaN
  c.select();
}

/** JS int division: b === 0 ? 0 : Math.trunc(a / b) | 0 (INT_MIN / -1 wraps instead of trapping). */
function intDiv(ctx: OpContext, a: Push, b: Push): void {
  const c = ctx.code;
  b();
  c.i32Eqz();
  c.if_("i32");
  c.i32Const(0);
  c.else_();
  b();
  c.i32Const(-1).raw(0x46);
  c.if_("i32");
  c.i32Const(0);
  a();
  c.raw(0x6b);
  c.else_();
  a();
  b();
  c.raw(0x6d);
  c.end();
  c.end();
}

function convert(ctx: OpContext, a: Push, from: VT, to: DType): void {
  const c = ctx.code;
  a();
  if (to === "bool") {
    if (from === "i32") c.i32Const(0).raw(0x47);
    else if (from === "f32") c.f32Const(0).raw(0x5c);
    else c.f64Const(0).raw(0x62);
    return;
  }
  const vt = VT_OF[to];
  if (vt === from) return;
  // to int32: truncation saturating at the range, NaN -> 0 (core/dtype toInt32Saturating)
  if (vt === "i32") c.raw(0xfc, from === "f32" ? 0x00 : 0x02); // i32.trunc_sat_f32_s / _f64_s
  else if (vt === "f32") c.raw(from === "i32" ? 0xb2 : 0xb6);
  else c.raw(from === "i32" ? 0xb7 : 0xbb);
}
