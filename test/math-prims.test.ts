// The math primitives of issue 18 on edge values (signed zeros, infinities, NaN, the ends of the
// domains, overflow, int32 extremes) against NumPy 1.24.2, computed once and pasted: the reference
// (eager), the JS and wasm backends (jit) and ONNX Runtime (float64 export) must all agree.
// NumPy semantics of mod / floorDivide: the remainder has the divisor's sign; float x // 0 is
// +-inf or NaN and x % 0 NaN; int32 x // 0 and x % 0 are 0; INT_MIN // -1 wraps.

import { afterEach, describe, expect, it } from "vitest";
import { type Tensor, config, exportOnnx, jit, np, spec } from "../src/index.js";
import { runOnnx } from "./onnx-run.js";

const FA = [5.5, -5.5, 5.5, -5.5, 1.0, 0, -0, 3.0, -3.0, Infinity, -1.0, 1.0, 7.0, 1e300, 0.3, NaN, 2.0, -7.25];
const FB = [2.0, 2.0, -2.0, -2.0, 0.1, 3.0, 3.0, 0, 0, 2.0, Infinity, -Infinity, -0.5, 1e-300, 0.1, 1.0, NaN, 0.25];
const F_MOD = [1.5, 0.5, -0.5, -1.5, 0.09999999999999995, 0, 0, NaN, NaN, NaN, Infinity, -Infinity, -0, 4.891554850853602e-301, 0.09999999999999998, NaN, NaN, 0];
const F_FLOORDIV = [2.0, -3.0, -3.0, 2.0, 9.0, 0, -0, Infinity, -Infinity, NaN, -1.0, -1.0, -14.0, Infinity, 2.0, NaN, NaN, -29.0];
const IA = [7, -7, 7, -7, 0, 5, -2147483648, -2147483648, 2147483647, 13, -13];
const IB = [3, 3, -3, -3, 4, 0, -1, 2, -2147483648, 1, 5];
const I_MOD = [1, 2, -2, -1, 0, 0, 0, 0, -1, 0, 2];
const I_FLOORDIV = [2, -3, -3, 2, 0, 0, -2147483648, -1073741824, -1, 13, -3];

const UX = [-0, 0, 1e-10, -0.7, 0.999, -1.0, 1.0, Infinity, -Infinity, NaN, 3.0, 100000000.0, -750.0, 710.0];
const UNARY: Record<string, [(x: Tensor) => Tensor, number[]]> = {
  asin: [np.arcsin, [-0, 0, 1e-10, -0.775397496610753, 1.526071239626163, -1.5707963267948966, 1.5707963267948966, NaN, NaN, NaN, NaN, NaN, NaN, NaN]],
  acos: [np.arccos, [1.5707963267948966, 1.5707963267948966, 1.5707963266948965, 2.3461938234056494, 0.044725087168733454, 3.141592653589793, 0, NaN, NaN, NaN, NaN, NaN, NaN, NaN]],
  atan: [np.arctan, [-0, 0, 1e-10, -0.6107259643892086, 0.784897913314115, -0.7853981633974483, 0.7853981633974483, 1.5707963267948966, -1.5707963267948966, NaN, 1.2490457723982544, 1.5707963167948966, -1.5694629942516858, 1.5693878770220002]],
  sinh: [np.sinh, [-0, 0, 1e-10, -0.7585837018395335, 1.1736587003524517, -1.1752011936438014, 1.1752011936438014, Infinity, -Infinity, NaN, 10.017874927409903, Infinity, -Infinity, 1.1169973830808555e308]],
  cosh: [np.cosh, [1.0, 1.0, 1.0, 1.255169005630943, 1.541906204966115, 1.5430806348152437, 1.5430806348152437, Infinity, Infinity, NaN, 10.067661995777764, Infinity, Infinity, 1.1169973830808555e308]],
  asinh: [np.arcsinh, [-0, 0, 1e-10, -0.6526665660823557, 0.8806663034322094, -0.881373587019543, 0.881373587019543, Infinity, -Infinity, NaN, 1.8184464592320668, 19.11382792451231, -7.31322083153445, 7.258412646528284]],
  acosh: [np.arccosh, [NaN, NaN, NaN, NaN, NaN, NaN, 0, Infinity, NaN, NaN, 1.762747174039086, 19.11382792451231, NaN, 7.258411654661591]],
  atanh: [np.arctanh, [-0, 0, 1e-10, -0.8673005276940531, 3.8002011672501994, -Infinity, Infinity, NaN, NaN, NaN, NaN, NaN, NaN, NaN]],
  log2: [np.log2, [-Infinity, -Infinity, -33.219280948873624, NaN, -0.0014434168696687186, NaN, 0, Infinity, NaN, NaN, 1.584962500721156, 26.575424759098897, NaN, 9.471675214392045]],
  log10: [np.log10, [-Infinity, -Infinity, -10.0, NaN, -0.0004345117740176917, NaN, 0, Infinity, NaN, NaN, 0.47712125471966244, 8.0, NaN, 2.8512583487190755]],
  exp2: [np.exp2, [1.0, 1.0, 1.0000000000693148, 0.6155722066724582, 1.9986141859809052, 0.5, 2.0, Infinity, 0, NaN, 8.0, Infinity, 1.688508503057271e-226, 5.386379163185535e213]],
};
const AY = [0, -0, 0, -0, 1.0, -1.0, Infinity, Infinity, -Infinity, -Infinity, 1.0, -1.0, 0, NaN, 2.0];
const AX = [0, 0, -0, -0, -Infinity, -Infinity, Infinity, -Infinity, Infinity, -Infinity, 0, -0, -1.0, 1.0, -3.0];
const ATAN2 = [0, -0, 3.141592653589793, -3.141592653589793, 3.141592653589793, -3.141592653589793, 0.7853981633974483, 2.356194490192345, -0.7853981633974483, -2.356194490192345, 1.5707963267948966, -1.5707963267948966, 3.141592653589793, NaN, 2.5535900500422253];
const HYPOT = [0, 0, 0, 0, Infinity, Infinity, Infinity, Infinity, Infinity, Infinity, 1.0, 1.0, 1.0, NaN, 3.605551275463989];

