// Specification of the functional PRNG: Threefry-2x32 known-answer tests, JAX-compatible keys,
// splits and float32 uniforms, determinism and independence of streams, distribution moments,
// vmap over batches of keys, and typed errors.

import { describe, expect, it } from "vitest";
import { Tensor, grad, jit, np, vmap } from "../src/index.js";
import * as random from "../src/api/random.js";
import { threefry2x32 } from "../src/prims/random.js";
import { lookupPrimitive } from "../src/higher-order/registry.js";
import { ArgumentError, DTypeError } from "../src/core/errors.js";
import { assertClose } from "./util/check.js";

const u32 = (t: Tensor) => Array.from(t.data, (v) => v >>> 0);
const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
const variance = (a: ArrayLike<number>) => {
  const m = mean(a);
  return Array.from(a).reduce((s, v) => s + (v - m) ** 2, 0) / a.length;
};

describe("threefry2x32", () => {
  it("passes the Random123 known-answer tests (20 rounds)", () => {
    expect(threefry2x32(0, 0, 0, 0)).toEqual([0x6b200159, 0x99ba4efe]);
    expect(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)).toEqual([0x1cb996fc, 0xbb002be7]);
    expect(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3)).toEqual([0xc4923a9c, 0x483df7a0]);
  });
  it("the primitives are registered", () => {
    for (const n of ["random_bits", "random_split", "random_fold_in"]) expect(lookupPrimitive(n)).toBeDefined();
  });
});

describe("keys", () => {
  it("key(seed) is [high word, low word] as int32 (JAX's PRNGKey)", () => {
    const k = random.key(42);
    expect(k.dtype).toBe("int32");
    expect(k.shape).toEqual([2]);
    expect(k.toArray()).toEqual([0, 42]);
    expect(u32(random.key(-1))).toEqual([0, 0xffffffff]);
    expect(u32(random.key(2 ** 40 + 5))).toEqual([256, 5]);
    expect(random.key(np.array(7, { dtype: "int32" })).toArray()).toEqual([0, 7]);
  });
  it("split / bits / float32 uniform reproduce the partitionable Threefry values of jax-js / JAX", () => {
    // reference values computed with jax-js 0.1.25 (a devDependency), which implements JAX's
    // partitionable Threefry scheme: element i = threefry(key, (0, i)), bits = word0 ^ word1
    expect(u32(random.split(random.key(0)))).toEqual([1797259609, 2579123966, 928981903, 3453687069]);
    expect(u32(random.bits(random.key(42), [4]))).toEqual([2098992034, 2919706841, 2646866425, 2409546199]);
    assertClose(random.uniform(random.key(42), [4]).data, [0.48870956897735596, 0.6797971725463867, 0.6162714958190918, 0.5610160827636719], {
      rtol: 0,
      atol: 0,
    });
  });
  it("foldIn(key, i) equals split(key, n)[i]; splits differ from each other and from the parent", () => {
    const k = random.key(3);
    const ks = random.split(k, 5);
    expect(ks.shape).toEqual([5, 2]);
    expect(random.foldIn(k, 3).toArray()).toEqual(np.index(ks, 3).toArray());
    const rows = ks.toArray() as number[][];
    expect(new Set(rows.map(String)).size).toBe(5);
    expect(rows.map(String)).not.toContain(String(k.toArray()));
  });
});

describe("determinism and independence", () => {
  it("the same key gives the same numbers; different keys give different ones", () => {
    const k = random.key(1);
    expect(Array.from(random.normal(k, [5]).data)).toEqual(Array.from(random.normal(k, [5]).data));
    const [a, b] = [np.index(random.split(k), 0), np.index(random.split(k), 1)];
    const xa = random.normal(a, [2000], { dtype: "float64" }).data;
    const xb = random.normal(b, [2000], { dtype: "float64" }).data;
    expect(Array.from(xa)).not.toEqual(Array.from(xb));
    let cov = 0;
    for (let i = 0; i < xa.length; i++) cov += xa[i]! * xb[i]!;
    expect(Math.abs(cov / xa.length)).toBeLessThan(0.1); // ~4.5 standard errors
  });
  it("a draw is a prefix-stable function of the element index", () => {
    const k = random.key(9);
    const small = random.uniform(k, [3]).data;
    const big = random.uniform(k, [2, 5]).data;
    expect(Array.from(big.slice(0, 3))).toEqual(Array.from(small));
  });
});

