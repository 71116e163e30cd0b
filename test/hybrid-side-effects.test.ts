// Side effects of user JS under jit with graph breaks (issue 11): every call runs the function's
// JS once, except the very first call of a function not yet known to break, which is first traced
// by the core jit up to the break (that trace stops there) and then run on the hybrid path. A new
// specialization (new shapes, static values) of a function that broke, and a new jit wrapper of
// the same function, run the JS once from their first call; a specialization that turns out not
// to break is handed back to the core jit, which traces it once and then does not run the JS.

import { describe, expect, it } from "vitest";
import { type Tensor, jit, np } from "../src/index.js";

function counted() {
  const log = { calls: 0 };
  const f = (x: Tensor, flag: boolean) => {
    log.calls++;
    const y = x.mul(2);
    // a graph break only when flag is set
    if (flag && y.sum().item() > 0) return y.add(1);
    return y.sub(1);
  };
  return { f, log };
}

const x3 = () => np.array([1, 2, 3]);
const x4 = () => np.array([1, 2, 3, 4]);

describe("graph breaks: user JS runs once per call", () => {
  it("every call after the function's first runs it once; a new shape's first call too", () => {
    const { f, log } = counted();
    const jf = jit(f, { staticArgnums: [1] });
    expect((jf(x3(), true) as Tensor).toArray()).toEqual([3, 5, 7]);
    const first = log.calls;
    expect(first).toBe(2); // the core trace up to the break, then the hybrid run (the one known exception)
    for (let i = 1; i <= 3; i++) {
      expect((jf(x3(), true) as Tensor).toArray()).toEqual([3, 5, 7]);
      expect(log.calls).toBe(first + i);
    }
    const before = log.calls;
    expect((jf(x4(), true) as Tensor).toArray()).toEqual([3, 5, 7, 9]);
    expect(log.calls).toBe(before + 1);
    expect((jf(np.array([-1, -2, -3, -4]), true) as Tensor).toArray()).toEqual([-3, -5, -7, -9]);
    expect(log.calls).toBe(before + 2);
  });

  it("a new wrapper of a function that broke runs it once from its first call", () => {
    const { f, log } = counted();
    jit(f, { staticArgnums: [1] })(x3(), true);
    const before = log.calls;
    const again = jit(f, { staticArgnums: [1] });
    expect((again(x3(), true) as Tensor).toArray()).toEqual([3, 5, 7]);
    expect(log.calls).toBe(before + 1);
  });

  it("a specialization without breaks goes back to the core jit: traced once, then the JS is not run", () => {
    const { f, log } = counted();
    const jf = jit(f, { staticArgnums: [1] });
    jf(x3(), true);
    const before = log.calls;
    expect((jf(x3(), false) as Tensor).toArray()).toEqual([1, 3, 5]); // hybrid run, nothing observed
    expect(log.calls).toBe(before + 1);
    expect((jf(x3(), false) as Tensor).toArray()).toEqual([1, 3, 5]); // the core jit traces it
    expect(log.calls).toBe(before + 2);
    for (let i = 0; i < 3; i++) expect((jf(x3(), false) as Tensor).toArray()).toEqual([1, 3, 5]); // cached program
    expect(log.calls).toBe(before + 2);
    // the breaking specialization still runs its JS once per call
    jf(x3(), true);
    expect(log.calls).toBe(before + 3);
  });
});
