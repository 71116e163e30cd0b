// Differential property test of the kernel code generators (issue 9.1 and its siblings): random
// small programs mixing pad / slice / broadcast / transpose / where / select / reductions with
// reused transcendental outputs, on random shapes, as values and under grad, compiled by the
// WebAssembly and JS backends, must equal the interpreter (the reference implementations) bit for
// bit (Object.is: -0 and NaN count). Fusion makes one kernel read a buffer through guards (pad,
// concatenate) and directly, and hoists/deduplicates subexpressions: exactly where a cached value
// can be stale or two different expressions can be merged.

import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type Tensor, config, grad, jit, nn, np } from "../src/index.js";

const { update: _u, ...saved } = { ...config };
afterEach(() => config.update(saved));

type Op =
  | { k: "unary"; f: number; a: number }
  | { k: "binary"; f: number; a: number; b: number }
  | { k: "shift"; axis: number; by: number; a: number } // pad then slice: a guarded read
  | { k: "unshift"; axis: number; a: number } // slice then pad (the transpose of a slice)
  | { k: "roll"; axis: number; a: number } // concatenate of two slices
  | { k: "reduce"; f: number; axis: number; a: number; b: number } // b + reduce(a) broadcast back
  | { k: "where"; a: number; b: number; c: number; lit: number }
  | { k: "transpose"; a: number; b: number }
  | { k: "literals"; a: number; c: number; l1: number; l2: number }; // two selects differing only in a literal

const UNARY: ((t: Tensor) => Tensor)[] = [
  (t) => np.tan(t),
  (t) => np.exp(np.multiply(t, 0.5)),
  (t) => np.tanh(t),
  (t) => nn.sigmoid(t),
  (t) => np.sqrt(np.add(np.abs(t), 0.25)),
  (t) => np.log(np.add(np.abs(t), 1)),
  (t) => np.sin(t),
];
const BINARY: ((a: Tensor, b: Tensor) => Tensor)[] = [(a, b) => np.add(a, b), (a, b) => np.multiply(a, b), (a, b) => np.subtract(a, b), (a, b) => np.maximum(a, b)];
const REDUCE: ((t: Tensor, axis: number) => Tensor)[] = [
  (t, axis) => np.sum(t, { axis, keepdims: true }),
  (t, axis) => np.max(t, { axis, keepdims: true }),
  (t, axis) => np.mean(t, { axis, keepdims: true }),
];
const LITERALS = [0, -0, Infinity, -Infinity, NaN, 1.5];

function pick<T>(xs: T[], i: number): T {
  return xs[i % xs.length]!;
}

/** Runs the op list on x (shape [m, n]); every op adds one value of x's shape to the pool. */
function run(ops: Op[], x: Tensor, literals: boolean): Tensor {
  const pool: Tensor[] = [x];
  const at = (i: number) => pool[i % pool.length]!;
  const [m, n] = x.shape as number[];
  const size = (axis: number) => (axis === 0 ? m! : n!);
  for (const op of ops) {
    let v: Tensor;
    switch (op.k) {
      case "unary":
        v = pick(UNARY, op.f)(at(op.a));
        break;
      case "binary":
        v = pick(BINARY, op.f)(at(op.a), at(op.b));
        break;
      case "shift": {
        const by = 1 + (op.by % 2);
        const widths: [number, number][] = [[0, 0], [0, 0]];
        widths[op.axis] = [by, by];
        const sl = op.axis === 0 ? [np.s(by - 1, by - 1 + m!)] : [np.s(null), np.s(by + 1, by + 1 + n!)];
        v = np.index(np.pad(at(op.a), widths), sl);
        break;
      }
      case "unshift": {
        if (size(op.axis) < 2) {
          v = at(op.a);
          break;
        }
        const widths: [number, number][] = [[0, 0], [0, 0]];
        widths[op.axis] = [0, 1];
        v = np.pad(np.index(at(op.a), op.axis === 0 ? [np.s(1, null)] : [np.s(null), np.s(1, null)]), widths);
        break;
      }
      case "roll": {
        const a = at(op.a);
        const head = op.axis === 0 ? [np.s(0, 1)] : [np.s(null), np.s(0, 1)];
        const tail = op.axis === 0 ? [np.s(1, null)] : [np.s(null), np.s(1, null)];
        v = np.concatenate([np.index(a, tail), np.index(a, head)], { axis: op.axis });
        break;
      }
      case "reduce":
        v = np.add(at(op.b), pick(REDUCE, op.f)(at(op.a), op.axis));
        break;
      case "where": {
        const c = at(op.c);
        const other = literals ? pick(LITERALS, op.lit) : at(op.b);
        v = np.where(np.greater(c, 0), at(op.a), other);
        break;
      }
      case "literals": {
        const cond = np.greater(at(op.c), 0);
        v = np.subtract(np.where(cond, at(op.a), pick(LITERALS, op.l1)), np.where(cond, at(op.a), pick(LITERALS, op.l2)));
        if (literals) v = np.divide(1, np.add(v, 0.5));
        break;
      }
      case "transpose":
        v = m === n ? np.add(np.transpose(at(op.a)), at(op.b)) : at(op.a);
        break;
    }
    pool.push(v);
  }
  // every pool value reaches the output, so shared subexpressions are read in several places
  return pool.slice(1).reduce((acc, t, i) => (i % 2 ? np.add(acc, t) : np.subtract(acc, np.multiply(t, 0.5))), pool[pool.length - 1]!);
}

