// Export, second generation (issue 15): the shared runtime file and the size split, several
// functions per module (one runtime, one constant pool), integer and boolean arguments in every
// export kind with argnums, residuals that are inputs referenced rather than copied, and the
// artifact loaded back by importModule and differentiated again (vs the original in float64).

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ArgumentError, Tensor, customJvp, hessian as hessianOf, exportFunction, exportJvp, exportModule, exportVjp, grad, importModule, jit, jvp, jvpOf, nn, np, spec, vjp, vjpOf, vmap } from "../src/index.js";
import { assertClose } from "./util/check.js";
import { loadExported as load } from "./util/load-exported.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), "adgen-v2-"));
  dirs.push(d);
  return d;
};
const importFile = (p: string) => import(/* @vite-ignore */ pathToFileURL(p).href);

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
/** cross-entropy with integer labels (an int32 argument) */
const loss = (p: P, x: Tensor, labels: Tensor) => {
  const h = nn.relu(np.add(np.matmul(x, p.W1), p.b1));
  const logp = nn.logSoftmax(np.add(np.matmul(h, p.W2), p.b2), { axis: -1 });
  return np.negative(np.mean(np.sum(np.multiply(logp, nn.oneHot(labels, O)), { axis: -1 })));
};
const pspec = { W1: spec("float32", [I, H]), b1: spec("float32", [H]), W2: spec("float32", [H, O]), b2: spec("float32", [O]) };
const specs = [pspec, spec("float32", ["B", I]), spec("int32", ["B"])];
const batch = (B: number) => [np.array(rnd(B * I, 5 + B)).reshape([B, I]), np.array(Int32Array.from({ length: B }, (_, i) => (i * 7) % O))] as const;
const exact = { rtol: 0, atol: 0 };
const KEYS = ["W1", "b1", "W2", "b2"] as const;

describe("issue 15.1: the shared runtime file", () => {
  it("modules sharing a runtime grow by kernels only: the runtime text is written once and no module repeats it", async () => {
    const sinE = exportModule({ s: (x: Tensor) => np.sin(x) }, [spec("float32", [3])], { name: "sin3" });
    const mmE = exportModule({ mm: (a: Tensor, b: Tensor) => np.matmul(a, b) }, [spec("float32", [256, 256]), spec("float32", [256, 256])], { name: "mm" });
    expect(sinE.runtime).not.toBeNull();
    expect(sinE.runtime!.file).toBe(mmE.runtime!.file);
    const dir = freshDir();
    await sinE.write(dir);
    await mmE.write(dir);
    const runtimes = readdirSync(dir).filter((f) => f.startsWith("adgen-runtime-"));
    expect(runtimes).toEqual([sinE.runtime!.file]);
    const rt = readFileSync(join(dir, runtimes[0]!), "utf8");
    // a distinctive piece of the runtime (the argument converter, the GEMM bytes) is in the runtime file only
    for (const src of [sinE.source, mmE.source]) {
      expect(src).not.toContain("function $toArray(");
      expect(src).not.toContain("function $gemmInstance(");
      expect(src).toMatch(/^import \{ \$adgenRuntime \} from "\.\/adgen-runtime-[0-9a-f]+\.mjs";$/m);
    }
    expect(rt).toContain("function $toArray(");
    expect(rt).toContain("function $gemmInstance(");
    // the size split adds up, and the shared module's runtime section is just the import and one call
    for (const e of [sinE, mmE]) {
      const s = e.manifest.sizes!;
      expect(s.runtime + s.kernels + s.constants).toBe(s.total);
      expect(s.total).toBe(new TextEncoder().encode(e.source).length);
      expect(s.runtime).toBeLessThan(1000);
      expect(e.manifest.runtime!.bytes).toBe(new TextEncoder().encode(rt).length);
    }
    // bundled, the same function carries its runtime (and stays importable alone)
    const bundled = exportFunction((x: Tensor) => np.sin(x), [spec("float32", [3])], { name: "sin3b" });
    expect(bundled.runtime).toBeNull();
    expect(bundled.manifest.sizes!.runtime).toBeGreaterThan(5000);
    expect(bundled.source).not.toMatch(/^\s*import\s/m);
    // both run and agree with jit
    const m1 = await importFile(join(dir, "sin3.mjs"));
    const m2 = await importFile(join(dir, "mm.mjs"));
    const x = np.array([0.5, -1, 2], { dtype: "float32" });
    assertClose(m1.s(x).data, (jit((v: Tensor) => np.sin(v))(x) as Tensor).data, exact);
    const a = np.array(rnd(256 * 256, 7)).reshape([256, 256]);
    const b = np.array(rnd(256 * 256, 8)).reshape([256, 256]);
    assertClose(m2.mm(a, b).data, np.matmul(a, b).data, { rtol: 1e-5, atol: 1e-5 });
  });
});

