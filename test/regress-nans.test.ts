// Regression tests for issue 9 (debugNans on every path): eager ops, grad (forward and backward
// pass), vmap, the eager tape, control-flow bodies (scan / whileLoop / cond: the inner op is
// named, not the loop), jit, grad of jit and checkpoint all raise the NanError naming the first
// primitive that made a NaN from NaN-free inputs, at the user's line in this file.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as adgen from "../src/index.js";
import { AdgenError, NanError, type Tensor, checkpoint, config, grad, jit, lax, np, variable, vmap } from "../src/index.js";

beforeEach(() => config.update({ debugNans: true }));
afterEach(() => config.update({ debugNans: false }));

/** The NanError `f` throws (fails the test when it throws nothing or something else). */
function nanErrorOf(f: () => unknown): NanError {
  try {
    f();
  } catch (e) {
    if (e instanceof NanError) return e;
    throw e;
  }
  throw new Error("expected a NanError, got a result");
}

/** The line number in this file of the line containing `marker` (the expected user line). */
const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
const lineOf = (marker: string) => lines.findIndex((l) => l.includes(marker) && !l.includes("lineOf(")) + 1;

function expectNan(e: NanError, prim: string, marker: string): void {
  expect(e.message).toMatch(new RegExp(`debugNans: ${prim} produced a NaN from NaN-free inputs`));
  expect(e.sourceLine).toMatch(new RegExp(`regress-nans\\.test\\.ts:${lineOf(marker)}:`));
}

const x = np.array([1, 2, 3]);

describe("issue 9 (debugNans): every path names the primitive and the user's line", () => {
  it("issue 9.nans: NanError is exported from the package root and extends AdgenError", () => {
    expect(adgen.NanError).toBe(NanError);
    expect(new NanError("m")).toBeInstanceOf(AdgenError);
  });

  it("issue 9.nans: eager", () => {
    const e = nanErrorOf(() => np.log(np.subtract(x, 2))); // MARK-eager
    expectNan(e, "log", "MARK-eager");
  });

  it("issue 9.nans: grad (forward pass)", () => {
    const f = (v: Tensor) => np.sum(np.sqrt(np.subtract(v, 2))); // MARK-grad
    expectNan(nanErrorOf(() => grad(f)(x)), "sqrt", "MARK-grad");
  });

  it("issue 9.nans: grad (a NaN made only in the backward pass: 0 * d sqrt(x)/dx at 0)", () => {
    const f = (v: Tensor) => np.sum(np.multiply(np.sqrt(v), 0)); // MARK-bwd
    const v = np.array([0, 1]);
    expect(Array.from((f(v) as Tensor).data)).toEqual([0]); // the forward pass is NaN-free
    const e = nanErrorOf(() => grad(f)(v));
    expect(e.message).toMatch(/debugNans: (mul|div) produced a NaN/);
    expect(e.sourceLine).toMatch(new RegExp(`regress-nans\\.test\\.ts:${lineOf("MARK-bwd")}:`));
  });

  it("issue 9.nans: vmap", () => {
    const f = (v: Tensor) => np.log(np.subtract(v, 2)); // MARK-vmap
    expectNan(nanErrorOf(() => vmap(f)(x)), "log", "MARK-vmap");
  });

  it("issue 9.nans: eager tape backward", () => {
    const v = variable(np.array([0, 1]));
    const y = np.sum(np.multiply(np.sqrt(v), 0)); // MARK-tape
    const e = nanErrorOf(() => y.backward());
    expect(e.sourceLine).toMatch(new RegExp(`regress-nans\\.test\\.ts:${lineOf("MARK-tape")}:`));
  });

  it("issue 9.nans: scan body names the inner op (eager and jit), not the scan", () => {
    const body = (c: Tensor, xi: Tensor): [Tensor, Tensor] => [np.add(c, np.log(np.subtract(xi, 2))), c]; // MARK-scan
    expectNan(nanErrorOf(() => lax.scan(body, np.array(0), x)), "log", "MARK-scan");
    expectNan(nanErrorOf(() => jit((v: Tensor) => lax.scan(body, np.array(0), v))(x)), "log", "MARK-scan");
  });

  it("issue 9.nans: whileLoop and cond bodies name the inner op", () => {
    const body = (c: Tensor) => np.subtract(np.sqrt(c), 1); // MARK-while
    const loop = (v: Tensor) => lax.whileLoop((c: Tensor) => np.greater(np.sum(c), -10), body, v);
    expectNan(nanErrorOf(() => loop(np.array([4]))), "sqrt", "MARK-while");
    expectNan(nanErrorOf(() => jit(loop)(np.array([4]))), "sqrt", "MARK-while");
    const br = (v: Tensor) => np.log(np.negative(v)); // MARK-cond
    const c = (v: Tensor) => lax.cond(np.greater(np.sum(v), 0), br, (w: Tensor) => w, v);
    expectNan(nanErrorOf(() => c(x)), "log", "MARK-cond");
    expectNan(nanErrorOf(() => jit(c)(x)), "log", "MARK-cond");
  });

  it("issue 9.nans: jit, grad of jit and checkpoint name the inner op", () => {
    const f = (v: Tensor) => np.sum(np.log(np.subtract(v, 2))); // MARK-jit
    expectNan(nanErrorOf(() => jit(f)(x)), "log", "MARK-jit");
    expectNan(nanErrorOf(() => grad(jit(f))(x)), "log", "MARK-jit");
    expectNan(nanErrorOf(() => grad(checkpoint(f))(x)), "log", "MARK-jit");
  });

  it("issue 9.nans: NaN inputs are not blamed on an op; debugNans off computes NaN silently", () => {
    expect(Number.isNaN((np.log(np.array([NaN, 1])).data as Float32Array)[0]!)).toBe(true);
    config.update({ debugNans: false });
    expect(Number.isNaN((np.log(np.subtract(x, 2)).data as Float32Array)[0]!)).toBe(true);
  });
});
