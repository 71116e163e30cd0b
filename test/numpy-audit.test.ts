// Audit of issue 18's functions against NumPy: result dtype, shape and values of every case in
// test/fixtures/numpy-array-api.json (made offline by scripts/gen-numpy-audit.py, NumPy 2.x; the
// test never runs python). adgen's dtype is NumPy's except for the documented JAX/JS rules in
// `expectedDtype` (docs/array-ops.md lists them per function); linear algebra on integer matrices
// is a DTypeError where NumPy silently uses float64.

import { describe, expect, it } from "vitest";
import { type DType, lax, nn, np, Tensor } from "../src/index.js";
import { DTypeError } from "../src/core/errors.js";
import fixture from "./fixtures/numpy-array-api.json" with { type: "json" };

interface Arr {
  dtype: string;
  shape: number[];
  data: (number | boolean | string)[];
}
interface Case {
  id: string;
  fn: string;
  inputs: Arr[];
  opts: Record<string, unknown>;
  outputs?: Arr[];
  raises?: string;
}

const num = (v: number | boolean | string): number => (typeof v === "string" ? Number(v.replace("inf", "Infinity")) : Number(v));

function toTensor(a: Arr): Tensor {
  const dtype = a.dtype as DType;
  if (dtype === "bool") return np.array(a.data as boolean[], { dtype }).reshape(a.shape);
  return np.array(a.data.map(num), { dtype }).reshape(a.shape);
}

const ord = (o: unknown): any => (o === "inf" ? Infinity : o === "-inf" ? -Infinity : o);

