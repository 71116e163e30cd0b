// Issue 18 item 1: index updates (x.at(i).set/add/multiply/min/max, the scatter and scatter_add
// primitives) lower to native kernels on both jit backends (a copy of the operand, then a
// combining scatter loop in update order), never to a fallback call kernel, and agree bit for bit
// with the interpreter: duplicates (set: last wins; add/multiply/min/max: folded in order),
// out-of-range positions (the primitive clamps; np.at wraps negatives as NumPy), NaN, signed zeros,
// int32 wraparound, float32/float64/int32, batched through vmap, and exported modules. Sorting
// (sort/argsort/topK) lowers natively for rows up to SORT_RANK_MAX_ROW, checked the same way.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Tensor, config, exportFunction, jit, lax, makeProgram, np, spec, vmap } from "../src/index.js";
import type { DType } from "../src/core/dtype.js";
import { allKernels } from "../src/lower/kernel-ir.js";
import { lowerProgram } from "../src/lower/fuse.js";
import { kernelSchedule } from "../src/lower/memory.js";
import { SORT_RANK_MAX_ROW } from "../src/lower/sort.js";
import { type ScatterMode, scatter } from "../src/prims/scatter.js";
import { scatterAdd } from "../src/prims/gather.js";

const { update: _u, ...saved } = { ...config };
afterEach(() => config.update(saved));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type F = (...a: Tensor[]) => Tensor;
const same = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => expect(Array.from(a).map(String), what).toEqual(Array.from(b).map(String));
const arr = (v: number[], dtype: DType) => np.array(v, { dtype });

async function exported(f: F, args: Tensor[], backend: "js" | "wasm"): Promise<F> {
  const e = exportFunction(f, args.map((a) => spec(a.aval.dtype, a.aval.shape as number[])), { name: `scatter_${backend}_${dirs.length}`, backend });
  const dir = mkdtempSync(join(tmpdir(), "adgen-scatter-native-"));
  dirs.push(dir);
  await e.write(dir);
  return (await import(/* @vite-ignore */ pathToFileURL(join(dir, e.manifest.files.module)).href)).default;
}

/** The interpreter's result, then jit on both backends and both exports: bit for bit. */
async function agree(f: F, args: Tensor[], what: string, exports = true): Promise<ArrayLike<number>> {
  const want = f(...args).data;
  config.update({ interpretBelowWork: 0, autoGeneralizeShapes: false });
  for (const backend of ["js", "wasm"] as const) {
    config.update({ backend });
    same((jit(f)(...args) as Tensor).data, want, `${what}: jit ${backend}`);
    if (exports) same((await exported(f, args, backend))(...args).data, want, `${what}: exported ${backend}`);
  }
  return want;
}

/** The primitives lowered to fallback call kernels (index_check, a bounds check computing nothing, left out). */
function callPrims(f: F, args: Tensor[]): string[] {
  const lp = lowerProgram(makeProgram(f)(...args));
  return allKernels(lp.kernels).flatMap((k) => (k.kind === "call" && k.prim.name !== "index_check" ? [k.prim.name] : []));
}
const combining = (f: F, args: Tensor[]) => allKernels(lowerProgram(makeProgram(f)(...args)).kernels).flatMap((k) => (k.kind === "scatter" ? [k.combine ?? "add"] : []));

const DATA: Record<DType, number[]> = {
  float32: [3, -0, NaN, 1.5, 0, 2, -Infinity, 7.25],
  float64: [3, -0, NaN, 1.5, 0, 2, -Infinity, 7.25],
  int32: [3, 0, -7, 2147483647, -2147483648, 2, 123456789, 5],
  bool: [],
};
const UPDATES: Record<DType, number[]> = {
  float32: [0, 2, -0, NaN, 2, 0.1, 5, -1],
  float64: [0, 2, -0, NaN, 2, 0.1, 5, -1],
  int32: [0, 987654321, -3, 2, 4, 2, -1, 65536],
  bool: [],
};
/** Duplicated positions, applied in order. */
const POS = [1, 4, 1, 6, 4, 4, 0, 1];

