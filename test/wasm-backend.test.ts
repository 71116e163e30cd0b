// The WebAssembly kernel backend on the values where machine arithmetic and JavaScript part ways:
// signed zeros, NaN and infinities through min/max/round/sign, float32 rounding, int32 wrapping,
// division by zero and INT_MIN / -1, out-of-range float -> int conversions, bool stores, and
// reductions (f64 accumulation, NaN-first argmax, empty axes). Every result must equal the
// interpreter's bit for bit (Object.is, so -0 and NaN count).

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Tensor, config, jit, np } from "../src/index.js";
import { div, max, min } from "../src/prims/binary.js";
import { UNARY } from "../src/prims/unary.js";
import * as u from "../src/prims/unary.js";

const saved = { ...config };
beforeEach(() => config.update({ backend: "wasm", interpretBelowWork: 0 }));
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
});

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1e-300, -1e-300, 1e300, 3.4e38, -7.25, 0.1, 22.5, -30, 1e-8];
const INTS = [0, 1, -1, 7, -7, 2147483647, -2147483648, 123456, -98765, 3];

function same(got: Tensor, want: Tensor, what: string): void {
  expect(got.dtype).toBe(want.dtype);
  expect(got.shape).toEqual(want.shape);
  const g = Array.from(got.data);
  const w = Array.from(want.data);
  const show = (v: number | undefined) => (Object.is(v, -0) ? "-0" : String(v));
  g.forEach((x, i) => {
    if (!Object.is(x, w[i])) expect.fail(`${what}: element ${i}: wasm ${show(x)}, interpreter ${show(w[i])}`);
  });
}

/** jit(f) under the wasm backend equals f evaluated eagerly (the reference implementations). */
function check(what: string, f: (...a: Tensor[]) => Tensor, ...args: Tensor[]): void {
  same(jit(f)(...args) as Tensor, f(...args), what);
}

describe("wasm backend: elementwise edge values", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const x = np.array(SPECIAL, { dtype });
    const y = np.array([...SPECIAL].reverse(), { dtype });
    it(`every unary op on special values (${dtype})`, () => {
      for (const name of Object.keys(UNARY)) {
        const op = (u as unknown as Record<string, (t: Tensor) => Tensor>)[name];
        expect(op, `unary.ts exports ${name}`).toBeTypeOf("function");
        check(`${name} ${dtype}`, (a) => op!(a), x);
      }
      check(`neg ${dtype}`, (a) => np.negative(a), x);
    });
    it(`binary ops, signed zeros and NaN in max/min (${dtype})`, () => {
      check(`add ${dtype}`, (a, b) => np.add(a, b), x, y);
      check(`mul ${dtype}`, (a, b) => np.multiply(a, b), x, y);
      check(`div ${dtype}`, (a, b) => np.divide(a, b), x, y);
      check(`pow ${dtype}`, (a, b) => np.power(a, b), x, y);
      check(`max ${dtype}`, (a, b) => max(a, b), x, y);
      check(`min ${dtype}`, (a, b) => min(a, b), x, y);
      const zeros = np.array([0, -0, 0, -0], { dtype });
      const zeros2 = np.array([-0, 0, 0, -0], { dtype });
      check(`max of zeros ${dtype}`, (a, b) => max(a, b), zeros, zeros2);
      check(`min of zeros ${dtype}`, (a, b) => min(a, b), zeros, zeros2);
      check(`compare ${dtype}`, (a, b) => np.logicalAnd(np.less(a, b), np.notEqual(a, b)), x, y);
      check(`where ${dtype}`, (a, b) => np.where(np.greaterEqual(a, b), a, b), x, y);
    });
    it(`conversions to int32 (out of range wraps like JS) and bool (${dtype})`, () => {
      const big = np.array([2147483648, -2147483649, 4294967296 + 5, 1e10, -1e10, NaN, Infinity, 2.9, -2.9, -0], { dtype: "float64" }).astype(dtype);
      check(`to int32 ${dtype}`, (a) => a.astype("int32"), big);
      check(`to bool ${dtype}`, (a) => a.astype("bool").astype("int32"), x);
    });
  }

  it("int32: wrapping arithmetic, division by zero and INT_MIN / -1, abs and sign", () => {
    const a = np.array(INTS, { dtype: "int32" });
    const b = np.array([0, -1, -1, 2, 0, -1, -1, 5, 3, 0], { dtype: "int32" });
    check("add", (p, q) => np.add(p, q), a, a);
    check("mul", (p, q) => np.multiply(p, q), a, a);
    check("div", (p, q) => div(p, q), a, b);
    check("neg", (p) => np.negative(p), a);
    check("abs", (p) => np.abs(p), a);
    check("sign", (p) => np.sign(p), a);
    check("max/min", (p, q) => np.add(max(p, q), min(p, q)), a, b);
    check("to float32", (p) => p.astype("float32"), a);
  });

  it("reductions: float32 sums in double, NaN-first argmax, ints, bools and empty axes", () => {
    const x = np.array([1e8, 1, -1e8, NaN, 3, 5, 5, -Infinity, 0.1, 0.2, 0.3, -0], { dtype: "float32" }).reshape([3, 4]);
    check("sum", (t) => np.sum(t, { axis: 1 }), x);
    check("prod", (t) => np.prod(t, { axis: 0 }), x);
    check("max", (t) => np.max(t, { axis: 1 }), x);
    check("min", (t) => np.min(t, { axis: 0 }), x);
    check("argmax", (t) => np.argmax(t, { axis: 1 }), x);
    check("argmin", (t) => np.argmin(t, { axis: 0 }), x);
    const ints = np.array(INTS.slice(0, 8), { dtype: "int32" }).reshape([2, 4]);
    check("int sum", (t) => np.sum(t, { axis: 1 }), ints);
    check("int prod", (t) => np.prod(t, { axis: 1 }), ints);
    check("int max", (t) => np.max(t, { axis: 0 }), ints);
    check("bool any", (t) => np.any(np.greater(t, 0), { axis: 1 }), ints);
    check("empty axis", (t) => np.sum(t, { axis: 1 }), np.zeros([3, 0], { dtype: "float64" }));
  });
});
