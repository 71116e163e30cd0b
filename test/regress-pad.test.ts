// Regression tests of issue 9, case 7 (pad part): a pad with interior padding (the transpose of a
// strided slice, and so part of the gradients of strided slices and of np.prod) lowers natively
// as a fused, stepped guarded read on both code generators, so it fuses, never runs as a
// fallback call kernel, and exports. Every compiled result must equal the interpreter (the
// primitive's reference implementation) bit for bit; the gradients are also checked against
// closed forms.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Tensor, config, exportFunction, grad, jit, makeProgram, np, spec } from "../src/index.js";
import { allKernels } from "../src/lower/kernel-ir.js";
import { lowerProgram } from "../src/lower/fuse.js";
import { pad as padPrim, rev } from "../src/prims/shape.js";

const { update: _u, ...saved } = { ...config };
afterEach(() => config.update(saved));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type F = (...a: Tensor[]) => Tensor;
const show = (v: number | undefined) => (Object.is(v, -0) ? "-0" : String(v));
function expectBits(got: { data: ArrayLike<number> }, want: ArrayLike<number>, what: string): void {
  const g = Array.from(got.data);
  expect(g.length, what).toBe(want.length);
  g.forEach((v, i) => {
    if (!Object.is(v, want[i])) expect.fail(`${what}: element ${i}: got ${show(v)}, want ${show(want[i])}`);
  });
}

/** f under a fresh jit compiled at once on `backend`. */
function onBackend(f: F, backend: "wasm" | "js" | "interp", args: Tensor[]): Tensor {
  config.update({ ...saved, backend, interpretBelowWork: 0 });
  const out = jit((...a: Tensor[]) => f(...a))(...args) as Tensor;
  config.update(saved);
  return out;
}

/**
 * The primitives that still run as fallback call kernels when `f` is lowered (index_check, the
 * bounds check of mode "raise" that runs before a fused gather, computes nothing and is left out).
 */
function callPrims(f: F, args: Tensor[]): string[] {
  const lp = lowerProgram(makeProgram(f)(...args));
  return allKernels(lp.kernels).flatMap((k) => (k.kind === "call" && k.prim.name !== "index_check" ? [k.prim.name] : []));
}

async function exported(f: F, specs: ReturnType<typeof spec>[], backend: "wasm" | "js"): Promise<(...a: Tensor[]) => { data: ArrayLike<number> }> {
  const e = exportFunction(f, specs, { name: `pad_${backend}_${dirs.length}`, backend });
  const dir = mkdtempSync(join(tmpdir(), "adgen-regress-pad-"));
  dirs.push(dir);
  await e.write(dir);
  const m = await import(/* @vite-ignore */ pathToFileURL(join(dir, e.manifest.files.module)).href);
  return m.default;
}

const x5 = np.array(new Float32Array([1.5, -2, 3.25, 4, -5]));
const stridedSq = (x: Tensor) => np.sum(np.power(np.index(x, [np.s(0, null, 2)]), 2));
const prod = (x: Tensor) => np.prod(x);

