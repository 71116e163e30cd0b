// Our float32 math functions (src/math/, issue 12): the generated JS runtime is up to date with
// the definitions; the JS runtime, the WebAssembly scalar code and the f32x4 SIMD code return the
// same bits for every input class (normal, subnormal, zero, infinities, NaN, the overflow and
// underflow edges, arguments that take the library fallback); and the accuracy table: max error
// in float32 ulps against the float64 library (Math.*, accurate to < 1 float64 ulp) per range.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MATH_F32 } from "../src/math/defs-f32.js";
import { MATH_F32_RUNTIME } from "../src/math/runtime.js";
import { runtimeFileText } from "../src/math/runtime-source.js";
import { buildHarness } from "./util/math-harness.js";

const F = MATH_F32_RUNTIME.value;
const REF: Record<string, (x: number) => number> = {
  exp_f32: Math.exp,
  log_f32: Math.log,
  sin_f32: Math.sin,
  cos_f32: Math.cos,
  tanh_f32: Math.tanh,
  logistic_f32: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  expm1_f32: Math.expm1,
  log1p_f32: Math.log1p,
};
/** The documented bound (README) and the ranges it is measured over. */
const TABLE: Record<string, { ulps: number; ranges: [number, number][] }> = {
  exp_f32: { ulps: 1, ranges: [[-104, 89], [-1, 1]] },
  log_f32: { ulps: 1, ranges: [[0, 4], [0, 3e38], [0, 1e-37]] },
  sin_f32: { ulps: 1.6, ranges: [[-4, 4], [-8192, 8192], [-524288, 524288]] },
  cos_f32: { ulps: 1.6, ranges: [[-4, 4], [-8192, 8192], [-524288, 524288]] },
  tanh_f32: { ulps: 1.5, ranges: [[-1, 1], [-12, 12]] },
  logistic_f32: { ulps: 2.5, ranges: [[-105, 90], [-5, 5]] },
  expm1_f32: { ulps: 2, ranges: [[-1, 1], [-20, 89]] },
  log1p_f32: { ulps: 2.5, ranges: [[-1, 1], [-1, 1e30]] },
};

/** A deterministic generator (mulberry32), so the suite is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function ulp32(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 23);
}
/** Error in float32 ulps of `got` against the float64 reference (an overflowing reference must give Inf). */
function ulpError(got: number, ref: number): number {
  const r32 = Math.fround(ref);
  if (Number.isNaN(ref) || Number.isNaN(got)) return Number.isNaN(ref) === Number.isNaN(got) ? 0 : Infinity;
  if (!Number.isFinite(r32) || !Number.isFinite(got)) return r32 === got ? 0 : Infinity;
  return Math.abs(got - ref) / ulp32(ref);
}

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 2 ** -149, -(2 ** -149), 2 ** -126, 1e-30, -1e-30, 3.4028234663852886e38, -3.4028234663852886e38,
  88.72283935546875, 88.7228, -103.97208, -103.9, -87.3, 524288, -524288, 524289, 8192, 1e6, -1e20, 0.625, -0.625, 0.5, -0.5, 1, -1, 3.1415927, -3.1415927, 44.36, -44.36];

