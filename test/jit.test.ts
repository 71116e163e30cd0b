// The JIT compiler: generated code equals the interpreter (values and gradients) for every row of
// the primitive table and for random programs; the cache keys, explained misses, eviction,
// tiering and diagnostics behave as documented.

import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Tensor, config, grad, jit, makeProgram, np, vmap } from "../src/index.js";
import { interpret, NanError } from "../src/backends/interp/interpret.js";
import type { LogEvent } from "../src/core/config.js";
import { ROWS } from "./prims.table.js";
import { assertClose, rand, tensor } from "./util/check.js";

const saved = { ...config };
let events: LogEvent[] = [];
beforeEach(() => {
  events = [];
  config.update({ interpretBelowWork: 0, autoGeneralizeShapes: false, logger: (e) => events.push(e) });
});
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
});

const exact = { rtol: 0, atol: 0 };

for (const backend of ["wasm", "js"] as const) {
  describe(`jit equals the interpreter (${backend} backend)`, () => {
    beforeEach(() => config.update({ backend }));
    for (const row of ROWS) {
      const title = `${row.prim}${row.variant ? ` (${row.variant})` : ""}`;
      it(`${title}: values${row.nondiff ? "" : " and gradients"}`, () => {
        const xs = row.args.map((a, i) => rand(a.shape, 300 + i, a.lo ?? -1, a.hi ?? 1));
        const program = makeProgram(row.fn)(...xs);
        const expected = interpret(program, xs)[0]!;
        const got = jit(row.fn)(...xs) as Tensor;
        expect(got.shape).toEqual(expected.shape);
        assertClose(got.data, expected.data, { ...exact, what: "value" });
        if (row.nondiff) return;
        const loss = (...a: Tensor[]) => np.sum(np.sin(row.fn(...a)));
        const argnums = xs.map((_, i) => i);
        const g = jit(grad(loss, { argnums }))(...xs) as Tensor[];
        const ge = grad(loss, { argnums })(...xs) as Tensor[];
        g.forEach((gi, i) => assertClose(gi.data, ge[i]!.data, { ...exact, what: `grad ${i}` }));
      });
    }

    it("random programs give the same values and gradients under jit (float32 and float64)", () => {
      const ops = [np.sin, np.tanh, np.exp, (x: Tensor) => np.multiply(x, x), (x: Tensor) => np.add(x, np.sum(x, { axis: -1, keepdims: true }))];
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: ops.length - 1 }), { minLength: 1, maxLength: 6 }),
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
          fc.constantFrom("float32" as const, "float64" as const),
          (chain, shape, dtype) => {
            const f = (x: Tensor) => chain.reduce((acc, k) => ops[k]!(np.multiply(acc, 0.5)), x);
            const x = rand(shape, 5, -1, 1, dtype);
            assertClose((jit(f)(x) as Tensor).data, f(x).data, exact);
            const lf = (x: Tensor) => np.sum(f(x));
            assertClose((jit(grad(lf))(x) as Tensor).data, (grad(lf)(x) as Tensor).data, exact);
          },
        ),
        { numRuns: 60 },
      );
    });

    it("grad(jit), vmap(jit) and jit(jit) compose", () => {
      const W = rand([3, 4], 1);
      const f = (x: Tensor) => np.sum(np.tanh(np.matmul(x, W)));
      const x = rand([2, 3], 2);
      assertClose((grad(jit(f))(x) as Tensor).data, (grad(f)(x) as Tensor).data, exact);
      assertClose((vmap(jit(f))(rand([5, 2, 3], 3)) as Tensor).data, (vmap(f)(rand([5, 2, 3], 3)) as Tensor).data, exact);
      const g = jit((x: Tensor) => np.multiply(jit(np.sin)(x), 2));
      assertClose((g(x) as Tensor).data, np.multiply(np.sin(x), 2).data, exact);
      assertClose((jit(grad(jit(f)))(x) as Tensor).data, (grad(f)(x) as Tensor).data, exact);
    });
  });
}