const idx = fc.nat({ max: 50 });
const axis = fc.integer({ min: 0, max: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("unary" as const), f: idx, a: idx }),
  fc.record({ k: fc.constant("binary" as const), f: idx, a: idx, b: idx }),
  fc.record({ k: fc.constant("shift" as const), axis, by: idx, a: idx }),
  fc.record({ k: fc.constant("unshift" as const), axis, a: idx }),
  fc.record({ k: fc.constant("roll" as const), axis, a: idx }),
  fc.record({ k: fc.constant("reduce" as const), f: idx, axis, a: idx, b: idx }),
  fc.record({ k: fc.constant("where" as const), a: idx, b: idx, c: idx, lit: idx }),
  fc.record({ k: fc.constant("transpose" as const), a: idx, b: idx }),
  fc.record({ k: fc.constant("literals" as const), a: idx, c: idx, l1: idx, l2: idx }),
);
const caseArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 7 }),
  m: fc.integer({ min: 1, max: 5 }),
  n: fc.integer({ min: 1, max: 6 }),
  dtype: fc.constantFrom("float32" as const, "float64" as const),
  seed: fc.integer({ min: 1, max: 1000 }),
  literals: fc.boolean(),
});

function input(m: number, n: number, dtype: "float32" | "float64", seed: number): Tensor {
  const data = Array.from({ length: m * n }, (_, i) => Math.sin(seed * 7.31 + i * 3.7) * 1.3);
  return np.array(data, { dtype }).reshape([m, n]);
}

function sameBits(got: Tensor, want: Tensor, what: string): void {
  expect(got.shape, what).toEqual(want.shape);
  const g = Array.from(got.data);
  const w = Array.from(want.data);
  const show = (v: number | undefined) => (Object.is(v, -0) ? "-0" : String(v));
  g.forEach((v, i) => {
    if (!Object.is(v, w[i])) expect.fail(`${what}: element ${i}: ${show(v)}, interpreter ${show(w[i])}`);
  });
}

/** f under jit on each compiled backend (fresh jit, compiled on the first call) against the interpreter. */
function compare(f: (x: Tensor) => Tensor, x: Tensor, what: string): void {
  config.update({ backend: "interp", interpretBelowWork: 0, autoGeneralizeShapes: false });
  const want = jit((t: Tensor) => f(t))(x) as Tensor;
  for (const backend of ["wasm", "js"] as const) {
    config.update({ backend });
    sameBits(jit((t: Tensor) => f(t))(x) as Tensor, want, `${what} (${backend})`);
  }
}

describe("issue 9.1 siblings: random fused programs, compiled == interpreter bit for bit", () => {
  it("issue 9.1: random pad/slice/broadcast/transpose/where/reduce programs with reused transcendentals, values and grad, wasm and js == interp", () => {
    fc.assert(
      fc.property(caseArb, ({ ops, m, n, dtype, seed, literals }) => {
        const x = input(m, n, dtype, seed);
        compare((t) => run(ops, t, literals), x, "value");
        const w = input(m, n, dtype, seed + 1);
        compare(grad((t: Tensor) => np.sum(np.multiply(run(ops, t, literals), w))) as (t: Tensor) => Tensor, x, "grad");
      }),
      { numRuns: 150, seed: 9001 },
    );
  });
});
