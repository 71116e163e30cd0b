// Hand-written programs every fuzzer run checks first: the patterns issue 9 found wrong (so a
// regression on any path shows at once, whatever the random programs happen to cover).

import type { Expr, Prog } from "./ast.js";

const x = (sh: number[], i = 0): Expr => ({ k: "in", i, sh });
const lit = (v: number): Expr => ({ k: "lit", v, sh: [] });
const bin = (f: any, a: Expr, b: Expr): Expr => ({ k: "bin", f, a, b, sh: a.sh.length >= b.sh.length ? a.sh : b.sh });
const un = (f: any, a: Expr): Expr => ({ k: "un", f, a, sh: a.sh });

export const CORPUS: { name: string; prog: Prog }[] = [];
for (const dt of ["float32", "float64"] as const) {
  const x2 = x([2]);
  const padded: Expr = { k: "pad", w: [[0, 1]], a: x2, sh: [3] };
  CORPUS.push({
    name: `issue 9.1: a fused kernel reading one buffer through a pad and directly (${dt})`,
    prog: { dt, inputs: [[2]], body: bin("add", { k: "index", items: [{ s: [0, 2, null] }], a: padded, sh: [2] }, x2) },
  });
  const x4 = x([4]);
  const e: Expr = { k: "var", name: "h0", sh: [4] };
  CORPUS.push({
    name: `issue 9.1: the gradient of a slice (a pad) fused with a reused exp output (${dt})`,
    prog: {
      dt, inputs: [[4]],
      body: { k: "let", name: "h0", value: un("exp", x4), body: bin("multiply", { k: "index", items: [{ s: [1, 3, null] }], a: e, sh: [2] }, { k: "red", f: "sum", axes: null, keep: false, a: e, sh: [] }), sh: [2] },
    },
  });
  const x3 = x([3]);
  const m = (v: number): Expr => ({ k: "where", c: "greater", a: x3, b: lit(0), x: x3, y: lit(v), sh: [3] });
  CORPUS.push({
    name: `issue 9.2: literals Infinity and -Infinity stay distinct in compiled kernels (${dt})`,
    prog: { dt, inputs: [[3]], body: bin("subtract", m(Infinity), m(-Infinity)) },
  });
  CORPUS.push({
    name: `issue 9.2: x + -0 and x + 0 are different expressions; x + 0 is not x (${dt})`,
    prog: { dt, inputs: [[3]], body: un("reciprocal", bin("add", bin("add", x3, lit(-0)), bin("add", x3, lit(0)))) },
  });
  CORPUS.push({
    name: `NaN and signed zeros through max/min, where and reductions (${dt})`,
    prog: {
      dt, inputs: [[2, 3]],
      body: { k: "red", f: "max", axes: [1], keep: false, a: bin("minimum", x([2, 3]), un("negative", x([2, 3]))), sh: [2] },
    },
  });
}

// The operations of issue 18 that the fixed-seed random programs of `npm test` happen to miss
// (float64 only, to keep the bounded run's time): advanced indexing in both placements, cumprod,
// pad modes wider than the axis, x.at updates with duplicate positions, the new elementwise
// functions (np.linalg programs cost ~10-50 s each on every path: left to the random programs).
{
  const dt = "float64" as const;
  const x34: Expr = x([3, 4]);
  CORPUS.push({
    name: "NumPy advanced indexing: adjacent (in place) and separated (first) integer arrays",
    prog: {
      dt, inputs: [[3, 4], [2, 3, 4]],
      body: bin("add",
        { k: "index", items: [{ arr: [0, 2, -1] }, { s: [1, null, null] }], a: x34, sh: [3, 3] },
        { k: "index", items: [{ arr: [1, 0, 1] }, { s: [null, null, null] }, { arr: [2] }], a: { k: "in", i: 1, sh: [2, 3, 4] }, sh: [3, 3] }),
    },
  });
  const x3 = x([3]);
  for (const mode of ["reflect", "symmetric", "wrap"] as const) {
    CORPUS.push({
      name: `cumprod, then pad mode ${mode} wider than the axis`,
      prog: { dt, inputs: [[3]], body: { k: "pad", w: [[5, 4]], mode, a: { k: "cumsum", axis: 0, prod: true, a: x3, sh: [3] }, sh: [12] } },
    });
  }
  const x4 = x([4]);
  for (const op of ["add", "min", "max", "set"] as const) {
    CORPUS.push({
      name: `x.at([1, 1, 3]).${op}(v): duplicate positions`,
      prog: { dt, inputs: [[4], [3]], body: { k: "at", items: [{ arr: [1, 1, 3] }], op, a: x4, v: { k: "in", i: 1, sh: [3] }, sh: [4] } },
    });
  }
  CORPUS.push({
    name: "x.at([0, 2]).multiply(v) and the new elementwise functions",
    prog: {
      dt, inputs: [[4]],
      body: un("arcsinh", bin("hypot", { k: "at", items: [{ arr: [0, 2] }], op: "multiply", a: x4, v: un("exp2", lit(0.5)), sh: [4] }, un("log10", un("cosh", x4)))),
    },
  });

  // F13: weak values through control flow (the cond result joins both branches' dtypes once; a
  // weak loop carry is float32 unless the body makes it float64)
  const x0 = x([]);
  const v0: Expr = { k: "var", name: "v0", sh: [] };
  const red: Expr = { k: "red", f: "sum", axes: null, keep: false, a: x0, sh: [] };
  CORPUS.push({
    name: "F13: a weak branch result computed from a JS number takes the other branch's dtype once",
    prog: {
      dt, inputs: [[]],
      body: un("negative", un("square", { k: "cond", p: red, v: "v0", t: bin("add", v0, x0), f: bin("multiply", v0, v0), a: lit(0.1), sh: [] })),
    },
  });
  const c0: Expr = { k: "var", name: "c0", sh: [] };
  CORPUS.push({
    name: "F13: a JS number as a loop's initial carry (the body makes it the program's dtype)",
    prog: { dt, inputs: [[]], body: { k: "fori", c: "c0", n: 2, init: lit(0.1), body: bin("add", bin("multiply", c0, c0), x0), sh: [] } },
  });
  CORPUS.push({
    name: "F14 (harness): a let whose body is a JS number keeps its exact value on the hybrid paths",
    prog: { dt, inputs: [[]], body: bin("add", { k: "let", name: "h0", value: x0, body: lit(0.1), sh: [] }, x0) },
  });
}
