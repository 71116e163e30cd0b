// Regression tests for fuzz finding F8 (test/fuzz/FINDINGS.md): a graph-break region (jit of a
// function that reads a value in JS) or a captured eager region (config.capture) holding a custom
// rule (customJvp / customVjp, so every np.linalg function) threw "IR: a program holding a JS
// function (custom rule) cannot be serialized": regions were keyed by their serialized text.
// They are keyed by programKey now: rule closures by the identity of the user's rule functions
// plus the call's tree structures, so a region captured once replays on later calls.

import { afterEach, describe, expect, it } from "vitest";
import { type Tensor, config, customJvp, grad, jit, np } from "../src/index.js";
import { programKey } from "../src/ir/serialize.js";
import { makeProgram } from "../src/index.js";

const f64 = (data: number[][]) => np.array(data, { dtype: "float64" });
const A = f64([[4, 1], [1, 3]]);
const B = f64([[5, 2], [2, 6]]);

// a JS branch on an observed determinant (a graph break under jit), then more linalg
const f = (a: Tensor) => {
  const d = np.linalg.det(a);
  return d.item() > 0 ? np.add(np.linalg.inv(a), d) : np.negative(np.linalg.inv(a));
};

afterEach(() => config.update({ capture: false }));

describe("fuzz F8: graph-break and captured regions with custom rules (np.linalg)", () => {
  it("jit of a function with a graph break around np.linalg equals eager, and replays", () => {
    const jf = jit(f);
    for (const a of [A, B, A]) expect(jf(a).toArray()).toEqual(f(a).toArray());
    const info = jf.cacheInfo().graphBreaks!;
    expect(info.replays).toBeGreaterThan(0);
  });

  it("its gradient under jit equals eager grad", () => {
    const loss = (a: Tensor) => np.sum(f(a));
    expect(jit(grad(loss))(A).toArray()).toEqual(grad(loss)(A).toArray());
  });

  it("config.capture runs np.linalg eagerly with the same bits", () => {
    const want = [A, B].map((a) => f(a).toArray());
    config.update({ capture: true });
    for (let i = 0; i < 3; i++) [A, B].forEach((a, k) => expect(f(a).toArray()).toEqual(want[k]));
  });

  it("programKey tells custom rules apart and equates the same rule across calls", () => {
    const mk = (scale: number) => customJvp((x: Tensor) => np.sin(x), { jvp: ([x], [t]) => [np.sin(x), np.multiply(t, scale)] });
    const g1 = mk(1);
    const g2 = mk(2);
    const key = (g: (x: Tensor) => Tensor) => programKey(makeProgram(g)(np.zeros([2], { dtype: "float64" })));
    expect(key(g1)).toBe(key(g1)); // a fresh per-call closure, the same rule: one key
    expect(key(g1)).not.toBe(key(g2)); // another rule: another key
    const h = (g: (x: Tensor) => Tensor) => jit((x: Tensor) => (np.sum(x).item() > 0 ? g(x) : g(np.negative(x))));
    const x = np.array([0.5, 1], { dtype: "float64" });
    expect(grad((y: Tensor) => np.sum(h(g1)(y)))(x).toArray()).toEqual([1, 1]);
    expect(grad((y: Tensor) => np.sum(h(g2)(y)))(x).toArray()).toEqual([2, 2]);
  });
});