describe("issue 15.2: several functions per module", () => {
  it("loss + grad + vjp + jvp of an MLP in one module equal separate exports and jit for B in {1, 7, 128}", async () => {
    const e = exportModule({ loss, grad: grad(loss), step: vjpOf(loss, { argnums: 0 }), tan: jvpOf(loss) }, specs, { name: "mlp" });
    expect(e.manifest.functions.map((f) => f.name)).toEqual(["loss", "grad", "step_forward", "step_backward", "tan"]);
    const m = await load(e);
    const sepLoss = await load(exportFunction(loss, specs, { name: "l" }));
    const sepGrad = await load(exportFunction(grad(loss), specs, { name: "g" }));
    for (const B of [1, 7, 128]) {
      const [x, y] = batch(B);
      const want = jit(loss)(params, x, y) as Tensor;
      assertClose(m.loss(params, x, y).data, want.data, exact);
      assertClose(m.loss(params, x, y).data, sepLoss.l(params, x, y).data, exact);
      const g = m.grad(params, x, y);
      const gw = jit(grad(loss))(params, x, y) as P;
      const gs = sepGrad.g(params, x, y);
      const { out, residuals } = m.step_forward(params, x, y);
      assertClose(out.data, want.data, exact);
      const [ct] = m.step_backward(residuals, { data: Float32Array.of(1), shape: [] });
      for (const k of KEYS) {
        assertClose(g[k].data, gw[k].data, { ...exact, what: k });
        assertClose(g[k].data, gs[k].data, { ...exact, what: k });
        assertClose(ct[k].data, gw[k].data, { rtol: 1e-6, atol: 1e-7, what: k });
      }
      const tp = { W1: np.onesLike(params.W1), b1: np.zerosLike(params.b1), W2: np.zerosLike(params.W2), b2: np.onesLike(params.b2) };
      const tx = np.zerosLike(x);
      const [, tWant] = jvp((p: P, xx: Tensor) => loss(p, xx, y), [params, x], [tp, tx]) as [Tensor, Tensor];
      const r = m.tan(params, x, y, tp, tx);
      assertClose(r.tangents.data, tWant.data, { rtol: 1e-5, atol: 1e-6 });
    }
  });

  it("parameters closed over by several entries are embedded once", () => {
    const W = np.array(rnd(64 * 8, 11)).reshape([64, 8]);
    const f = (x: Tensor) => np.sum(np.tanh(np.matmul(x, W)));
    const e = exportModule({ f, df: grad(f) }, [spec("float32", [4, 64])], { name: "shared" });
    const one = exportFunction(f, [spec("float32", [4, 64])], { name: "one" });
    // W's bytes (base64) appear exactly once in the two-function module
    const b64 = Buffer.from(W.data.buffer, W.data.byteOffset, W.data.byteLength).toString("base64");
    expect(one.source.split(b64).length - 1).toBe(1);
    expect(e.source.split(b64).length - 1).toBe(1);
  });

  it("rejects bad entries and colliding names with an ArgumentError", () => {
    const f = (x: Tensor) => np.sum(x);
    expect(() => exportModule({}, [spec("float32", [2])])).toThrow(ArgumentError);
    expect(() => exportModule({ a_forward: f, a: vjpOf(f) }, [spec("float32", [2])])).toThrow(/both export "a_forward"/);
    expect(() => exportModule({ "not valid": f }, [spec("float32", [2])])).toThrow(/not a valid JavaScript identifier/);
    expect(() => exportModule({ x: 3 as any }, [spec("float32", [2])])).toThrow(/must be a function, vjpOf\(f\) or jvpOf\(f\)/);
  });
});