describe("index updates lower natively and agree with the interpreter bit for bit", () => {
  for (const dtype of ["float32", "float64", "int32"] as const) {
    const at = (x: Tensor, u: Tensor) => ({
      set: x.at([POS]).set(u),
      add: x.at([POS]).add(u),
      multiply: x.at([POS]).multiply(u),
      min: x.at([POS]).min(u),
      max: x.at([POS]).max(u),
    });
    for (const op of ["set", "add", "multiply", "min", "max"] as const) {
      it(`${dtype} ${op} with duplicates: interpreter = jit js = jit wasm = both exports; no call kernel`, async () => {
        const f = (x: Tensor, u: Tensor) => at(x, u)[op];
        const args = [arr(DATA[dtype], dtype), arr(UPDATES[dtype], dtype)];
        expect(callPrims(f, args)).toEqual([]);
        const got = await agree(f, args, `${dtype} ${op}`);
        // an independent sequential reference of the duplicate semantics (exact for these values)
        if (op === "set" || (op === "add" && dtype !== "float32")) {
          const ref = [...DATA[dtype]];
          POS.forEach((p, k) => (ref[p] = op === "set" ? UPDATES[dtype][k]! : ref[p]! + UPDATES[dtype][k]!));
          const wrap = ref.map((v) => (dtype === "int32" ? v | 0 : dtype === "float32" ? Math.fround(v) : v));
          same(got, wrap, `${dtype} ${op}: sequential reference`);
        }
      });
    }
  }

  it("set/min/max/multiply lower to combining scatter kernels, add to scatter_add", () => {
    const x = arr(DATA.float64, "float64"), u = arr(UPDATES.float64, "float64");
    expect(combining((a, b) => a.at([POS]).min(b), [x, u])).toEqual(["min"]);
    expect(combining((a, b) => a.at([POS]).max(b), [x, u])).toEqual(["max"]);
    expect(combining((a, b) => a.at([POS]).multiply(b), [x, u])).toEqual(["mul"]);
    expect(combining((a, b) => a.at([POS]).add(b), [x, u])).toEqual(["add"]);
    expect(combining((a, b) => a.at([POS]).set(b), [x, u])).toEqual(["max"]);
  });

  it("the operand copy is written in place of a dying temporary (the arena plans no new block)", () => {
    const f = (x: Tensor, u: Tensor) => np.sum(np.reshape(np.matmul(x, x), [16]).at([[1, 1, 5]]).max(u));
    const lp = lowerProgram(makeProgram(f)(spec("float32", [4, 4]), spec("float32", [3])));
    const copy = lp.kernels.findIndex((k, i) => k.kind === "map" && lp.kernels[i + 1]?.kind === "scatter");
    expect(lp.kernels[copy + 1]).toMatchObject({ kind: "scatter", combine: "max" });
    const { temps, steps } = kernelSchedule(lp); // one step per kernel
    const dot = lp.kernels.find((k) => k.kind === "dot")!;
    // the copy's allocation names the dot's output block as its in-place donor
    const step = steps[copy]![0];
    expect(step).toEqual([[temps.indexOf((lp.kernels[copy] as { out: number }).out), temps.indexOf((dot as { out: number }).out)]]);
  });

  it("int32 multiply wraps as the elementwise product (Math.imul), duplicates in order", async () => {
    const f = (x: Tensor, u: Tensor) => x.at([[0, 0, 1]]).multiply(u);
    const got = await agree(f, [arr([123456789, 7, 1], "int32"), arr([987654321, 3, 2147483647], "int32")], "int32 wrap");
    same(got, [Math.imul(Math.imul(123456789, 987654321), 3), Math.imul(7, 2147483647), 1], "Math.imul reference");
    same(np.multiply(arr([123456789], "int32"), arr([987654321], "int32")).data, [Math.imul(123456789, 987654321)], "elementwise mul");
  });

  it("min/max: NaN propagates, a tie (-0 against 0) keeps the old element", async () => {
    const f = (x: Tensor, u: Tensor, v: Tensor) => np.add(np.multiply(x.at([[0, 1, 2]]).max(u), 1), x.at([[0, 1, 3]]).min(v));
    const got = await agree(f, [arr([-0, 0, NaN, 0], "float64"), arr([0, -0, 1], "float64"), arr([0, -0, NaN], "float64")], "ties");
    // max: [-0 (tie keeps -0), 0 (tie keeps 0), NaN, 0]; min: [-0, 0, NaN, NaN]; sum
    same(got, [-0, 0, NaN, NaN], "closed form");
    expect(Object.is(jit((x: Tensor, u: Tensor) => x.at([[0]]).max(u))(arr([-0], "float64"), arr([0], "float64")).data[0], -0), "tie keeps -0").toBe(true);
  });

  it("out-of-range positions of the primitives are clamped (scatter, scatter_add), as the interpreter", async () => {
    for (const dtype of ["float32", "float64", "int32"] as const) {
      const idx = arr([-5, 9, 2, -1, 3, 100], "int32");
      const u = arr([1, 2, 3, 4, 5, 6], dtype);
      const x = arr([10, 20, 30, 40], dtype);
      for (const mode of ["min", "max", "mul"] as ScatterMode[]) {
        const f = (a: Tensor, i: Tensor, v: Tensor) => scatter(a, i, v, mode);
        expect(callPrims(f, [x, idx, u])).toEqual([]);
        await agree(f, [x, idx, u], `${dtype} ${mode} clamped`, false);
      }
      const sa = (i: Tensor, v: Tensor) => scatterAdd(v, i, { axis: 0, batchDims: 0, size: 4 });
      const got = await agree(sa, [idx, u], `${dtype} scatter_add clamped`, false);
      same(got, [1 + 4, 0, 3, 2 + 5 + 6], `${dtype} scatter_add clamped reference`);
    }
  });

  it("np.at: negative positions wrap (NumPy); beyond the axis is an error eagerly and under jit", () => {
    const x = arr([1, 2, 3, 4], "float64");
    const f = (a: Tensor) => a.at([[-1, -4, 3]]).max(np.array([9, 0, 5], { dtype: "float64" }));
    config.update({ interpretBelowWork: 0 });
    for (const backend of ["js", "wasm"] as const) {
      config.update({ backend });
      same(jit(f)(x).data, [1, 2, 3, 9], `${backend} negative wraps`);
    }
    expect(() => x.at([[4]]).max(np.array([9], { dtype: "float64" }))).toThrow();
  });

  it("vmap of index updates (batched operand, positions and updates) under jit", async () => {
    const xs = np.array([[1, 5, -2, 0], [NaN, 3, 3, -0], [7, 7, 7, 7]], { dtype: "float32" });
    const us = np.array([[2, -1, 4], [1, NaN, 3], [0, 8, -8]], { dtype: "float32" });
    for (const op of ["set", "add", "multiply", "min", "max"] as const) {
      const row = (x: Tensor, u: Tensor) => x.at([[2, 0, 2]])[op](u);
      const f = (x: Tensor, u: Tensor) => vmap(row)(x, u) as Tensor;
      expect(callPrims(f, [xs, us])).toEqual([]);
      const got = await agree(f, [xs, us], `vmap ${op}`, op === "max");
      // each row equals the unbatched update of that row (the interpreter)
      const rows = [0, 1, 2].flatMap((r) => Array.from(row(np.index(xs, r), np.index(us, r)).data));
      same(got, rows, `vmap ${op}: per row`);
    }
  });
});

