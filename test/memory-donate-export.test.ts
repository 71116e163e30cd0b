// Issue 14 item 4: exportFunction(f, specs, {donate}) writes results in place of the donated
// arguments inside the exported module, as jit's donation does (lower/memory-donate.ts): the
// manifest lists the donated inputs, the module's results are bit-identical to the module
// exported without donation (WebAssembly and JS forms, static and symbolic batch sizes), and the
// JS form returns the donated arrays themselves.

import { describe, expect, it } from "vitest";
import { ArgumentError, exportFunction, grad, np, spec, type Tensor } from "../src/index.js";
import { loadExported } from "./util/load-exported.js";
import { rand } from "./util/check.js";

type Params = { w1: Tensor; w2: Tensor };
const loss = (p: Params, x: Tensor) => np.sum(np.square(np.matmul(np.tanh(np.matmul(x, p.w1)), p.w2)));
const sgd = (p: Params, x: Tensor) => {
  const g = grad(loss)(p, x) as Params;
  return { w1: np.subtract(p.w1, np.multiply(g.w1, 0.01)), w2: np.subtract(p.w2, np.multiply(g.w2, 0.01)) };
};
type Arr = { data: Float64Array; shape: number[] };
const arr = (t: Tensor): Arr => ({ data: Float64Array.from(t.data as Float64Array), shape: [...t.shape] });
const bits = (a: { data: Float64Array }) => Array.from(new Uint32Array(a.data.buffer, a.data.byteOffset, a.data.length * 2));

describe("exportFunction(..., {donate})", () => {
  for (const backend of ["js", "wasm"] as const)
    for (const B of [5, "B"] as const) {
      it(`${backend} module, batch ${B}: results as without donation; the manifest lists the donated inputs`, async () => {
        const specs = [{ w1: spec("float64", [32, 32]), w2: spec("float64", [32, 4]) }, spec("float64", [B, 32])];
        const plain = await loadExported(exportFunction(sgd, specs, { name: "sgd", backend }));
        const e = exportFunction(sgd, specs, { name: "sgd", backend, donate: [0] });
        expect(e.manifest.functions[0]!.donated).toEqual(["0.w1", "0.w2"]);
        expect(e.source).toContain("$donated0(");
        if (backend === "wasm") expect(e.source).toContain(`key: "donated"`);
        const m = await loadExported(e);
        const p = { w1: rand([32, 32], 1), w2: rand([32, 4], 2) };
        const x = arr(rand([5, 32], 3));
        const want = plain.sgd({ w1: arr(p.w1), w2: arr(p.w2) }, x);
        const given = { w1: arr(p.w1), w2: arr(p.w2) };
        const got = m.sgd(given, x);
        expect(bits(got.w1)).toEqual(bits(want.w1));
        expect(bits(got.w2)).toEqual(bits(want.w2));
        // the JS form writes into the caller's arrays (WebAssembly into their copies in its memory)
        if (backend === "js") expect(got.w1.data).toBe(given.w1.data);
        // the same array passed as two arguments: not written in place
        const same = await loadExported(exportFunction((a: Tensor, b: Tensor) => np.add(np.exp(a), b), [spec("float64", [8]), spec("float64", [8])], { name: "same", backend, donate: [0] }));
        const v = arr(rand([8], 4));
        const want2 = Float64Array.from(v.data, (a) => Math.exp(a) + a);
        expect(Array.from(same.same(v, v).data as Float64Array)).toEqual(Array.from(want2));
      });
    }

  it("donate is checked: indices of arguments only", () => {
    expect(() => exportFunction(sgd, [{ w1: spec("float64", [2, 2]), w2: spec("float64", [2, 1]) }, spec("float64", [1, 2])], { donate: [2] })).toThrow(/donate names argument 2/);
    expect(() => exportFunction(sgd, [{ w1: spec("float64", [2, 2]), w2: spec("float64", [2, 1]) }, spec("float64", [1, 2])], { donate: [-1] as number[] })).toThrow(ArgumentError);
  });
});
