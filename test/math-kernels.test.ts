// Our float32 math functions wired into the primitives (issue 12, item 1): for float32 operands
// every path (eager, the interpreter under jit, the JS and WebAssembly backends, exported modules
// of both backends) returns the bits of MATH_F32_RUNTIME, float64 keeps Math.*; the f32x4 loops of
// float32 map kernels and of float32 reductions' elements (backends/wasm/simd.ts) equal the interpreter over sizes 0..17 (every tail)
// with unit-stride, broadcast and strided operands; and a float32 kernel calls no imported Math
// function (a counter on the import).

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Tensor, config, exportFunction, jit, np, spec } from "../src/index.js";
import { slice } from "../src/prims/shape.js";
import { MATH_F32_RUNTIME } from "../src/math/runtime.js";
import { max, min } from "../src/prims/binary.js";
import { UNARY } from "../src/prims/unary.js";
import * as u from "../src/prims/unary.js";
import { loadExported } from "./util/load-exported.js";

const saved = { ...config };
beforeEach(() => config.update({ interpretBelowWork: 0 }));
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
});

const OPS = u as unknown as Record<string, (t: Tensor) => Tensor>;
const F32_OPS = Object.keys(UNARY).filter((k) => UNARY[k]!.f32);

/** Inputs of every class: zeros, infinities, NaN, subnormals, the exp/log edges, trig fallback lanes, ordinary values. */
const INPUTS = Float32Array.from([
  0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 1e-40, 1.1754943508222875e-38, 1, -1, 0.5, -0.5, 0.625, -0.625, 88.72283935546875,
  88.8, -103.97, -104, -87.5, 3.4e38, -3.4e38, 1e30, -1e30, 524288, 524289, -600000, 3.14159265, 1.5707963, -2.356, 20, -20, 1e-7,
  ...Array.from({ length: 40 }, (_, i) => Math.sin(i * 7.31) * (i % 5 === 0 ? 100 : 6)),
]);

function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

describe("float32 primitives compute MATH_F32_RUNTIME's bits on every path", () => {
  const x = np.array(INPUTS, { dtype: "float32" });
  for (const name of F32_OPS) {
    const f32 = MATH_F32_RUNTIME.value[UNARY[name]!.f32!]!;
    const want = Float32Array.from(INPUTS, (v) => f32(v));
    it(`${name}: eager, interp, js, wasm`, () => {
      const op = OPS[name]!;
      expectSame(op(x).data, want, `${name} eager`);
      for (const backend of ["interp", "js", "wasm"] as const) {
        config.update({ backend });
        expectSame((jit((a: Tensor) => op(a))(x) as Tensor).data, want, `${name} ${backend}`);
      }
    });
    it(`${name}: exported modules (wasm and js)`, async () => {
      const op = OPS[name]!;
      for (const backend of ["wasm", "js"] as const) {
        const m = await loadExported(exportFunction((a: Tensor) => op(a), [spec("float32", [INPUTS.length])], { name: `m_${name}`, backend }));
        expectSame(m.default(x).data, want, `${name} export ${backend}`);
      }
    });
  }
  it("float64 keeps the library function (Math.*) on every backend", () => {
    const x64 = np.array(INPUTS, { dtype: "float64" });
    for (const name of F32_OPS) {
      const want = Float64Array.from(INPUTS, (v) => UNARY[name]!.f(v));
      expectSame(OPS[name]!(x64).data, want, `${name} float64 eager`);
      for (const backend of ["js", "wasm"] as const) {
        config.update({ backend });
        expectSame((jit((a: Tensor) => OPS[name]!(a))(x64) as Tensor).data, want, `${name} float64 ${backend}`);
      }
    }
  });
});

