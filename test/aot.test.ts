// Ahead-of-time export: the generated modules (value, grad, split vjp, jvp) run from a directory
// with no node_modules, import nothing, agree with jit and the interpreter for several batch
// sizes, reject bad input with clear messages, and are byte-for-byte reproducible.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { Tensor, exportFunction, exportJvp, exportVjp, grad, jit, jvp, lax, nn, np, random, spec, vjp } from "../src/index.js";
import { ADGEN_VERSION } from "../src/core/version.js";
import { assertClose } from "./util/check.js";
import { loadExported as load } from "./util/load-exported.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const I = 6;
const H = 5;
const O = 3;
const rnd = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + s) * 0.5);
const params = {
  W1: np.array(rnd(I * H, 1)).reshape([I, H]),
  b1: np.array(rnd(H, 2)),
  W2: np.array(rnd(H * O, 3)).reshape([H, O]),
  b2: np.array(rnd(O, 4)),
};
type P = typeof params;
const loss = (p: P, x: Tensor, y: Tensor) => {
  const h = nn.relu(np.add(np.matmul(x, p.W1), p.b1));
  return np.negative(np.mean(np.sum(np.multiply(nn.logSoftmax(np.add(np.matmul(h, p.W2), p.b2), { axis: -1 }), y), { axis: -1 })));
};
const pspec = { W1: spec("float32", [I, H]), b1: spec("float32", [H]), W2: spec("float32", [H, O]), b2: spec("float32", [O]) };
const specs = [pspec, spec("float32", ["B", I]), spec("float32", ["B", O])];
const batch = (B: number) => [np.array(rnd(B * I, 5 + B)).reshape([B, I]), nn.oneHot(np.arange(B).astype("int32").mul(7).astype("int32"), O)] as const;
const exact = { rtol: 0, atol: 0 };