describe("issue 9.7: pad with interior padding lowers natively (fuses, exports)", () => {
  it("issue 9.7: grad of a strided slice and of np.prod: jit on wasm, js and interp bit-identical, equal to the closed forms", () => {
    // d/dx sum(x[::2]^2) = 2x at even positions, 0 elsewhere; d/dx prod(x) = prod of the others
    const x = Array.from(x5.data);
    const wantSlice = x.map((v, i) => (i % 2 === 0 ? Math.fround(2 * v) : 0));
    const wantProd = x.map((_, i) => x.reduce((p, v, j) => (j === i ? p : p * v), 1));
    for (const [f, want, what] of [
      [grad(stridedSq) as F, wantSlice, "grad(sum(x[::2]**2))"],
      [grad(prod) as F, wantProd, "grad(prod)"],
    ] as const) {
      expect(callPrims(f, [x5]), `${what}: fallback call kernels`).toEqual([]);
      const interp = onBackend(f, "interp", [x5]);
      expectBits(interp, Float32Array.from(want), `${what} (interp vs closed form)`);
      for (const b of ["wasm", "js"] as const) expectBits(onBackend(f, b, [x5]), interp.data, `${what} (${b})`);
      expectBits(f(x5), interp.data, `${what} (eager)`);
    }
  });

  it("issue 9.7: exportFunction(grad(...)) of a strided slice and of np.prod runs and equals jit, on both backends", async () => {
    for (const [f, what] of [
      [grad(stridedSq) as F, "grad(sum(x[::2]**2))"],
      [grad(prod) as F, "grad(prod)"],
    ] as const) {
      const want = onBackend(f, "wasm", [x5]);
      for (const b of ["wasm", "js"] as const) expectBits((await exported(f, [spec("float32", [5])], b))(x5), want.data, `${what} (exported ${b})`);
    }
  });

  it("issue 9.7: exported grad of a strided slice along a dim next to a symbolic batch B", async () => {
    const f = grad((x: Tensor) => np.sum(np.power(np.index(x, [np.s(null), np.s(1, null, 3)]), 3))) as F;
    for (const b of ["wasm", "js"] as const) {
      const m = await exported(f, [spec("float32", ["B", 7])], b);
      for (const B of [1, 4]) {
        const x = np.array(Float32Array.from({ length: B * 7 }, (_, i) => Math.sin(i) * 2)).reshape([B, 7]);
        expectBits(m(x), onBackend(f, "interp", [x]).data, `exported ${b}, B=${B}`);
      }
    }
  });

  it("issue 9.7: interior pads composed with rev, strided slices, broadcasts, pads and reductions equal the interpreter", () => {
    const x = np.array(Float32Array.from({ length: 12 }, (_, i) => i - 5.5)).reshape([3, 4]);
    const cases: [string, F][] = [
      ["rev(pad)", (a) => rev(padPrim(a, [1, 0], [2, 1], [2, 1], 0.5), [0, 1])],
      ["pad(pad) interior both", (a) => padPrim(padPrim(a, [0, 1], [1, 0], [1, 0], 0), [2, 0], [0, 1], [1, 2], -1)],
      ["strided slice of pad", (a) => np.index(padPrim(a, [1, 1], [0, 2], [2, 1], 7), [np.s(0, null, 2), np.s(1, null, 3)])],
      ["pad + direct read", (a) => np.add(np.index(padPrim(a, [0, 0], [0, 0], [1, 1], 0), [np.s(0, 3), np.s(0, 4)]), np.exp(a))],
      ["reduce of pad", (a) => np.sum(np.multiply(padPrim(np.tanh(a), [1, 0], [0, 0], [3, 0], 2), 3), { axis: 0 })],
      ["pad of gather", (a) => padPrim(np.take(a, np.array(new Int32Array([2, 0, 1, 1])), { axis: 0 }), [0, 0], [0, 0], [1, 2], 0)],
    ];
    for (const [what, f] of cases) {
      expect(callPrims(f, [x]), `${what}: fallback call kernels`).toEqual([]);
      const want = onBackend(f, "interp", [x]);
      for (const b of ["wasm", "js"] as const) expectBits(onBackend(f, b, [x]), want.data, `${what} (${b})`);
    }
  });

  it("issue 9.7: random pads (lo, hi, interior per dim) of random operands equal the interpreter on wasm and js", () => {
    const dimArb = fc.record({ n: fc.integer({ min: 1, max: 4 }), lo: fc.integer({ min: 0, max: 3 }), hi: fc.integer({ min: 0, max: 3 }), interior: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(dimArb, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.double({ min: -3, max: 3, noNaN: true }), (dims, twice, value) => {
        const shape = dims.map((d) => d.n);
        const size = shape.reduce((a, b) => a * b, 1);
        const x = np.array(Float32Array.from({ length: size }, (_, i) => Math.cos(i * 1.7) * 4)).reshape(shape);
        const lo = dims.map((d) => d.lo);
        const hi = dims.map((d) => d.hi);
        const interior = dims.map((d) => d.interior);
        // the pad fused into a consumer that reads the operand too (through a broadcast sum)
        const f: F = (a) => {
          let p = padPrim(np.sin(a), lo, hi, interior, value);
          if (twice) p = padPrim(p, hi, lo, interior, -value);
          return np.add(np.multiply(p, 2), np.sum(a));
        };
        const want = onBackend(f, "interp", [x]);
        for (const b of ["wasm", "js"] as const) expectBits(onBackend(f, b, [x]), want.data, `pad ${JSON.stringify({ shape, lo, hi, interior, twice })} (${b})`);
      }),
      { numRuns: 40, seed: 97 },
    );
  });
});
