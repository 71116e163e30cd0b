// Index updates (np.at / x.at), sorting (np.sort, np.argsort, lax.topK) and the structural
// functions (roll, diagonal, trace, tril, triu, pad modes): values against independent reference
// loops written from NumPy's definitions, float64 gradients against central differences (and the
// dot-product identity), vmap against a loop, and bit-identical results on the interpreter, both
// jit backends and modules exported for both backends; errors are typed.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Tensor, config, exportFunction, exportOnnx, grad, jit, lax, np, spec, vmap } from "../src/index.js";
import { runOnnx } from "./onnx-run.js";
import { ArgumentError, DTypeError, ShapeError } from "../src/core/errors.js";
import { checkGradients, rand } from "./util/check.js";

const { update: _u, ...saved } = { ...config };
afterEach(() => config.update(saved));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function load(e: { write(d: string): Promise<string[]>; manifest: { files: { module: string } } }): Promise<any> {
  const dir = mkdtempSync(join(tmpdir(), "adgen-array-ops-"));
  dirs.push(dir);
  await e.write(dir);
  return import(/* @vite-ignore */ pathToFileURL(join(dir, e.manifest.files.module)).href);
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) =>
  expect(Array.from(a).map(String), what).toEqual(Array.from(b).map(String));
const i32 = (v: number[]) => np.array(v, { dtype: "int32" });
const f64 = (v: number[] | number[][]) => np.array(v, { dtype: "float64" });

/** Every function of one float64 [4, 5] argument below, run eagerly, jitted on every backend and exported. */
const PROGRAMS: [string, (x: Tensor) => Tensor][] = [
  ["at set (duplicates)", (x) => x.at([[0, 2, 0], "1:3"]).set(f64([[1, 2], [3, 4], [5, 6]]))],
  ["at add (duplicates)", (x) => x.at([[3, 1, 3]]).add(x.at([[0, 1, 2]]).get())],
  ["at multiply", (x) => x.at([1, "::2"]).multiply(f64([2, -3, 0.5]))],
  ["at min / max", (x) => x.at([":", [4, 0, 4]]).min(0.25).at([[0, 0]]).max(0.5)],
  ["sort axis 0", (x) => np.sort(x, { axis: 0 })],
  ["sort descending", (x) => np.sort(x, { descending: true })],
  ["argsort", (x) => np.argsort(x)],
  ["topK", (x) => lax.topK(x, 3)[0]],
  ["roll", (x) => np.roll(x, [1, -7], { axis: [0, 1] })],
  ["diagonal / trace", (x) => np.add(np.diagonal(x, { offset: 1 }), np.trace(x, { offset: -1 }))],
  ["tril / triu", (x) => np.add(np.tril(x, -1), np.multiply(np.triu(x, 2), 3))],
  ["pad reflect", (x) => np.pad(x, [[2, 3], [4, 1]], { mode: "reflect" })],
  ["pad symmetric", (x) => np.pad(x, [[5, 1], [0, 6]], { mode: "symmetric" })],
  ["pad edge / wrap", (x) => np.add(np.pad(x, 2, { mode: "edge" }), np.pad(x, 2, { mode: "wrap" }))],
];

/** Data with ties, NaN, signed zeros and infinities. */
const special = () => f64([[3, -0, NaN, 1, 0], [2, 2, -Infinity, 7, 1], [NaN, 0.5, 3, -2, Infinity], [1, 1, 1, -0, 4]]);

describe("the interpreter, both jit backends and both export backends agree bit for bit", () => {
  for (const [name, fn] of PROGRAMS) {
    it(name, async () => {
      const x = special();
      const want = fn(x).data;
      config.update({ interpretBelowWork: 0, autoGeneralizeShapes: false });
      for (const backend of ["js", "wasm"] as const) {
        config.update({ backend });
        same((jit(fn)(x) as Tensor).data, want, `jit ${backend}`);
        const m = await load(exportFunction(fn, [spec("float64", [4, 5])], { name: `ops_${name.replace(/\W+/g, "_")}_${backend}`, backend }));
        same((m.default(x) as Tensor).data, want, `exported ${backend}`);
      }
    });
  }
});