/** Each fixture function name, run by adgen. */
const RUN: Record<string, (xs: Tensor[], o: Record<string, any>) => Tensor | Tensor[]> = {
  ...Object.fromEntries(
    ["arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "log2", "log10", "exp2"].map((f) => [f, (xs: Tensor[]) => (np as any)[f](xs[0])]),
  ),
  ...Object.fromEntries(["arctan2", "hypot", "mod", "floorDivide"].map((f) => [f, (xs: Tensor[]) => (np as any)[f](xs[0], xs[1])])),
  diagonal: ([x], o) => np.diagonal(x!, o),
  trace: ([x], o) => np.trace(x!, o),
  tril: ([x], o) => np.tril(x!, o.k),
  triu: ([x], o) => np.triu(x!, o.k),
  roll: ([x], o) => np.roll(x!, o.shift, { axis: o.axis }),
  pad: ([x], o) => np.pad(x!, o.width, { mode: o.mode }),
  cumsum: ([x], o) => np.cumsum(x!, o),
  cumprod: ([x], o) => np.cumprod(x!, o),
  sort: ([x], o) => np.sort(x!, o),
  argsort: ([x], o) => np.argsort(x!, o),
  topK: ([x], o) => lax.topK(x!, o.k),
  einsum: (xs, o) => np.einsum(o.subscripts, ...xs),
  tensordot: ([a, b], o) => np.tensordot(a!, b!, o.axes),
  cholesky: ([a]) => np.linalg.cholesky(a!),
  solve: ([a, b]) => np.linalg.solve(a!, b!),
  triangularSolve: ([a, b], o) => np.linalg.triangularSolve(a!, b!, o),
  inv: ([a]) => np.linalg.inv(a!),
  det: ([a]) => np.linalg.det(a!),
  slogdet: ([a]) => np.linalg.slogdet(a!),
  qr: ([a], o) => np.linalg.qr(a!, o),
  eigvalsh: ([a]) => np.linalg.eigvalsh(a!),
  svdvals: ([a]) => np.linalg.svdvals(a!),
  norm: ([x], o) => np.linalg.norm(x!, { ...o, ord: ord(o.ord) }),
  conv: ([x, w], o) => lax.conv(x!, w!, o),
  maxPool: ([x], { window, ...o }) => nn.maxPool(x!, window, o),
  avgPool: ([x], { window, ...o }) => nn.avgPool(x!, window, o),
  ...Object.fromEntries(["set", "add", "multiply", "min", "max"].map((k) => [`at.${k}`, ([x, v]: Tensor[]) => (np.at(x!, [[0, 2, 0]]) as any)[k](v)])),
};

const LINALG = new Set(["cholesky", "solve", "triangularSolve", "inv", "det", "slogdet", "qr", "eigvalsh", "svdvals", "norm"]);
/** sums in another order than NumPy's (GEMMs, factorizations): a looser tolerance */
const REORDERED = new Set([...LINALG, "conv", "einsum", "tensordot"]);

/**
 * adgen's dtype for NumPy's, with the reason where they differ (undefined: the same).
 * - int64 (NumPy's platform-int accumulators of sum/cumsum/trace/argsort): adgen has no int64;
 *   int32 as JAX (x64 off).
 * - float16 / int8 (NumPy's smallest types for bool inputs of float functions / mod): adgen
 *   computes in float32 / int32 as JAX.
 * - float64 from operands none of which is float64 (NumPy: int32 with float32, or int32 into a
 *   float function): float32, JAX's lattice (i4 < f4).
 * - einsum of bools: int32 counts (NumPy: bool or/and).
 */
function expectedDtype(c: Case, npDtype: string): [string, string | undefined] {
  const any64 = c.inputs.some((a) => a.dtype === "float64");
  if (npDtype === "int64") return ["int32", "NumPy int64 accumulator; JAX int32"];
  if (npDtype === "float16") return ["float32", "NumPy float16 for bool; JAX float32"];
  if (npDtype === "int8") return ["int32", "NumPy int8 for bool; JAX int32"];
  if (npDtype === "float64" && !any64) return ["float32", "NumPy float64 from int32; JAX float32 (i4 < f4)"];
  if (c.fn === "einsum" && npDtype === "bool") return ["int32", "bool operands count in int32"];
  return [npDtype, undefined];
}

function close(got: Tensor, want: Arr, dtype: string, c: Case): void {
  const g = Array.from(got.data as ArrayLike<number>, Number);
  const w = want.data.map(num);
  // NumPy's float16 results (bool inputs) are only good to float16 precision
  const tol = want.dtype === "float16" ? 1e-3 : dtype === "float64" ? (REORDERED.has(c.fn) ? 1e-11 : 1e-14) : dtype === "float32" ? (REORDERED.has(c.fn) ? 2e-5 : 2e-6) : 0;
  for (let i = 0; i < w.length; i++) {
    const [a, b] = [g[i]!, c.fn === "einsum" && want.dtype === "bool" ? (w[i] ? 1 : 0) : w[i]!];
    if (c.fn === "einsum" && want.dtype === "bool") {
      expect(a > 0, `${c.id}[${i}]`).toBe(b > 0);
    } else if (Number.isNaN(b) || !Number.isFinite(b)) {
      expect(a, `${c.id}[${i}]`).toBe(b);
    } else {
      expect(Math.abs(a - b), `${c.id}[${i}]: ${a} vs NumPy ${b}`).toBeLessThanOrEqual(tol * (1 + Math.abs(b)));
    }
  }
}

const cases = (fixture as { cases: Case[] }).cases;

describe(`issue 18 functions against NumPy ${(fixture as { numpy: string }).numpy} (dtype, shape, values)`, () => {
  for (const c of cases) {
    const ints = c.inputs.some((a) => a.dtype === "int32" || a.dtype === "bool");
    if (LINALG.has(c.fn) && ints) {
      it(`${c.id} on ${c.inputs.map((a) => a.dtype).join(",")}: DTypeError (NumPy: float64)`, () => {
        expect(() => RUN[c.fn]!(c.inputs.map(toTensor), c.opts)).toThrow(DTypeError);
      });
      continue;
    }
    const notes = (c.outputs ?? []).map((o) => expectedDtype(c, o.dtype)[1]).filter(Boolean);
    it(`${c.id} ${JSON.stringify(c.opts)} on ${c.inputs.map((a) => a.dtype).join(",")}${notes.length ? ` (${notes[0]})` : ""}`, () => {
      const got = RUN[c.fn]!(c.inputs.map(toTensor), c.opts);
      const outs = Array.isArray(got) ? got : [got];
      expect(outs.length).toBe(c.outputs!.length);
      c.outputs!.forEach((want, k) => {
        const [dtype] = expectedDtype(c, want.dtype);
        expect(outs[k]!.dtype, `${c.id} output ${k} dtype`).toBe(dtype);
        expect(outs[k]!.shape, `${c.id} output ${k} shape`).toEqual(want.shape);
        close(outs[k]!, want, dtype, c);
      });
    });
  }
});
