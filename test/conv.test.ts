// Convolutions and pooling (api/nn-conv.ts): lax.conv against a direct loop written from the
// definition of JAX's conv_general_dilated (strides, SAME / VALID / explicit and negative padding,
// lhs and rhs dilation, feature groups), conv1d / conv2d with bias, max / avg pooling; float64
// gradients (the transposed convolutions of autodiff) against central differences; vmap; jit on
// both backends and exported modules against the interpreter (pooling bit for bit; conv within
// rounding, as its GEMM may sum in another order).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Tensor, config, exportFunction, exportOnnx, grad, jit, lax, nn, np, spec, vmap } from "../src/index.js";
import { runOnnx } from "./onnx-run.js";
import { ArgumentError, ShapeError } from "../src/core/errors.js";
import { assertClose, checkGradients, rand } from "./util/check.js";

const { update: _u, ...saved } = { ...config };
afterEach(() => config.update(saved));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function load(e: { write(d: string): Promise<string[]>; manifest: { files: { module: string } } }): Promise<any> {
  const dir = mkdtempSync(join(tmpdir(), "adgen-conv-"));
  dirs.push(dir);
  await e.write(dir);
  return import(/* @vite-ignore */ pathToFileURL(join(dir, e.manifest.files.module)).href);
}

interface Case {
  x: number[];
  w: number[];
  strides?: [number, number];
  padding?: "SAME" | "VALID" | [number, number][];
  lhsDilation?: [number, number];
  rhsDilation?: [number, number];
  featureGroupCount?: number;
}

/** Direct 2-D convolution from the definition (lhs-dilate, pad, slide the dilated window). */
function reference(x: Tensor, w: Tensor, c: Case): { data: number[]; shape: number[] } {
  const [N, C, H, W] = x.shape as number[];
  const [O, I, KH, KW] = w.shape as number[];
  const [sh, sw] = c.strides ?? [1, 1];
  const [lh, lw] = c.lhsDilation ?? [1, 1];
  const [rh, rw] = c.rhsDilation ?? [1, 1];
  const G = c.featureGroupCount ?? 1;
  const dh = (H! - 1) * lh + 1, dw = (W! - 1) * lw + 1;
  const eh = (KH! - 1) * rh + 1, ew = (KW! - 1) * rw + 1;
  let pads: [number, number][];
  if (c.padding === undefined || c.padding === "VALID") pads = [[0, 0], [0, 0]];
  else if (c.padding === "SAME") {
    pads = [[dh, eh, sh], [dw, ew, sw]].map(([n, e, s]) => {
      const t = Math.max((Math.ceil(n! / s!) - 1) * s! + e! - n!, 0);
      return [Math.floor(t / 2), t - Math.floor(t / 2)] as [number, number];
    });
  } else pads = c.padding;
  const PH = dh + pads[0]![0] + pads[0]![1], PW = dw + pads[1]![0] + pads[1]![1];
  const OH = Math.floor((PH - eh) / sh) + 1, OW = Math.floor((PW - ew) / sw) + 1;
  const xd = x.data, wd = w.data;
  /** the lhs-dilated, padded input at (n, c, i, j) (0 outside) */
  const at = (n: number, ch: number, i: number, j: number) => {
    const u = i - pads[0]![0], v = j - pads[1]![0];
    if (u < 0 || v < 0 || u >= dh || v >= dw || u % lh || v % lw) return 0;
    return xd[((n * C! + ch) * H! + u / lh) * W! + v / lw]!;
  };
  const out: number[] = [];
  for (let n = 0; n < N!; n++) for (let o = 0; o < O!; o++) for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
    const g = Math.floor(o / (O! / G));
    let s = 0;
    for (let ci = 0; ci < I!; ci++) for (let a = 0; a < KH!; a++) for (let b = 0; b < KW!; b++) {
      s += at(n, g * I! + ci, i * sh + a * rh, j * sw + b * rw) * wd[((o * I! + ci) * KH! + a) * KW! + b]!;
    }
    out.push(s);
  }
  return { data: out, shape: [N!, O!, OH, OW] };
}

const CASES: Case[] = [
  { x: [2, 3, 6, 5], w: [4, 3, 3, 3] },
  { x: [1, 2, 7, 6], w: [3, 2, 3, 2], strides: [2, 3], padding: "SAME" },
  { x: [2, 4, 5, 5], w: [6, 2, 2, 3], padding: [[1, 2], [0, 1]], featureGroupCount: 2 },
  { x: [1, 2, 4, 5], w: [2, 2, 3, 3], lhsDilation: [2, 1], rhsDilation: [1, 2], padding: "SAME" },
  { x: [1, 1, 6, 6], w: [2, 1, 2, 2], padding: [[-1, 2], [1, -2]], strides: [2, 1] },
  { x: [2, 3, 5, 4], w: [3, 1, 2, 2], featureGroupCount: 3, rhsDilation: [2, 2], padding: "SAME", strides: [1, 2] },
];
const label = (c: Case) => JSON.stringify(c);
const opts = (c: Case) => ({ strides: c.strides, padding: c.padding, lhsDilation: c.lhsDilation, rhsDilation: c.rhsDilation, featureGroupCount: c.featureGroupCount });

