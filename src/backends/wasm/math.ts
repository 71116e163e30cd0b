// WebAssembly code for our math functions (src/math/dsl.ts): one scalar function (f32 -> f32) and one
// SIMD function (f32x4 -> f32x4) per definition, added to a module under construction. Both do
// the very float32 operations of the definition, lane by lane, so they return the bits of the JS
// runtime (math/runtime-f32.ts); test/math.test.ts checks it on every function.

import { type Code, type ModuleBuilder, uleb } from "../../runtime/wasm/encoder.js";
import type { MathFn, Stmt } from "../../math/dsl.js";
import { MATH_F32_BY_NAME } from "../../math/defs-f32.js";

type Lib = "sin" | "cos";

function simd(c: Code, op: number, ...imm: number[]): void {
  const b: number[] = [0xfd];
  uleb(b, op);
  c.raw(...b, ...imm);
}
const f32Bytes = (v: number) => [...new Uint8Array(Float32Array.of(v).buffer)];
const f64Bytes = (v: number) => [...new Uint8Array(Float64Array.of(v).buffer)];
const i32Bytes = (v: number) => [...new Uint8Array(Int32Array.of(v).buffer)];
const v128f32 = (c: Code, v: number) => simd(c, 0x0c, ...f32Bytes(v), ...f32Bytes(v), ...f32Bytes(v), ...f32Bytes(v));
const v128f64 = (c: Code, v: number) => simd(c, 0x0c, ...f64Bytes(v), ...f64Bytes(v));
const v128i32 = (c: Code, v: number) => simd(c, 0x0c, ...i32Bytes(v), ...i32Bytes(v), ...i32Bytes(v), ...i32Bytes(v));

const F32_BIN: Record<string, number> = { add: 0x92, sub: 0x93, mul: 0x94, div: 0x95 };
const F32_UN: Record<string, number> = { abs: 0x8b, neg: 0x8c, floor: 0x8e, nearest: 0x90, sqrt: 0x91 };
const F32_CMP: Record<string, number> = { eq: 0x5b, ne: 0x5c, lt: 0x5d, gt: 0x5e, le: 0x5f, ge: 0x60 };
const F64_BIN: Record<string, number> = { dadd: 0xa0, dsub: 0xa1, dmul: 0xa2 };
const X4_BIN: Record<string, number> = { add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7 };
const X4_UN: Record<string, number> = { abs: 0xe0, neg: 0xe1, floor: 0x68, nearest: 0x6a, sqrt: 0xe3 };
const X4_CMP: Record<string, number> = { eq: 0x41, ne: 0x42, lt: 0x43, gt: 0x44, le: 0x45, ge: 0x46 };
const X2_BIN: Record<string, number> = { dadd: 0xf0, dsub: 0xf1, dmul: 0xf2 };

const kindOf = (s: Stmt): "f" | "d" | "b" =>
  s.op === "cmp" || s.op === "and" || s.op === "or" || s.op === "not" ? "b" : s.op === "promote" || s.op === "dconst" || s.op === "dadd" || s.op === "dsub" || s.op === "dmul" || s.op === "dfloor" ? "d" : "f";

