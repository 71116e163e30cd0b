// Control flow compiled natively (loop, while and cond kernels in the generated code,
// lower/control-flow.ts): every case is compared exactly with eager evaluation (the
// interpreter's reference implementations), with the compiled tier forced (interpretBelowWork:
// 0), and the generated code is checked to hold the loop or branch instead of a fallback call.
// Covers carry permutations, pass-through and literal carries, reverse, empty and xs-less scans,
// nested scans, matrix products on the per-iteration slices, symbolic lengths, gradients, while
// loops (zero iterations too), switch index clamping, inlined literal branches, the disk cache
// and AOT export.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Jitted, type Tensor, config, exportFunction, grad, jit, lax, np, spec } from "../src/index.js";
import { assertClose } from "./util/check.js";

const saved = { ...config };
const dirs: string[] = [];
beforeEach(() => config.update({ interpretBelowWork: 0, autoGeneralizeShapes: false }));
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const f64 = (n: number, s = 1) => np.array(Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + s))).astype("float64");
const mat = (r: number, c: number, s = 1) => f64(r * c, s).reshape([r, c]);

/** jit(f) equals f exactly, and its generated code (as JS) runs the control flow natively (no fallback call). */
function checkJit(f: (...a: Tensor[]) => Tensor | Tensor[], ...args: Tensor[]): Jitted {
  return checkJitMatching(/for \(let \$l0 = /, f, ...args);
}

function checkJitMatching(native: RegExp | null, f: (...a: Tensor[]) => Tensor | Tensor[], ...args: Tensor[]): Jitted {
  const j = jit(f);
  const want = [f(...args)].flat();
  const got = [j(...args) as Tensor | Tensor[]].flat();
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.shape).toEqual(want[i]!.shape);
    assertClose(g.data, want[i]!.data, { rtol: 0, atol: 0, what: `output ${i}` });
  });
  const js = j.lower(...args).text("js");
  if (native) expect(js).toMatch(native);
  expect(js).not.toMatch(/calls\[\d+\]/);
  return j;
}

