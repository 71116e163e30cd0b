// Convolution at a symbolic batch (found by the fuzzer, seed 20261205, after window_patches
// landed): vmap of a conv exported at [B, ...] raised "window_patches: f64[B,...] must have a
// concrete shape". Only the spatial dims of window_patches must be concrete; its leading dims
// (batch, channels) may be symbolic. Checked against direct adgen at several B, values and
// gradients, bit for bit (the same program at a concrete size).
import { describe, expect, it } from "vitest";
import { exportFunction, grad, importModule, lax, np, spec, vmap, type Tensor } from "../src/index.js";

const f64 = { dtype: "float64" } as const;
const convs: [string, (x: Tensor) => Tensor, number[]][] = [
  ["grouped VALID conv of a broadcast input", (x) => np.sum(lax.conv(np.broadcastTo(x, [2, 4, 3, 3]), np.broadcastTo(np.sum(x), [2, 2, 1, 1]), { strides: [1, 1], padding: "VALID", featureGroupCount: 2 })), [3, 3]],
  ["SAME conv with groups", (x) => np.sum(np.square(lax.conv(np.reshape(x, [1, 2, 3, 3]), np.reshape(np.arange(8, f64), [2, 1, 2, 2]), { strides: [1, 1], padding: "SAME", featureGroupCount: 2 }))), [18]],
  ["strided dilated 1-D conv", (x) => np.sum(np.tanh(lax.conv(np.reshape(x, [1, 1, 9]), np.reshape(np.arange(3, f64), [1, 1, 3]), { strides: [2], padding: "VALID", rhsDilation: [2] }))), [9]],
];

describe("convolution under vmap at a symbolic batch, exported", () => {
  for (const [name, fn, sh] of convs) {
    it(name, () => {
      const value = importModule(exportFunction(vmap(fn), [spec("float64", ["B", ...sh])]).manifest) as (x: Tensor) => Tensor;
      const gradient = importModule(exportFunction(vmap(grad(fn)), [spec("float64", ["B", ...sh])]).manifest) as (x: Tensor) => Tensor;
      for (const B of [1, 3, 4]) {
        const n = B * sh.reduce((a, b) => a * b, 1);
        const x = np.reshape(np.sin(np.arange(n, f64)), [B, ...sh]);
        expect(Array.from(value(x).data)).toEqual(Array.from(vmap(fn)(x).data));
        expect(Array.from(gradient(x).data)).toEqual(Array.from((vmap(grad(fn))(x) as Tensor).data));
      }
    });
  }
});