describe("sort along the last axis lowers natively for rows up to SORT_RANK_MAX_ROW (ranks, permutation, gather)", () => {
  const rows: Record<"float32" | "float64" | "int32", number[][]> = {
    float32: [[3, -0, NaN, 1, 0, 2, NaN, -Infinity, 1], [0, -0, 0, -0, 5, 5, -1, Infinity, NaN]],
    float64: [[3, -0, NaN, 1, 0, 2, NaN, -Infinity, 1], [0, -0, 0, -0, 5, 5, -1, Infinity, NaN]],
    int32: [[3, 0, -7, 2147483647, -2147483648, 2, 3, 0, 3], [1, 1, 1, 1, 1, 1, 1, 1, 0]],
  };
  for (const dtype of ["float32", "float64", "int32"] as const) {
    for (const descending of [false, true]) {
      it(`${dtype}${descending ? " descending" : ""}: sort, argsort, topK agree bit for bit; no call kernel`, async () => {
        const x = np.array(rows[dtype], { dtype });
        const f = (a: Tensor) => np.add(np.astype(np.argsort(a, { descending }), dtype), np.sort(a, { descending }));
        const g = (a: Tensor) => lax.topK(a, 4)[1];
        for (const h of [f, g, (a: Tensor) => np.sort(a, { axis: 0 })]) expect(callPrims(h, [x])).toEqual([]);
        await agree((a: Tensor) => np.sort(a, { descending }), [x], `${dtype} sort`);
        await agree((a: Tensor) => np.argsort(a, { descending }), [x], `${dtype} argsort`);
        await agree(f, [x], `${dtype} fused`, false);
        await agree(g, [x], `${dtype} topK indices`, false);
        // an independent reference: a stable JS sort of (key, position) pairs with NaN last
        const want = rows[dtype].flatMap((row) => {
          const key = (v: number) => (Number.isNaN(v) ? (descending ? -Infinity : Infinity) : v);
          const nanFirst = (v: number) => (Number.isNaN(v) ? 0 : 1);
          const order = row.map((_, i) => i).sort((i, j) => (descending ? nanFirst(row[i]!) - nanFirst(row[j]!) || key(row[j]!) - key(row[i]!) : key(row[i]!) - key(row[j]!)) || i - j);
          return order;
        });
        same(np.argsort(x, { descending }).data, want, `${dtype} argsort reference`);
      });
    }
  }

  it("rows of SORT_RANK_MAX_ROW elements (float32, many ties, NaN, signed zeros) agree bit for bit", async () => {
    const n = SORT_RANK_MAX_ROW;
    const special = [NaN, -0, 0, Infinity, -Infinity];
    const data = Array.from({ length: 3 * n }, (_, i) => (i % 17 === 0 ? special[(i / 17) % 5]! : ((i * 7919) % 23) - 11 + 0.5 * (i % 3)));
    const x = np.array(data, { dtype: "float32" }).reshape([3, n]);
    for (const descending of [false, true]) {
      const f = (a: Tensor) => np.add(np.sort(a, { descending }), np.astype(np.argsort(a, { descending }), "float32"));
      expect(callPrims(f, [x])).toEqual([]);
      await agree(f, [x], `row ${n}${descending ? " descending" : ""}`, false);
    }
  });

  it("vmap of sort (batched rows) under jit, and a row longer than SORT_RANK_MAX_ROW keeps the call kernel", async () => {
    const x = np.array([[[2, NaN, 1], [0, -0, 0]], [[5, 4, 5], [-1, NaN, -Infinity]]], { dtype: "float64" });
    const f = (a: Tensor) => vmap((r: Tensor) => np.sort(r))(a) as Tensor;
    expect(callPrims(f, [x])).toEqual([]);
    await agree(f, [x], "vmap sort");
    const long = np.array(Array.from({ length: SORT_RANK_MAX_ROW + 1 }, (_, i) => (i * 37) % 101), { dtype: "float32" });
    expect(callPrims((a: Tensor) => np.sort(a), [long])).toEqual(["sort"]);
    await agree((a: Tensor) => np.sort(a), [long], "long row", false);
  });
});