describe("ONNX export (onnxruntime-node) agrees bit for bit, NaN, ties and duplicates included", () => {
  const names = ["at set (duplicates)", "at add (duplicates)", "at multiply", "at min / max", "sort axis 0", "sort descending", "argsort", "topK", "roll", "diagonal / trace", "tril / triu", "pad reflect", "pad symmetric", "pad edge / wrap"];
  for (const name of names) {
    it(name, async () => {
      const fn = PROGRAMS.find(([n]) => n === name)![1];
      const x = special();
      const e = exportOnnx(fn, [spec("float64", [4, 5])], { name: "ops" });
      same((await runOnnx(e.bytes, [x]))[0]!.data, fn(x).data, name);
    });
  }
});

describe("values follow NumPy", () => {
  it("set: positions of np.index; the last duplicate wins; v broadcasts and takes x's dtype", () => {
    const x = np.arange(12, { dtype: "int32" }).reshape([3, 4]);
    expect(x.at([1, "1:3"]).set(9).toArray()).toEqual([[0, 1, 2, 3], [4, 9, 9, 7], [8, 9, 10, 11]]);
    expect(x.at([[2, 0, 2]]).set(np.array([[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]], { dtype: "int32" })).toArray()).toEqual([[2, 2, 2, 2], [4, 5, 6, 7], [3, 3, 3, 3]]);
    expect(x.at(-1).set(f64([0.5, 1, 2, 3])).dtype).toBe("int32");
    expect(x.toArray()[0]).toEqual([0, 1, 2, 3]); // x unchanged
  });
  it("add / multiply accumulate duplicates (np.add.at / np.multiply.at); min / max propagate NaN", () => {
    const x = f64([1, 2, 3, 4]);
    expect(np.at(x, [[0, 0, 3]]).add(f64([10, 20, 30])).toArray()).toEqual([31, 2, 3, 34]);
    expect(np.at(x, [[1, 1]]).multiply(f64([3, 5])).toArray()).toEqual([1, 30, 3, 4]);
    expect(np.at(x, [[2, 2]]).max(f64([5, 9])).toArray()).toEqual([1, 2, 9, 4]);
    expect(np.at(x, [[2, 2]]).min(f64([5, -9])).toArray()).toEqual([1, 2, -9, 4]);
    same(np.at(x, [[1, 3]]).max(f64([NaN, 0])).data, [1, NaN, 3, 4], "NaN update");
    same(np.at(f64([NaN, 1]), 0).min(-5).data, [NaN, 1], "NaN operand");
  });
  it("sort / argsort: stable, NaN last, -0 equal to 0; descending: NaN first, ties in input order", () => {
    const x = f64([3, NaN, -0, 1, 0, NaN, 1, -Infinity]);
    same(np.sort(x).data, [-Infinity, -0, 0, 1, 1, 3, NaN, NaN], "sort");
    same(np.argsort(x).data, [7, 2, 4, 3, 6, 0, 1, 5], "argsort");
    same(np.argsort(x, { descending: true }).data, [1, 5, 0, 3, 6, 2, 4, 7], "descending");
    const [v, i] = lax.topK(f64([[1, 5, 5, 2]]), 2);
    expect([v.toArray(), i.toArray()]).toEqual([[[5, 5]], [[1, 2]]]);
    expect(np.sort(i32([3, -1, 2])).toArray()).toEqual([-1, 2, 3]);
    expect(np.sort(f64([[3, 1], [2, 4]]), { axis: null }).toArray()).toEqual([1, 2, 3, 4]);
  });
  it("sort against a reference on random data along every axis", () => {
    const x = rand([3, 4, 5], 7);
    for (const axis of [0, 1, 2]) {
      const got = np.argsort(x, { axis });
      const n = x.shape[axis]!;
      const xs = x.toArray() as number[][][];
      const g = got.toArray() as number[][][];
      for (let a = 0; a < 3; a++) for (let b = 0; b < 4; b++) for (let c = 0; c < 5; c++) {
        const at = (k: number) => (axis === 0 ? xs[k]![b]![c]! : axis === 1 ? xs[a]![k]![c]! : xs[a]![b]![k]!);
        const pos = axis === 0 ? a : axis === 1 ? b : c;
        const ref = [...Array(n).keys()].sort((p, q) => at(p) - at(q) || p - q);
        expect(g[a]![b]![c]).toBe(ref[pos]);
      }
    }
  });
  it("roll, diagonal, trace, tril, triu against index loops", () => {
    const x = np.arange(20).reshape([4, 5]);
    const xs = x.toArray() as number[][];
    const rolled = np.roll(x, 3, { axis: 1 }).toArray() as number[][];
    for (let i = 0; i < 4; i++) expect(rolled[i]).toEqual(xs[i]!.map((_, j) => xs[i]![(j - 3 + 5) % 5]!));
    expect(np.roll(x, -2).toArray()).toEqual(np.reshape(np.concatenate([np.arange(2, 20), np.arange(0, 2)]), [4, 5]).toArray());
    for (const offset of [-3, -1, 0, 2, 4, 6]) {
      const ref: number[] = [];
      for (let i = 0; i < 4; i++) if (i + offset >= 0 && i + offset < 5) ref.push(xs[i]![i + offset]!);
      expect(np.diagonal(x, { offset }).toArray(), `offset ${offset}`).toEqual(ref);
      expect(np.trace(x, { offset }).item()).toBe(ref.reduce((a, b) => a + b, 0));
    }
    const y = np.arange(24).reshape([2, 3, 4]);
    expect(np.diagonal(y, { axis1: 2, axis2: 0 }).toArray()).toEqual([[0, 13], [4, 17], [8, 21]]);
    for (const k of [-2, 0, 1]) {
      expect(np.tril(x, k).toArray()).toEqual(xs.map((r, i) => r.map((v, j) => (j - i <= k ? v : 0))));
      expect(np.triu(x, k).toArray()).toEqual(xs.map((r, i) => r.map((v, j) => (j - i >= k ? v : 0))));
    }
  });
  it("pad modes against NumPy's documented examples", () => {
    const a = f64([1, 2, 3, 4, 5]);
    expect(np.pad(a, [2, 3], { mode: "edge" }).toArray()).toEqual([1, 1, 1, 2, 3, 4, 5, 5, 5, 5]);
    expect(np.pad(a, [2, 3], { mode: "reflect" }).toArray()).toEqual([3, 2, 1, 2, 3, 4, 5, 4, 3, 2]);
    expect(np.pad(a, [2, 3], { mode: "symmetric" }).toArray()).toEqual([2, 1, 1, 2, 3, 4, 5, 5, 4, 3]);
    expect(np.pad(a, [2, 3], { mode: "wrap" }).toArray()).toEqual([4, 5, 1, 2, 3, 4, 5, 1, 2, 3]);
    // widths beyond the axis length (NumPy repeats the reflection)
    // (expected values printed by NumPy 1.x)
    expect(np.pad(f64([1, 2, 3]), [5, 0], { mode: "reflect" }).toArray()).toEqual([2, 1, 2, 3, 2, 1, 2, 3]);
    expect(np.pad(a, [7, 9], { mode: "reflect" }).toArray()).toEqual([2, 3, 4, 5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3, 4, 5, 4]);
    expect(np.pad(f64([1, 2, 3]), [7, 8], { mode: "symmetric" }).toArray()).toEqual([1, 1, 2, 3, 3, 2, 1, 1, 2, 3, 3, 2, 1, 1, 2, 3, 3, 2]);
    expect(np.pad(f64([1, 2, 3]), [7, 8], { mode: "wrap" }).toArray()).toEqual([3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2]);
    expect(np.pad(f64([1, 2]), [0, 5], { mode: "symmetric" }).toArray()).toEqual([1, 2, 2, 1, 1, 2, 2]);
  });
});