describe("wasm f32x4 map and reduce kernels equal the interpreter", () => {
  const data = (n: number, s: number) => np.array(Float32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? [0, -0, NaN, Infinity][i % 4]! : Math.sin(i * 1.7 + s) * 4)), { dtype: "float32" });
  const kernels: [string, (a: Tensor, b: Tensor, c: Tensor) => Tensor][] = [
    ["arith and math", (a, b) => np.add(np.multiply(np.tanh(a), np.exp(np.negative(np.multiply(b, b)))), np.divide(np.sqrt(np.abs(a)), np.subtract(b, 0.5)))],
    ["every math function", (a) => [np.exp, np.log, np.sin, np.cos, np.tanh, np.log1p, np.expm1].reduce((acc, f) => np.add(acc, f(np.abs(a))), np.floor(a))],
    ["compare, select, max/min, bool convert", (a, b) => np.add(np.where(np.greater(a, b), u.logistic(a), np.cos(b)), np.multiply(max(a, min(b, np.multiply(b, 0))), np.lessEqual(a, 0).astype("float32")))],
    ["row broadcast (stride 0 outer) and column broadcast (splat)", (a, _b, c) => np.multiply(np.exp(a), np.add(c, np.round(np.ceil(a))))],
    ["sum over the last axis (f32x4 elements, in-order accumulation)", (a, b) => np.sum(np.multiply(np.tanh(a), np.exp(np.negative(np.multiply(b, b)))), { axis: -1 })],
    ["sum and prod whose float64 accumulation rounds (order matters)", (a) => {
      const fin = np.where(np.isfinite(a), a, 0.75);
      return np.stack([np.sum(np.exp(np.multiply(fin, 9)), { axis: -1 }), np.prod(np.add(np.multiply(np.cos(fin), 0.3), 1), { axis: -1 })]);
    }],
    ["sum, prod, max, min over everything", (a, b) =>
      np.stack([np.sum(np.exp(a)), np.prod(np.cos(a)), ...(a.shape.includes(0) ? [] : [np.max(np.sin(b)), np.min(np.add(a, b))])].map((t) => t.astype("float32")))],
    ["sum over the first axis (strided: scalar loop)", (a) => np.sum(np.exp(a), { axis: 0 })],
    ["transposed operand (strided: scalar loop)", (a) => np.tanh(np.add(a, np.transpose(a)))],
    ["every other element (strided: scalar loop)", (a) => np.exp(slice(a, a.shape.map(() => 0), a.shape, a.shape.map((_, i) => (i === a.shape.length - 1 ? 2 : 1))))],
  ];
  for (const [what, f] of kernels) {
    it(what, () => {
      for (let n = 0; n <= 17; n++) {
        const shapes = what.startsWith("transposed") ? [[n, n]] : [[n], [3, n]];
        for (const shape of shapes) {
          const size = shape.reduce((p, d) => p * d, 1);
          const a = data(size, 1).reshape(shape);
          const b = data(size, 2).reshape(shape);
          const c = np.broadcastTo(data(shape[0]!, 3).reshape(shape.length === 2 ? [shape[0]!, 1] : [shape[0]!]), shape);
          config.update({ backend: "interp" });
          const want = (jit(f)(a, b, c) as Tensor).data;
          config.update({ backend: "wasm" });
          expectSame((jit(f)(a, b, c) as Tensor).data, want, `${what} [${shape}]`);
        }
      }
    });
  }
});

describe("wasm f32x4 reductions accumulate in element order", () => {
  it("cancelling sums (1e30, 1, -1e30, ...) equal the interpreter's", () => {
    const pattern = [1e30, 1, -1e30, 2.5, -1e30, 3, 1e30, -0.5];
    const f = (a: Tensor) => np.stack([np.sum(np.multiply(a, 1.5), { axis: -1 }), np.max(np.multiply(a, 0.5), { axis: -1 })]);
    for (let n = 1; n <= 17; n++) {
      for (const shape of [[n], [3, n]]) {
        const size = shape.reduce((p, d) => p * d, 1);
        const a = np.array(Float32Array.from({ length: size }, (_, i) => pattern[(i * 3 + (i >> 3)) % 8]!), { dtype: "float32" }).reshape(shape);
        config.update({ backend: "interp" });
        const want = (jit(f)(a) as Tensor).data;
        config.update({ backend: "wasm" });
        expectSame((jit(f)(a) as Tensor).data, want, `[${shape}]`);
      }
    }
  });
});

describe("float32 transcendentals in wasm call no imported Math function", () => {
  it("tanh and exp kernels: the imports are not called for float32, are for float64", () => {
    const calls = { tanh: 0, exp: 0 };
    const saved = { tanh: UNARY.tanh!.f, exp: UNARY.exp!.f };
    UNARY.tanh!.f = (a) => (calls.tanh++, saved.tanh(a));
    UNARY.exp!.f = (a) => (calls.exp++, saved.exp(a));
    try {
      config.update({ backend: "wasm" });
      const f = (a: Tensor) => np.sum(np.multiply(np.tanh(a), np.exp(np.negative(a))));
      const g = (a: Tensor) => np.multiply(np.tanh(a), np.exp(a));
      for (const h of [f, g]) jit(h)(np.array(INPUTS, { dtype: "float32" }));
      expect(calls).toEqual({ tanh: 0, exp: 0 });
      jit(g)(np.array(INPUTS, { dtype: "float64" }));
      expect(calls.tanh).toBe(INPUTS.length);
      expect(calls.exp).toBe(INPUTS.length);
    } finally {
      Object.assign(UNARY.tanh!, { f: saved.tanh });
      Object.assign(UNARY.exp!, { f: saved.exp });
    }
  });
});
