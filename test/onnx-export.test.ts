// ONNX export of whole programs, run on onnxruntime-node: the MLP loss gradient against the
// float64 reference loops, one model with a symbolic batch B serving several batch sizes, the
// split VJP (forward + backward models) and the JVP against adgen's own transforms, reverse mode
// through a while loop, n-way switch, random numbers, adgen's semantics at special values (NaN,
// infinities, saturation), the error for an unmapped primitive, and a second consumer (onnx-proto's protobufjs decoder) reading names, dims and
// metadata back from the written files.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import * as adgen from "../src/index.js";
import { ArgumentError, type Tensor, exportOnnx, exportOnnxJvp, exportOnnxVjp, grad, jvp, lax, makeProgram, np, random, spec, valueAndGrad, vjp } from "../src/index.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { gather } from "../src/prims/gather.js";
import { reshape, slice } from "../src/prims/shape.js";
import { erf } from "../src/prims/special.js";
import { definePrimitive } from "../src/prims/primitive.js";
import { mlpLoss, mlpTensors } from "../bench/peers/adgen-model.js";
import { MLP, checkMlpGrads, mlpData } from "../bench/workloads/data.js";
import { rand, tensor } from "./util/check.js";
import { runOnnx } from "./onnx-run.js";

const { onnx } = onnxProto;

function close(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const a = Number(got[i]);
    const b = Number(want[i]);
    if (Number.isNaN(b)) expect(Number.isNaN(a), `${what}[${i}]: ${a} vs NaN`).toBe(true);
    else expect(a === b || Math.abs(a - b) <= atol + rtol * Math.abs(b), `${what}[${i}]: onnxruntime ${a}, adgen ${b}`).toBe(true);
  }
}

