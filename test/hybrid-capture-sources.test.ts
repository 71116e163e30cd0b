// Source lines of eager-tape nodes under automatic capture (issue 11, capture overhead): a node
// records its user line once (its linearization shares it); the nodes of a captured region that
// repeats, primitive by primitive, a structure that already ran more than once record none (the
// largest per-operation cost of a steady-state loop). Checked: a region seen for the first time
// has every line (savedTensors), a repeating one has none, a region that differs from the first
// operation has its lines again, and the gradients are those of capture off throughout.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Tensor, config, np, savedTensors, variable } from "../src/index.js";
import { clearCaptureCache } from "../src/hybrid/capture.js";
import { assertClose } from "./util/check.js";

const saved = { capture: config.capture };
beforeEach(() => clearCaptureCache());
afterEach(() => {
  config.update(saved);
  clearCaptureCache();
});

const xs = [0.5, 1, 2];
/** The line of this file holding `marker`, as a source pattern. */
const lineOf = (marker: string) => {
  const n = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").findIndex((l) => l.includes(marker)) + 1;
  return new RegExp(`hybrid-capture-sources\\.test\\.ts:${n}:\\d+$`);
};
const modelA = (x: Tensor) => np.sum(np.multiply(np.sin(x), x)); // MODEL_A
const modelB = (x: Tensor) => np.sum(np.multiply(np.cos(x), np.exp(x))); // MODEL_B
const LINE_A = lineOf("// MODEL_A");
const LINE_B = lineOf("// MODEL_B");

/** One step under capture: the saved-tensor lines, then the gradient (observing it flushes). */
function step(model: (x: Tensor) => Tensor): { lines: string[]; grad: number[] } {
  config.update({ capture: true });
  try {
    const x = variable(np.array(xs));
    const y = model(x);
    const lines = savedTensors(y).map((r) => r.source);
    y.backward();
    return { lines, grad: Array.from(x.grad!.dataSync()) };
  } finally {
    config.update({ capture: false });
  }
}

function reference(model: (x: Tensor) => Tensor): number[] {
  const x = variable(np.array(xs));
  model(x).backward();
  return Array.from(x.grad!.dataSync());
}

describe("tape source lines under capture", () => {
  it("a new region has every line; a repeating one none; a differing one its lines again", () => {
    const refA = reference(modelA);
    const refB = reference(modelB);
    for (let i = 0; i < 2; i++) {
      const s = step(modelA); // first and second occurrence of the structure: lines recorded
      expect(s.lines.length).toBeGreaterThan(0);
      for (const l of s.lines) expect(l).toMatch(LINE_A);
      assertClose(s.grad, refA, { rtol: 1e-6, what: `A step ${i}` });
    }
    const r = step(modelA); // repeats a structure that ran twice: no lines
    expect(r.lines.length).toBe(step(modelA).lines.length);
    expect(r.lines.length).toBeGreaterThan(0);
    for (const l of r.lines) expect(l).toBe("");
    assertClose(r.grad, refA, { rtol: 1e-6, what: "A repeated" });
    const b = step(modelB); // differs from its first operation: every line
    expect(b.lines.length).toBeGreaterThan(0);
    for (const l of b.lines) expect(l).toMatch(LINE_B);
    assertClose(b.grad, refB, { rtol: 1e-6, what: "B" });
  });

  it("capture off: every node has its line", () => {
    for (let i = 0; i < 3; i++) {
      const x = variable(np.array(xs));
      for (const r of savedTensors(modelA(x))) expect(r.source).toMatch(LINE_A);
    }
  });
});