for (const backend of ["wasm", "js"] as const) {
  describe(`native control flow (${backend} backend)`, () => {
    beforeEach(() => config.update({ backend }));
    it("a recurrence with stacked outputs", () => {
      const f = (x: Tensor, h0: Tensor) => {
        const [h, ys] = lax.scan((h: Tensor, xt: Tensor) => {
          const hn = np.tanh(np.add(np.multiply(h, 0.5), xt));
          return [hn, np.sum(hn)];
        }, h0, x);
        return [h, ys];
      };
      checkJit(f as any, mat(6, 3), f64(3, 4));
    });

    it("carries that swap, pass through unchanged, or become a constant", () => {
      const f = (a: Tensor, b: Tensor, c: Tensor, xs: Tensor) => {
        const [[a2, b2, c2, d2, e2], ys] = lax.scan(
          ([a, b, c, d, e]: Tensor[], x: Tensor) => [[b, a, c, np.zerosLike(d), np.add(e, np.multiply(a, x))], np.subtract(a, b)],
          [a, b, c, np.onesLike(c), c],
          xs,
        );
        return [a2, b2, c2, d2, e2, ys];
      };
      checkJit(f as any, f64(3, 1), f64(3, 2), f64(3, 3), mat(5, 3, 7));
    });

    it("reverse, empty and xs-less scans", () => {
      const rev = (x: Tensor) => lax.scan((c: Tensor, xt: Tensor) => [np.add(np.multiply(c, 0.9), xt), c], np.zeros([2], { dtype: "float64" }), x, { reverse: true })[1];
      checkJit(rev, mat(5, 2));
      const empty = (x: Tensor, c0: Tensor) => lax.scan((c: Tensor, xt: Tensor) => [np.add(c, xt), np.sum(c)], c0, x);
      const j = jit(empty as any);
      const [c, ys] = j(np.zeros([0, 3], { dtype: "float64" }), f64(3)) as Tensor[];
      expect(Array.from(c!.data)).toEqual(Array.from(f64(3).data));
      expect(ys!.shape).toEqual([0]);
      const count = (c0: Tensor) => lax.scan((c: Tensor) => [np.add(c, 1), np.square(c)], c0, null, { length: 4 });
      checkJit(count as any, f64(2));
    });

    it("two slices of one operand at different loop offsets in one expression", () => {
      const f = (s: Tensor) => {
        const n = s.shape[0] as number;
        const xs = { cur: np.index(s, np.s(0, n - 1)), next: np.index(s, np.s(1, n)) };
        return lax.scan((c: Tensor, x: { cur: Tensor; next: Tensor }) => [c, np.subtract(x.next, x.cur)], np.zeros([3], { dtype: "float64" }), xs)[1];
      };
      const s = np.square(np.arange(15).reshape([5, 3]).astype("float64"));
      checkJit(f, s);
      expect(Array.from((jit(f)(s) as Tensor).data).slice(0, 3)).toEqual([9, 15, 21]);
    });

    it("nested scans and matrix products on the per-iteration slices (JS and wasm kernels)", () => {
      const inner = (h: Tensor, row: Tensor) => lax.scan((c: Tensor, v: Tensor) => [np.add(np.multiply(c, 0.5), v), c], h, row);
      const nested = (x: Tensor) => lax.scan((c: Tensor, block: Tensor) => {
        const [ci, ys] = inner(c, block);
        return [ci, np.sum(ys, { axis: 0 })];
      }, np.zeros([2], { dtype: "float64" }), x);
      checkJit(nested as any, f64(4 * 3 * 2).reshape([4, 3, 2]));
      for (const [B, H] of [[3, 4], [32, 48]] as const) {
        const W = mat(H, H, 3);
        const rnn = (xs: Tensor, h0: Tensor) => lax.scan((h: Tensor, xt: Tensor) => {
          const hn = np.tanh(np.add(np.matmul(h, W), np.matmul(xt, W)));
          return [hn, np.matmul(hn, np.transpose(xt))];
        }, h0, xs);
        checkJit(rnn as any, f64(5 * B * H, 2).reshape([5, B, H]), mat(B, H, 9));
      }
    });

    it("gradients through the compiled scan equal eager gradients", () => {
      const loss = (w: Tensor, xs: Tensor) => {
        const [h, ys] = lax.scan((h: Tensor, xt: Tensor) => {
          const hn = np.tanh(np.add(np.multiply(h, w), xt));
          return [hn, np.sum(np.multiply(hn, hn))];
        }, np.zeros([4], { dtype: "float64" }), xs);
        return np.add(np.sum(ys), np.sum(h));
      };
      const w = f64(4, 5);
      const xs = mat(7, 4);
      const g = grad(loss, { argnums: [0, 1] });
      const want = g(w, xs) as Tensor[];
      const got = jit(g)(w, xs) as Tensor[];
      assertClose(got[0]!.data, want[0]!.data, { rtol: 1e-12, atol: 1e-14 });
      assertClose(got[1]!.data, want[1]!.data, { rtol: 1e-12, atol: 1e-14 });
      // the backward pass is a reversed loop too
      expect(jit(g).lower(w, xs).text("js")).toMatch(/for \(let \$l1 = .* - 1; \$l1 >= 0; \$l1--\)/);
    });

    it("a symbolic scan length: one compiled program for every length", () => {
      const f = (xs: Tensor) => lax.scan((c: Tensor, x: Tensor) => [np.add(c, np.sin(x)), np.cos(c)], np.zeros([3], { dtype: "float64" }), xs)[1];
      const j = jit(f, { shapes: [["T", 3]] });
      for (const T of [1, 4, 9]) {
        const xs = mat(T, 3, T);
        assertClose((j(xs) as Tensor).data, (f(xs) as Tensor).data, { rtol: 0, atol: 0 });
      }
      expect(j.cacheInfo().misses).toBe(1);
    });

    it("while loops: counters, permuted carries, zero iterations, and the gradient of a loop's value", () => {
      const f = (x: Tensor, n: Tensor) =>
        lax.whileLoop(
          ([i]: Tensor[]) => np.less(i, n),
          ([i, a, b]: Tensor[]) => [np.add(i, 1), b, np.add(np.multiply(a, 1.5), b)],
          [np.array(0, { dtype: "int32" }), x, np.cos(x)],
        );
      for (const n of [0, 1, 6]) checkJitMatching(/for \(;;\) \{/, f as any, f64(3), np.array(n, { dtype: "int32" }));
      const loss = (x: Tensor) => np.sum(lax.foriLoop(0, np.array(4, { dtype: "int32" }), (_i: Tensor, c: Tensor) => np.sin(np.multiply(c, x)), x));
      assertClose((jit(grad(loss))(f64(3)) as Tensor).data, (grad(loss)(f64(3)) as Tensor).data, { rtol: 1e-12, atol: 1e-14 });
    });

    it("switch and cond: every branch, clamped indices, gradients, and a literal index inlined", () => {
      const g = (k: Tensor, x: Tensor) => lax.switch(k, [(x: Tensor) => np.sin(x), (x: Tensor) => [np.cos(x)][0]!, (x: Tensor) => np.multiply(x, 3)], x);
      for (const k of [-1, 0, 1, 2, 5]) checkJitMatching(/if \(c\d+ <= 0\) \{/, g as any, np.array(k, { dtype: "int32" }), f64(4));
      const h = (p: Tensor, x: Tensor) => np.sum(lax.cond(np.greater(np.sum(x), 0), (x: Tensor) => np.multiply(x, p), (x: Tensor) => np.subtract(x, p), x));
      for (const s of [1, -1]) {
        const x = np.multiply(f64(3).abs(), s);
        const want = grad(h, { argnums: [0, 1] })(np.array(2, { dtype: "float64" }), x) as Tensor[];
        const got = jit(grad(h, { argnums: [0, 1] }))(np.array(2, { dtype: "float64" }), x) as Tensor[];
        got.forEach((t, i) => assertClose(t.data, want[i]!.data, { rtol: 1e-12, atol: 1e-14 }));
      }
      const lit = (x: Tensor) => lax.switch(1, [(x: Tensor) => np.sin(x), (x: Tensor) => np.exp(x)], x);
      const j = checkJitMatching(null, lit, f64(3));
      expect(j.lower(f64(3)).text("js")).not.toMatch(/Math\.sin/);
    });

    it("round-trips through the disk cache", () => {
      const dir = mkdtempSync(join(tmpdir(), "adgen-loops-"));
      dirs.push(dir);
      config.update({ cacheDir: dir });
      const f = (xs: Tensor) => {
        const ys = lax.scan((c: Tensor, x: Tensor) => [np.add(np.multiply(c, x), 1), c], np.ones([3], { dtype: "float64" }), xs)[1] as Tensor;
        const w = lax.whileLoop(([i]: Tensor[]) => np.less(i, 3), ([i, v]: Tensor[]) => [np.add(i, 1), np.sqrt(np.abs(v))], [np.array(0, { dtype: "int32" }), ys])[1];
        return lax.cond(np.greater(np.sum(w), 0), (v: Tensor) => np.negative(v), (v: Tensor) => v, w);
      };
      const mk = () => jit(f, { name: "loopcache" });
      const xs = mat(4, 3);
      const a = mk();
      const ya = a(xs) as Tensor;
      expect(a.cacheInfo().disk.last).toBe("stored");
      const b = mk();
      const yb = b(xs) as Tensor;
      expect(b.cacheInfo().disk.last).toBe("loaded");
      expect(Array.from(yb.data)).toEqual(Array.from(ya.data));
    });

    it("exports to a standalone module", async () => {
      const f = (xs: Tensor, h0: Tensor) => lax.scan((h: Tensor, x: Tensor) => [np.tanh(np.add(h, x)), np.sum(h)], h0, xs);
      const e = exportFunction(f as any, [spec("float64", ["T", 3]), spec("float64", [3])], { name: "rnn" });
      expect(e.manifest.functions[0]!.kernels.some((k) => k.startsWith("loop T"))).toBe(true);
      const dir = mkdtempSync(join(tmpdir(), "adgen-loops-aot-"));
      dirs.push(dir);
      await e.write(dir);
      const m = await import(/* @vite-ignore */ pathToFileURL(join(dir, e.manifest.files.module)).href);
      for (const T of [1, 6]) {
        const xs = mat(T, 3, T);
        const h0 = f64(3, 2);
        const [h, ys] = f(xs, h0) as unknown as Tensor[];
        const got = m.default(xs, h0);
        assertClose(got[0].data, h!.data, { rtol: 0, atol: 0 });
        assertClose(got[1].data, ys!.data, { rtol: 0, atol: 0 });
      }
    });
  });
}
