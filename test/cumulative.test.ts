// The native cumsum / cumprod primitives (prims/cumulative.ts): NumPy's sequential semantics
// (every running value rounded to the dtype, int32 wrapping, -0 / NaN / Inf propagated) against
// an independent reference, along every axis and reversed, in float32 / float64 / int32, bit for
// bit on the interpreter, both jit backends and modules exported for both backends (a symbolic
// batch dimension included); derivatives in float64 against central differences and by the
// dot-product identity; the transpose of cumsum is the reversed cumsum; and the lowering fuses
// the elementwise producers of the operand into the cumulative kernel.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Tensor, config, exportFunction, exportOnnx, grad, jit, np, spec, vjp, vmap } from "../src/index.js";
import { runOnnx } from "./onnx-run.js";
import { cumprod, cumsum } from "../src/prims/cumulative.js";
import { checkGradients, rand } from "./util/check.js";

const { update: _u, ...saved } = { ...config };
afterEach(() => config.update(saved));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type DT = "float32" | "float64" | "int32";
const SHAPE = [2, 3, 4];

/** Data with the special values of each dtype (signed zeros, NaN, infinities, int32 overflow). */
function data(dtype: DT): number[] {
  const special = dtype === "int32" ? [2147483647, 1, -2147483648, -1, 65536, 65537, 7, -3, 0] : [-0, -0, NaN, Infinity, -Infinity, 1e30, 1e-30, 0.1, -0, 3.5, 1e8, 1];
  return Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? special[(i / 2) % special.length]! : Math.round(Math.sin(i * 1.7) * 1000) / 64));
}

/** Independent reference: line by line, `acc = round(acc op v)` in the dtype, from the start or the end. */
function reference(xs: number[], shape: number[], axis: number, reverse: boolean, op: "sum" | "prod", dtype: DT): number[] {
  const round = (v: number) => (dtype === "float32" ? Math.fround(v) : dtype === "int32" ? v | 0 : v);
  const step = (a: number, v: number) => (op === "sum" ? round(a + v) : dtype === "int32" ? Math.imul(a, v) : round(a * v));
  const n = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Array<number>(xs.length);
  for (let base = 0; base < xs.length; base++) {
    if (Math.floor(base / inner) % n !== 0) continue; // one line per (outer, inner) pair
    let acc: number | null = null;
    for (let k = 0; k < n; k++) {
      const at = base + (reverse ? n - 1 - k : k) * inner;
      acc = acc === null ? xs[at]! : step(acc, xs[at]!);
      out[at] = acc;
    }
  }
  return out;
}

