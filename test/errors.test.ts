// Bad input gets a typed error naming the operation, the shapes/dtypes involved and the user's
// source line; never a wrong answer or a crash deep inside.

import { describe, expect, it } from "vitest";
import {
  ConcretizationError,
  DTypeError,
  EscapedTracerError,
  GradError,
  ShapeError,
  Tensor,
  TreeStructureError,
  grad,
  jvp,
  makeProgram,
  np,
  vjp,
  vmap,
} from "../src/index.js";
import { add } from "../src/prims/binary.js";
import { rand, tensor } from "./util/check.js";

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

const THIS_FILE = "test/errors.test.ts";

describe("error messages", () => {
  it("shape mismatch names the function, both shapes and the user's line", () => {
    const e = thrown(() => np.add(rand([3, 4], 1), rand([4, 3], 2)));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/add: shapes \[3,4\] and \[4,3\] cannot be broadcast together/);
    expect(e.message).toContain(THIS_FILE);
  });

  it("matmul mismatch names the contracting dimensions", () => {
    const e = thrown(() => np.matmul(rand([2, 3], 1), rand([4, 5], 2)));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/matmul: shapes \[2,3\] and \[4,5\] are incompatible: contracting dimension 3 != 4/);
    expect(e.message).toContain(THIS_FILE);
  });

  it("a shape error inside a traced function points at the user's line, not adgen's", () => {
    const f = (x: Tensor) => np.reshape(x, [5, 5]);
    const e = thrown(() => grad((x: Tensor) => np.sum(f(x)))(rand([3, 4], 1)));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/reshape/);
    expect(e.message).toMatch(/\[3,4\]|12/);
    expect((e as ShapeError).sourceLine).toContain(THIS_FILE);
  });

  it("dtype mismatch at the primitive level names the primitive and both dtypes", () => {
    const e = thrown(() => add(rand([3], 1), rand([3], 2, -1, 1, "float32")));
    expect(e).toBeInstanceOf(DTypeError);
    expect(e.message).toMatch(/add: operand dtypes float64 and float32 differ/);
    expect(e.message).toContain(THIS_FILE);
  });

  it("a tangent of the wrong dtype is rejected by jvp", () => {
    const e = thrown(() => jvp(np.sin, [rand([3], 1)], [rand([3], 2, -1, 1, "float32")]));
    expect(e).toBeInstanceOf(DTypeError);
    expect(e.message).toMatch(/jvp: tangent 0 is f32\[3\] but its primal is f64\[3\]/);
  });

  it("grad of a non-scalar function", () => {
    const e = thrown(() => grad(np.sin)(rand([3], 1)));
    expect(e).toBeInstanceOf(GradError);
    expect(e.message).toMatch(/grad: the function must return a scalar \(shape \[\]\), got f64\[3\]/);
    expect(e.message).toContain(THIS_FILE);
  });

  it("grad with respect to an integer input", () => {
    const e = thrown(() => grad((x: Tensor) => np.sum(x))(tensor([1, 2, 3], [3], "int32")));
    expect(e).toBeInstanceOf(GradError);
    expect(e.message).toMatch(/dtype int32/);
    expect(e.message).toMatch(/only float32\/float64 inputs have gradients/);
    expect(e.message).toContain(THIS_FILE);
  });

  it("a cotangent with the wrong pytree structure", () => {
    const [, pullback] = vjp((x: Tensor) => [np.sin(x), { y: np.cos(x) }], rand([3], 1));
    const e = thrown(() => pullback([rand([3], 2)]));
    expect(e).toBeInstanceOf(TreeStructureError);
    expect(e.message).toMatch(/vjp pullback: cotangent vs output: expected structure \[\*, \{y: \*\}\], got \[\*\]/);
    expect(e.message).toContain(THIS_FILE);
  });

  it("a cotangent with the wrong shape", () => {
    const [, pullback] = vjp(np.sin, rand([3], 1));
    const e = thrown(() => pullback(rand([4], 2)));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/cotangent 0 is f64\[4\] but the output is f64\[3\]/);
  });

  it("a JS `if` on a staged value raises instead of taking a branch (grad alone knows the value)", () => {
    const f = (x: Tensor) => {
      if ((np.sum(x) as unknown as number) > 0) return np.sin(x);
      return np.cos(x);
    };
    const e = thrown(() => makeProgram(grad((x: Tensor) => np.sum(f(x))))(rand([3], 1)));
    expect(e).toBeInstanceOf(ConcretizationError);
    expect(e.message).toMatch(/convert to a JS number or boolean/);
    expect(e.message).toMatch(/lax\.cond/);
    expect(e.message).toMatch(/static argument/);
    expect(e.message).toContain(THIS_FILE);
  });

  it("Number(x) and x.item() inside a transformation raise", () => {
    expect(() => makeProgram((x: Tensor) => Number(x))(rand([], 1))).toThrow(ConcretizationError);
    expect(() => vmap((x: Tensor) => x.item())(rand([3], 1))).toThrow(ConcretizationError);
    expect(() => makeProgram(grad((x: Tensor) => x.item()))(rand([], 1))).toThrow(/item\(\)/);
  });

  it("but eager tensors convert fine", () => {
    const x = tensor([2], [1]);
    expect(Number(x)).toBe(2);
    expect((x as unknown as number) > 1).toBe(true);
  });

  it("a leaked tracer used later is reported as escaped", () => {
    let leaked: Tensor | null = null;
    grad((x: Tensor) => {
      leaked = np.sin(x);
      return np.sum(x);
    })(rand([3], 1));
    const e = thrown(() => np.add(leaked!, 1));
    expect(e).toBeInstanceOf(EscapedTracerError);
    expect(e.message).toMatch(/has already returned/);
  });

  it("vmap with inconsistent batch sizes names both sizes", () => {
    const e = thrown(() => vmap(np.add)(rand([3, 2], 1), rand([4, 2], 2)));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/inconsistent sizes for the mapped axis: 3 and 4/);
  });
});