describe("issue 15.3: integer and boolean arguments, argnums, input residuals", () => {
  const masked = (x: Tensor, mask: Tensor, idx: Tensor) => np.sum(np.where(mask, np.multiply(np.sin(x), np.take(x, idx)), 0));
  const mspecs = [spec("float32", [5]), spec("bool", [5]), spec("int32", [5])];
  const x = np.array([0.1, 0.5, -0.7, 1.2, 2.0], { dtype: "float32" });
  const mask = np.array([true, false, true, true, false]);
  const idx = np.array([4, 3, 2, 1, 0], { dtype: "int32" });

  it("exportVjp with int32 labels and bool masks: backward returns the float cotangents, equal to vjp", async () => {
    const m = await load(exportVjp(masked, mspecs, { name: "masked" }));
    const { out, residuals } = m.forward(x, mask, idx);
    const [, pb] = vjp(masked, x, mask, idx);
    const [want] = pb(np.array(1, { dtype: "float32" }));
    const bars = m.backward(residuals, { data: Float32Array.of(1), shape: [] });
    expect(bars.length).toBe(1); // default argnums: the arguments with a float leaf
    assertClose(out.data, (masked(x, mask, idx) as Tensor).data, { rtol: 1e-6, atol: 1e-7 });
    assertClose(bars[0].data, (want as Tensor).data, { rtol: 1e-6, atol: 1e-7 });
  });

  it("exportVjp argnums picks the differentiated arguments and refuses integer ones", async () => {
    const f = (a: Tensor, b: Tensor, labels: Tensor) => np.sum(np.multiply(np.multiply(a, b), labels.astype("float32")));
    const s = [spec("float32", [3]), spec("float32", [3]), spec("int32", [3])];
    const m = await load(exportVjp(f, s, { name: "pick", argnums: [1] }));
    const a = np.array([1, 2, 3], { dtype: "float32" });
    const b = np.array([4, 5, 6], { dtype: "float32" });
    const l = np.array([1, -1, 2], { dtype: "int32" });
    const bars = m.backward(m.forward(a, b, l).residuals, { data: Float32Array.of(1), shape: [] });
    expect(bars.length).toBe(1);
    assertClose(bars[0].data, (grad(f, { argnums: 1 })(a, b, l) as Tensor).data, exact);
    expect(() => exportVjp(f, s, { argnums: 2 })).toThrow(/argnums names argument 2, which has no float leaf/);
  });

  it("exportFunction of grad and exportJvp take integer and boolean arguments", async () => {
    const g = await load(exportFunction(grad(masked), mspecs, { name: "gm" }));
    assertClose(g.gm(x, mask, idx).data, (grad(masked)(x, mask, idx) as Tensor).data, { rtol: 1e-6, atol: 1e-7 });
    const j = await load(exportJvp(masked, mspecs, { name: "jm" }));
    const t = np.array([1, 0, 0, 1, 1], { dtype: "float32" });
    const [, want] = jvp((v: Tensor) => masked(v, mask, idx), [x], [t]) as [Tensor, Tensor];
    assertClose(j.jm(x, mask, idx, t).tangents.data, want.data, { rtol: 1e-6, atol: 1e-7 });
  });

  it("a residual that is an input is the caller's array, not a copy, and the ABI says which input", async () => {
    const f = (a: Tensor, b: Tensor) => np.sum(np.multiply(a, b));
    const e = exportVjp(f, [spec("float32", [4]), spec("float32", [4])], { name: "dotp" });
    const inputs = e.manifest.residualInputs!;
    expect(inputs.map((r) => r.input).sort()).toEqual([0, 1]);
    const m = await load(e);
    const a = { data: Float32Array.of(1, 2, 3, 4), shape: [4] };
    const b = { data: Float32Array.of(5, 6, 7, 8), shape: [4] };
    const { residuals } = m.forward(a, b);
    const byInput = new Map(inputs.map((r) => [r.input, residuals[r.residual].data]));
    expect(byInput.get(0)).toBe(a.data);
    expect(byInput.get(1)).toBe(b.data);
    const [da, db] = m.backward(residuals, { data: Float32Array.of(1), shape: [] });
    expect(Array.from(da.data)).toEqual([5, 6, 7, 8]);
    expect(Array.from(db.data)).toEqual([1, 2, 3, 4]);
  });
});