describe("jit cache", () => {
  it("hits do not retrace", () => {
    let traced = 0;
    const f = jit((x: Tensor) => {
      traced++;
      return np.sin(x);
    });
    const x = rand([3], 1);
    for (let i = 0; i < 5; i++) f(x);
    expect(traced).toBe(1);
    expect(f.cacheInfo()).toMatchObject({ hits: 4, misses: 1, traces: 1, size: 1 });
  });

  it("each kind of key change causes exactly one miss with the right reason", () => {
    const f = jit((x: any, n: number) => np.multiply(np.sum(Array.isArray(x) ? x[0] : x.w ?? x), n), { staticArgnums: [1] });
    const cases: [unknown[], string][] = [
      [[rand([3], 1), 2], "first call"],
      [[rand([4], 1), 2], "arg 0 shape [3] -> [4]"],
      [[rand([4], 1, -1, 1, "float32"), 2], "arg 0 dtype float64 -> float32"],
      [[rand([4], 1, -1, 1, "float32"), 3], "static arg 1 value n:2 -> n:3"],
      [[[rand([4], 1, -1, 1, "float32")], 3], "argument structure [*, null] -> [[*], null]"],
      [[{ w: rand([4], 1, -1, 1, "float32") }, 3], "argument structure [[*], null] -> [{w: *}, null]"],
    ];
    let misses = 0;
    for (const [args, reason] of cases) {
      f(...args);
      f(...args); // a second identical call is a hit
      misses++;
      expect(f.cacheInfo().misses).toBe(misses);
      expect(f.cacheInfo().lastMiss!.reason).toBe(reason);
    }
    expect(f.cacheInfo().hits).toBe(cases.length);
  });

  it("a JS number argument is weakly typed and keyed as such", () => {
    const f = jit((x: Tensor, s: Tensor) => np.multiply(x, s));
    const x = rand([2], 1, -1, 1, "float32");
    f(x, 2);
    f(x, tensor([2], [], "float32"));
    expect(f.cacheInfo().lastMiss!.reason).toBe("arg 1 weakly typed (a JS number) -> strongly typed");
  });

  it("two different static functions never share an entry, even with equal source", () => {
    const apply = jit((x: Tensor, g: (t: Tensor) => Tensor) => g(x), { staticArgnums: [1] });
    const x = tensor([1, 2], [2]);
    const mk = (k: number) => (t: Tensor) => np.multiply(t, k);
    const a = apply(x, mk(2)) as Tensor;
    const b = apply(x, mk(3)) as Tensor;
    expect(Array.from(a.data)).toEqual([2, 4]);
    expect(Array.from(b.data)).toEqual([3, 6]);
    expect(apply.cacheInfo().misses).toBe(2);
    expect(apply.cacheInfo().lastMiss!.reason).toMatch(/^static arg 1 value fn:anonymous#\d+ -> fn:anonymous#\d+$/);
  });

  it("eviction keeps the cache at its bound (LRU)", () => {
    config.update({ jitCacheSize: 3 });
    const f = jit((x: Tensor) => np.add(x, 1));
    for (let n = 1; n <= 6; n++) f(rand([n], n));
    expect(f.cacheInfo().size).toBe(3);
    f(rand([6], 6)); // most recent: still cached
    expect(f.cacheInfo().hits).toBe(1);
    f(rand([1], 1)); // evicted: recompiles
    expect(f.cacheInfo().misses).toBe(7);
  });

  it("explains recompiles in the log, with the caller's line, and warns after repeated recompiles", () => {
    config.update({ explainCacheMisses: true, recompileWarnAfter: 3 });
    const f = jit((x: Tensor) => np.sin(x), { name: "step" });
    for (let n = 1; n <= 5; n++) f(rand([n], n));
    const misses = events.filter((e) => e.kind === "cache-miss");
    expect(misses).toHaveLength(4);
    expect(misses[0]!.message).toMatch(/^jit\(step\) recompiling because arg 0 shape \[1\] -> \[2\] \(called at test\/jit\.test\.ts:\d+:\d+\)$/);
    const warn = events.filter((e) => e.kind === "recompile-warning");
    expect(warn).toHaveLength(1);
    expect(warn[0]!.message).toMatch(/compiled 4 times.*shape keeps changing/);
  });

  it("logs compiles with stage times", () => {
    config.update({ logCompiles: true });
    jit((x: Tensor) => np.exp(x), { name: "e" })(rand([4], 1));
    const c = events.filter((e) => e.kind === "compile");
    expect(c).toHaveLength(1);
    expect(c[0]!.message).toMatch(/^jit\(e\) \[miss\]: traced 1 equations in [\d.]+ ms, optimized to 1 in [\d.]+ ms, generated 1 kernels/);
  });
});

describe("tiering", () => {
  it("cold cheap programs run in the interpreter, hot ones are compiled, with identical results", () => {
    config.update({ interpretBelowWork: 1e9, hotCalls: 3, logCompiles: true });
    const f = jit((x: Tensor) => np.tanh(np.multiply(np.sin(x), 3)), { name: "t" });
    const x = rand([50], 3, -2, 2, "float32");
    const r1 = (f(x) as Tensor).data;
    const r2 = (f(x) as Tensor).data;
    const r3 = (f(x) as Tensor).data;
    const kinds = events.filter((e) => e.kind === "compile").map((e) => e.message);
    expect(kinds[0]).toMatch(/interpreted \(cold tier\)/);
    expect(kinds[1]).toMatch(/\[hot\].*generated/);
    assertClose(r3, r1, exact);
    assertClose(r2, r1, exact);
  });
});

describe("diagnostics", () => {
  const W1 = rand([8, 5], 1, -1, 1, "float32");
  const W2 = rand([5, 3], 2, -1, 1, "float32");
  const loss = (p: { W1: Tensor; W2: Tensor }, x: Tensor) =>
    np.sum(np.square(np.matmul(np.tanh(np.matmul(x, p.W1)), p.W2)));
  const x = rand([4, 8], 3, -1, 1, "float32");

  it("the optimized MLP gradient has no explicit transposes and no multiply-by-one", () => {
    const lowered = jit(grad(loss)).lower({ W1, W2 }, x);
    const text = lowered.text("optimized");
    expect(text).not.toMatch(/= transpose/);
    expect(text).not.toMatch(/mul \w+ 1\.0/);
    expect(text.match(/dot_general/g)).toHaveLength(5); // 2 forward, 3 backward (dx is not needed)
    expect(lowered.text("kernels")).toMatch(/kernels, arena \d+ bytes/);
    expect(lowered.text("js")).toMatch(/^\/\/ adgen generated code/);
  });

  it("lists the saved residuals, and no zero-filled residual is saved", () => {
    const r = jit(grad(loss)).lower({ W1, W2 }, x).residuals();
    for (const res of r) expect(res.producedBy).not.toMatch(/broadcast_in_dim/);
    expect(r.map((x) => x.dtype)).toEqual(r.map(() => "float32"));
    expect(r.reduce((n, x) => n + x.bytes, 0)).toBeGreaterThan(0);
    expect(r.some((x) => /tanh/.test(x.producedBy))).toBe(true);
  });

  it("reports which equations were fused into which kernel", () => {
    const f = jit((x: Tensor) => np.sum(np.exp(np.multiply(np.sin(x), 2))));
    const fusion = f.lower(rand([10], 1)).fusion();
    expect(fusion).toHaveLength(1);
    expect(fusion[0]!.kind).toBe("reduce");
    expect(fusion[0]!.equations.map((e) => e.primitive)).toEqual(["sin", "mul", "exp", "reduce_sum"]);
  });

  it("every stage prints", () => {
    const l = jit((x: Tensor) => np.sum(np.multiply(np.sin(x), x))).lower(rand([3], 1));
    for (const s of ["traced", "jvp", "linearized", "transposed", "optimized", "kernels", "js"] as const) {
      expect(l.text(s).length).toBeGreaterThan(10);
    }
    // the IR stages in full (issue 10 item 6: a stage text is specified, not only non-empty);
    // source-line comments dropped
    const text = (s: "traced" | "jvp" | "linearized" | "transposed" | "optimized" | "kernels") => l.text(s).replace(/ +#.*$/gm, "");
    expect(text("traced")).toBe(`{ lambda ; a:f64[3]. let
    b:f64[3] = sin a
    c:f64[3] = mul b a
    d:f64[] = reduce_sum[axes=[0]] c
  in (d) }`);
    expect(text("jvp")).toBe(`{ lambda ; a:f64[3] b:f64[3]. let
    c:f64[3] = sin a
    d:f64[3] = cos a
    e:f64[3] = mul b d
    f:f64[3] = mul c a
    g:f64[3] = mul e a
    h:f64[3] = mul c b
    i:f64[3] = add g h
    j:f64[] = reduce_sum[axes=[0]] f
    k:f64[] = reduce_sum[axes=[0]] i
  in (j, k) }`);
    expect(text("linearized")).toBe(`{ lambda ; a:f64[3] b:f64[3] c:f64[3] d:f64[3]. let
    e:f64[3] = mul d a
    f:f64[3] = mul e b
    g:f64[3] = mul c d
    h:f64[3] = add f g
    i:f64[] = reduce_sum[axes=[0]] h
  in (i) }`);
    expect(text("transposed")).toBe(`{ lambda ; a:f64[3] b:f64[3] c:f64[3] d:f64[]. let
    e:f64[3] = broadcast_in_dim[shape=[3] dims=[]] d
    f:f64[3] = mul c e
    g:f64[3] = mul e b
    h:f64[3] = mul g a
    i:f64[3] = add f h
  in (i) }`);
    expect(text("optimized")).toBe(text("traced"));
    expect(text("kernels")).toBe(`1 kernels, arena 0 bytes
  kernel 0: reduce float64[] over [3] -> output b1   fuses: sin#0 mul#1 reduce_sum#2`);
    expect(l.text("linearized")).toMatch(/cos|mul/);
    expect(() => l.text("bogus" as never)).toThrow(/unknown stage "bogus"/);
  });

  it("debugNans names the first equation that produced a NaN, with the user's line", () => {
    config.update({ debugNans: true });
    const f = jit((x: Tensor) => np.log(np.subtract(x, 2)));
    let err: unknown;
    try {
      f(rand([3], 1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NanError);
    expect((err as Error).message).toMatch(/debugNans: log produced a NaN/);
    expect((err as NanError).sourceLine).toMatch(/test\/jit\.test\.ts/);
  });
});

describe("shape polymorphism", () => {
  const loss = (x: Tensor, y: Tensor) => np.mean(np.square(np.subtract(np.tanh(np.matmul(x, W)), y)));
  const W = rand([4, 3], 1);
  const batch = (b: number) => [rand([b, 4], b), rand([b, 3], b + 100)] as const;

  it("declared symbolic dims: one trace and one compile serve every batch size", () => {
    const step = jit(grad(loss), { shapes: [["B", 4], ["B", 3]] });
    for (const b of [1, 7, 128, 3]) {
      const [x, y] = batch(b);
      assertClose((step(x, y) as Tensor).data, (grad(loss)(x, y) as Tensor).data, { rtol: 1e-12 });
    }
    expect(step.cacheInfo()).toMatchObject({ misses: 1, traces: 1, hits: 3 });
    expect(step.lower(...batch(5)).text("traced")).toMatch(/f64\[B,4\]/);
  });

  it("learns a symbolic dimension on the second miss and explains it", () => {
    config.update({ autoGeneralizeShapes: true, explainCacheMisses: true });
    const step = jit(grad(loss), { name: "step" });
    for (const b of [64, 17, 5, 200]) {
      const [x, y] = batch(b);
      assertClose((step(x, y) as Tensor).data, (grad(loss)(x, y) as Tensor).data, { rtol: 1e-12 });
    }
    expect(step.cacheInfo()).toMatchObject({ misses: 2, traces: 2, hits: 2 });
    const msg = events.find((e) => e.kind === "cache-miss")!.message;
    expect(msg).toMatch(/recompiling because arg 0 shape \[64,4\] -> \[17,4\]; generalizing arg 0 axis 0, arg 1 axis 0 as symbol D\d+: one program now serves every size/);
  });

  it("inconsistent sizes for one symbol get their own specialization", () => {
    const step = jit((x: Tensor, y: Tensor) => np.add(np.sum(x), np.sum(y)), { shapes: [["B"], ["B"]] });
    expect((step(rand([3], 1), rand([3], 2)) as Tensor).shape).toEqual([]);
    expect((step(rand([3], 1), rand([5], 2)) as Tensor).shape).toEqual([]);
    expect(step.cacheInfo().misses).toBe(2);
  });

  it("falls back to concrete sizes when the function needs them", () => {
    config.update({ autoGeneralizeShapes: true });
    const f = jit((x: Tensor) => {
      let acc = np.sum(x);
      for (let i = 0; i < x.shape[0]!; i++) acc = np.add(acc, 1); // a JS loop over a size
      return acc;
    });
    expect((f(rand([2], 1)) as Tensor).item()).toBeCloseTo(np.sum(rand([2], 1)).item() + 2, 12);
    expect((f(rand([3], 1)) as Tensor).item()).toBeCloseTo(np.sum(rand([3], 1)).item() + 3, 12);
    expect((f(rand([4], 1)) as Tensor).item()).toBeCloseTo(np.sum(rand([4], 1)).item() + 4, 12);
  });
});
