// Regression of fuzz finding F4: np.power followed JS Math.pow, which differs from C/IEEE 754 pow
// (NumPy, JAX) in two cases: pow(1, NaN) and pow(-1, +-Infinity) are 1 in C, NaN in JS. The
// reference here is the C rule written out independently (the IEEE 754-2008 / C99 Annex F
// special cases, falling back to Math.pow elsewhere); every backend (interp, js, wasm, with
// interpretBelowWork 0 so jit really compiles) and both export backends must match eager bit for
// bit, and eager must match the reference.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Tensor, config, exportFunction, grad, jit, np, spec } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "adgen-regress-f4-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const saved = { backend: config.backend, interpretBelowWork: config.interpretBelowWork };
afterEach(() => config.update(saved));

/** C99 Annex F pow special cases, independent of adgen's implementation. */
function cPow(x: number, y: number): number {
  if (y === 0) return 1; // pow(x, +-0) = 1 for any x, even NaN
  if (x === 1) return 1; // pow(+1, y) = 1 for any y, even NaN
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1; // pow(-1, +-inf) = 1
  return Math.pow(x, y);
}

const SPECIAL = [1, -1, 0, -0, 2, -2, 0.5, -0.5, Infinity, -Infinity, NaN, 3, -3, 2.5];
const XS: number[] = [];
const YS: number[] = [];
for (const a of SPECIAL) for (const b of SPECIAL) XS.push(a), YS.push(b);

const bits = (v: number) => (Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : String(v));
const asList = (t: { data: ArrayLike<number> }) => Array.from(t.data, bits);
const refList = (dtype: "float32" | "float64") => XS.map((x, i) => bits(dtype === "float32" ? Math.fround(cPow(x, YS[i]!)) : cPow(x, YS[i]!)));

describe("fuzz F4: np.power follows C pow (NumPy/JAX), on every path", () => {
  for (const dtype of ["float64", "float32"] as const) {
    const x = np.array(XS, { dtype });
    const y = np.array(YS, { dtype });

    it(`F4 (${dtype}): eager np.power([1, -1], [NaN, Infinity]) is [1, 1], and every pair matches the C rule`, () => {
      expect(asList(np.power(np.array([1, -1, -1], { dtype }), np.array([NaN, Infinity, -Infinity], { dtype })))).toEqual(["1", "1", "1"]);
      expect(asList(np.power(x, y))).toEqual(refList(dtype));
    });

    for (const backend of ["interp", "js", "wasm"] as const) {
      it(`F4 (${dtype}, jit ${backend}): np.power matches eager bit for bit (C rule at 1**NaN, (-1)**inf)`, () => {
        config.update({ backend, interpretBelowWork: 0 });
        // a fused kernel (pow inside arithmetic) and pow as a whole output
        const f = jit((a: Tensor, b: Tensor) => [np.power(a, b), np.add(np.power(a, b), 0)]);
        const [p, q] = f(x, y) as Tensor[];
        expect(asList(p!)).toEqual(refList(dtype));
        expect(asList(q!)).toEqual(asList(np.add(np.power(x, y), 0)));
        // a weak scalar exponent / base takes the same path
        const g = jit((a: Tensor) => [np.power(a, NaN), np.power(1, a)]);
        const [r, s] = g(x) as Tensor[];
        expect(asList(r!)).toEqual(asList(np.power(x, NaN)));
        expect(asList(s!)).toEqual(XS.map(() => "1"));
      });
    }

    for (const backend of ["js", "wasm"] as const) {
      it(`F4 (${dtype}, ${backend} export): np.power matches eager bit for bit`, async () => {
        const name = `f4_${dtype}_${backend}`;
        const e = exportFunction((a: Tensor, b: Tensor) => np.power(a, b), [spec(dtype, [XS.length]), spec(dtype, [XS.length])], { name, backend });
        const d = join(dir, name);
        await e.write(d);
        const m = await import(/* @vite-ignore */ pathToFileURL(join(d, e.manifest.files.module)).href);
        const got = asList(m[name]({ data: x.data, shape: [XS.length] }, { data: y.data, shape: [XS.length] }));
        expect(got).toEqual(asList(np.power(x, y)));
        expect(got).toEqual(refList(dtype));
      });
    }
  }

  it("F4: the gradient rules are unchanged (d/dx x^y = y x^(y-1), 0 at y = 0; d/dy = log(x) x^y)", () => {
    const x = np.array([0.5, 2, 3], { dtype: "float64" });
    const y = np.array([0, 1.5, -2], { dtype: "float64" });
    const gx = grad((a: Tensor) => np.sum(np.power(a, y)))(x);
    const gy = grad((b: Tensor) => np.sum(np.power(x, b)))(y);
    expect(Array.from(gx.data as Float64Array)).toEqual([0, 1.5 * Math.pow(2, 0.5), -2 * Math.pow(3, -3)]);
    const want = [Math.log(0.5) * 1, Math.log(2) * Math.pow(2, 1.5), Math.log(3) * Math.pow(3, -2)];
    Array.from(gy.data as Float64Array).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
  });
});