describe("issue 15.4: artifacts load back and differentiate again", () => {
  const f64 = (v: number[]) => np.array(v, { dtype: "float64" });
  const g = (x: Tensor, y: Tensor) => np.sum(np.multiply(np.tanh(np.multiply(x, y)), np.exp(np.negative(x))));
  const gs = [spec("float64", [3]), spec("float64", [3])];
  const x = f64([0.3, -0.4, 1.1]);
  const y = f64([1.5, 0.2, -0.8]);

  it("value export -> importModule -> grad, vmap, jit, jvp equal the original in float64", () => {
    const e = exportFunction(g, gs, { name: "gv" });
    const back = importModule(JSON.stringify(e.manifest));
    assertClose((back(x, y) as Tensor).data, (g(x, y) as Tensor).data, exact);
    assertClose((grad(back, { argnums: [0, 1] })(x, y) as Tensor[])[1]!.data, (grad(g, { argnums: [0, 1] })(x, y) as Tensor[])[1]!.data, { rtol: 1e-14, atol: 1e-15 });
    assertClose((jit(grad(back))(x, y) as Tensor).data, (grad(g)(x, y) as Tensor).data, { rtol: 1e-14, atol: 1e-15 });
    const xs = np.stack([x, np.multiply(x, 2), np.negative(x)]);
    assertClose((vmap(back, { inAxes: [0, null] })(xs, y) as Tensor).data, (vmap(g, { inAxes: [0, null] })(xs, y) as Tensor).data, { rtol: 1e-14, atol: 1e-15 });
    const t = f64([1, 0, -1]);
    const [, a] = jvp((v: Tensor) => back(v, y), [x], [t]) as [Tensor, Tensor];
    const [, b] = jvp((v: Tensor) => g(v, y), [x], [t]) as [Tensor, Tensor];
    assertClose(a.data, b.data, { rtol: 1e-14, atol: 1e-15 });
  });

  it("every export kind round-trips: vjp, jvp and module artifacts, from a written directory", async () => {
    const dir = freshDir();
    await exportVjp(g, gs, { name: "gvjp" }).write(join(dir, "a"));
    await exportJvp(g, gs, { name: "gjvp" }).write(join(dir, "b"));
    await exportModule({ val: g, dg: grad(g) }, gs, { name: "gmod" }).write(join(dir, "c"));
    const want = (grad(g)(x, y) as Tensor).data;
    for (const sub of ["a", "b"]) assertClose((grad(importModule(join(dir, sub)))(x, y) as Tensor).data, want, { rtol: 1e-14, atol: 1e-15 });
    const mod = importModule(join(dir, "c", "gmod.manifest.json"));
    assertClose((grad(mod.val)(x, y) as Tensor).data, want, { rtol: 1e-14, atol: 1e-15 });
    // the gradient entry differentiates again: a Hessian-vector product through the artifact
    const hvp = (v: Tensor) => jvp((u: Tensor) => mod.dg(u, y), [x], [v])[1] as Tensor;
    const hvpWant = (v: Tensor) => jvp((u: Tensor) => grad(g)(u, y), [x], [v])[1] as Tensor;
    assertClose(hvp(f64([1, 2, 3])).data, hvpWant(f64([1, 2, 3])).data, { rtol: 1e-13, atol: 1e-14 });
  });

  it("a symbolic-batch export loads back and runs (and differentiates) at several batch sizes", () => {
    const e = exportFunction(loss, specs, { name: "mlpB" });
    const back = importModule(e.manifest);
    for (const B of [1, 7, 128]) {
      const [xb, lb] = batch(B);
      assertClose((back(params, xb, lb) as Tensor).data, (loss(params, xb, lb) as Tensor).data, { rtol: 1e-6, atol: 1e-7 });
      const ga = grad(back)(params, xb, lb) as P;
      const gb = grad(loss)(params, xb, lb) as P;
      for (const k of KEYS) assertClose(ga[k].data, gb[k].data, { rtol: 1e-5, atol: 1e-7, what: k });
    }
    expect(() => back(params, np.zeros([2, I + 1]), np.zeros([2], { dtype: "int32" }))).toThrow(/axis 1/);
  });

  it("refuses a newer, older or corrupt IR and an artifact without IR, saying which", () => {
    const e = exportFunction(g, gs, { name: "gv" });
    const m = JSON.parse(JSON.stringify(e.manifest));
    expect(() => importModule({ ...m, ir: [{ ...m.ir[0], version: 99 }] })).toThrow(/IR version 99, newer than this adgen reads/);
    expect(() => importModule({ ...m, ir: [{ ...m.ir[0], version: 1 }] })).toThrow(/older than this adgen reads/);
    const prog = JSON.parse(m.ir[0].program);
    const broken = { ...m.ir[0], program: JSON.stringify({ ...prog, eqns: [{ ...prog.eqns[0], prim: "no_such_prim" }, ...prog.eqns.slice(1)] }) };
    expect(() => importModule({ ...m, ir: [broken] })).toThrow(/is corrupt: .*no_such_prim/);
    expect(() => importModule(exportFunction(g, gs, { name: "noir", ir: false }).manifest)).toThrow(/carries no IR \(exported with \{ir: false\}\)/);
    expect(() => importModule({ ...m, ir: [{ ...m.ir[0], program: "{" }] })).toThrow(/is corrupt/);
    expect(() => importModule({ ...m, format: "other" })).toThrow(ArgumentError);
    expect(() => importModule("{not json")).toThrow(/not valid JSON/);
    // a JS custom rule cannot be carried: the export still works, the manifest says why there is no IR
    const softplus = customJvp((v: Tensor) => np.log1p(np.exp(v)), { jvp: ([v]: Tensor[], [t]: Tensor[]) => [np.log1p(np.exp(v)), np.multiply(t, nn.sigmoid(v))] });
    const c = exportFunction((v: Tensor) => np.sum(softplus(v)), [spec("float64", [3])], { name: "sp" });
    expect(c.manifest.irMissing).toMatch(/custom rule/);
    expect(() => importModule(c.manifest)).toThrow(/carries no IR \(sp: IR: a program holding a JS function/);
    expect(() => importModule(e.manifest)(x)).toThrow(/do not match the exported structure/);
  });
});

describe("issue 15.5: symbolic shapes and declared constraints", () => {
  const mk = (B: number, cols: number, s = 0) => np.array(Float32Array.from({ length: B * cols }, (_, i) => Math.cos(i * 0.7 + s))).reshape([B, cols]);
  const cases: [string, (x: Tensor) => Tensor][] = [
    ["reshape [-1, 2] of [B,4]", (x) => x.reshape([-1, 2])],
    ["reshape [2, -1] of [B,4] (B even)", (x) => x.reshape([2, -1])],
    ["concatenate along B", (x) => np.concatenate([x, np.multiply(x, 2)], { axis: 0 })],
    ["pad along B", (x) => np.pad(x, [[1, 2], [0, 0]])],
    ["gradient through a concatenation along B", (x) => grad((v: Tensor) => np.sum(np.sin(np.concatenate([v, np.square(v)], { axis: 0 }))))(x) as Tensor],
  ];
  for (const [what, f] of cases) {
    it(`${what}: export at [B,4] equals jit and eager for B in {2, 6, 128}`, async () => {
      const m = await load(exportFunction(f, [spec("float32", ["B", 4])], { name: "sym" }));
      for (const B of [2, 6, 128]) {
        const x = mk(B, 4, B);
        const want = f(x);
        const got = m.sym(x);
        expect(got.shape).toEqual(want.shape);
        assertClose(got.data, want.data, { rtol: 1e-6, atol: 1e-6, what: `B=${B}` });
        assertClose(got.data, (jit(f)(x) as Tensor).data, { rtol: 1e-6, atol: 1e-6, what: `jit B=${B}` });
      }
    });
  }

  it("concatenation of a symbolic and a static part along B", async () => {
    const c = np.array(Float32Array.from({ length: 8 }, (_, i) => -i)).reshape([2, 4]);
    const f = (x: Tensor) => np.concatenate([c, x], { axis: 0 });
    const m = await load(exportFunction(f, [spec("float32", ["B", 4])], { name: "cat" }));
    for (const B of [1, 5]) {
      const x = mk(B, 4);
      assertClose(m.cat(x).data, (f(x) as Tensor).data, exact);
      expect(m.cat(x).shape).toEqual([B + 2, 4]);
    }
  });

  it("jacfwd / hessian over a symbolic dimension export (test/export-shapes.test.ts runs them); a concrete size still exports", () => {
    const h = hessianOf((x: Tensor) => np.sum(np.sin(x)));
    expect(exportFunction(h, [spec("float32", ["N"])]).manifest.functions[0]!.outputs[0]!.shape).toEqual(["N", "N"]);
    expect(() => exportFunction(h, [spec("float32", [3])])).not.toThrow();
  });

  it("declared constraints are checked at call time, each violation named", async () => {
    const f = (x: Tensor) => np.sum(np.tanh(x), { axis: 1 });
    // (the shape rules use declared divisibility: test/export-shapes.test.ts; without it, reshape([-1, 2]) of [B,3] is a ShapeError)
    expect(() => exportFunction((x: Tensor) => x.reshape([-1, 2]), [spec("float32", ["B", 3])])).toThrow(/3\*B elements are not a multiple of 2 for every size/);
    const e = exportFunction(f, [spec("float32", ["B", 3])], { name: "cons", constraints: ["B % 2 == 0", "B >= 4", "B <= 64"] });
    expect(e.manifest.symbolicDims).toEqual([{ name: "B", constraints: ["B >= 1", "B % 2 == 0", "B >= 4", "B <= 64"] }]);
    const m = await load(e);
    assertClose(m.cons(mk(4, 3)).data, (f(mk(4, 3)) as Tensor).data, exact);
    expect(() => m.cons(mk(5, 3))).toThrow(/bind B = 5, which violates the declared constraint B % 2 == 0/);
    expect(() => m.cons(mk(2, 3))).toThrow(/bind B = 2, which violates the declared constraint B >= 4/);
    expect(() => m.cons(mk(66, 3))).toThrow(/bind B = 66, which violates the declared constraint B <= 64/);
    expect(() => exportFunction(f, [spec("float32", ["B", 3])], { constraints: ["C >= 2"] })).toThrow(/names C, which is not a symbolic dimension/);
    expect(() => exportFunction(f, [spec("float32", ["B", 3])], { constraints: ["B is even"] })).toThrow(/cannot read the constraint/);
  });
});
