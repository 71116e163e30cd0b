/**
 * The "chain" workload: 200 chained elementwise ops on a vector of N float32 values, then the
 * gradient of the sum.
 *
 *     x = input(N)                      // x_j = -2 + 4 * (j + 0.5) / N   (evenly spaced in (-2, 2))
 *     for i in 0..199: x = OP[CHAIN[i]](x)
 *     f = sum(x)                        // scalar
 *     result = grad f / d input         // a vector of N values (the timed call reads it back)
 *
 * Every implementation (peers and adgen) MUST interpret the `CHAIN` array below with the
 * definitions in `CHAIN_OPS`, using the primitives listed in `prims` (not a fused hand-derived
 * formula): the point is to measure per-op overhead of the library's AD + execution.
 *
 * The cycle was chosen so that values stay bounded (x stays in about [-1, 3.7] for any input in
 * [-2, 2]) and the gradient neither vanishes nor explodes (|df/dx_j| in about [1e-4, 100]), so
 * float32 results can be checked against the float64 reference below with a loose tolerance
 * (1e-2 of max |grad|: float32 with correctly rounded sin/cos lands near 1e-5..1e-4; jax-js's
 * wasm sin/cos, about 1e-4 relative error each, lands near 4e-3; a wrong rule lands near 1).
 * One cycle is 8 ops = 11 primitives, so 200 ops = 25 cycles = 275 primitive applications.
 */

export type ChainOp = "sin" | "tanh" | "affine" | "xsinx" | "exp" | "square" | "log1psq" | "cos";

export const CHAIN_OPS: Record<
  ChainOp,
  { formula: string; prims: string; f: (x: number) => number; df: (x: number) => number }
> = {
  sin: { formula: "sin(x)", prims: "sin", f: Math.sin, df: Math.cos },
  tanh: {
    formula: "tanh(x)",
    prims: "tanh",
    f: Math.tanh,
    df: (x) => 1 - Math.tanh(x) ** 2,
  },
  affine: {
    formula: "x * 1.001 + 0.1",
    prims: "mul(x, 1.001), add(., 0.1)",
    f: (x) => x * 1.001 + 0.1,
    df: () => 1.001,
  },
  xsinx: {
    formula: "x * sin(x)",
    prims: "sin(x), mul(x, .)   (x used twice: fan-out)",
    f: (x) => x * Math.sin(x),
    df: (x) => Math.sin(x) + x * Math.cos(x),
  },
  exp: { formula: "exp(x)", prims: "exp", f: Math.exp, df: Math.exp },
  square: {
    formula: "x * x",
    prims: "mul(x, x)   (x used twice: fan-out)",
    f: (x) => x * x,
    df: (x) => 2 * x,
  },
  log1psq: {
    formula: "log1p(x * x)",
    prims: "mul(x, x), log1p(.)",
    f: (x) => Math.log1p(x * x),
    df: (x) => (2 * x) / (1 + x * x),
  },
  cos: { formula: "cos(x)", prims: "cos", f: Math.cos, df: (x) => -Math.sin(x) },
};

export const CHAIN_CYCLE: readonly ChainOp[] = [
  "sin",
  "tanh",
  "affine",
  "xsinx",
  "exp",
  "square",
  "log1psq",
  "cos",
];

export const CHAIN_LENGTH = 200;

/** The 200 ops, in order. */
export const CHAIN: readonly ChainOp[] = Array.from(
  { length: CHAIN_LENGTH },
  (_, i) => CHAIN_CYCLE[i % CHAIN_CYCLE.length]!,
);

/** Input vector of the chain workload. */
export function chainInput(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let j = 0; j < n; j++) x[j] = -2 + (4 * (j + 0.5)) / n;
  return x;
}

/** Float64 reference: value of sum(chain(x)) and its gradient, scalar by scalar. */
export function chainReference(x: ArrayLike<number>): { value: number; grad: Float64Array } {
  const grad = new Float64Array(x.length);
  let value = 0;
  for (let j = 0; j < x.length; j++) {
    let v = x[j]!;
    let d = 1;
    for (const op of CHAIN) {
      const o = CHAIN_OPS[op];
      d *= o.df(v);
      v = o.f(v);
    }
    value += v;
    grad[j] = d;
  }
  return { value, grad };
}

/** Relative max error check used by every peer's verify(). */
export function checkChainGrad(got: ArrayLike<number>, ref: Float64Array, tol = 1e-2): string | undefined {
  if (got.length !== ref.length) return `length ${got.length} != ${ref.length}`;
  let maxRef = 0;
  let maxErr = 0;
  for (let j = 0; j < ref.length; j++) {
    maxRef = Math.max(maxRef, Math.abs(ref[j]!));
    maxErr = Math.max(maxErr, Math.abs(got[j]! - ref[j]!));
  }
  const rel = maxErr / maxRef;
  return rel <= tol && Number.isFinite(rel) ? undefined : `chain grad max rel error ${rel.toExponential(2)} > ${tol}`;
}
