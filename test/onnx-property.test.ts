// Property test (fast-check): random small programs, exported to ONNX with a symbolic leading
// dimension and run on onnxruntime-node, agree with adgen's interpreter, and so do their
// gradients (the reverse-mode program of a weighted sum) and their JVPs, in float64.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Tensor, exportOnnx, exportOnnxJvp, grad, jvp, makeProgram, nn, np, spec } from "../src/index.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { rand } from "./util/check.js";
import { runOnnx } from "./onnx-run.js";
import { type ChainOp, chainProgram } from "./util/programs.js";

const OPS: Record<string, ChainOp> = {
  sin: { kind: "unary", f: np.sin },
  tanh: { kind: "unary", f: np.tanh },
  exp: { kind: "unary", f: (x) => np.exp(np.multiply(0.3, x)) },
  square: { kind: "unary", f: np.square },
  softplus: { kind: "unary", f: (x) => np.log1p(np.exp(np.multiply(0.5, x))) },
  abs: { kind: "unary", f: np.abs },
  relu: { kind: "unary", f: nn.relu },
  sigmoid: { kind: "unary", f: nn.sigmoid },
  softmax: { kind: "unary", f: (x) => nn.softmax(x, { axis: -1 }) },
  rowsum: { kind: "unary", f: (x) => np.add(x, np.sum(x, { axis: -1, keepdims: true })) },
  colmax: { kind: "unary", f: (x) => np.subtract(x, np.max(x, { axis: 0, keepdims: true })) },
  flip: { kind: "unary", f: (x) => np.flip(x, -1) },
  mean: { kind: "unary", f: (x) => np.multiply(x, np.mean(x)) },
  add: { kind: "binary", f: np.add },
  mul: { kind: "binary", f: np.multiply },
  sub: { kind: "binary", f: np.subtract },
  div: { kind: "binary", f: (x, y) => np.divide(x, np.add(2, np.tanh(y))) },
  maximum: { kind: "binary", f: np.maximum },
  where: { kind: "binary", f: (x, y) => np.where(np.greater(x, y), np.sin(x), np.multiply(y, 0.5)) },
};

const programArb = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
  ops: fc.array(fc.constantFrom(...Object.keys(OPS)), { minLength: 1, maxLength: 7 }),
  seed: fc.integer({ min: 1, max: 1000 }),
});

const buildProgram = (ops: string[]) => chainProgram(OPS, ops);

function close(got: number[], want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const b = Number(want[i]);
    expect(Math.abs(got[i]! - b) <= 1e-13 + 1e-10 * Math.abs(b), `${what}[${i}]: onnxruntime ${got[i]}, interpreter ${b}`).toBe(true);
  }
}

describe("ONNX export: random programs", () => {
  it("values, gradients and JVPs of random programs with a symbolic leading dimension agree with the interpreter", async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async ({ shape, ops, seed }) => {
        const f = buildProgram(ops);
        const x = rand(shape, seed);
        const y = rand(shape, seed + 1);
        const w = rand(shape, seed + 2);
        const specs = [spec("float64", ["B", ...shape.slice(1)]), spec("float64", ["B", ...shape.slice(1)])];
        // value
        const [v] = await runOnnx(exportOnnx(f, specs, { name: "value" }).bytes, [x, y]);
        close(v!.data, interpret(makeProgram(f)(x, y), [x, y])[0]!.dataSync(), `value of ${ops.join(" ")}`);
        // gradient of a weighted sum (w is a third argument, so the program is symbolic in B too)
        const loss = (a: Tensor, b: Tensor, c: Tensor) => np.sum(np.multiply(f(a, b), c));
        const g = grad(loss, { argnums: [0, 1] });
        const gs = await runOnnx(exportOnnx(g, [...specs, specs[0]!], { name: "grad" }).bytes, [x, y, w]);
        const want = interpret(makeProgram(g)(x, y, w), [x, y, w]);
        gs.forEach((o, i) => close(o.data, want[i]!.dataSync(), `grad ${i} of ${ops.join(" ")}`));
        // forward mode
        const [tx, ty] = [rand(shape, seed + 3), rand(shape, seed + 4)];
        const [, yDot] = await runOnnx(exportOnnxJvp(f, specs, { name: "jvp" }).bytes, [x, y, tx, ty]);
        const [, wantDot] = jvp(f, [x, y], [tx, ty]) as [Tensor, Tensor];
        close(yDot!.data, wantDot.dataSync(), `jvp of ${ops.join(" ")}`);
      }),
      { numRuns: 15 },
    );
  });
});
