// ONNX split VJP and JVP of functions with int32 and bool arguments: as with grad's argnums, only
// the float arguments are differentiated, so the integer ones are inputs of the forward (and JVP)
// model but have no cotangent output in the backward model (and no tangent input in the JVP
// model). Checked on onnxruntime-node against adgen's vjp/jvp of the function with the integer
// arguments closed over, and against central differences in float64; a function whose arguments
// are all integers, or whose output does not depend on a float argument, is a clear error.

import { describe, expect, it } from "vitest";
import { ArgumentError, type Tensor, exportOnnxJvp, exportOnnxVjp, jvp, np, spec, vjp } from "../src/index.js";
import { assertClose, numericJvp, rand, tensor } from "./util/check.js";
import { runOnnx } from "./onnx-run.js";

// x: float64[N,3], k: int32[N] (a column per row), m: bool[N] (rows that count), w: float64[3]
const f = (x: Tensor, k: Tensor, m: Tensor, w: Tensor) => {
  const picked = np.takeAlongAxis(np.tanh(np.multiply(x, w)), np.expandDims(k, 1), 1);
  return np.sum(np.where(m, np.squeeze(picked, 1), np.multiply(np.sum(x, { axis: 1 }), 0.5)));
};
const specs = [spec("float64", ["N", 3]), spec("int32", ["N"]), spec("bool", ["N"]), spec("float64", [3])];
const N = 5;
const x = rand([N, 3], 11);
const k = tensor([2, 0, 1, 1, 2], [N], "int32");
const m = tensor([1, 0, 1, 1, 0], [N], "bool");
const w = rand([3], 12);

describe("ONNX split VJP with int32 and bool arguments", () => {
  it("forward takes every argument; backward returns cotangents of the float arguments only, equal to adgen's vjp and to central differences", async () => {
    const e = exportOnnxVjp(f, specs, { name: "picked_vjp" });
    const [fwd, bwd] = e.manifest.models;
    expect(fwd!.inputs.map((i) => `${i.name}:${i.dtype}`)).toEqual(["arg0:float64", "arg1:int32", "arg2:bool", "arg3:float64"]);
    expect(bwd!.outputs.map((o) => o.name)).toEqual(["argBar0", "argBar3"]);
    expect(bwd!.outputs[0]!.shape).toEqual(["N", 3]);
    const outs = await runOnnx(e.model("forward"), [x, k, m, w]);
    const [y, pullback] = vjp((a: Tensor, b: Tensor) => f(a, k, m, b), x, w);
    assertClose(outs[0]!.data, (y as Tensor).dataSync(), { rtol: 1e-12, atol: 1e-14, what: "out" });
    const res = outs.slice(1).map((r, i) => tensor(r.data, r.shape, e.manifest.residuals[i]!.dtype as "float64"));
    const yBar = tensor([1.75], []);
    const bars = await runOnnx(e.model("backward"), [...res, yBar]);
    expect(bars.length).toBe(2);
    const want = pullback(yBar) as Tensor[];
    assertClose(bars[0]!.data, want[0]!.dataSync(), { rtol: 1e-12, atol: 1e-14, what: "xBar" });
    assertClose(bars[1]!.data, want[1]!.dataSync(), { rtol: 1e-12, atol: 1e-14, what: "wBar" });
    // independent reference: <xBar, tx> + <wBar, tw> = yBar * d/de f(x + e tx, w + e tw)
    const tx = rand([N, 3], 13);
    const tw = rand([3], 14);
    const fd = numericJvp((a, b) => f(a, k, m, b), [x, w], [tx, tw])[0]! * 1.75;
    const dot = bars[0]!.data.reduce((s, v, i) => s + v * tx.data[i]!, 0) + bars[1]!.data.reduce((s, v, i) => s + v * tw.data[i]!, 0);
    expect(Math.abs(dot - fd)).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
  });

  it("a batch of another size runs through the same pair of models", async () => {
    const e = exportOnnxVjp(f, specs, { name: "picked_vjp" });
    const x2 = rand([2, 3], 15);
    const k2 = tensor([1, 2], [2], "int32");
    const m2 = tensor([0, 1], [2], "bool");
    const outs = await runOnnx(e.model("forward"), [x2, k2, m2, w]);
    const res = outs.slice(1).map((r, i) => tensor(r.data, r.shape, e.manifest.residuals[i]!.dtype as "float64"));
    const bars = await runOnnx(e.model("backward"), [...res, tensor([1], [])]);
    const want = vjp((a: Tensor, b: Tensor) => f(a, k2, m2, b), x2, w)[1](tensor([1], [])) as Tensor[];
    expect(bars[0]!.shape).toEqual([2, 3]);
    assertClose(bars[0]!.data, want[0]!.dataSync(), { rtol: 1e-12, atol: 1e-14, what: "xBar" });
    assertClose(bars[1]!.data, want[1]!.dataSync(), { rtol: 1e-12, atol: 1e-14, what: "wBar" });
  });

  it("the JVP model takes tangents of the float arguments only", async () => {
    const e = exportOnnxJvp(f, specs, { name: "picked_jvp" });
    expect(e.manifest.models[0]!.inputs.map((i) => i.name)).toEqual(["arg0", "arg1", "arg2", "arg3", "tangent0", "tangent3"]);
    const tx = rand([N, 3], 16);
    const tw = rand([3], 17);
    const [y, yDot] = await runOnnx(e.bytes, [x, k, m, w, tx, tw]);
    const [wy, wDot] = jvp((a: Tensor, b: Tensor) => f(a, k, m, b), [x, w], [tx, tw]) as [Tensor, Tensor];
    assertClose(y!.data, wy.dataSync(), { rtol: 1e-12, atol: 1e-14, what: "out" });
    assertClose(yDot!.data, wDot.dataSync(), { rtol: 1e-12, atol: 1e-14, what: "tangent" });
  });

  it("no float argument, or an output that does not depend on one, is a clear ArgumentError", () => {
    const g = (a: Tensor, b: Tensor) => np.add(a, b);
    expect(() => exportOnnxVjp(g, [spec("int32", [3]), spec("int32", [3])], { name: "ints" })).toThrow(ArgumentError);
    expect(() => exportOnnxVjp(g, [spec("int32", [3]), spec("int32", [3])], { name: "ints" })).toThrow(/no float argument to differentiate \(arguments are int32, int32\)/);
    expect(() => exportOnnxJvp(g, [spec("bool", [3]), spec("bool", [3])], { name: "bools" })).toThrow(/no float argument/);
    const h = (a: Tensor, i: Tensor) => [np.sin(a), np.add(i, 1)];
    expect(() => exportOnnxVjp(h, [spec("float32", [3]), spec("int32", [3])], { name: "mixed" })).toThrow(/output 1 \(i32\[3\]\) does not depend on the float arguments/);
  });
});