/** The scalar function (params f32 x arity, result f32); returns its function index. */
export function emitScalar(m: ModuleBuilder, fn: MathFn, lib: (name: Lib) => number): number {
  const f = m.func(undefined, Array(fn.arity).fill("f32"), ["f32"]);
  const c = f.code;
  const loc: number[] = [];
  const ni = f.local("i32");
  const n1 = f.local("i32");
  const get = (i: number) => {
    const s = fn.stmts[i]!;
    if (s.op === "const") c.f32Const(s.v);
    else if (s.op === "dconst") c.f64Const(s.v);
    else c.localGet(loc[i]!);
  };
  const pow2 = (fromLocal: () => void) => {
    fromLocal();
    c.i32Const(127).i32Add().i32Const(23).i32Shl().raw(0xbe); // f32.reinterpret_i32
  };
  fn.stmts.forEach((s, i) => {
    if (s.op === "arg") return void (loc[i] = s.i);
    if (s.op === "const" || s.op === "dconst") return;
    const k = kindOf(s);
    loc[i] = f.local(k === "f" ? "f32" : k === "d" ? "f64" : "i32");
    switch (s.op) {
      case "add": case "sub": case "mul": case "div":
        get(s.a), get(s.b), c.raw(F32_BIN[s.op]!);
        break;
      case "abs": case "neg": case "floor": case "nearest": case "sqrt":
        get(s.a), c.raw(F32_UN[s.op]!);
        break;
      case "cmp":
        get(s.a), get(s.b), c.raw(F32_CMP[s.cmp]!);
        break;
      case "and": case "or":
        get(s.a), get(s.b), c.raw(s.op === "and" ? 0x71 : 0x72);
        break;
      case "not":
        get(s.a), c.i32Eqz();
        break;
      case "select":
        get(s.a), get(s.b), get(s.c), c.select();
        break;
      case "scaleb":
        get(s.n), c.raw(0xfc, 0x00).localSet(ni); // i32.trunc_sat_f32_s
        c.localGet(ni).i32Const(1).raw(0x75).localSet(n1); // i32.shr_s
        get(s.a);
        pow2(() => c.localGet(n1));
        c.raw(0x94);
        pow2(() => c.localGet(ni).localGet(n1).i32Sub());
        c.raw(0x94);
        break;
      case "exponent":
        get(s.a), c.raw(0xbc).i32Const(23).i32ShrU().i32Const(255).i32And().i32Const(127).i32Sub().raw(0xb2);
        break;
      case "significand":
        get(s.a), c.raw(0xbc).i32Const(0x7fffff).i32And().i32Const(0x3f800000).i32Or().raw(0xbe);
        break;
      case "promote":
        get(s.a), c.raw(0xbb);
        break;
      case "demote":
        get(s.a), c.raw(0xb6);
        break;
      case "dadd": case "dsub": case "dmul":
        get(s.a), get(s.b), c.raw(F64_BIN[s.op]!);
        break;
      case "dfloor":
        get(s.a), c.raw(0x9c);
        break;
      case "patch":
        get(s.c);
        c.if_("f32");
        get(s.x), c.raw(0xbb).call(lib(s.fn)).raw(0xb6);
        c.else_();
        get(s.fast);
        c.end();
        break;
    }
    c.localSet(loc[i]!);
  });
  get(fn.result);
  return f.index;
}

