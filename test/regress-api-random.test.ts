// Regression tests for issue 9 case 5: random draws compute their range in the requested dtype
// and stay inside [minval, maxval) at the edges of float32/float64 (counts over 100000 samples
// and moments against closed forms).

import { describe, expect, it } from "vitest";
import { type Tensor, jit, np, random } from "../src/index.js";
import { ArgumentError } from "../src/core/errors.js";

const N = 100000;

/** The float of `dtype` just below x, from its bit pattern (an independent reference). */
function floatBelow(x: number, dtype: "float32" | "float64"): number {
  if (x === 0) return dtype === "float32" ? -(2 ** -149) : -(2 ** -1074);
  if (dtype === "float32") {
    const b = new Int32Array(Float32Array.of(x).buffer);
    b[0]! += x > 0 ? -1 : 1;
    return new Float32Array(b.buffer)[0]!;
  }
  const b = new BigInt64Array(Float64Array.of(x).buffer);
  b[0]! += x > 0 ? -1n : 1n;
  return new Float64Array(b.buffer)[0]!;
}
/** Count outside [lo, hi), mean, variance and number of distinct values of a sample. */
function stats(x: ArrayLike<number>, lo: number, hi: number) {
  let outside = 0;
  let s = 0;
  const distinct = new Set<number>();
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v >= lo && v < hi)) outside++;
    s += v;
    distinct.add(v);
  }
  const mean = s / x.length;
  let m2 = 0;
  for (let i = 0; i < x.length; i++) m2 += (x[i]! - mean) ** 2;
  return { outside, mean, variance: m2 / x.length, distinct: distinct.size };
}

describe("issue 9.5: random.uniform computes its range in the requested dtype", () => {
  it("issue 9.5: float64 uniform on [1, 1.0000001): 100000 samples in range, uniform moments", () => {
    const [lo, hi] = [1, 1.0000001];
    const x = random.uniform(random.key(0), [N], { dtype: "float64", minval: lo, maxval: hi }).data;
    const st = stats(x, lo, hi);
    expect(st.outside).toBe(0);
    expect(st.distinct).toBeGreaterThan(N * 0.99); // not collapsed onto a few float32 values
    const span = hi - lo;
    // mean within 5 standard errors of the midpoint; variance span^2/12 within 3%
    expect(Math.abs(st.mean - (lo + hi) / 2)).toBeLessThan((5 * span) / Math.sqrt(12 * N));
    expect(st.variance / (span * span / 12)).toBeGreaterThan(0.97);
    expect(st.variance / (span * span / 12)).toBeLessThan(1.03);
  });

  it("issue 9.5: float64 uniform keeps ranges below float32 resolution, and large ranges", () => {
    for (const [lo, hi] of [[1e-300, 3e-300], [-1e-310, 1e-310], [1e10, 1e10 + 1], [-1.7e308, 1.7e308], [2, 5]] as const) {
      const x = random.uniform(random.key(1), [N], { dtype: "float64", minval: lo, maxval: hi }).data;
      expect(stats(x, lo, hi).outside, `[${lo}, ${hi})`).toBe(0);
      // standardized to [-1, 1): mean 0 within 5 standard errors (variance 1/3)
      const [mid, half] = [lo / 2 + hi / 2, hi / 2 - lo / 2];
      const st = stats(Float64Array.from(x, (v) => (v - mid) / half), -1, 1);
      expect(st.outside).toBe(0);
      expect(Math.abs(st.mean), `[${lo}, ${hi})`).toBeLessThan(5 / Math.sqrt(3 * N));
      expect(Math.abs(st.variance - 1 / 3), `[${lo}, ${hi})`).toBeLessThan(0.01);
    }
  });

  it("issue 9.5: float32 ranges at the edges stay in [minval, maxval) (rounding up to maxval is clamped below it)", () => {
    const f32 = Math.fround;
    const cases: [number, number][] = [
      [0, 1e-45], // one subnormal: every sample is 0
      [1, f32(1 + 2 ** -23)], // one ulp: every sample is 1
      [f32(-3e38), f32(3e38)], // hi - lo overflows float32
      [16777216, 16777218],
      [-2, -1],
    ];
    for (const [lo, hi] of cases) {
      const x = random.uniform(random.key(2), [N], { minval: lo, maxval: hi }).data;
      const st = stats(x, lo, hi);
      expect(st.outside, `[${lo}, ${hi})`).toBe(0);
      expect(Number.isFinite(st.mean)).toBe(true);
    }
    expect(new Set(random.uniform(random.key(2), [1000], { minval: 1, maxval: f32(1 + 2 ** -23) }).data)).toEqual(new Set([1]));
    // [-3e38, 3e38): mean 0 within 5 standard errors
    const big = stats(random.uniform(random.key(3), [N], { minval: -3e38, maxval: 3e38 }).data, -Infinity, Infinity);
    expect(Math.abs(big.mean)).toBeLessThan((5 * 6e38) / Math.sqrt(12 * N));
  });

  it("issue 9.5: traced bounds (jit) clamp exactly like concrete ones, one-ulp ranges in both dtypes", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const f = jit((lo: Tensor, hi: Tensor) => random.uniform(random.key(4), [2000], { minval: lo, maxval: hi, dtype }));
      for (const v of [1, -1, 0.75, -3.5, 2 ** -126, -(2 ** -126), 1e-40, 1e30, -1e30, 0]) {
        const hi = np.array(v, { dtype });
        const l = np.array(floatBelow(hi.item(), dtype), { dtype }); // a one-ulp range [l, hi)
        const a = (f(l, hi) as Tensor).data;
        const b = random.uniform(random.key(4), [2000], { minval: l, maxval: hi, dtype }).data;
        expect(Array.from(a), `${dtype} ${v}`).toEqual(Array.from(b));
        // a one-ulp range holds exactly one float
        expect(new Set(a), `${dtype} ${v}`).toEqual(new Set([l.item()]));
      }
    }
  });

  it("issue 9.5: bad bounds are ArgumentErrors, not silent draws", () => {
    const k = random.key(0);
    expect(() => random.uniform(k, [2], { minval: 2, maxval: 1 })).toThrow(ArgumentError);
    expect(() => random.uniform(k, [2], { minval: 1, maxval: 1 })).toThrow(/minval must be below maxval/);
    expect(() => random.uniform(k, [2], { minval: 0, maxval: Infinity })).toThrow(/maxval must be finite/);
    expect(() => random.uniform(k, [2], { minVal: 0 } as never)).toThrow(/Did you mean "minval"/);
    expect(() => random.randint(k, [2], 0, 2 ** 40)).toThrow(ArgumentError);
    expect(() => random.randint(k, [2], 1.5, 3)).toThrow(ArgumentError);
    expect(() => random.randint(k, [2], 3, 3)).toThrow(/minval must be below maxval/);
    expect(() => random.foldIn(k, 2 ** 40)).toThrow(ArgumentError);
    expect(() => random.normal(k, [2], { dtpye: "float64" } as never)).toThrow(/Did you mean "dtype"/);
  });
});