/** Equal as NumPy prints them: NaN to NaN, signed zeros by sign (when `zeroSign`), else within rtol ulps. */
function expectMatch(got: ArrayLike<number>, want: number[], rtol: number, what: string, zeroSign = true): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    const ok = Number.isNaN(b) ? Number.isNaN(a) : b === 0 ? a === 0 && (!zeroSign || Object.is(a, b)) : a === b || Math.abs(a - b) <= rtol * Math.abs(b);
    expect(ok, `${what}[${i}]: got ${Object.is(a, -0) ? "-0" : a}, NumPy ${Object.is(b, -0) ? "-0" : b}`).toBe(true);
  }
}

const f64 = (v: number[]) => np.array(v, { dtype: "float64" });
const i32 = (v: number[]) => np.array(v, { dtype: "int32" });

interface Case {
  name: string;
  fn: (...xs: Tensor[]) => Tensor;
  args: Tensor[];
  want: number[];
  rtol: number;
  /** ONNX Runtime's float ops may lose the sign of a zero result */
  onnxZeroSign?: boolean;
}

const CASES: Case[] = [
  { name: "mod (float64)", fn: np.mod, args: [f64(FA), f64(FB)], want: F_MOD, rtol: 0 },
  { name: "floorDivide (float64)", fn: np.floorDivide, args: [f64(FA), f64(FB)], want: F_FLOORDIV, rtol: 0 },
  { name: "mod (int32)", fn: np.mod, args: [i32(IA), i32(IB)], want: I_MOD, rtol: 0 },
  { name: "floorDivide (int32)", fn: np.floorDivide, args: [i32(IA), i32(IB)], want: I_FLOORDIV, rtol: 0 },
  { name: "arctan2", fn: np.arctan2, args: [f64(AY), f64(AX)], want: ATAN2, rtol: 4e-16 },
  { name: "hypot", fn: np.hypot, args: [f64(AY), f64(AX)], want: HYPOT, rtol: 4e-16 },
  ...Object.entries(UNARY).map(([name, [fn, want]]) => ({ name, fn, args: [f64(UX)], want, rtol: 1e-15 })),
];

const saved = { ...config };
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
});

describe("math primitives on edge values agree with NumPy", () => {
  for (const c of CASES) {
    it(`${c.name}: eager reference`, () => expectMatch(c.fn(...c.args).dataSync(), c.want, c.rtol, "eager"));
    for (const backend of ["js", "wasm"] as const) {
      it(`${c.name}: jit on ${backend}`, () => {
        config.update({ backend, interpretBelowWork: 0 });
        expectMatch((jit(c.fn)(...c.args) as Tensor).dataSync(), c.want, c.rtol, backend);
      });
    }
    it(`${c.name}: ONNX Runtime`, async () => {
      const e = exportOnnx(c.fn, c.args.map((a) => spec(a.dtype, a.shape as number[])), { name: "edge" });
      const [got] = await runOnnx(e.bytes, c.args);
      // composed float64 rules (atan by Cephes, sinh via expm1, ...) are accurate to a few ulps
      expectMatch(got!.data, c.want, Math.max(c.rtol, 1e-14), "onnx", false);
    });
  }
});

