// The standing differential fuzzer, bounded for `npm test` (issue 9, item 5): random programs over
// the public API, each run eagerly, under grad/vjp/jvp/tape, under jit on every backend (and
// tiered), as exported modules and under vmap, compared bit for bit where the contract says
// bit-identical and with an independent float64 reference (test/fuzz/ref.ts) elsewhere. Two fixed
// seeds, so the suite is deterministic (replay with `npm run fuzz -- --seed N`); new seeds are
// explored by the long run, `npm run fuzz -- --minutes 10` (a random seed unless given).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Expr, type Prog, generate, nodes } from "./fuzz/ast.js";
import { CORPUS } from "./fuzz/corpus.js";
import { bitDiff, checkProgram, tolDiff } from "./fuzz/paths.js";
import { formatReport, programArb, runFuzz } from "./fuzz/run.js";

// a fixed number of programs (not a time budget), so the suite checks the same programs on a fast
// machine and on a loaded one; the time limit is only a safety net (generous: a heavily loaded
// machine takes several times the ~20 s a quiet one needs per seed)
const PROGRAMS = 120;
const bounded = (seed: number, timeMs: number) =>
  runFuzz({ seed, timeMs, maxPrograms: PROGRAMS, exportModules: true, shrink: true, shrinkMs: 4000 });

describe("differential fuzzer", () => {
  it("self-check: the comparisons catch a wrong result", async () => {
    expect(bitDiff(Float64Array.of(-0), Float64Array.of(0))).not.toBeNull();
    expect(bitDiff(Float64Array.of(NaN, 1), Float64Array.of(NaN, 1))).toBeNull();
    expect(tolDiff(Float64Array.of(1 + 1e-6), Float64Array.of(1), Float64Array.of(1), 1e-9)).not.toBeNull();
    expect(tolDiff(Float64Array.of(Infinity), Float64Array.of(-Infinity), Float64Array.of(0), 1e-9)).not.toBeNull();
    // sum(sin(x0) * x1, axis 0) in float64, checked against a deliberately wrong reference: the
    // value and gradient comparisons must fail, and pass with the right reference
    const x0: Expr = { k: "in", i: 0, sh: [2, 3] };
    const x1: Expr = { k: "in", i: 1, sh: [3] };
    const prod: Expr = { k: "bin", f: "multiply", a: { k: "un", f: "sin", a: x0, sh: [2, 3] }, b: x1, sh: [2, 3] };
    const p: Prog = { dt: "float64", inputs: [[2, 3], [3]], body: { k: "red", f: "sum", axes: [0], keep: false, a: prod, sh: [3] } };
    const good = await checkProgram(p, 3, { exportModules: false });
    const bad = await checkProgram(p, 3, { exportModules: false, mutateReference: true });
    expect(good.failures).toEqual([]);
    const paths = new Set(bad.failures.map((f) => f.path));
    expect(paths.has("eager~ref") && paths.has("grad~ref")).toBe(true);
  });

  it("the fixed seeds and the corpus generate the operations of issue 18", () => {
    // the same programs runFuzz samples (batches of 20 per seed), plus the corpus every run checks
    const progs: Prog[] = CORPUS.map((c) => c.prog);
    for (const seed of [20260501, 498973]) {
      for (let b = 0; b < PROGRAMS / 20; b++) for (const c of fc.sample(programArb, { seed: seed + b * 7919, numRuns: 20 })) progs.push(generate(c[0]));
    }
    const seen = new Set<string>();
    for (const p of progs) {
      for (const e of nodes(p.body) as Iterable<any>) {
        seen.add(e.k);
        if (e.k === "index" && e.items.some((i: any) => i !== null && typeof i === "object" && "arr" in i)) seen.add("advanced index");
        if (e.k === "pad" && e.mode) seen.add(`pad ${e.mode}`);
        if (e.k === "cumsum" && e.prod) seen.add("cumprod");
        if (e.k === "at") seen.add(`at ${e.op}`);
        if (e.k === "un" || e.k === "bin") seen.add(e.f);
      }
    }
    const want = ["roll", "diag", "trace", "tri", "sort", "topk", "einsum", "tdot", "spd", "linalg", "conv", "pool", "cast", "advanced index", "cumprod",
      "pad edge", "pad reflect", "pad symmetric", "pad wrap", "at set", "at add", "at multiply", "at min", "at max", "arctan2", "hypot", "mod", "floorDivide",
      "arcsinh", "exp2", "log10", "cosh"];
    expect(want.filter((k) => !seen.has(k))).toEqual([]);
  });

  it("fixed seed: every path agrees", async () => {
    const r = await bounded(20260501, 420_000);
    console.log(formatReport(r));
    expect(r.programs).toBe(PROGRAMS);
    expect(r.failures.map((f) => `${f.failure.path}: ${f.failure.detail}\n${f.failure.repro}`)).toEqual([]);
  }, 480_000);

  // A second fixed seed: the one (then rotating) that found F2's NaN primal. `npm test` must be
  // deterministic (CI refuses a flaky suite); exploring new seeds is `npm run fuzz`'s job.
  it("second fixed seed: every path agrees", async () => {
    const seed = 498973;
    const r = await bounded(seed, 420_000);
    expect(r.programs).toBe(PROGRAMS);
    console.log(`seed ${seed} (replay: npm run fuzz -- --seed ${seed})\n${formatReport(r)}`);
    expect(r.failures.map((f) => `${f.failure.path}: ${f.failure.detail}\n${f.failure.repro}`)).toEqual([]);
  }, 480_000);
});