describe("ONNX export of derivative programs", () => {
  it("MLP loss gradient (784-256-10): one model with a symbolic batch B serves batches 1, 7 and 128", async () => {
    const { nIn, nHidden: H, nOut: K } = MLP;
    const pSpec = { W1: spec("float32", [nIn, H]), b1: spec("float32", [H]), W2: spec("float32", [H, K]), b2: spec("float32", [K]) };
    const e = exportOnnx(valueAndGrad(mlpLoss(adgen as never)), [pSpec, spec("float32", ["B", nIn]), spec("float32", ["B", K])], { name: "mlp_step" });
    const m = e.manifest.models[0]!;
    expect(m.inputs.map((i) => i.name)).toEqual(["arg0.W1", "arg0.b1", "arg0.W2", "arg0.b2", "arg1", "arg2"]);
    expect(m.inputs[4]!.shape).toEqual(["B", nIn]);
    expect(m.outputs.map((o) => o.name)).toEqual(["out[0]", "out[1].W1", "out[1].b1", "out[1].W2", "out[1].b2"]);
    expect(e.manifest.symbolicDims).toEqual(["B"]);
    for (const batch of [1, 7, 128]) {
      const t = mlpTensors(adgen as never, mlpData(batch));
      const p = t.p as unknown as Record<string, Tensor>;
      const [loss, w1, b1, w2, b2] = await runOnnx(e.bytes, [p.W1!, p.b1!, p.W2!, p.b2!, t.x as unknown as Tensor, t.y as unknown as Tensor]);
      expect(loss!.shape).toEqual([]);
      const err = checkMlpGrads(t.d, { loss: loss!.data[0]!, w1: w1!.data, b1: b1!.data, w2: w2!.data, b2: b2!.data });
      expect(err, `batch ${batch}`).toBeUndefined();
    }
  });

  const f = (x: Tensor, w: Tensor) => np.tanh(np.matmul(np.sin(x), w));
  const specs = [spec("float64", ["N", 3]), spec("float64", [3, 2])];
  const x = rand([4, 3], 1);
  const w = rand([3, 2], 2);

  it("split VJP: forward gives outputs and residuals, backward gives the cotangents of adgen's vjp", async () => {
    const e = exportOnnxVjp(f, specs, { name: "f_vjp" });
    expect(e.manifest.models.map((m) => m.role)).toEqual(["forward", "backward"]);
    const fwd = e.manifest.models[0]!;
    const nRes = e.manifest.residuals.length;
    expect(nRes).toBeGreaterThan(0);
    expect(fwd.outputs.map((o) => o.name)).toEqual(["out", ...e.manifest.residuals.map((r) => r.name)]);
    const outs = await runOnnx(e.model("forward"), [x, w]);
    const [y, pullback] = vjp(f, x, w);
    close(outs[0]!.data, (y as Tensor).dataSync(), 1e-12, 1e-14, "forward out");
    const yBar = rand([4, 2], 3);
    const res = outs.slice(1).map((r, i) => tensor(r.data, r.shape, e.manifest.residuals[i]!.dtype as "float64"));
    const bars = await runOnnx(e.model("backward"), [...res, yBar]);
    const want = pullback(yBar) as Tensor[];
    close(bars[0]!.data, want[0]!.dataSync(), 1e-12, 1e-14, "xBar");
    close(bars[1]!.data, want[1]!.dataSync(), 1e-12, 1e-14, "wBar");
  });

  it("JVP model: outputs then output tangents, equal to adgen's jvp", async () => {
    const e = exportOnnxJvp(f, specs, { name: "f_jvp" });
    expect(e.manifest.models[0]!.inputs.map((i) => i.name)).toEqual(["arg0", "arg1", "tangent0", "tangent1"]);
    const tx = rand([4, 3], 4);
    const tw = rand([3, 2], 5);
    const [y, yDot] = await runOnnx(e.bytes, [x, w, tx, tw]);
    const [wy, wDot] = jvp(f, [x, w], [tx, tw]) as [Tensor, Tensor];
    close(y!.data, wy.dataSync(), 1e-12, 1e-14, "out");
    close(yDot!.data, wDot.dataSync(), 1e-12, 1e-14, "tangent");
  });

  it("reverse mode through a while loop (the reverse re-runs it from snapshots: Loops with static shapes)", async () => {
    const g = (x0: Tensor, s: Tensor) =>
      np.sum(
        lax.whileLoop(
          ([, v]: [Tensor, Tensor]) => np.less(np.sum(np.abs(v)), 20),
          ([i, v]: [Tensor, Tensor]) => [np.add(i, 1), np.add(np.multiply(np.sin(v), s), np.multiply(v, 1.5))],
          [np.array(0, { dtype: "int32" }), x0],
        )[1],
      );
    const xs = [rand([3], 6, 0.5, 1), rand([], 7, 1, 2)];
    const e = exportOnnx(grad(g, { argnums: [0, 1] }), xs.map((t) => spec("float64", t.shape as number[])), { name: "while_grad" });
    const got = await runOnnx(e.bytes, xs);
    const want = grad(g, { argnums: [0, 1] })(...xs) as Tensor[];
    close(got[0]!.data, want[0]!.dataSync(), 1e-12, 1e-14, "xBar");
    close(got[1]!.data, want[1]!.dataSync(), 1e-12, 1e-14, "sBar");
  });

  it("special values keep adgen's semantics (NaN in max/min/argmax/reduce_max, float->int32 saturation, int32 x/0 and wrapping x*y, erf tails, log1p/expm1 near 0)", async () => {
    const special = [NaN, Infinity, -Infinity, 0, -0, 3e9, -3e9, -2.5, 2.5, 1e-10, -1e-300, 0.46875, 4, 26.7, 30, -6];
    const sv = tensor(special, [special.length]);
    const other = tensor(special.map((_, i) => (i % 3) - 1), [special.length]);
    const fns: [string, (...a: Tensor[]) => Tensor | Tensor[]][] = [
      ["max/min", (a, b) => [np.maximum(a, b), np.minimum(a, b)]],
      ["argmax/argmin/max", (a) => [np.argmax(np.reshape(a, [4, 4]), { axis: 1 }), np.argmin(np.reshape(a, [4, 4]), { axis: 0 }), np.max(np.reshape(a, [4, 4]), { axis: 1 })]],
      ["astype int32", (a) => a.astype("int32")],
      ["int32 division", (a, b) => np.divide(a.astype("int32"), b.astype("int32"))],
      ["int32 multiplication wraps", (a, b) => np.multiply(np.multiply(a, 1e5).astype("int32"), np.add(np.multiply(b, 3e4), 7).astype("int32"))],
      ["erf, log1p, expm1", (a) => [erf(a), np.log1p(a), np.expm1(a)]],
    ];
    for (const dt of ["float64", "float32"] as const) {
      const ins = [sv.astype(dt), other.astype(dt)];
      for (const [what, fn] of fns) {
        const e = exportOnnx(fn, ins.map((t) => spec(dt, t.shape as number[])), { name: "special" });
        const got = await runOnnx(e.bytes, ins);
        const want = interpret(makeProgram(fn)(...ins), ins);
        got.forEach((g, i) => close(g.data, want[i]!.dataSync(), dt === "float64" ? 1e-12 : 2e-6, 1e-300, `${what} (${dt}) output ${i}`));
      }
    }
  });

  it("erf in float64 follows Cody's approximation across its intervals", async () => {
    const pts = Array.from({ length: 241 }, (_, i) => -30 + i * 0.25).concat([0.46875, -0.46875, 0.46876, 1e-17, 26.7, 26.69]);
    const xs = tensor(pts, [pts.length]);
    const e = exportOnnx(erf, [spec("float64", [pts.length])], { name: "erf64" });
    const [got] = await runOnnx(e.bytes, [xs]);
    close(got!.data, erf(xs).dataSync(), 1e-13, 1e-300, "erf");
  });

  it("random numbers (Threefry as int64 graph arithmetic): bits and uniform draws bit-identical to adgen's, for batches of keys too", async () => {
    const draw = (k: Tensor, x: Tensor) => {
      const ks = random.split(k, 3);
      const row = (i: number) => reshape(slice(ks, [i, 0], [i + 1, 2], [1, 1]), [2]);
      const a = row(0);
      const c = random.foldIn(row(2), 7);
      return [random.normal(a, [3, 5]), random.uniform(c, [2, 2], { dtype: "float64" }), np.add(x, random.uniform(a, [4]))];
    };
    const key = random.key(123);
    const x = np.array([1, 2, 3, 4], { dtype: "float32" });
    const e = exportOnnx(draw, [spec("int32", [2]), spec("float32", [4])], { name: "draw" });
    const got = await runOnnx(e.bytes, [key, x]);
    const want = draw(key, x);
    // uniform draws are bit-identical; normal ones go through float32 transcendental ops (ulps apart)
    close(got[0]!.data, want[0]!.dataSync(), 1e-6, 1e-7, "normal");
    expect(got[1]!.data, "uniform float64").toEqual(Array.from(want[1]!.dataSync()));
    expect(got[2]!.data, "x + uniform").toEqual(Array.from(want[2]!.dataSync()));
    const batched = (ks: Tensor) => adgen.vmap((k: Tensor) => [random.bits(k, [3]), random.uniform(k, [2])])(ks);
    const keys = random.split(key, 4);
    const eb = exportOnnx(batched, [spec("int32", [4, 2])], { name: "batched" });
    const gb = await runOnnx(eb.bytes, [keys]);
    const wb = batched(keys) as Tensor[];
    gb.forEach((g, i) => expect(g.data, `batched output ${i}`).toEqual(Array.from(wb[i]!.dataSync())));
  });

  it("lax.switch with three branches becomes a chain of Ifs (index clamped)", async () => {
    const sw = (i: Tensor, x: Tensor) => lax.switch(i, [(v: Tensor) => np.sin(v), (v: Tensor) => np.multiply(v, 2), (v: Tensor) => np.exp(v)], x);
    const e = exportOnnx(sw, [spec("int32", []), spec("float64", [3])], { name: "switch3" });
    const x = rand([3], 8);
    for (const i of [-2, 0, 1, 2, 5]) {
      const idx = np.array(i, { dtype: "int32" });
      const [got] = await runOnnx(e.bytes, [idx, x]);
      close(got!.data, (sw(idx, x) as Tensor).dataSync(), 1e-15, 0, `index ${i}`);
    }
  });

  it("a primitive without an ONNX mapping is an ArgumentError naming it and the user's line", () => {
    const unmappedP = definePrimitive({
      name: "test_unmapped",
      abstractEval: ([a]) => [a!],
      impl: ([a]) => [a!.dataSync()],
      jvp: () => {
        throw new Error("unused");
      },
      batch: () => {
        throw new Error("unused");
      },
    });
    const h = (v: Tensor) => np.sin(unmappedP.bind1([v], {}));
    expect(() => exportOnnx(h, [spec("float32", [3])])).toThrow(ArgumentError);
    expect(() => exportOnnx(h, [spec("float32", [3])])).toThrow(/primitive test_unmapped \(from test\/onnx-export\.test\.ts:\d+:\d+\) cannot be exported to ONNX: it has no ONNX mapping/);
  });

  it("a mode-raise gather (np.take's bounds check) fails in ONNX Runtime instead of wrapping or clamping", async () => {
    const take = (x: Tensor, i: Tensor) => gather(x, i, { axis: 0, batchDims: 0, mode: "raise", op: "take" });
    const e = exportOnnx(take, [spec("float32", [4]), spec("int32", [2])], { name: "take" });
    const xv = np.array([1, 2, 3, 4], { dtype: "float32" });
    const [ok] = await runOnnx(e.bytes, [xv, np.array([3, 0], { dtype: "int32" })]);
    expect(ok!.data).toEqual([4, 1]);
    await expect(runOnnx(e.bytes, [xv, np.array([-1, 0], { dtype: "int32" })])).rejects.toThrow(/out of/i);
    await expect(runOnnx(e.bytes, [xv, np.array([4, 0], { dtype: "int32" })])).rejects.toThrow(/out of/i);
  });

  it("outputs that are inputs, repeated, or constants; a reverse scan over a symbolic length T = 5, 1, 0", async () => {
    const f0 = (v: Tensor) => [v, v, np.array(2.5), np.sum(v)];
    const e0 = exportOnnx(f0, [spec("float64", ["B", 2])], { name: "edges" });
    expect(e0.manifest.models[0]!.outputs.map((o) => o.name)).toEqual(["out[0]", "out[1]", "out[2]", "out[3]"]);
    const v = rand([3, 2], 1);
    const got0 = await runOnnx(e0.bytes, [v]);
    const want0 = f0(v);
    got0.forEach((g, i) => {
      expect(g.shape).toEqual(want0[i]!.shape);
      close(g.data, want0[i]!.dataSync(), 1e-15, 0, `output ${i}`);
    });
    const s = (xs: Tensor, c0: Tensor) => lax.scan((c: Tensor, xv: Tensor) => [np.add(c, np.sin(xv)), np.multiply(c, xv)], c0, xs, { reverse: true });
    const es = exportOnnx(s, [spec("float64", ["T", 3]), spec("float64", [3])], { name: "scan_t" });
    for (const T of [5, 1, 0]) {
      const args = [rand([T, 3], 2), rand([3], 3)];
      const got = await runOnnx(es.bytes, args);
      const want = interpret(makeProgram(s)(...args), args);
      got.forEach((g, i) => {
        expect(g.shape, `T=${T} output ${i}`).toEqual(want[i]!.shape);
        close(g.data, want[i]!.dataSync(), 1e-12, 1e-14, `T=${T} output ${i}`);
      });
    }
  });

  it("options are checked: unknown keys (with a did-you-mean) and bad names are ArgumentErrors", () => {
    expect(() => exportOnnx(f, specs, { nmae: "x" } as never)).toThrow(/exportOnnx: unknown option "nmae". Did you mean "name"\?/);
    expect(() => exportOnnxVjp(f, specs, { name: "a/b" })).toThrow(/exportOnnxVjp: name "a\/b" must consist of letters/);
    expect(() => exportOnnxJvp(f, specs, { name: 3 } as never)).toThrow(ArgumentError);
  });

  it("second consumer: onnx-proto decodes the written files; names, dtypes, dim_params, opset and metadata round-trip", async () => {
    const dir = mkdtempSync(join(tmpdir(), "adgen-onnx-"));
    const e = exportOnnxVjp(f, specs, { name: "roundtrip" });
    const paths = await e.write(dir);
    expect(paths.map((p) => p.slice(dir.length + 1))).toEqual(["roundtrip.forward.onnx", "roundtrip.backward.onnx", "roundtrip.manifest.json"]);
    const manifest = JSON.parse(readFileSync(join(dir, "roundtrip.manifest.json"), "utf8"));
    expect(manifest).toEqual(JSON.parse(JSON.stringify(e.manifest)));
    const ELEM: Record<number, string> = { 1: "float32", 6: "int32", 9: "bool", 11: "float64" };
    for (const info of manifest.models) {
      const m = onnx.ModelProto.decode(readFileSync(join(dir, info.file)));
      expect(Number(m.irVersion)).toBe(manifest.irVersion);
      expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([["", manifest.opset]]);
      expect(m.producerName).toBe("adgen");
      const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
      expect(meta["adgen.role"]).toBe(info.role);
      expect(JSON.parse(meta["adgen.residuals"]!)).toEqual(manifest.residuals);
      const decode = (vs: onnxProto.onnx.IValueInfoProto[]) =>
        vs.map((v) => ({
          name: v.name,
          dtype: ELEM[v.type!.tensorType!.elemType!],
          shape: v.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))),
        }));
      expect(decode(m.graph!.input!)).toEqual(info.inputs);
      expect(decode(m.graph!.output!)).toEqual(info.outputs);
      // every node is a standard ai.onnx op, and every value it reads is defined before it
      const defined = new Set(m.graph!.input!.map((v) => v.name!));
      for (const n of m.graph!.node!) {
        for (const i of n.input!) if (i) expect(defined.has(i), `${n.opType} reads ${i}`).toBe(true);
        n.output!.forEach((o) => defined.add(o));
        expect(n.domain ?? "").toBe("");
      }
    }
  });
});