const show = (v: number | undefined) => (Object.is(v, -0) ? "-0" : String(v));
function sameBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i}: ${show(got[i])}, want ${show(want[i])}`);
}

const CASES = [0, 1, 2].flatMap((axis) => [false, true].flatMap((reverse) => (["sum", "prod"] as const).map((op) => ({ axis, reverse, op }))));
const all = (x: Tensor) => CASES.map(({ axis, reverse, op }) => (op === "sum" ? cumsum : cumprod)(x, axis, reverse));
const label = (c: (typeof CASES)[number]) => `cum${c.op} axis ${c.axis}${c.reverse ? " reversed" : ""}`;

async function load(e: { write(d: string): Promise<string[]>; manifest: { files: { module: string } } }): Promise<any> {
  const dir = mkdtempSync(join(tmpdir(), "adgen-cumulative-"));
  dirs.push(dir);
  await e.write(dir);
  return import(/* @vite-ignore */ pathToFileURL(join(dir, e.manifest.files.module)).href);
}

describe("cumsum / cumprod values", () => {
  it("the reference itself: NumPy's values on hand-checked cases", () => {
    sameBits(reference([-0, -0, 1], [3], 0, false, "sum", "float64"), [-0, -0, 1], "signed zeros");
    sameBits(reference([1, NaN, 2], [3], 0, false, "sum", "float64"), [1, NaN, NaN], "NaN");
    sameBits(reference([Infinity, -Infinity], [2], 0, false, "sum", "float64"), [Infinity, NaN], "Inf - Inf");
    sameBits(reference([2147483647, 1], [2], 0, false, "sum", "int32"), [2147483647, -2147483648], "int32 wraps");
    sameBits(reference([1e8, 1, 1, 1, 1], [5], 0, false, "sum", "float32"), [1e8, 1e8, 1e8, 1e8, 1e8], "float32 steps");
    sameBits(reference([1, 2, 3], [3], 0, true, "prod", "float64"), [6, 6, 3], "reversed");
  });

  for (const dtype of ["float32", "float64", "int32"] as const) {
    it(`${dtype}: every axis, forward and reversed, on the interpreter, both jit backends and both export backends`, async () => {
      const xs = data(dtype);
      const x = np.array(xs, { dtype }).reshape(SHAPE);
      const want = CASES.map((c) => reference(Array.from(x.data), SHAPE, c.axis, c.reverse, c.op, dtype));
      const check = (outs: ArrayLike<number>[], where: string) => outs.forEach((o, i) => sameBits(o, want[i]!, `${label(CASES[i]!)} ${where}`));
      check(all(x).map((t) => t.data), "eager");
      config.update({ interpretBelowWork: 0, autoGeneralizeShapes: false });
      for (const backend of ["interp", "js", "wasm"] as const) {
        config.update({ backend });
        check((jit(all)(x) as Tensor[]).map((t) => t.data), `jit ${backend}`);
      }
      for (const backend of ["js", "wasm"] as const) {
        const m = await load(exportFunction(all, [spec(dtype, SHAPE)], { name: `cum_${dtype}_${backend}`, backend }));
        check((m.default(x) as { data: ArrayLike<number> }[]).map((t) => t.data), `exported ${backend}`);
      }
    });
  }

  it("a symbolic batch dimension: exported modules on both backends, scanning along it and across it", async () => {
    const f = (x: Tensor) => [cumsum(x, 0), cumsum(x, 0, true), cumprod(x, 1, true), np.cumsum(np.exp(x), { axis: 0 })];
    for (const backend of ["js", "wasm"] as const) {
      const m = await load(exportFunction(f, [spec("float32", ["B", 3])], { name: `cum_sym_${backend}`, backend }));
      for (const B of [1, 5]) {
        const x = rand([B, 3], B, -2, 2, "float32");
        const want = f(x).map((t) => t.data);
        (m.default(x) as { data: ArrayLike<number> }[]).forEach((o, i) => sameBits(o.data, want[i]!, `output ${i}, B=${B}, ${backend}`));
      }
    }
  });

  it("np.cumsum / np.cumprod: bools count as int32, no axis flattens, empty arrays stay empty", () => {
    sameBits(np.cumsum(np.array([true, true, false])).data, [1, 2, 2], "bool");
    expect(np.cumsum(np.array([true])).dtype).toBe("int32");
    sameBits(np.cumprod(np.array([[1, 2], [3, 4]], { dtype: "float64" })).data, [1, 2, 6, 24], "flattened");
    expect(np.cumsum(np.zeros([0, 3]), { axis: 0 }).shape).toEqual([0, 3]);
  });

  it("rejects a bad axis and bool operands with typed errors naming the primitive", () => {
    expect(() => cumsum(np.zeros([2, 3]), 2)).toThrow(/cumsum: axis 2 is out of range/);
    expect(() => cumprod(np.array([true]), 0)).toThrow(/cumprod: bool operands/);
  });
});

describe("cumsum / cumprod ONNX export (onnxruntime-node)", () => {
  it("int32 (wrapping) and float64, every axis, forward and reversed, equal adgen exactly", async () => {
    for (const dtype of ["int32", "float64"] as const) {
      const x = np.array(data(dtype).map((v) => (Number.isFinite(v) ? v : 1)), { dtype }).reshape(SHAPE);
      const e = exportOnnx(all, [spec(dtype, SHAPE)], { name: "cum" });
      const got = await runOnnx(e.bytes, [x]);
      const want = all(x);
      // float64 cumprod in ONNX is a log-step product: equal up to rounding; the rest exactly
      got.forEach((g, i) => {
        const w = Array.from(want[i]!.data);
        if (dtype === "float64" && CASES[i]!.op === "prod") g.data.forEach((v, j) => expect(Math.abs(v - w[j]!)).toBeLessThanOrEqual(1e-12 * Math.abs(w[j]!)));
        else sameBits(g.data, w, `${label(CASES[i]!)} ${dtype}`);
      });
    }
  });

  it("cumsum along a symbolic batch dimension", async () => {
    const e = exportOnnx((x: Tensor) => cumsum(x, 0, true), [spec("float64", ["B", 3])], { name: "cum_sym" });
    for (const B of [1, 4]) {
      const x = rand([B, 3], B, -1, 1, "float64");
      sameBits((await runOnnx(e.bytes, [x]))[0]!.data, cumsum(x, 0, true).data, `B=${B}`);
    }
  });
});

describe("cumsum / cumprod derivatives (float64)", () => {
  const x = rand([3, 4, 2], 3, -1.5, 1.5, "float64");
  for (const axis of [0, 1, 2]) {
    for (const reverse of [false, true]) {
      it(`axis ${axis}${reverse ? " reversed" : ""}: JVP against central differences, VJP by the dot-product identity`, () => {
        checkGradients((v: Tensor) => cumsum(v, axis, reverse), [x]);
        checkGradients((v: Tensor) => cumprod(v, axis, reverse), [x]);
      });
    }
  }

  it("cumprod's derivative is exact at zeros (no division by x)", () => {
    const z = np.array([[0, 2, -1.5, 0, 3], [1.5, 0, 0, 2, -1]], { dtype: "float64" });
    checkGradients((v: Tensor) => cumprod(v, 1), [z]);
    // d/dx0 of sum(cumprod([x0, x1, x2])) = 1 + x1 + x1 x2 at x0 = 0
    const g = grad((v: Tensor) => np.sum(cumprod(v, 0)))(np.array([0, 2, 3], { dtype: "float64" })) as Tensor;
    sameBits(g.data, [1 + 2 + 6, 0, 0], "gradient at x0 = 0");
  });

  it("the transpose of cumsum is the reversed cumsum", () => {
    const ct = rand([3, 4, 2], 9, -1, 1, "float64");
    for (const reverse of [false, true]) {
      const [, back] = vjp((v: Tensor) => cumsum(v, 1, reverse), x);
      sameBits((back(ct) as Tensor[])[0]!.data, cumsum(ct, 1, !reverse).data, `reverse ${reverse}`);
    }
  });

  it("gradients under jit equal the interpreter bit for bit on both backends", () => {
    const w = rand([3, 4, 2], 11, -1, 1, "float64");
    const loss = (v: Tensor) => np.sum(np.multiply(np.add(cumprod(np.sin(v), 0, true), cumsum(v, 2)), w));
    config.update({ interpretBelowWork: 0, backend: "interp" });
    const want = (jit(grad(loss))(x) as Tensor).data;
    for (const backend of ["js", "wasm"] as const) {
      config.update({ backend });
      sameBits((jit(grad(loss))(x) as Tensor).data, want, backend);
    }
  });

  it("vmap equals a loop over the batch, the batch axis anywhere", () => {
    const xb = rand([4, 3, 2], 5, -1, 1, "float64");
    const f = (v: Tensor) => cumprod(cumsum(v, 0), 1, true);
    const per = [0, 1, 2, 3].map((i) => f(np.take(xb, i, { axis: 0 })).data);
    sameBits((vmap(f)(xb) as Tensor).data, per.flatMap((d) => Array.from(d)), "batched on axis 0");
    const moved = np.moveaxis(xb, 0, 2);
    const got = np.moveaxis(vmap(f, { inAxes: 2 })(moved) as Tensor, 0, 0);
    sameBits(got.data, per.flatMap((d) => Array.from(d)), "batched on axis 2");
  });
});

describe("cumsum / cumprod lowering", () => {
  it("fuses the operand's elementwise producers into one cumulative kernel (no fallback call)", () => {
    const f = jit((v: Tensor) => np.cumsum(np.multiply(np.exp(v), 2), { axis: 0 }));
    const fusion = f.lower(rand([2, 3], 1, -1, 1, "float32")).fusion();
    expect(fusion).toHaveLength(1);
    expect(fusion[0]!.kind).toBe("reduce");
    expect(fusion[0]!.equations.map((e) => e.primitive)).toEqual(["exp", "mul", "cumsum"]);
  });

  it("is a kernel of its own: a consumer reads its buffer (each running value depends on the previous one)", () => {
    const f = jit((v: Tensor) => np.sum(np.multiply(np.cumsum(v, { axis: 1 }), 3)));
    const fusion = f.lower(rand([2, 3], 1, -1, 1, "float32")).fusion();
    expect(fusion.map((k) => k.equations.map((e) => e.primitive))).toEqual([["cumsum"], ["mul", "reduce_sum"]]);
    expect(f.lower(rand([2, 3], 1, -1, 1, "float32")).text("js")).toMatch(/kernel 0: cumsum float32\[2\] along \[3\]/);
  });
});