describe("derivatives in float64", () => {
  const x = rand([4, 5], 3);
  const u = rand([3, 2], 4);
  it("every program above: jvp vs central differences and vjp vs jvp", () => {
    for (const [name, fn] of PROGRAMS) {
      if (name === "argsort") continue;
      checkGradients(fn, [x]);
    }
  });
  it("set / add / min / max / multiply in the updates too", () => {
    checkGradients((a: Tensor, v: Tensor) => a.at([[0, 2, 3], "1:3"]).set(v), [x, u]);
    checkGradients((a: Tensor, v: Tensor) => a.at([[0, 2, 0], "1:3"]).add(v), [x, u]);
    checkGradients((a: Tensor, v: Tensor) => a.at([[0, 2, 1], "1:3"]).multiply(v), [x, u]);
    checkGradients((a: Tensor, v: Tensor) => a.at([[0, 2, 0], "1:3"]).max(v), [x, u]);
    checkGradients((a: Tensor, v: Tensor) => a.at([[0, 2, 0], "1:3"]).min(v), [x, u]);
  });
  it("set's gradient: zero at updated positions of x; only the winning duplicate's update gets its cotangent", () => {
    const [gx, gv] = grad((a: Tensor, v: Tensor) => np.sum(np.multiply(a.at([[1, 1, 3]]).set(v), f64([1, 2, 3, 4]))), { argnums: [0, 1] })(
      f64([1, 1, 1, 1]),
      f64([5, 6, 7]),
    ) as Tensor[];
    expect([gx!.toArray(), gv!.toArray()]).toEqual([[1, 0, 3, 0], [0, 2, 4]]);
  });
  it("max ties share the tangent", () => {
    const g = grad((v: Tensor) => np.sum(np.at(f64([2, 0]), [[0, 0]]).max(v)))(f64([2, 2]));
    expect(g.toArray()).toEqual([1 / 3, 1 / 3]);
  });
});

