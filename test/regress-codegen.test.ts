// Regression tests of compiled-kernel correctness from issue 9 (cases 1, 2, 8): every result of
// the WebAssembly and JS backends and of exported modules must equal eager evaluation and the
// interpreter bit for bit (Object.is: -0 and NaN count), on the first call and once compiled.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ArgumentError } from "../src/core/errors.js";
import { SymDim } from "../src/core/shape.js";
import { Tensor, config, exportFunction, grad, jit, np, spec, vmap } from "../src/index.js";
import { exprKey } from "../src/lower/kernel-ir.js";
import { JS_PRELUDE, jsNumber, jsScalarOp } from "../src/backends/js/scalar.js";
import { BINARY } from "../src/prims/binary.js";
import { gather } from "../src/prims/gather.js";
import { UNARY } from "../src/prims/unary.js";

const { update: _u, ...saved } = { ...config };
afterEach(() => config.update(saved));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const BACKENDS = ["wasm", "js", "interp"] as const;
type F = (...a: Tensor[]) => Tensor;

const show = (v: number | undefined) => (Object.is(v, -0) ? "-0" : String(v));
function expectBits(got: { data: ArrayLike<number> }, want: readonly number[], what: string): void {
  const g = Array.from(got.data);
  expect(g.length, what).toBe(want.length);
  g.forEach((v, i) => {
    if (!Object.is(v, want[i])) expect.fail(`${what}: element ${i}: got ${show(v)}, want ${show(want[i])}`);
  });
}

/** f eagerly and under a fresh jit on each backend, calls 1 to 4 (default tiering: compiled by the 3rd), and compiled at once. */
function everyPath(f: F, args: Tensor[], want: readonly number[], what: string): void {
  expectBits(f(...args), want, `${what} (eager)`);
  for (const backend of BACKENDS) {
    config.update({ ...saved, backend });
    const j = jit((...a: Tensor[]) => f(...a));
    for (let call = 1; call <= 4; call++) expectBits(j(...args) as Tensor, want, `${what} (${backend}, call ${call})`);
    config.update({ interpretBelowWork: 0 });
    expectBits(jit((...a: Tensor[]) => f(...a))(...args) as Tensor, want, `${what} (${backend}, compiled at once)`);
  }
}

async function exported(f: F, specs: ReturnType<typeof spec>[], backend: "wasm" | "js"): Promise<(...a: Tensor[]) => { data: ArrayLike<number> }> {
  const e = exportFunction(f, specs, { name: `m_${backend}_${dirs.length}`, backend });
  const dir = mkdtempSync(join(tmpdir(), "adgen-regress-codegen-"));
  dirs.push(dir);
  await e.write(dir);
  const m = await import(/* @vite-ignore */ pathToFileURL(join(dir, e.manifest.files.module)).href);
  return m.default;
}

describe("issue 9.1: a guard's branch never reuses a value computed later (or in the previous iteration)", () => {
  it("issue 9.1: wasm fused pad + direct read of one buffer: jit(x => pad(x)[0:2] + x)([1, 2]) is [2, 4]", () => {
    const f = (x: Tensor) => np.add(np.index(np.pad(x, [[0, 1]]), [np.s(0, 2)]), x);
    everyPath(f, [np.array([1, 2])], [2, 4], "pad(x)[0:2] + x");
    everyPath(f, [np.array([1, 2], { dtype: "float64" })], [2, 4], "pad(x)[0:2] + x, float64");
  });

  it("issue 9.1: under grad, the transpose of a slice (a pad) fused with a reused tanh/exp output", () => {
    // d/dx sum(w * (tanh(x)[1:] padded back + tanh(x))) = (1 - tanh^2) * (w shifted + w)
    const w = np.array([0.5, -1, 2, 0.25], { dtype: "float64" });
    const f = (x: Tensor) => np.sum(np.multiply(np.add(np.pad(np.index(np.tanh(x), [np.s(1, null)]), [[0, 1]]), np.tanh(x)), w));
    const x = np.array([0.3, -0.7, 1.1, 0.2], { dtype: "float64" });
    const want = Array.from((grad(f)(x) as Tensor).data);
    const xs = Array.from(x.data);
    const wd = Array.from(w.data);
    xs.forEach((xi, i) => {
      const d = 1 - Math.tanh(xi) ** 2;
      expect(want[i]).toBeCloseTo(d * ((i >= 1 ? wd[i - 1]! : 0) + wd[i]!), 12);
    });
    everyPath(grad(f) as F, [x], want, "grad of tanh through pad/slice");
  });
});

