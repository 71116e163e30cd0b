// vmap of functions with graph breaks (issue 11 follow-up): where the value the JS observes does
// not depend on the mapped inputs (a closed-over tensor, an unmapped argument, a loop state kept
// as a tensor), vmap(jit(f)), vmap(f), jit(vmap(f)) and vmap(grad(jit(f))) give, per example, what
// f and grad(f) give on that example alone (the reference: a JS loop over the batch); a JS branch
// on a value that differs per example raises a ConcretizationError saying how to write it
// (np.where / lax.cond / lax.whileLoop), as JAX does.

import { describe, expect, it } from "vitest";
import { ConcretizationError, type Tensor, grad, jit, np, vmap } from "../src/index.js";
import { assertClose, rand, tensor } from "./util/check.js";

const m = tensor([3, 4], [2]);
const w = tensor([0.5, -0.25], [2]);

/** Functions of (x: a mapped row, m: unmapped) whose breaks observe unmapped values only. */
const cases: Record<string, (x: Tensor, m: Tensor) => Tensor> = {
  "a branch on a value computed next to mapped ones (one region)": (x, m) => {
    const y = np.sin(x).mul(2);
    const k = np.sum(m.mul(m)).item();
    return np.sum(k > 5 ? y.mul(k) : y.sub(k));
  },
  "a while loop whose state is an unmapped tensor": (x, m) => {
    let y = x;
    let s = m;
    while (np.sum(s).item() < 100) {
      s = s.mul(2);
      y = np.tanh(y).add(s);
    }
    return np.sum(y.mul(y));
  },
  "an unmapped argument read directly": (x, m) => np.sum(m.index(0).item() > 1 ? x.mul(x).mul(3) : x),
  "a closed-over tensor": (x, _m) => np.sum(Number(np.max(w)) > 0 ? np.exp(x.mul(w)) : x),
};

/** The reference: f on each example alone. */
const perExample = (f: (x: Tensor, m: Tensor) => Tensor, xs: Tensor) =>
  Array.from({ length: xs.shape[0]! }, (_, i) => f(xs.index(i), m));

describe("vmap over graph breaks on unmapped values", () => {
  for (const [name, f] of Object.entries(cases)) {
    it(name, () => {
      const vj = vmap(jit(f), { inAxes: [0, null] });
      const jv = jit(vmap(f, { inAxes: [0, null] }));
      const vg = vmap(grad(jit(f)), { inAxes: [0, null] });
      for (let call = 0; call < 3; call++) {
        const xs = rand([4, 2], 7 + call, -1, 1);
        const want = perExample(f, xs).map((t) => t.item());
        assertClose((vj(xs, m) as Tensor).data, want, { rtol: 1e-12, atol: 1e-14, what: `vmap(jit(f)) call ${call}` });
        assertClose((vmap(f, { inAxes: [0, null] })(xs, m) as Tensor).data, want, { rtol: 1e-12, atol: 1e-14, what: "vmap(f)" });
        assertClose((jv(xs, m) as Tensor).data, want, { rtol: 1e-12, atol: 1e-14, what: "jit(vmap(f))" });
        const g = perExample((x, mm) => grad(f)(x, mm) as Tensor, xs).flatMap((t) => Array.from(t.data));
        assertClose((vg(xs, m) as Tensor).data, g, { rtol: 1e-12, atol: 1e-14, what: "vmap(grad(jit(f)))" });
      }
    });
  }

  it("the regions are replayed on later calls", () => {
    const f = cases["a while loop whose state is an unmapped tensor"]!;
    const jf = jit(f);
    const vj = vmap(jf, { inAxes: [0, null] });
    for (let call = 0; call < 3; call++) vj(rand([4, 2], call, -1, 1), m);
    expect(jf.cacheInfo().graphBreaks!.replays).toBeGreaterThan(0);
  });
});

describe("a per-example branch raises, saying how to write it", () => {
  const branchy = (x: Tensor) => (np.sum(x).item() > 0 ? x.mul(2) : x);
  for (const [name, fn] of [
    ["vmap(f)", vmap(branchy)],
    ["vmap(jit(f))", vmap(jit(branchy))],
    ["vmap(grad(f))", vmap(grad((x: Tensor) => np.sum(branchy(x))))],
  ] as const) {
    it(name, () => {
      let err: unknown;
      try {
        fn(tensor([1, 2, -3, -4], [2, 2]));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConcretizationError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/inside vmap: it differs per example/);
      expect(msg).toMatch(/np\.where\(pred, a, b\)/);
      expect(msg).toMatch(/lax\.cond/);
      expect(msg).toMatch(/hybrid-vmap\.test\.ts:\d+:\d+ \(your code\)/);
    });
  }
});