describe("ONNX export: neural-network composites under ONNX Runtime's graph fusions", () => {
  // ONNX Runtime's optimizer (level "all", its default) rewrites patterns such as GELU, x*sigmoid(x),
  // layer normalization and softmax into contrib ops, some of which have float32 kernels only: the
  // exported graphs must still load and agree in both float types
  const layerNorm = (x: Tensor) => {
    const mu = np.mean(x, { axis: -1, keepdims: true });
    const v = np.mean(np.square(np.subtract(x, mu)), { axis: -1, keepdims: true });
    return np.divide(np.subtract(x, mu), np.sqrt(np.add(v, 1e-5)));
  };
  const fns: [string, (x: Tensor) => Tensor][] = [
    ["gelu (tanh)", (x) => adgen.nn.gelu(x)],
    ["gelu (erf)", (x) => adgen.nn.gelu(x, { approximate: false })],
    ["silu", (x) => np.multiply(x, adgen.nn.sigmoid(x))],
    ["layer norm", layerNorm],
    ["softmax / logSoftmax", (x) => np.add(adgen.nn.softmax(x, { axis: -1 }), adgen.nn.logSoftmax(x, { axis: -1 }))],
  ];
  for (const [name, fn] of fns) {
    for (const dt of ["float64", "float32"] as const) {
      it(`${name} in ${dt}: value and gradient`, async () => {
        const x = rand([3, 8], 11, -3, 3, dt);
        const g = grad((a: Tensor) => np.sum(np.multiply(fn(a), np.arange(8).astype(dt))));
        const e = exportOnnx((a: Tensor) => [fn(a), g(a) as Tensor], [spec(dt, ["B", 8])], { name: "nn" });
        const got = await runOnnx(e.bytes, [x]);
        const want = interpret(makeProgram((a: Tensor) => [fn(a), g(a) as Tensor])(x), [x]);
        const [rtol, atol] = dt === "float64" ? [1e-12, 1e-13] : [2e-5, 2e-5];
        got.forEach((o, i) => close(o.data, want[i]!.dataSync(), rtol, atol, `${name} output ${i}`));
      });
    }
  }
});