describe("vmap", () => {
  it("batched operand, updates and indices equal a loop", () => {
    const xs = rand([3, 4, 5], 11);
    const vs = rand([3, 2], 12);
    const idx = np.array([[0, 4], [2, 2], [1, 3]], { dtype: "int32" });
    for (const mode of ["set", "add", "multiply", "min", "max"] as const) {
      const f = (a: Tensor, v: Tensor, i: Tensor) => a.at([1, i])[mode](v);
      const got = vmap(f)(xs, vs, idx) as Tensor;
      const want = np.stack([0, 1, 2].map((b) => f(xs.index(b), vs.index(b), idx.index(b))));
      same(got.data, want.data, mode);
    }
    for (const [name, fn] of PROGRAMS) same((vmap(fn)(xs) as Tensor).data, np.stack([0, 1, 2].map((b) => fn(xs.index(b)))).data, name);
  });
});

describe("errors", () => {
  it("are typed and name the operation", () => {
    const x = np.arange(6, { dtype: "int32" }).reshape([2, 3]);
    expect(() => x.at([5]).set(1)).toThrow(ArgumentError);
    expect(() => x.at(0).set(1.5)).toThrow(DTypeError);
    expect(() => x.at(0).add(f64([1, 2]))).toThrow(ShapeError);
    expect(() => np.sort(np.array(3))).toThrow(ShapeError);
    expect(() => lax.topK(f64([1, 2]), 3)).toThrow(ShapeError);
    expect(() => np.diagonal(f64([1, 2]))).toThrow(ShapeError);
    expect(() => np.diagonal(x, { axis1: 1, axis2: 1 })).toThrow(ArgumentError);
    expect(() => np.pad(np.zeros([0, 2]), 1, { mode: "reflect" })).toThrow(ShapeError);
    expect(() => np.pad(x, 1, { mode: "median" as never })).toThrow(ArgumentError);
    expect(() => np.sort(np.array([true, false]))).toThrow(DTypeError);
  });
});