describe("issue 9.5 siblings: randint, normal, bernoulli in float64 and at the int32 edges", () => {
  it("issue 9.5: randint near 2^31 stays below maxval (bounds never pass through float32)", () => {
    const top = random.randint(random.key(6), [N], 2 ** 31 - 3, 2 ** 31 - 1).data;
    const counts = new Map<number, number>();
    for (const v of top) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([2 ** 31 - 3, 2 ** 31 - 2]);
    for (const c of counts.values()) expect(Math.abs(c - N / 2)).toBeLessThan(5 * Math.sqrt(N / 4));
    const full = random.randint(random.key(7), [N], -(2 ** 31), 2 ** 31).data;
    expect(stats(full, -(2 ** 31), 2 ** 31).outside).toBe(0);
    const one = random.randint(random.key(8), [1000], 16777217, 16777218).data;
    expect(new Set(one)).toEqual(new Set([16777217]));
  });

  it("issue 9.5: randint buckets are uniform (chi-square over 100000 draws)", () => {
    const x = random.randint(random.key(9), [N], -3, 4).data;
    const c = new Array(7).fill(0);
    for (const v of x) c[v + 3]++;
    const chi2 = c.reduce((s, o) => s + (o - N / 7) ** 2 / (N / 7), 0);
    expect(chi2).toBeLessThan(22.5); // 6 degrees of freedom, p = 0.001
  });

  it("issue 9.5: float64 normal and bernoulli moments", () => {
    const z = random.normal(random.key(10), [N], { dtype: "float64" });
    expect(z.dtype).toBe("float64");
    const st = stats(z.data, -Infinity, Infinity);
    expect(Math.abs(st.mean)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(st.variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    const p = np.array(0.3, { dtype: "float64" });
    const b = random.bernoulli(random.key(11), p, [N]).data;
    const ones = Array.from(b).reduce((s, v) => s + v, 0);
    expect(Math.abs(ones / N - 0.3)).toBeLessThan(5 * Math.sqrt(0.21 / N));
  });
});