describe("lax.conv", () => {
  CASES.forEach((c, k) => {
    it(`values against the direct loop: ${label(c)}`, () => {
      const x = rand(c.x, 10 + k), w = rand(c.w, 20 + k);
      const y = lax.conv(x, w, opts(c));
      const ref = reference(x, w, c);
      expect(y.shape).toEqual(ref.shape);
      assertClose(y.data, ref.data, { rtol: 1e-12, atol: 1e-12, what: "conv" });
    });
    it(`float64 gradients (transposed convolutions) against central differences: ${label(c)}`, () => {
      checkGradients((a: Tensor, b: Tensor) => lax.conv(a, b, opts(c)), [rand(c.x, 30 + k), rand(c.w, 40 + k)]);
    });
  });
  it("1-D and 3-D convolutions equal the 2-D one with a unit axis", () => {
    const x = rand([2, 3, 7], 1), w = rand([4, 3, 3], 2);
    const y1 = nn.conv1d(x, w, { strides: 2, padding: "SAME" });
    const y2 = lax.conv(np.expandDims(x, 2), np.expandDims(w, 2), { strides: [1, 2], padding: [[0, 0], [1, 1]] });
    assertClose(y1.data, y2.data, { rtol: 1e-12, what: "conv1d" });
    const y3 = lax.conv(np.expandDims(x, 2), np.expandDims(w, 2), { strides: [1, 1, 2].slice(1), padding: "VALID" });
    expect(y3.shape).toEqual([2, 4, 1, 3]);
  });
  it("conv2d adds a bias per output channel", () => {
    const x = rand([1, 2, 4, 4], 3), w = rand([3, 2, 3, 3], 4), b = np.array([1, -2, 0.5], { dtype: "float64" });
    const y = nn.conv2d(x, w, { bias: b, padding: "SAME" });
    const y0 = lax.conv(x, w, { padding: "SAME" });
    assertClose(y.data, np.add(y0, np.reshape(b, [1, 3, 1, 1])).data, { rtol: 1e-15, what: "bias" });
  });
  it("vmap over a batch of kernels equals a loop", () => {
    const x = rand([2, 2, 5, 5], 5), ws = rand([3, 4, 2, 3, 3], 6);
    const f = (w: Tensor) => lax.conv(x, w, { padding: "SAME", strides: 2 });
    const got = vmap(f)(ws) as Tensor;
    assertClose(got.data, np.stack([0, 1, 2].map((i) => f(ws.index(i)))).data, { rtol: 1e-12, what: "vmap" });
  });
  it("errors are typed", () => {
    const x = rand([1, 4, 5, 5], 1);
    expect(() => lax.conv(x, rand([2, 3, 3, 3], 2))).toThrow(ShapeError);
    expect(() => lax.conv(x, rand([3, 2, 3, 3], 2), { featureGroupCount: 2 })).toThrow(ShapeError);
    expect(() => lax.conv(x, rand([2, 4, 7, 3], 2))).toThrow(ShapeError);
    expect(() => lax.conv(x, rand([2, 4, 3, 3], 2), { padding: "FULL" as never })).toThrow(ArgumentError);
    expect(() => lax.conv(x, rand([2, 4, 3, 3], 2), { strides: 0 })).toThrow(ArgumentError);
    expect(() => nn.conv2d(x, rand([2, 4, 3, 3], 2), { bias: np.zeros([3]) })).toThrow(ShapeError);
  });
});

describe("pooling", () => {
  it("max / avg pooling against window loops, with strides and padding", () => {
    const x = rand([2, 3, 5, 6], 7);
    const xd = x.toArray() as number[][][][];
    const mp = nn.maxPool(x, [2, 3], { strides: [2, 2], padding: "SAME" });
    const ap = nn.avgPool(x, 2);
    expect(mp.shape).toEqual([2, 3, 3, 3]);
    expect(ap.shape).toEqual([2, 3, 2, 3]);
    const m = mp.toArray() as number[][][][];
    const a = ap.toArray() as number[][][][];
    // SAME for window 3, stride 2 on 6: total pad 1 -> [0, 1]; on 5 with window 2: total 1 -> [0, 1]
    for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      let best = -Infinity;
      for (let u = 2 * i; u < 2 * i + 2 && u < 5; u++) for (let v = 2 * j; v < 2 * j + 3 && v < 6; v++) best = Math.max(best, xd[n]![c]![u]![v]!);
      expect(m[n]![c]![i]![j]).toBe(best);
      if (i < 2) {
        const s = [0, 1].flatMap((u) => [0, 1].map((v) => xd[n]![c]![2 * i + u]![2 * j + v]!));
        expect(a[n]![c]![i]![j]).toBeCloseTo(s.reduce((p, q) => p + q, 0) / 4, 14);
      }
    }
  });
  it("gradients against central differences; maxPool propagates NaN", () => {
    const x = rand([1, 2, 4, 6], 8);
    checkGradients((v: Tensor) => nn.maxPool(v, [2, 2], { strides: 1 }), [x]);
    checkGradients((v: Tensor) => nn.avgPool(v, [3, 2], { padding: "SAME" }), [x]);
    const y = nn.maxPool(np.array([[[[1, NaN], [0, 2]]]], { dtype: "float64" }), 2);
    expect(Number.isNaN(y.item())).toBe(true);
  });
});

