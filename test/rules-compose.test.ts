// The rule combinator jvpOfComposition (prims/rule-compose.ts), which lets a derivative rule
// differentiate a helper computation without running a transformation: its tangent must equal
// the closed form, and the JVP transformation of the same function, bit for bit.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jit, jvp, np, type Tensor } from "../src/index.js";
import { jvpOfComposition } from "../src/prims/rule-compose.js";
import { mul } from "../src/prims/binary.js";
import { pad, reshape, slice, transpose } from "../src/prims/shape.js";
import { tensor } from "./util/check.js";

/** A composition of linear, affine (pad with 1) and bilinear primitives, with identity skips. */
function pairProduct(x: Tensor): Tensor {
  const [m, n] = x.aval.shape as number[];
  const p = m! + (m! % 2);
  const y = pad(reshape(transpose(x, [1, 0]), [n!, m!]), [0, 0], [0, p - m!], undefined, 1);
  return mul(slice(y, [0, 0], [n!, p], [1, 2]), slice(y, [0, 1], [n!, p], [1, 2]));
}

describe("prims/rule-compose: jvpOfComposition", () => {
  it("matches the jvp transformation bit for bit (fixed seed)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 40, maxLength: 40 }),
        (m, n, vals) => {
          const x = tensor(vals.slice(0, m * n), [m, n]);
          const t = tensor(vals.slice(20, 20 + m * n), [m, n]);
          const [y, ty] = jvpOfComposition(pairProduct, x, t);
          const [y2, ty2] = jvp((v: Tensor) => pairProduct(v), [x], [t]) as [Tensor, Tensor];
          expect(Array.from(y.data)).toEqual(Array.from(y2.data));
          expect(Array.from(ty.data)).toEqual(Array.from(ty2.data));
        },
      ),
      { seed: 20261203, numRuns: 60 },
    );
  });

  it("gives np.prod the closed-form tangent sum_i t_i prod_{j != i} x_j, zeros included", () => {
    const xs = [2, 0, 3, 0.5, -1.5, 4, 1, 0.25];
    const ts = [1, -2, 0.5, 3, 1, -1, 2, 0.125];
    const closed = (x: number[], t: number[]) =>
      x.reduce((acc, _, i) => acc + t[i]! * x.reduce((p, v, j) => (j === i ? p : p * v), 1), 0);
    for (const x of [xs, xs.map((v) => (v === 0 ? 1 : v))]) {
      const want = closed(x, ts);
      const [, dy] = jvp((v: Tensor) => np.prod(v), [tensor(x, [8])], [tensor(ts, [8])]) as [Tensor, Tensor];
      expect(dy.data[0]).toBe(want);
      const [, dyJit] = jit((v: Tensor, w: Tensor) => jvp((u: Tensor) => np.prod(u), [v], [w]))(tensor(x, [8]), tensor(ts, [8])) as [
        Tensor,
        Tensor,
      ];
      expect(dyJit.data[0]).toBe(want);
    }
  });

  it("returns a materialized zero tangent when the output does not depend on the input", () => {
    const x = tensor([1, 2, 3], [3]);
    const [y, ty] = jvpOfComposition(() => np.ones([2]) as Tensor, x, tensor([1, 1, 1], [3]));
    expect(Array.from(y.data)).toEqual([1, 1]);
    expect(Array.from(ty.data)).toEqual([0, 0]);
  });
});
