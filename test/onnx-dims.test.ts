// A dim_param must mean one size in every input: ONNX Runtime checks static dims but not that,
// and an input with B = 1 where another has B = 2 would broadcast into a wrong result. Exported
// models therefore check each input whose symbolic dims are not all read from it (a Reshape that
// fails naming the input and its declared shape), and compileOrt / compileOrtWeb check the bound
// symbols before ONNX Runtime runs (a ShapeError naming the input and the symbol). Consistent
// inputs, derived dims (2*B) and a dim no input axis gives alone keep working.

import { describe, expect, it } from "vitest";
import { ShapeError, type Tensor, exportOnnx, makeProgram, np, spec } from "../src/index.js";
import { compileOrt } from "../src/onnx/session.js";
import { compileOrtWeb } from "../src/onnx/session-web.js";
import { rand } from "./util/check.js";
import { runOnnx } from "./onnx-run.js";

const add = (a: Tensor, b: Tensor) => np.add(a, b);
const cat = (a: Tensor, b: Tensor) => np.add(np.concatenate([a, a]), b);

describe("symbolic dims agree across inputs", () => {
  it("a model with B in two inputs refuses B = 2 and B = 1 (instead of broadcasting) and runs B = 2 and 2", async () => {
    const e = exportOnnx(add, [spec("float64", ["B"]), spec("float64", ["B"])], { name: "add" });
    const [a, b] = [rand([2], 1), rand([2], 2)];
    const [ok] = await runOnnx(e.bytes, [a, b]);
    expect(ok!.data).toEqual(Array.from(add(a, b).dataSync()));
    await expect(runOnnx(e.bytes, [a, rand([1], 3)])).rejects.toThrow(/input arg1 does not have its declared shape \[B\]/);
  });

  it("a derived dim 2*B is checked against B from another input; alone it is accepted at any size", async () => {
    const e = exportOnnx(cat, [spec("float64", ["B", 3]), spec("float64", ["2*B", 3])], { name: "cat" });
    const a = rand([2, 3], 4);
    const b = rand([4, 3], 5);
    const [ok] = await runOnnx(e.bytes, [a, b]);
    expect(ok!.data).toEqual(Array.from(cat(a, b).dataSync()));
    await expect(runOnnx(e.bytes, [a, rand([1, 3], 6)])).rejects.toThrow(/input arg1 does not have its declared shape \[2\*B,3\]/);
    const alone = exportOnnx((x: Tensor) => np.sum(x, { axis: 0 }), [spec("float64", ["2*B", 3])], { name: "alone" });
    const x = rand([3, 3], 7);
    const [s] = await runOnnx(alone.bytes, [x]);
    expect(s!.data).toEqual(Array.from(np.sum(x, { axis: 0 }).dataSync()));
  });

  it("compileOrt and compileOrtWeb raise a ShapeError naming the input and the symbol before running", async () => {
    const p = makeProgram(add)(spec("float32", ["B", 2]), spec("float32", ["B", 2]));
    const a = rand([3, 2], 8, -1, 1, "float32");
    const b = rand([1, 2], 9, -1, 1, "float32");
    const msg = /input 1 has shape \[1,2\] but \[B,2\] was declared: B is 3 from an earlier argument but 1 here/;
    expect(() => compileOrt(p).run([a, b])).toThrow(ShapeError);
    expect(() => compileOrt(p).run([a, b])).toThrow(msg);
    await expect((await compileOrtWeb(p)).run([a, b])).rejects.toThrow(msg);
  });
});