describe("issue 9.2: kernels keep literals that differ only as Infinity / -Infinity / NaN / -0 distinct", () => {
  const m = np.array([true, false, true]);
  it("issue 9.2: where(m, x, Infinity) - where(m, x, -Infinity) is Infinity (not NaN) on every backend and every call", () => {
    const f = (x: Tensor) => np.subtract(np.where(m, x, Infinity), np.where(m, x, -Infinity));
    everyPath(f, [np.array([1, 2, 3])], [0, Infinity, 0], "where Infinity - where -Infinity");
  });

  it("issue 9.2: literals -0 and 0 stay distinct in one kernel: 1/where(m, x, -0) + 1/where(m, x, 0)... per element", () => {
    const f = (x: Tensor) => np.stack([np.divide(1, np.where(m, x, -0)), np.divide(1, np.where(m, x, 0)), np.where(m, x, NaN)]);
    everyPath(f, [np.array([1, 2, 4])], [1, -Infinity, 0.25, 1, Infinity, 0.25, 1, NaN, 4], "-0 vs 0 vs NaN literals");
  });

  it("issue 9.2: every special literal is emitted exactly (float32 and float64, wasm f32/f64 consts and JS text)", () => {
    const specials = [0, -0, NaN, Infinity, -Infinity, 3.4028234663852886e38, 1e-45, 5e-324, 0.1, -1.5];
    for (const dtype of ["float32", "float64"] as const) {
      for (const c of specials) {
        const f = (x: Tensor) => np.where(np.greater(x, 0), x, c);
        const want = [2, Math.fround(c), 3];
        if (dtype === "float64") want[1] = c;
        everyPath(f, [np.array([2, -1, 3], { dtype })], want, `literal ${show(c)} ${dtype}`);
      }
    }
  });

  it("issue 9.2: JS literals splice into every op template exactly (negative literals cannot form --1)", () => {
    const vals = [0, -0, NaN, Infinity, -Infinity, -1, -2.5, 0.1, 1e-320, -1e300];
    const run = (js: string) => new Function(`${JS_PRELUDE}\nreturn ${js};`)() as number;
    for (const v of vals) {
      for (const [name, u] of Object.entries(UNARY)) expectBits({ data: [run(jsScalarOp(name, [jsNumber(v)], "float64", ["float64"]))] }, [u.f(v)], `${name}(${show(v)})`);
      expectBits({ data: [run(jsScalarOp("neg", [jsNumber(v)], "float64", ["float64"]))] }, [-v], `neg(${show(v)})`);
      for (const w of vals) {
        for (const [name, b] of Object.entries(BINARY)) {
          expectBits({ data: [run(jsScalarOp(name, [jsNumber(v), jsNumber(w)], "float64", ["float64", "float64"]))] }, [b.f(v, w)], `${name}(${show(v)}, ${show(w)})`);
        }
      }
    }
  });

  it("issue 9.2: expression keys are injective (numbers through core/encode, symbolic dims by value)", () => {
    const c = (value: number) => exprKey({ k: "const", value, dtype: "float32" });
    const keys = [0, -0, NaN, Infinity, -Infinity].map(c);
    expect(new Set(keys).size).toBe(5);
    const load = (offset: number | SymDim) => exprKey({ k: "load", view: { buf: 0, offset, strides: [1] }, dtype: "float32" });
    const B = SymDim.symbol("B");
    const twoB = SymDim.fromTerms(new Map([["B", 2]]));
    expect(load(B)).not.toBe(load(twoB));
    expect(load(B)).toBe(load(SymDim.symbol("B")));
  });
});

