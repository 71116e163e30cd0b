// Test helpers: deterministic random tensors, closeness assertions, and the two gradient checks
// every differentiable function must pass in float64: JVP against central differences, and
// VJP against JVP by the dot-product identity <J t, u> = <t, J^T u>.

import { expect } from "vitest";
import { Tensor, jvp, vjp } from "../../src/index.js";
import { ShapedArray } from "../../src/core/aval.js";
import type { DType } from "../../src/core/dtype.js";
import { rng } from "../../bench/workloads/data.js";
import { adbenchErr } from "../../examples/adbench/io.js";

/** mulberry32, the same seeded generator the benchmarks use. */
export { rng };

export function tensor(data: ArrayLike<number>, shape: number[], dtype: DType = "float64"): Tensor {
  const arr =
    dtype === "float64" ? Float64Array.from(data) : dtype === "float32" ? Float32Array.from(data) : dtype === "int32" ? Int32Array.from(data) : Uint8Array.from(data);
  return new Tensor(new ShapedArray(shape, dtype), arr);
}

/** Uniform values in [lo, hi). */
export function rand(shape: number[], seed: number, lo = -1, hi = 1, dtype: DType = "float64"): Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => lo + (hi - lo) * r()), shape, dtype);
}

export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: { rtol?: number; atol?: number; what?: string } = {},
): void {
  const { rtol = 1e-6, atol = 1e-9, what = "" } = opts;
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e) || a === e;
    if (!ok) expect.fail(`${what}: element ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
  }
}

type Fn = (...xs: Tensor[]) => Tensor;

function axpy(x: Tensor, t: Tensor, eps: number): Tensor {
  const d = x.dataSync() as Float64Array;
  const td = t.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i]! + eps * td[i]!;
  return new Tensor(x.aval, d);
}

/** Central-difference directional derivative of f at xs along ts. */
export function numericJvp(f: Fn, xs: Tensor[], ts: Tensor[], eps = 1e-6): Float64Array {
  const plus = f(...xs.map((x, i) => axpy(x, ts[i]!, eps))).data;
  const minus = f(...xs.map((x, i) => axpy(x, ts[i]!, -eps))).data;
  return Float64Array.from(plus, (p, i) => (p - minus[i]!) / (2 * eps));
}

function dotAll(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** JVP vs central differences, and VJP vs JVP (dot-product identity), in float64. */
export function checkGradients(
  f: Fn,
  xs: Tensor[],
  opts: { seed?: number; rtol?: number; atol?: number; eps?: number; dotRtol?: number; reverseOnly?: boolean } = {},
): void {
  const seed = opts.seed ?? 1;
  const ts = xs.map((x, i) => rand(x.shape, seed * 31 + i, -1, 1, x.dtype));
  const num = numericJvp(f, xs, ts, opts.eps);
  let y: Tensor;
  let yDotData: ArrayLike<number>;
  if (opts.reverseOnly) {
    // no forward mode (customVjp): check the vjp against the central differences directly
    y = f(...xs);
    yDotData = num;
  } else {
    const [yy, yDot] = jvp(f, xs, ts) as [Tensor, Tensor];
    y = yy;
    yDotData = yDot.data;
    assertClose(yDotData, num, { rtol: opts.rtol ?? 1e-5, atol: opts.atol ?? 1e-7, what: "jvp vs central differences" });
  }
  const u = rand(y.shape, seed * 17 + 5, -1, 1, y.dtype);
  const [, pullback] = vjp(f, ...xs);
  const xBars = pullback(u) as Tensor[];
  const lhs = dotAll(yDotData, u.data);
  const rhs = xBars.reduce((s, xb, i) => s + dotAll(xb.data, ts[i]!.data), 0);
  const dotRtol = opts.dotRtol ?? (opts.reverseOnly ? 1e-6 : 1e-9);
  assertClose([lhs], [rhs], { rtol: dotRtol, atol: 1e-10, what: "<J t, u> vs <t, J^T u>" });
}

/** ADBench's agreement metric for two numbers (examples/adbench/io.ts). */
export { adbenchRelErr as relErr } from "../../examples/adbench/io.js";

/** ADBench's agreement metric for two arrays of the same length (asserted). */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  return adbenchErr(a, b);
}