/** The SIMD function (params v128 x arity, four float32 lanes each; result v128). */
export function emitSimd(m: ModuleBuilder, fn: MathFn, lib: (name: Lib) => number): number {
  const f = m.func(undefined, Array(fn.arity).fill("v128"), ["v128"]);
  const c = f.code;
  // float64 values take two vectors (lanes 0-1 and 2-3); everything else one
  const lo: number[] = [];
  const hi: number[] = [];
  const t = f.local("v128");
  const get = (i: number, half: 0 | 1 = 0) => {
    const s = fn.stmts[i]!;
    if (s.op === "const") v128f32(c, s.v);
    else if (s.op === "dconst") v128f64(c, s.v);
    else c.localGet(half ? hi[i]! : lo[i]!);
  };
  fn.stmts.forEach((s, i) => {
    if (s.op === "arg") return void (lo[i] = s.i);
    if (s.op === "const" || s.op === "dconst") return;
    lo[i] = f.local("v128");
    if (kindOf(s) === "d") hi[i] = f.local("v128");
    const both = (emit: (h: 0 | 1) => void) => {
      emit(0), c.localSet(lo[i]!);
      emit(1), c.localSet(hi[i]!);
    };
    switch (s.op) {
      case "add": case "sub": case "mul": case "div":
        get(s.a), get(s.b), simd(c, X4_BIN[s.op]!);
        break;
      case "abs": case "neg": case "floor": case "nearest": case "sqrt":
        get(s.a), simd(c, X4_UN[s.op]!);
        break;
      case "cmp":
        get(s.a), get(s.b), simd(c, X4_CMP[s.cmp]!);
        break;
      case "and": case "or":
        get(s.a), get(s.b), simd(c, s.op === "and" ? 0x4e : 0x50);
        break;
      case "not":
        get(s.a), simd(c, 0x4d);
        break;
      case "select":
        get(s.a), get(s.b), get(s.c), simd(c, 0x52); // v128.bitselect
        break;
      case "scaleb": {
        get(s.n), simd(c, 0xf8), c.localSet(t); // i32x4.trunc_sat_f32x4_s
        get(s.a);
        c.localGet(t).i32Const(1), simd(c, 0xac); // n1 = n >> 1
        v128i32(c, 127), simd(c, 0xae), c.i32Const(23), simd(c, 0xab); // (n1 + 127) << 23
        simd(c, 0xe6);
        c.localGet(t), c.localGet(t).i32Const(1), simd(c, 0xac), simd(c, 0xb1); // n - n1
        v128i32(c, 127), simd(c, 0xae), c.i32Const(23), simd(c, 0xab);
        simd(c, 0xe6);
        break;
      }
      case "exponent":
        get(s.a), c.i32Const(23), simd(c, 0xad), v128i32(c, 255), simd(c, 0x4e), v128i32(c, 127), simd(c, 0xb1), simd(c, 0xfa);
        break;
      case "significand":
        get(s.a), v128i32(c, 0x7fffff), simd(c, 0x4e), v128i32(c, 0x3f800000), simd(c, 0x50);
        break;
      case "promote":
        get(s.a), simd(c, 0x5f), c.localSet(lo[i]!); // f64x2.promote_low_f32x4
        get(s.a), get(s.a), simd(c, 0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15), simd(c, 0x5f);
        c.localSet(hi[i]!);
        return;
      case "demote":
        get(s.a, 0), simd(c, 0x5e), get(s.a, 1), simd(c, 0x5e); // f32x4.demote_f64x2_zero
        simd(c, 0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        break;
      case "dadd": case "dsub": case "dmul":
        both((h) => (get(s.a, h), get(s.b, h), simd(c, X2_BIN[s.op]!)));
        return;
      case "dfloor":
        both((h) => (get(s.a, h), simd(c, 0x75)));
        return;
      case "patch": {
        get(s.fast), c.localSet(lo[i]!);
        get(s.c), simd(c, 0x53); // v128.any_true
        c.if_();
        for (let lane = 0; lane < 4; lane++) {
          get(s.c), simd(c, 0x1b, lane); // i32x4.extract_lane
          c.if_();
          c.localGet(lo[i]!);
          get(s.x), simd(c, 0x1f, lane), c.raw(0xbb).call(lib(s.fn)).raw(0xb6);
          simd(c, 0x20, lane); // f32x4.replace_lane
          c.localSet(lo[i]!);
          c.end();
        }
        c.end();
        return;
      }
    }
    c.localSet(lo[i]!);
  });
  get(fn.result);
  return f.index;
}

/**
 * The math functions of one module under construction, each emitted on first use (scalar and SIMD
 * separately); `lib` gives the index of the imported f64 library function a `patch` lane calls.
 */
export class ModuleMath {
  private readonly scalars = new Map<string, number>();
  private readonly simds = new Map<string, number>();
  /** names asked for since the caller last cleared it (wasm/threads.ts: which kernels call imports) */
  readonly requested = new Set<string>();
  constructor(
    private readonly m: ModuleBuilder,
    private readonly lib: (name: Lib) => number,
  ) {}
  private fn(name: string): MathFn {
    const fn = MATH_F32_BY_NAME.get(name);
    if (!fn) throw new Error(`wasm math: no function ${name}`);
    return fn;
  }
  /** Whether function `name` calls an imported library function (a `patch` lane: sin, cos). */
  usesLibrary(name: string): boolean {
    return this.fn(name).stmts.some((s) => s.op === "patch");
  }
  /** Index of the scalar function `name` (e.g. "exp_f32": f32 -> f32). */
  scalar(name: string): number {
    this.requested.add(name);
    let i = this.scalars.get(name);
    if (i === undefined) this.scalars.set(name, (i = emitScalar(this.m, this.fn(name), this.lib)));
    return i;
  }
  /** Index of the SIMD function `name` (v128 -> v128, four float32 lanes). */
  simd(name: string): number {
    this.requested.add(name);
    let i = this.simds.get(name);
    if (i === undefined) this.simds.set(name, (i = emitSimd(this.m, this.fn(name), this.lib)));
    return i;
  }
}