describe("pooling with non-overlapping windows (one reduction over a reshaped view)", () => {
  it("max / avg against window loops: VALID crops a partial window, SAME pads it", () => {
    const x = rand([2, 3, 5, 7], 11);
    const xd = x.toArray() as number[][][][];
    const cases = [
      { opts: {}, out: [2, 2], pad: [0, 0] },
      { opts: { padding: "SAME" as const }, out: [3, 3], pad: [0, 1] },
    ];
    for (const { opts, out, pad } of cases) {
      const m = nn.maxPool(x, [2, 3], opts);
      const a = nn.avgPool(x, [2, 3], opts);
      expect(m.shape).toEqual([2, 3, ...out]);
      const md = m.toArray() as number[][][][];
      const ad = a.toArray() as number[][][][];
      for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) for (let i = 0; i < out[0]!; i++) for (let j = 0; j < out[1]!; j++) {
        let best = -Infinity;
        let sum = 0;
        for (let u = 2 * i - pad[0]!; u < 2 * i - pad[0]! + 2; u++) for (let v = 3 * j - pad[1]!; v < 3 * j - pad[1]! + 3; v++) {
          if (u < 0 || v < 0 || u >= 5 || v >= 7) continue; // padding: -Infinity for max, 0 (counted) for avg
          best = Math.max(best, xd[n]![c]![u]![v]!);
          sum += xd[n]![c]![u]![v]!;
        }
        expect(md[n]![c]![i]![j]).toBe(best);
        expect(ad[n]![c]![i]![j]).toBeCloseTo(sum / 6, 14);
      }
    }
  });
  it("gradients against central differences (float64), ties share the cotangent evenly", () => {
    const x = rand([2, 2, 5, 6], 12);
    checkGradients((v: Tensor) => nn.maxPool(v, 2), [x]);
    checkGradients((v: Tensor) => nn.maxPool(v, [2, 3], { padding: "SAME" }), [x]);
    checkGradients((v: Tensor) => nn.avgPool(v, [3, 2], { padding: "SAME", strides: [3, 2] }), [x]);
    // a window of 4 equal values (relu's zeros): each gets a quarter, as the pairwise max tree gives
    const g = grad((v: Tensor) => np.sum(nn.maxPool(v, 2)))(np.zeros([1, 1, 2, 2], { dtype: "float64" })) as Tensor;
    expect(Array.from(g.data)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});

describe("compiled and exported", () => {
  const f = (x: Tensor, w: Tensor) => nn.maxPool(nn.relu(lax.conv(x, w, { padding: "SAME", strides: [1, 2], featureGroupCount: 2 })), 2);
  const x = rand([2, 4, 6, 8], 9, -1, 1, "float32");
  const w = rand([4, 2, 3, 3], 10, -1, 1, "float32");
  it("jit on both backends, exported modules and ONNX agree with the interpreter (conv: rounding, pooling: bits)", async () => {
    const want = f(x, w).data;
    const pooled = (v: Tensor) => nn.avgPool(nn.maxPool(v, 2, { strides: 1 }), [1, 3], { padding: "SAME" });
    const wantPool = pooled(x).data;
    config.update({ interpretBelowWork: 0, autoGeneralizeShapes: false });
    for (const backend of ["js", "wasm"] as const) {
      config.update({ backend });
      assertClose((jit(f)(x, w) as Tensor).data, want, { rtol: 1e-5, atol: 1e-6, what: `jit ${backend}` });
      expect(Array.from((jit(pooled)(x) as Tensor).data)).toEqual(Array.from(wantPool));
      const m = await load(exportFunction(f, [spec("float32", [2, 4, 6, 8]), spec("float32", [4, 2, 3, 3])], { name: `conv_${backend}`, backend }));
      assertClose((m.default(x, w) as Tensor).data, want, { rtol: 1e-5, atol: 1e-6, what: `exported ${backend}` });
    }
    const e = exportOnnx(f, [spec("float32", [2, 4, 6, 8]), spec("float32", [4, 2, 3, 3])], { name: "conv" });
    assertClose((await runOnnx(e.bytes, [x, w]))[0]!.data, want, { rtol: 1e-5, atol: 1e-6, what: "ONNX" });
  });
});