describe("exported modules", () => {
  it("value: the loss for B in {1, 7, 128}, equal to jit", async () => {
    const m = await load(exportFunction(loss, specs, { name: "mlp_loss" }));
    for (const B of [1, 7, 128]) {
      const [x, y] = batch(B);
      const got = m.default(params, x, y);
      expect(got.shape).toEqual([]);
      expect(got.dtype).toBe("float32");
      assertClose(got.data, (jit(loss)(params, x, y) as Tensor).data, exact);
    }
  });

  it("grad: gradients for B in {1, 7, 128}, equal to jit and close to the interpreter", async () => {
    const m = await load(exportFunction(grad(loss), specs, { name: "mlp_grad" }));
    for (const B of [1, 7, 128]) {
      const [x, y] = batch(B);
      const got = m.mlp_grad(params, x, y);
      const want = jit(grad(loss))(params, x, y) as P;
      const eager = grad(loss)(params, x, y) as P;
      for (const k of ["W1", "b1", "W2", "b2"] as const) {
        expect(got[k].shape).toEqual(params[k].shape);
        assertClose(got[k].data, want[k].data, { ...exact, what: k });
        assertClose(got[k].data, eager[k].data, { rtol: 1e-5, atol: 1e-7, what: k });
      }
    }
  });

  it("vjp: forward once, backward with several cotangents, equal to vjp", async () => {
    const e = exportVjp(loss, specs, { name: "mlp" });
    const m = await load(e);
    expect(e.manifest.residuals.length).toBeGreaterThan(0);
    for (const B of [1, 7, 128]) {
      const [x, y] = batch(B);
      const { out, residuals } = m.forward(params, x, y);
      expect(residuals).toHaveLength(e.manifest.residuals.length);
      const [v, pb] = vjp(loss, params, x, y);
      assertClose(out.data, (v as Tensor).data, { rtol: 1e-6 });
      for (const ct of [1, -2.5]) {
        const bars = m.backward(residuals, { data: Float32Array.of(ct), shape: [] });
        const [pbar, xbar] = pb(np.array(ct)) as [P, Tensor];
        assertClose(bars[0].W1.data, pbar.W1.data, { rtol: 1e-5, atol: 1e-7 });
        assertClose(bars[1].data, xbar.data, { rtol: 1e-5, atol: 1e-7 });
      }
    }
  });

  it("jvp: tangents of the outputs, equal to jvp", async () => {
    const f = (x: Tensor) => np.tanh(np.matmul(x, params.W1));
    const m = await load(exportJvp(f, [spec("float32", ["B", I])], { name: "fj" }));
    const [x] = batch(7);
    const t = np.onesLike(x);
    const r = m.fj(x, t);
    const [o, ot] = jvp(f, [x], [t]) as [Tensor, Tensor];
    assertClose(r.out.data, o.data, { rtol: 1e-6 });
    assertClose(r.tangents.data, ot.data, { rtol: 1e-5, atol: 1e-7 });
  });

  it("accepts tensors, {data, shape} objects and nested arrays", async () => {
    const m = await load(exportFunction((x: Tensor) => np.multiply(x, 2), [spec("float64", ["N"])], { name: "twice" }));
    expect(Array.from(m.default({ data: Float64Array.of(1, 2), shape: [2] }).data)).toEqual([2, 4]);
    expect(Array.from(m.default([3, 4, 5]).data)).toEqual([6, 8, 10]);
    expect(Array.from(m.default(np.array([1], { dtype: "float64" })).data)).toEqual([2]);
  });

  it("rejects bad input with a clear error and never reads out of bounds", async () => {
    const m = await load(exportFunction(loss, specs, { name: "checked" }));
    const [x, y] = batch(3);
    const call = (...a: unknown[]) => () => m.default(...a);
    expect(call(params, x)).toThrow(/checked takes 3 argument\(s\), got 2/);
    expect(call(params, np.zeros([3, 5]), y)).toThrow(/argument 1 \(float32\) should have shape \[B,6\], got \[3,5\]: axis 1 should be 6/);
    expect(call(params, x, np.zeros([4, 3]))).toThrow(/argument 2 \(float32\) should have shape \[B,3\], got \[4,3\]: axis 0 is B, which an earlier argument set to 3/);
    expect(call(params, np.zeros([3, 6, 1]), y)).toThrow(/got \[3,6,1\] \(rank 2 expected\)/);
    expect(call(params, np.zeros([0, 6]), np.zeros([0, 3]))).toThrow(/B must be >= 1/);
    expect(call(params, x.astype("float64"), y)).toThrow(/argument 1 has dtype float64, expected float32/);
    expect(call(params, { data: new Float64Array(18), shape: [3, 6] }, y)).toThrow(/argument 1 has a float64 array, expected float32 \(Float32Array\)/);
    expect(call(params, { data: new Float32Array(5), shape: [3, 6] }, y)).toThrow(/5 elements do not fill shape \[3,6\]/);
    expect(call(params, [[1, 2], [3]], y)).toThrow(/ragged nested arrays/);
    expect(call({ ...params, W1: undefined }, x, y)).toThrow(/argument 0\.W1: expected a Tensor/);
    expect(call(null, x, y)).toThrow(/argument 0: expected an object/);
    let err: unknown;
    try {
      m.default(params, "x", y);
    } catch (e) {
      err = e;
    }
    expect((err as Error).name).toBe("AdgenModuleError");
  });

  it("backward checks residuals against the ABI", async () => {
    const m = await load(exportVjp(loss, specs, { name: "res" }));
    const [x, y] = batch(4);
    const { residuals } = m.forward(params, x, y);
    const bar = { data: Float32Array.of(1), shape: [] };
    expect(() => m.backward(residuals.slice(1), bar)).toThrow(/residuals: expected an array of \d+/);
    const bad = residuals.map((r: any, i: number) => (i === residuals.length - 1 ? { data: new Float32Array(r.data.length + 1), shape: [r.data.length + 1] } : r));
    expect(() => m.backward(bad, bar)).toThrow(/argument residuals\[\d+\]/);
  });

  it("embeds WebAssembly kernels by default, JavaScript with {backend: \"js\"}: equal results", async () => {
    const gw = exportFunction(grad(loss), specs, { name: "gw" });
    const gj = exportFunction(grad(loss), specs, { name: "gj", backend: "js" });
    expect(gw.source).toMatch(/m: { \.\.\.\$WASM_MATH/);
    expect(gj.source).not.toMatch(/\$WASM_MATH/);
    const [mw, mj] = [await load(gw), await load(gj)];
    for (const B of [1, 7, 128]) {
      const [x, y] = batch(B);
      const [a, b] = [mw.gw(params, x, y), mj.gj(params, x, y)];
      for (const k of ["W1", "b1", "W2", "b2"] as const) assertClose(a[k].data, b[k].data, { ...exact, what: `${k} at B=${B}` });
    }
    expect(() => exportFunction(loss, specs, { backend: "gpu" as "js" })).toThrow(/backend must be "wasm" or "js"/);
  });

  it("falls back to its JavaScript kernels where the engine has no WebAssembly (same results)", async () => {
    const e = exportFunction(grad(loss), specs, { name: "gfb" });
    const dir = mkdtempSync(join(tmpdir(), "adgen-aot-nowasm-"));
    dirs.push(dir);
    await e.write(dir);
    const [x, y] = batch(7);
    const args = JSON.stringify([params, x, y].map((t) => (t instanceof Tensor ? { data: Array.from(t.data), shape: t.shape } : Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { data: Array.from(v.data), shape: v.shape }])))));
    const script = `const a = ${args}; const F = (o) => ({ data: Float32Array.from(o.data), shape: o.shape });
      const m = await import(${JSON.stringify(pathToFileURL(join(dir, "gfb.mjs")).href)});
      const p = Object.fromEntries(Object.entries(a[0]).map(([k, v]) => [k, F(v)]));
      const g = m.gfb(p, F(a[1]), F(a[2]));
      console.log(JSON.stringify({ wasm: typeof WebAssembly, W1: Array.from(g.W1.data), b2: Array.from(g.b2.data) }));`;
    const out = JSON.parse(execFileSync(process.execPath, ["--jitless", "--input-type=module", "-e", script], { encoding: "utf8" }));
    expect(out.wasm).toBe("undefined");
    const want = (await load(e)).gfb(params, x, y);
    expect(out.W1).toEqual(Array.from(want.W1.data));
    expect(out.b2).toEqual(Array.from(want.b2.data));
  });

  it("imports nothing, and is byte-for-byte reproducible", () => {
    const a = exportVjp(loss, specs, { name: "repro" });
    const b = exportVjp(loss, specs, { name: "repro" });
    expect(a.source).toBe(b.source);
    expect(a.dts).toBe(b.dts);
    expect(JSON.stringify(a.manifest)).toBe(JSON.stringify(b.manifest));
    expect(a.source).not.toMatch(/^\s*import\s/m);
    expect(a.source).not.toMatch(/require\(/);
  });

  it("writes a manifest with the documented schema", async () => {
    const e = exportVjp(loss, specs, { name: "schema" });
    const dir = mkdtempSync(join(tmpdir(), "adgen-aot-"));
    dirs.push(dir);
    const paths = await e.write(dir);
    expect(readdirSync(dir).sort()).toEqual(["schema.d.mts", "schema.manifest.json", "schema.mjs"]);
    expect(paths).toHaveLength(3);
    const m = JSON.parse(readFileSync(join(dir, "schema.manifest.json"), "utf8"));
    expect(m).toMatchObject({ format: "adgen-export", version: 1, adgenVersion: ADGEN_VERSION, name: "schema", kind: "vjp" });
    expect(m.irHash).toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}$/);
    expect(m.functions.map((f: { name: string }) => f.name)).toEqual(["forward", "backward"]);
    expect(m.functions[0].inputs[4]).toEqual({ path: "1", dtype: "float32", shape: ["B", 6] });
    expect(m.symbolicDims).toEqual([{ name: "B", constraints: ["B >= 1"] }]);
    for (const r of m.residuals) {
      expect(Object.keys(r).sort()).toEqual(["bytes", "dtype", "name", "producedBy", "shape"]);
      expect(r.name).toMatch(/^r\d+$/);
    }
    expect(m.residuals.some((r: { shape: unknown[] }) => r.shape.includes("B"))).toBe(true);
    expect(readFileSync(join(dir, "schema.d.mts"), "utf8")).toMatch(/export declare function backward\(/);
  });

  it("exports reverse mode through a while loop (re-run from snapshots: no run-time-length stack)", async () => {
    // this used to be refused (the residual stack's length was only known at run time)
    const f = (x: Tensor) =>
      lax.whileLoop((c: Tensor[]) => c[1]!.less(3), (c: Tensor[]) => [c[0]!.mul(np.sin(c[0]!)), c[1]!.add(1)], [x, np.array(0, { dtype: "int32" })])[0]!.sum();
    const m = await load(exportFunction(grad(f), [spec("float32", [3])], { name: "w" }));
    const x = np.array([0.5, 1, 1.5], { dtype: "float32" });
    assertClose(m.default(x).data, grad(f)(x).data, { rtol: 1e-6, atol: 1e-7 });
  });

  it("embeds the random-number kernels: draws equal jit and eager, with a symbolic shape, on both backends", async () => {
    // dropout-style: a key argument, a uniform mask shaped like the (symbolic) batch, a normal
    // draw, split and fold_in
    const f = (x: Tensor, key: Tensor) => {
      const [k1, k2] = [random.split(key).index(0), random.foldIn(key, 7)];
      const keep = random.uniform(k1, x.shape).less(0.8);
      return np.add(np.where(keep, x.div(0.8), 0), random.normal(k2, x.shape, { dtype: "float32" }).mul(0.1));
    };
    const specsR = [spec("float32", ["B", 3]), spec("int32", [2])];
    const mw = await load(exportFunction(f, specsR, { name: "drop_w" }));
    const mj = await load(exportFunction(f, specsR, { name: "drop_j", backend: "js" }));
    const g = await load(exportFunction(grad((x: Tensor, k: Tensor) => f(x, k).sum()), specsR, { name: "drop_g" }));
    for (const B of [1, 7]) {
      const x = np.array(rnd(B * 3, B)).reshape([B, 3]);
      const key = random.key(42 + B);
      const want = f(x, key).data;
      assertClose(mw.default(x, key).data, want, exact);
      assertClose(mj.default(x, key).data, want, exact);
      assertClose(mw.default(x, key).data, (jit(f)(x, key) as Tensor).data, exact);
      assertClose(g.default(x, key).data, grad((x: Tensor, k: Tensor) => f(x, k).sum())(x, key).data, exact);
    }
    expect(mw.default(np.ones([2, 3]), random.key(1)).data).not.toEqual(mw.default(np.ones([2, 3]), random.key(2)).data);
  });

  it("exports gathers, scatters and argmax (integer-label cross-entropy and its gradient)", async () => {
    const f = (logits: Tensor, labels: Tensor) => np.mean(nn.softmaxCrossEntropyWithIntegerLabels(logits, labels));
    const m = await load(exportFunction(grad(f), [spec("float32", ["B", 4]), spec("int32", ["B"])], { name: "xent" }));
    const m2 = await load(exportFunction((x: Tensor) => np.argmax(x, { axis: -1 }), [spec("float32", ["B", 4])], { name: "am" }));
    const logits = np.array(rnd(5 * 4, 9)).reshape([5, 4]);
    const labels = np.array([0, 3, 1, 2, 3], { dtype: "int32" });
    assertClose(m.default(logits, labels).data, (grad(f)(logits, labels) as Tensor).data, { rtol: 1e-6, atol: 1e-8 });
    expect(Array.from(m2.default(logits).data)).toEqual(Array.from(np.argmax(logits, { axis: -1 }).data));
  });
});

describe("version", () => {
  it("matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(ADGEN_VERSION).toBe(pkg.version);
  });
});
