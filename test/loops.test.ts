// The specialised eager loops (rules/loops.ts) against the generic reference loop: for every scalar
// function of the binary and unary primitives, every dtype and every operand pattern (two arrays,
// scalar-array, array-scalar), including NaN, signed zeros, infinities and int32 wrap-around, the
// specialised copy must store exactly what `r[i] = f(a[i], b[i])` stores (Object.is per element).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocArray, type DType, type TypedArray } from "../src/core/dtype.js";
import { specializedLoop } from "../src/rules/loops.js";
import { BINARY } from "../src/prims/binary.js";
import { UNARY } from "../src/prims/unary.js";

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 0.5, -1.5, 2.5, 1e300, 3.4e38, -7.25, 2147483647, -2147483648];

function fill(dt: DType, vals: number[]): TypedArray {
  const a = allocArray(dt, vals.length);
  vals.forEach((v, i) => (a[i] = v));
  return a;
}

function same(x: TypedArray, y: TypedArray): boolean {
  return x.length === y.length && Array.from(x).every((v, i) => Object.is(v, y[i]));
}

const DTYPES: DType[] = ["float32", "float64", "int32"];

describe("specialised elementwise loops", () => {
  it("are used from a function's second call on, and not for the first", () => {
    const f = (a: number, b: number) => a - b;
    const a = fill("float32", [1, 2]);
    expect(specializedLoop(f, "bb", a, a, allocArray("float32", 2))).toBeNull();
    expect(typeof specializedLoop(f, "bb", a, a, allocArray("float32", 2))).toBe("function");
  });

  it("store exactly what the generic loop stores (binary ops, every dtype and operand pattern)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(BINARY)),
        fc.constantFrom(...DTYPES),
        fc.array(fc.oneof(fc.constantFrom(...SPECIAL), fc.double(), fc.integer()), { minLength: 1, maxLength: 12 }),
        fc.array(fc.oneof(fc.constantFrom(...SPECIAL), fc.double(), fc.integer()), { minLength: 1, maxLength: 12 }),
        (op, dt, xs, ys) => {
          const spec = BINARY[op]!;
          const f = dt === "int32" && spec.fInt ? spec.fInt : spec.f;
          const n = Math.min(xs.length, ys.length);
          const a = fill(dt, xs.slice(0, n));
          const b = fill(dt, ys.slice(0, n));
          const s = fill(dt, [xs[0]!]);
          const cases: [TypedArray, TypedArray, "bb" | "sb" | "bs"][] = [[a, b, "bb"], [s, b, "sb"], [a, s, "bs"]];
          for (const [x, y, pat] of cases) {
            const want = allocArray(dt, n);
            for (let i = 0; i < n; i++) want[i] = f(x.length === 1 ? x[0]! : x[i]!, y.length === 1 ? y[0]! : y[i]!);
            specializedLoop(f, pat, x, y, allocArray(dt, n)); // first use: generic
            const got = allocArray(dt, n);
            specializedLoop(f, pat, x, y, got)!(x, y, got, n);
            if (!same(got, want)) return false;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  it("store exactly what the generic loop stores (unary ops, float dtypes)", () => {
    for (const [name, spec] of Object.entries(UNARY)) {
      for (const dt of ["float32", "float64"] as DType[]) {
        const a = fill(dt, [...SPECIAL, 0.3, -0.7, 10]);
        const want = allocArray(dt, a.length);
        for (let i = 0; i < a.length; i++) want[i] = spec.f(a[i]!);
        specializedLoop(spec.f, "u", a, null, allocArray(dt, a.length));
        const got = allocArray(dt, a.length);
        specializedLoop(spec.f, "u", a, null, got)!(a, null, got, a.length);
        expect(same(got, want), `${name} ${dt}`).toBe(true);
      }
    }
  });
});
