// Regression tests for issue 9 cases 6 (transform argument validation) and the linearTranspose
// part of the tail (a non-linear function is the user's ArgumentError, naming the primitive and
// the user's line, never "InternalError (please report)").

import { describe, expect, it } from "vitest";
import { type Tensor, checkpoint, grad, hessian, jacfwd, jacrev, jvp, linearTranspose, linearize, np, valueAndGrad, vjp } from "../src/index.js";
import { ArgumentError } from "../src/core/errors.js";

const f2 = (x: Tensor, y: Tensor) => np.multiply(np.multiply(x, x), y); // d/dx = 2xy, d/dy = x^2

describe("issue 9.6: transform arguments are validated, never silently reinterpreted", () => {
  it("issue 9.6: grad with repeated argnums [0, 0] is an ArgumentError (not [0, 12])", () => {
    const x = np.array(2);
    const y = np.array(3);
    expect(() => grad(f2, { argnums: [0, 0] })(x, y)).toThrow(ArgumentError);
    expect(() => grad(f2, { argnums: [0, 0] })(x, y)).toThrow(/names argument 0 twice/);
    expect(() => grad(f2, { argnums: [1, -1] })(x, y)).toThrow(/names argument 1 twice/);
    for (const t of [jacfwd, jacrev, hessian]) expect(() => t(f2, { argnums: [1, 1] })(x, y)).toThrow(ArgumentError);
    // distinct argnums give the closed forms
    const [gx, gy] = grad(f2, { argnums: [0, 1] })(x, y) as Tensor[];
    expect([gx!.item(), gy!.item()]).toEqual([12, 4]);
  });

  it("issue 9.6: argnums out of range, non-integer or of the wrong type are ArgumentErrors; negative counts from the end (as JAX)", () => {
    const x = np.array(2);
    const y = np.array(3);
    for (const bad of [2, -3, 0.5, NaN, [0, 5]]) {
      for (const t of [grad, valueAndGrad, jacfwd, jacrev, hessian]) {
        expect(() => (t as typeof grad)(f2, { argnums: bad as number })(x, y), `${t.name} ${String(bad)}`).toThrow(ArgumentError);
      }
    }
    expect(() => grad(f2, { argnums: "0" as never })).toThrow(/argnums must be/);
    expect((grad(f2, { argnums: -1 })(x, y) as Tensor).item()).toBe(4); // = argnums 1
    expect((jacrev(f2, { argnums: -2 })(x, y) as Tensor).item()).toBe(12);
  });

  it("issue 9.6: unknown options get a did-you-mean; hasAux must be a boolean and f must return a pair", () => {
    expect(() => grad(f2, { argnum: 1 } as never)).toThrow(/unknown option "argnum". Did you mean "argnums"\?/);
    expect(() => valueAndGrad(f2, { has_aux: true } as never)).toThrow(/Did you mean "hasAux"/);
    expect(() => jacfwd(f2, { hasAux: true } as never)).toThrow(/unknown option "hasAux"/);
    expect(() => grad(f2, { hasAux: 1 } as never)).toThrow(/hasAux must be a boolean/);
    expect(() => grad(f2, 3 as never)).toThrow(/options must be an object/);
    expect(() => grad((x: Tensor) => np.sum(x), { hasAux: true })(np.array([1, 2]))).toThrow(/must return a pair \[value, aux\]/);
    expect(() => grad((x: Tensor) => [np.sum(x)], { hasAux: true })(np.array([1, 2]))).toThrow(ArgumentError);
    expect(() => checkpoint(f2, { polcy: "x" } as never)).toThrow(/Did you mean "policy"/);
  });

  it("issue 9.6: jvp with tensors instead of arrays of primals/tangents is an ArgumentError (not a spread tensor)", () => {
    const f = (x: Tensor) => np.sin(x);
    const x = np.array([1, 2]);
    expect(() => jvp(f, x as never, x as never)).toThrow(/primals must be an array/);
    expect(() => jvp(f, [x], x as never)).toThrow(/tangents must be an array/);
    const [y, dy] = jvp(f, [x], [np.onesLike(x)]) as Tensor[];
    expect(Array.from(y!.data)).toEqual(Array.from(np.sin(x).data));
    expect(Array.from(dy!.data)).toEqual(Array.from(np.cos(x).data));
  });

  it("issue 9.6: every transform rejects a non-function", () => {
    for (const t of [grad, valueAndGrad, jacfwd, jacrev, hessian, checkpoint]) expect(() => (t as typeof grad)(42 as never), t.name).toThrow(/expected a function/);
    expect(() => vjp(42 as never, np.array(1))).toThrow(/vjp: expected a function/);
    expect(() => jvp(42 as never, [], [])).toThrow(/jvp: expected a function/);
    expect(() => linearize(42 as never, np.array(1))).toThrow(/linearize: expected a function/);
    expect(() => linearTranspose(42 as never, np.array(1))).toThrow(/linearTranspose: expected a function/);
  });
});

describe("issue 9 (linearTranspose): a non-linear function is an ArgumentError naming the primitive and the user's line", () => {
  const x = np.array([1, 2]);
  it("issue 9.lt: linearTranspose(sin) names sin and this file", () => {
    let err: unknown;
    try {
      linearTranspose((v: Tensor) => np.sin(v), x);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as Error).message).toMatch(/not linear.*primitive sin/);
    expect((err as ArgumentError).sourceLine).toMatch(/regress-api-transforms\.test\.ts:\d+/);
    expect((err as Error).message).not.toMatch(/internal error/i);
  });
  it("issue 9.lt: x * x, 1 / x, exp, max and affine x + 1 are rejected; linear functions transpose exactly", () => {
    const bad = [(v: Tensor) => np.multiply(v, v), (v: Tensor) => np.divide(1, v), (v: Tensor) => np.exp(np.multiply(v, 2)), (v: Tensor) => np.maximum(v, 0), (v: Tensor) => np.add(v, 1)];
    for (const f of bad) expect(() => linearTranspose(f, x)(np.array([1, 1])), String(f)).toThrow(ArgumentError);
    // f(v) = 3 v - v / 2 = 2.5 v: transpose is 2.5 ct; matrix product A v: A^T ct
    const t = linearTranspose((v: Tensor) => np.subtract(np.multiply(v, 3), np.divide(v, 2)), x);
    expect(Array.from((t(np.array([1, 2])) as Tensor[])[0]!.data)).toEqual([2.5, 5]);
    const A = np.array([[1, 2], [3, 4], [5, 6]]);
    const tA = linearTranspose((v: Tensor) => np.matmul(A, v), x);
    expect(Array.from((tA(np.array([1, 0, -1])) as Tensor[])[0]!.data)).toEqual([-4, -4]);
  });
});