describe("float32 math (issue 12)", () => {
  it("the generated runtime file matches the definitions (npm run gen:math)", () => {
    const file = readFileSync(new URL("../src/math/runtime-f32.ts", import.meta.url), "utf8");
    expect(file).toBe(runtimeFileText());
  });

  it("JS, WebAssembly scalar and f32x4 SIMD code return the same bits on every input class", () => {
    const fns = Object.values(MATH_F32);
    const n = 1 << 16;
    const h = buildHarness(fns, n);
    const xs = new Float32Array(n);
    const bits = new Uint32Array(xs.buffer);
    const r = rng(12);
    for (let i = 0; i < n; i++) bits[i] = Math.floor(r() * 2 ** 32); // every exponent, NaN payloads, subnormals
    for (let i = 0; i < n / 4; i++) xs[i] = (r() * 2 - 1) * [1, 10, 100, 1e4, 1e6, 90][i % 6]!; // ordinary magnitudes
    xs.set(SPECIALS, n / 4);
    for (const fn of fns) {
      const js = xs.map((x) => F[fn.name]!(x));
      for (const mode of ["scalar", "simd"] as const) {
        const w = h.run(fn.name, xs, mode);
        const wb = new Uint32Array(w.buffer);
        const jb = new Uint32Array(js.buffer);
        const bad: string[] = [];
        for (let i = 0; i < n && bad.length < 3; i++) {
          const bothNaN = Number.isNaN(js[i]!) && Number.isNaN(w[i]!);
          if (wb[i] !== jb[i] && !bothNaN) bad.push(`${fn.name}(${xs[i]}): js ${js[i]}, wasm ${mode} ${w[i]}`);
        }
        expect(bad).toEqual([]);
      }
    }
  });

  it("accuracy table: max float32 ulp error against float64 Math over each range", () => {
    const r = rng(7);
    const report: string[] = [];
    for (const [name, { ulps, ranges }] of Object.entries(TABLE)) {
      for (const [a, b] of ranges) {
        let worst = 0;
        let at = 0;
        for (let i = 0; i < 40000; i++) {
          // uniform in value for narrow ranges, uniform in log-magnitude for wide ones
          const u = r();
          const x = Math.fround(b - a > 1e3 && a >= 0 ? Math.exp(Math.log(Math.max(a, 1e-38)) + u * (Math.log(b) - Math.log(Math.max(a, 1e-38)))) : a + u * (b - a));
          const e = ulpError(F[name]!(x), REF[name]!(x));
          if (e > worst) [worst, at] = [e, x];
        }
        report.push(`${name} [${a}, ${b}]: ${worst.toFixed(2)} ulp at ${at}`);
        expect(worst, `${name} over [${a}, ${b}] at ${at}`).toBeLessThanOrEqual(ulps);
      }
    }
    console.log(report.join("\n"));
  });

  it("special values follow IEEE / C99 Annex F", () => {
    const is = (got: number, want: number) => expect(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)), `${got} vs ${want}`).toBe(true);
    is(F.exp_f32!(-Infinity), 0), is(F.exp_f32!(Infinity), Infinity), is(F.exp_f32!(0), 1), is(F.exp_f32!(NaN), NaN);
    is(F.exp_f32!(88.72283935546875), Infinity), is(F.exp_f32!(-103.97208), 0), is(F.exp_f32!(-103.9), Math.fround(Math.exp(-103.9)));
    is(F.log_f32!(0), -Infinity), is(F.log_f32!(-0), -Infinity), is(F.log_f32!(-1), NaN), is(F.log_f32!(Infinity), Infinity), is(F.log_f32!(1), 0);
    is(F.log_f32!(2 ** -149), Math.fround(Math.log(2 ** -149)));
    for (const f of ["sin_f32", "tanh_f32", "expm1_f32", "log1p_f32"]) is(F[f]!(-0), -0), is(F[f]!(0), 0), is(F[f]!(NaN), NaN);
    is(F.sin_f32!(Infinity), NaN), is(F.cos_f32!(-Infinity), NaN), is(F.cos_f32!(0), 1), is(F.cos_f32!(-0), 1);
    is(F.sin_f32!(1e20), Math.fround(Math.sin(1e20))); // beyond the reduction's range: the library value
    is(F.tanh_f32!(Infinity), 1), is(F.tanh_f32!(-Infinity), -1), is(F.tanh_f32!(50), 1);
    is(F.logistic_f32!(-Infinity), 0), is(F.logistic_f32!(Infinity), 1), is(F.logistic_f32!(0), 0.5), is(F.logistic_f32!(NaN), NaN);
    is(F.expm1_f32!(-Infinity), -1), is(F.expm1_f32!(Infinity), Infinity);
    is(F.log1p_f32!(-1), -Infinity), is(F.log1p_f32!(-2), NaN), is(F.log1p_f32!(Infinity), Infinity);
  });
});