describe("distributions", () => {
  const N = 20000;
  it("uniform: range, moments, minval/maxval, float64 with 53 bits", () => {
    const u = random.uniform(random.key(0), [N]).data;
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(variance(u) - 1 / 12)).toBeLessThan(0.005);
    const v = random.uniform(random.key(1), [N], { minval: -2, maxval: 3 }).data;
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...v)).toBeLessThan(3);
    const d = random.uniform(random.key(2), [1000], { dtype: "float64" });
    expect(d.dtype).toBe("float64");
    const scaled = Array.from(d.data, (x) => x * 2 ** 53);
    expect(scaled.every(Number.isInteger)).toBe(true);
    expect(scaled.some((x) => x % 2 === 1)).toBe(true); // the 53rd bit is used
  });
  it("normal: mean 0, variance 1, 68% within one sigma, in float32 and float64", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const z = random.normal(random.key(5), [N], { dtype });
      expect(z.dtype).toBe(dtype);
      expect(Math.abs(mean(z.data))).toBeLessThan(0.03);
      expect(Math.abs(variance(z.data) - 1)).toBeLessThan(0.04);
      const within = Array.from(z.data).filter((v) => Math.abs(v) < 1).length / N;
      expect(Math.abs(within - 0.6827)).toBeLessThan(0.015);
      expect(Array.from(z.data).every(Number.isFinite)).toBe(true);
    }
  });
  it("bernoulli, randint, exponential, gumbel, categorical", () => {
    const b = random.bernoulli(random.key(1), 0.3, [N]);
    expect(b.dtype).toBe("bool");
    expect(Math.abs(mean(b.data) - 0.3)).toBeLessThan(0.015);
    expect(random.bernoulli(random.key(1), np.array([0, 1])).toArray()).toEqual([false, true]);
    const r = random.randint(random.key(2), [N], -3, 4);
    expect(r.dtype).toBe("int32");
    const counts = new Map<number, number>();
    for (const v of r.data) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((x, y) => x - y)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    for (const c of counts.values()) expect(Math.abs(c / N - 1 / 7)).toBeLessThan(0.015);
    expect(Math.abs(mean(random.exponential(random.key(3), [N]).data) - 1)).toBeLessThan(0.03);
    expect(Math.abs(mean(random.gumbel(random.key(4), [N]).data) - 0.5772)).toBeLessThan(0.03);
    const logits = np.log(np.array([0.2, 0.5, 0.3]));
    const keys = random.split(random.key(6), 3000);
    const draws = vmap((k: Tensor) => random.categorical(k, logits))(keys) as Tensor;
    const freq = [0, 1, 2].map((c) => Array.from(draws.data).filter((v) => v === c).length / 3000);
    assertClose(freq, [0.2, 0.5, 0.3], { rtol: 0, atol: 0.035 });
  });
  it("permutation: a permutation, the same whether the key is concrete or traced", () => {
    const k = random.key(7);
    const p = random.permutation(k, 10);
    expect(Array.from(p.data).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(Array.from(p.data)).not.toEqual([...Array(10).keys()]);
    const traced = vmap((kk: Tensor) => random.permutation(kk, 10))(np.stack([k, k])) as Tensor;
    expect((traced.toArray() as number[][])[1]).toEqual(Array.from(p.data));
    const x = np.reshape(np.arange(6), [3, 2]);
    const shuffled = random.permutation(k, x).toArray() as number[][];
    expect(shuffled.map((row) => row[0]! / 2).sort()).toEqual([0, 1, 2]);
    expect(random.permutation(k, x, { axis: 1 }).shape).toEqual([3, 2]);
  });
});

describe("transformations", () => {
  it("vmap over a batch of keys equals a loop over keys", () => {
    const keys = random.split(random.key(11), 4);
    const f = (k: Tensor) => random.normal(k, [3]);
    const batched = vmap(f)(keys) as Tensor;
    expect(batched.shape).toEqual([4, 3]);
    const looped = np.stack([0, 1, 2, 3].map((i) => f(np.index(keys, i))));
    expect(Array.from(batched.data)).toEqual(Array.from(looped.data));
    const splitB = vmap((k: Tensor) => random.split(k, 3))(keys) as Tensor;
    expect(splitB.shape).toEqual([4, 3, 2]);
    expect((splitB.toArray() as number[][][])[2]).toEqual(random.split(np.index(keys, 2), 3).toArray());
    const folded = vmap((k: Tensor, i: Tensor) => random.foldIn(k, i))(keys, np.arange(4, { dtype: "int32" })) as Tensor;
    expect((folded.toArray() as number[][])[3]).toEqual(random.foldIn(np.index(keys, 3), 3).toArray());
    const keysOnAxis1 = np.transpose(keys);
    expect(Array.from((vmap(f, { inAxes: 1 })(keysOnAxis1) as Tensor).data)).toEqual(Array.from(batched.data));
  });
  it("jit gives the same draws as eager evaluation", () => {
    const f = (k: Tensor) => [random.normal(k, [4]), random.uniform(random.foldIn(k, 5), [2], { dtype: "float64" }), random.split(k, 3)];
    const k = random.key(123);
    const eager = f(k);
    const compiled = jit(f)(k) as Tensor[];
    compiled.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(eager[i]!.data)));
  });
  it("random draws are constants for differentiation", () => {
    const k = random.key(0);
    const x = np.array([1, 2, 3], { dtype: "float64" });
    const g = grad((v: Tensor) => np.sum(np.multiply(v, random.uniform(k, [3], { dtype: "float64" }))))(x) as Tensor;
    expect(Array.from(g.data)).toEqual(Array.from(random.uniform(k, [3], { dtype: "float64" }).data));
  });
});

describe("errors", () => {
  it("name the function and the offending key or dtype", () => {
    expect(() => random.normal(np.array([1, 2]), [2])).toThrow(ArgumentError);
    expect(() => random.normal(np.array([1, 2]), [2])).toThrow(/random.normal: expected a key \(int32 tensor of shape \[2\].*got f32\[2\]/);
    expect(() => random.uniform(random.split(random.key(0), 2), [2])).toThrow(/random.uniform: .*got i32\[2,2\]; to use a batch of keys, vmap/);
    expect(() => random.uniform(random.key(0), [2], { dtype: "int32" })).toThrow(DTypeError);
    expect(() => random.split(random.key(0), -1)).toThrow(/random.split: num must be an integer >= 0/);
    expect(() => random.key(1.5)).toThrow(/random.key: seed must be a safe integer/);
    expect(() => random.normal(random.key(0), [-1])).toThrow(/random.normal: shape/);
    expect(() => random.randint(random.key(0), [2], 0.5, 3)).toThrow(/random.randint: minval must be an integer/);
  });
});
