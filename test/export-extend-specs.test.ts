// exportModule with per-entry argument specs, and extendModule of such an artifact (issue 15,
// item 6 with item 2): each kept entry is re-exported at its own specs; a new entry takes the
// specs of the entry it wraps, or the one set at which it traces, or `{specs}`; the modules'
// results equal adgen's on the original functions (float64) at several batch sizes; ambiguity and
// bad keys are ArgumentErrors saying what to pass.

import { describe, expect, it } from "vitest";
import { ArgumentError, type Tensor, exportModule, extendModule, grad, importModule, np, spec, vjpOf } from "../src/index.js";
import { assertClose, rand } from "./util/check.js";
import { loadExported as load } from "./util/load-exported.js";

const close = { rtol: 1e-12, atol: 1e-13 };
const predict = (w: Tensor, x: Tensor) => np.tanh(np.matmul(x, w));
const loss = (w: Tensor, x: Tensor, y: Tensor) => np.mean(np.square(np.subtract(predict(w, x), y)));
const wSpec = spec("float64", [3, 2]);
const xSpec = spec("float64", ["B", 3]);
const perEntry = { loss: [wSpec, xSpec, spec("float64", ["B", 2])], predict: [wSpec, xSpec], last: [spec("float64", ["N"])] };
const last = (v: Tensor) => np.multiply(np.index(v, [-1]), np.index(v, [np.s(1, null)]));
const w = rand([3, 2], 1);

describe("entries with different specs", () => {
  it("exportModule takes specs per entry; extendModule adds grad(fns.loss), vjpOf(fns.predict) and a wrapper of last at their own specs", async () => {
    const e = exportModule({ loss, predict, last }, perEntry, { name: "mixed", constraints: ["N >= 2"], bundle: true });
    expect(e.manifest.functions.map((f) => f.inputs.length)).toEqual([3, 2, 1]);
    const e2 = extendModule(e.manifest, (f) => ({ dw: grad(f.loss!), pv: vjpOf(f.predict!), lastSq: (v: Tensor) => np.square(f.last!(v) as Tensor) }), { bundle: true });
    expect(e2.manifest.functions.map((f) => f.name)).toEqual(["loss", "predict", "last", "dw", "pv_forward", "pv_backward", "lastSq"]);
    expect(e2.manifest.symbolicDims.find((d) => d.name === "N")!.constraints).toEqual(["N >= 1", "N >= 2"]);
    const m = await load(e2);
    for (const B of [1, 5]) {
      const [x, y] = [rand([B, 3], B), rand([B, 2], B + 1)];
      assertClose(m.loss(w, x, y).data, loss(w, x, y).data, close);
      assertClose(m.dw(w, x, y).data, (grad(loss)(w, x, y) as Tensor).data, close);
      const fw = m.pv_forward(w, x);
      assertClose(fw.out.data, predict(w, x).data, close);
      const ct = rand([B, 2], 7);
      const [gw, gx] = m.pv_backward(fw.residuals, ct);
      const ref = grad((w2: Tensor, x2: Tensor) => np.sum(np.multiply(predict(w2, x2), ct)), { argnums: [0, 1] })(w, x) as Tensor[];
      assertClose(gw.data, ref[0]!.data, close);
      assertClose(gx.data, ref[1]!.data, close);
    }
    for (const N of [2, 6]) {
      const v = rand([N], N);
      assertClose(m.lastSq(v).data, np.square(last(v)).data, close);
    }
    expect(() => m.lastSq(rand([1], 1))).toThrow(/bind N = 1, which violates the declared constraint N >= 2/);
    // and it loads back: the new entries are adgen functions again
    const back = importModule(e2.manifest);
    const x = rand([4, 3], 3);
    assertClose((back.predict(w, x) as Tensor).data, predict(w, x).data, close);
  });

  it("a new entry that traces at two entries' specs needs {specs}; given, it is used; bad keys are ArgumentErrors", async () => {
    const e = exportModule({ loss, predict }, { loss: perEntry.loss, predict: perEntry.predict }, { name: "two" });
    // (w, x, ...rest) traces at both (w, x) and (w, x, y)
    const total = (f: Record<string, (...a: any[]) => any>) => ({ total: (w2: Tensor, x2: Tensor) => np.sum(f.predict!(w2, x2) as Tensor) });
    expect(() => extendModule(e.manifest, total)).toThrow(ArgumentError);
    expect(() => extendModule(e.manifest, total)).toThrow(/the new entry "total" traces at several of them .*give its specs: extendModule\(artifact, add, \{ specs: \{ total: /);
    const e2 = extendModule(e.manifest, total, { specs: { total: perEntry.predict }, bundle: true });
    const m = await load(e2);
    const x = rand([3, 3], 2);
    assertClose(m.total(w, x).data, np.sum(predict(w, x)).data, close);
    expect(() => extendModule(e.manifest, total, { specs: { nope: [] } })).toThrow(/specs names "nope", which is not a new entry/);
    expect(() => exportModule({ loss }, { loss: perEntry.loss, other: [] })).toThrow(/argSpecs names "other", which is not an entry/);
    expect(() => exportModule({ loss, predict }, { loss: perEntry.loss })).toThrow(/no list of specs for entry "predict"/);
  });
});
