// Regression tests for issue 9 (validation): config.update and public options objects check every
// key's type and value range with an ArgumentError (unknown keys get a did-you-mean), through the
// one helper core/options.ts checkOptions.

import { afterEach, describe, expect, it } from "vitest";
import { config, exportFunction, jit, np, random, spec } from "../src/index.js";
import { ArgumentError } from "../src/core/errors.js";
import { checkOptions, closestName, is } from "../src/core/options.js";

const saved = { backend: config.backend, cacheDir: config.cacheDir, hotCalls: config.hotCalls, interpretBelowWork: config.interpretBelowWork };
afterEach(() => config.update(saved));

describe("issue 9 validation: config.update", () => {
  it("issue 9.cfg: config.update rejects wrong values (backend: cuda, cacheDir: 42) and changes nothing", () => {
    expect(() => config.update({ backend: "cuda" as never })).toThrow(/config.update: backend must be one of "wasm", "js", "interp" or "onnxruntime", got "cuda"/);
    expect(() => config.update({ cacheDir: 42 as never })).toThrow(/cacheDir must be a non-empty directory path or null, got 42/);
    expect(() => config.update({ cacheDir: "" })).toThrow(ArgumentError);
    expect(() => config.update({ hotCalls: -1 })).toThrow(/hotCalls must be/);
    expect(() => config.update({ jitCacheSize: 1.5 })).toThrow(/jitCacheSize must be an integer >= 1/);
    expect(() => config.update({ debugNans: "yes" as never })).toThrow(/debugNans must be a boolean/);
    expect(() => config.update({ logger: 3 as never })).toThrow(/logger must be a function/);
    expect(() => config.update({ matmulThreads: 0 })).toThrow(ArgumentError);
    expect(() => config.update({ debugNans: undefined })).toThrow(/got undefined/);
    expect(() => config.update(null as never)).toThrow(/options must be an object/);
    // all-or-nothing: a bad value leaves the good ones unapplied
    expect(() => config.update({ hotCalls: 7, backend: "cuda" as never })).toThrow(ArgumentError);
    expect(config.hotCalls).toBe(saved.hotCalls);
    expect(config.backend).toBe(saved.backend);
  });

  it("issue 9.cfg: unknown keys get the closest valid key", () => {
    expect(() => config.update({ debugNaNs: true } as never)).toThrow(/unknown option "debugNaNs". Did you mean "debugNans"\?/);
    expect(() => config.update({ cache_dir: "x" } as never)).toThrow(/Did you mean "cacheDir"/);
    expect(() => config.update({ update: 1 } as never)).toThrow(/unknown option "update"/);
    expect(() => config.update({ zzzzzz: 1 } as never)).not.toThrow(/Did you mean/);
    expect(() => config.update({ zzzzzz: 1 } as never)).toThrow(/Valid options: logCompiles/);
  });

  it("issue 9.cfg: valid values are accepted (Infinity counts as never)", () => {
    config.update({ backend: "js", interpretBelowWork: Infinity, cacheDir: null, hotCalls: 2 });
    expect([config.backend, config.interpretBelowWork, config.hotCalls]).toEqual(["js", Infinity, 2]);
  });
});

describe("issue 9 validation: checkOptions and the public options objects", () => {
  it("issue 9.opts: checkOptions rejects unknown keys, wrong types and non-objects", () => {
    const schema = { axis: is.axes, keepdims: is.boolean, dtype: is.oneOf("float32", "float64") };
    expect(checkOptions("f", undefined, schema)).toEqual({});
    expect(checkOptions("f", { axis: [0, 1], keepdims: undefined }, schema)).toEqual({ axis: [0, 1], keepdims: undefined });
    expect(() => checkOptions("f", { keepDims: true }, schema)).toThrow(/f: unknown option "keepDims". Did you mean "keepdims"\?/);
    expect(() => checkOptions("f", { axis: 0.5 }, schema)).toThrow(/f: axis must be an integer axis or an array of integer axes, got 0.5/);
    expect(() => checkOptions("f", [1] as never, schema)).toThrow(/options must be an object/);
    expect(() => checkOptions("f", { toString: 1 }, schema)).toThrow(/unknown option "toString"/); // no prototype keys
    expect(closestName("argnum", ["argnums", "hasAux"])).toBe("argnums");
    expect(closestName("qqqq", ["argnums", "hasAux"])).toBeUndefined();
  });

  it("issue 9.opts: jit, export, random and np options are checked", () => {
    const f = (x: never) => x;
    expect(() => jit(f, { static_argnums: [0] } as never)).toThrow(/jit: unknown option "static_argnums". Did you mean "staticArgnums"\?/);
    expect(() => jit(f, { staticArgnums: [-1] })).toThrow(ArgumentError);
    expect(() => exportFunction((x: never) => x, [spec("float32", [2])], { nmae: "f" } as never)).toThrow(/exportFunction: unknown option "nmae". Did you mean "name"\?/);
    expect(() => random.uniform(random.key(0), [2], { dtype: "float64", maxVal: 2 } as never)).toThrow(/Did you mean "maxval"/);
    const x = np.array([[1, 2], [3, 4]]);
    expect(() => np.sum(x, { keepDims: true } as never)).toThrow(/sum: unknown option "keepDims". Did you mean "keepdims"\?/);
    expect(() => np.mean(x, { axes: 0 } as never)).toThrow(/Did you mean "axis"/);
    expect(() => np.max(x, { keepdims: 1 } as never)).toThrow(/keepdims must be a boolean/);
    expect(() => np.argmax(x, { axis: "0" } as never)).toThrow(ArgumentError);
    expect(() => np.zeros([2], { dtpye: "int32" } as never)).toThrow(/Did you mean "dtype"/);
    expect(Array.from(np.sum(x, { axis: 0, keepdims: true }).data)).toEqual([4, 6]);
  });
});