describe("issue 9.8: gather indices out of range give one answer on every path", () => {
  const x = np.array([10, 20, 30]);
  const raise = (t: Tensor, i: Tensor) => np.multiply(gather(np.exp(np.multiply(t, 0)), i, { axis: 0, batchDims: 0, mode: "raise", op: "take" }), np.add(gather(t, i, { axis: 0, batchDims: 0, mode: "raise", op: "take" }), 0));
  const clip = (t: Tensor, i: Tensor) => np.add(gather(t, i, { axis: 0, batchDims: 0, mode: "clip" }), 0);

  it("issue 9.8: mode raise throws the same ArgumentError eagerly, interpreted, in JS and WebAssembly kernels (also under grad and vmap)", () => {
    const bad = np.array([1, 3], { dtype: "int32" });
    const neg = np.array([-1, 0], { dtype: "int32" });
    const ok = np.array([2, 0], { dtype: "int32" });
    expect(() => raise(x, bad)).toThrow(ArgumentError);
    expect(() => raise(x, bad)).toThrow(/take: index 3 is out of bounds for an axis of size 3/);
    const g = (t: Tensor, i: Tensor) => grad((u: Tensor) => np.sum(raise(u, i)))(t);
    for (const backend of BACKENDS) {
      config.update({ backend, interpretBelowWork: 0 });
      expectBits(jit(raise)(x, ok) as Tensor, [30, 10], `raise in range (${backend})`);
      expect(() => jit(raise)(x, bad), backend).toThrow(/take: index 3 is out of bounds for an axis of size 3/);
      expect(() => jit(raise)(x, neg), backend).toThrow(ArgumentError);
      // the gradient program needs only the transpose (scatter_add): it checks too
      expect(() => jit(g)(x, neg), backend).toThrow(/take: index -1 is out of bounds/);
      expectBits(jit(g)(x, ok) as Tensor, Array.from(g(x, ok).data), `grad in range (${backend})`);
      const vb = np.array([[0, 1], [2, 5]], { dtype: "int32" });
      expect(() => jit(vmap((i: Tensor) => raise(x, i)))(vb), backend).toThrow(/index 5 is out of bounds/);
    }
    expect(() => g(x, neg)).toThrow(/take: index -1 is out of bounds/);
  });

  it("issue 9.8: mode clip clamps identically on every path (and matches NumPy's clip)", () => {
    const i = np.array([-4, 0, 2, 3, 99], { dtype: "int32" });
    everyPath(clip, [x, i], [10, 10, 30, 30, 30], "clip");
    for (const mode of ["clip", "wrap"] as const) {
      const want = mode === "clip" ? [10, 10, 30, 30, 30] : [30, 10, 30, 10, 10]; // NumPy: take(x, i, mode=...)
      everyPath((t: Tensor, j: Tensor) => np.add(np.take(t, j, { mode }), 0), [x, i], want, `np.take mode ${mode}`);
    }
  });

  it("issue 9.8: exported modules (wasm and js) raise for mode raise and clamp for clip", async () => {
    const specs = [spec("float32", [3]), spec("int32", [2])];
    for (const backend of ["wasm", "js"] as const) {
      const r = await exported(raise, specs, backend);
      expectBits(r(x, np.array([2, 0], { dtype: "int32" })), [30, 10], `exported raise (${backend})`);
      expect(() => r(x, np.array([0, 7], { dtype: "int32" })), backend).toThrow(/take: index 7 is out of bounds for an axis of size 3/);
      const c = await exported(clip, specs, backend);
      expectBits(c(x, np.array([-5, 7], { dtype: "int32" })), [10, 30], `exported clip (${backend})`);
    }
  });
});

describe("issue 9.8: astype(int32) saturates identically everywhere", () => {
  const SPECIAL = [1e10, -1e10, NaN, Infinity, -Infinity, 2147483647, 2147483647.9, 2147483648, -2147483648, -2147483648.9, -2147483649, 2.7, -2.7, -0, 0.5, -0.5, 3.4e38];
  const sat = (v: number) => (Number.isNaN(v) ? 0 : v >= 2147483647 ? 2147483647 : v <= -2147483648 ? -2147483648 : Math.trunc(v) | 0);
  it("issue 9.8: astype(int32) of 1e10, NaN, +-Infinity, +-2^31 saturates (NaN -> 0, truncation toward zero) on every backend", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const xs = np.array(SPECIAL, { dtype });
      const want = Array.from(xs.data, sat);
      expect(want.slice(0, 5)).toEqual([2147483647, -2147483648, 0, 2147483647, -2147483648]);
      everyPath((t: Tensor) => np.add(t.astype("int32"), 0), [xs], want, `astype int32 from ${dtype}`);
    }
  });

  it("issue 9.8: astype(int32) saturates in exported modules (wasm and js)", async () => {
    const xs = np.array(SPECIAL, { dtype: "float64" });
    const want = Array.from(xs.data, sat);
    for (const backend of ["wasm", "js"] as const) {
      const f = await exported((t: Tensor) => t.astype("int32"), [spec("float64", [SPECIAL.length])], backend);
      expectBits(f(xs), want, `exported astype (${backend})`);
    }
  });
});
