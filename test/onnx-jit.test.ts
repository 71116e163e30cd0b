// The jit backend `config.backend = "onnxruntime"` (src/onnx/jit-backend.ts, jit/tier.ts, jit/key.ts):
// under jit, every row of the primitive table (values in float64 and float32, gradients in
// float64), the MLP step, scan and while programs and transformations inside jit run in an ONNX
// Runtime session and agree with adgen's interpreter; one session serves two batch sizes of a
// symbolic dimension; provider and thread count are key components (a change is a miss naming
// them); a program ONNX cannot express runs on wasm with a log line and the right numbers; tiny
// programs are tiered to wasm; bad options and a missing onnxruntime-node are typed errors.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArgumentError, type Tensor, config, grad, jit, jvp, lax, makeProgram, np, valueAndGrad, vjp, vmap } from "../src/index.js";
import type { LogEvent } from "../src/core/config.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { keyParts, keyString } from "../src/jit/key.js";
import { ONNX_RULES } from "../src/onnx/table.js";
import { ROWS, type Row, type ArgSpec } from "./prims.table.js";
import { assertClose, rand, tensor } from "./util/check.js";

const ORT = { backend: "onnxruntime", ortProvider: "cpu", ortThreads: 0, ortMinWork: 0, interpretBelowWork: 0 } as const;
const KEYS = ["backend", "ortProvider", "ortThreads", "ortMinWork", "interpretBelowWork", "logCompiles", "logger"] as const;
let saved: Partial<typeof config>;
let events: LogEvent[] = [];

beforeEach(() => {
  saved = Object.fromEntries(KEYS.map((k) => [k, config[k]]));
  events = [];
  config.update({ ...ORT, logCompiles: true, logger: (e) => events.push(e) });
});
afterEach(() => config.update(saved));

/** Compile events that created an ONNX Runtime session, and fallback log lines. */
const sessions = () => events.filter((e) => e.kind === "compile" && e.message.includes("ONNX Runtime session"));
const fallbacks = () => events.filter((e) => e.kind === "info" && e.message.includes("ONNX Runtime cannot run this program"));

function makeArgs(specs: ArgSpec[], seed: number, dtype: "float32" | "float64"): Tensor[] {
  return specs.map((a, i) => {
    const t = rand(a.shape, seed * 101 + i, a.lo ?? -1, a.hi ?? 1, a.dtype === "int32" || a.dtype === "bool" ? "float64" : dtype);
    if (a.dtype === "int32") return tensor(Array.from(t.dataSync(), Math.floor), a.shape, "int32");
    return t;
  });
}

const TOL = { float64: { rtol: 1e-12, atol: 1e-13 }, float32: { rtol: 2e-5, atol: 2e-6 } };
const GRAD_TOL = { rtol: 1e-10, atol: 1e-12 };
const title = (row: Row) => `${row.prim}${row.variant ? ` (${row.variant})` : ""}`;
/** Rows whose function is written for float64 operands (as in test/onnx.test.ts). */
const FLOAT64_ONLY = new Set(["dim_value"]);
/** Gradients ONNX cannot express, and the reason of their (logged) fallback to wasm. */
// (none today: reverse mode through whileLoop re-runs the loop from snapshots, static shapes)
const GRAD_FALLBACK: Record<string, RegExp> = {};

/**
 * jit(f)(...xs) on ONNX Runtime against the interpreter on f's program; checks that a session ran
 * it, or (`fallback`) that it fell back to wasm with a log line matching that reason.
 */
function checkAgainstInterpreter(f: (...xs: Tensor[]) => Tensor | Tensor[], xs: Tensor[], tol: { rtol: number; atol: number }, what: string, fallback?: RegExp): void {
  const want = interpret(makeProgram(f)(...xs), xs);
  const got = jit(f, { name: "row" })(...xs) as Tensor | Tensor[];
  const outs = Array.isArray(got) ? got : [got];
  expect(outs.length).toBe(want.length);
  outs.forEach((g, i) => {
    expect(g.shape, `${what} output ${i} shape`).toEqual(want[i]!.shape);
    expect(g.dtype, `${what} output ${i} dtype`).toBe(want[i]!.dtype);
    const t = want[i]!.dtype === "float32" ? TOL.float32 : tol;
    assertClose(g.dataSync(), want[i]!.dataSync(), { ...t, what: `${what} output ${i}` });
  });
  if (fallback) {
    expect(fallbacks().map((e) => e.message)).toEqual([expect.stringMatching(fallback)]);
    return;
  }
  expect(fallbacks().map((e) => e.message)).toEqual([]);
  expect(sessions().length, `${what}: ran in an ONNX Runtime session`).toBeGreaterThan(0);
}

describe('config.backend "onnxruntime": the primitive table under jit', () => {
  for (const row of ROWS) {
    for (const dtype of ["float64", "float32"] as const) {
      it.skipIf(dtype === "float32" && FLOAT64_ONLY.has(row.prim))(`${title(row)}: value in ${dtype}`, () => {
        checkAgainstInterpreter(row.fn, makeArgs(row.args, 1, dtype), TOL[dtype], title(row));
      });
    }
    const floats = row.args.flatMap((a, i) => (a.dtype ? [] : [i]));
    it.skipIf(row.nondiff || floats.length === 0)(`${title(row)}: gradient in float64`, () => {
      const xs = makeArgs(row.args, 2, "float64");
      const out = makeProgram(row.fn)(...xs).outAvals[0]!;
      const w = rand(out.shape as number[], 7);
      const loss = (...ys: Tensor[]) => np.sum(np.multiply(row.fn(...ys), w));
      const g = grad(loss, { argnums: floats });
      checkAgainstInterpreter((...ys: Tensor[]) => g(...ys) as Tensor[], xs, GRAD_TOL, `grad ${title(row)}`, GRAD_FALLBACK[title(row)]);
    });
  }
});

describe('config.backend "onnxruntime": programs and transformations under jit', () => {
  const mlpLoss = (p: { w1: Tensor; b1: Tensor; w2: Tensor }, x: Tensor, y: Tensor) => {
    const h = np.tanh(np.add(np.matmul(x, p.w1), p.b1));
    const logits = np.matmul(h, p.w2);
    const m = np.max(logits, { axis: -1, keepdims: true });
    const lse = np.add(np.log(np.sum(np.exp(np.subtract(logits, m)), { axis: -1, keepdims: true })), m);
    return np.mean(np.sum(np.multiply(np.subtract(lse, logits), y), { axis: -1 }));
  };

  it("the MLP step (valueAndGrad) agrees with the interpreter in float32 and float64", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const p = { w1: rand([8, 16], 1, -0.5, 0.5, dtype), b1: rand([16], 2, -0.1, 0.1, dtype), w2: rand([16, 4], 3, -0.5, 0.5, dtype) };
      const x = rand([32, 8], 4, -1, 1, dtype);
      const y = tensor(Array.from({ length: 32 * 4 }, (_, i) => (i % 4 === Math.floor(i / 4) % 4 ? 1 : 0)), [32, 4], dtype);
      const step = valueAndGrad(mlpLoss);
      const [loss, gp] = jit(step)(p, x, y) as [Tensor, Record<string, Tensor>];
      // the reference: the same jitted step on the interpreter backend
      config.update({ backend: "interp" });
      const [rloss, rgp] = jit(step)(p, x, y) as [Tensor, Record<string, Tensor>];
      config.update({ backend: "onnxruntime" });
      const tol = dtype === "float32" ? { rtol: 1e-4, atol: 1e-6 } : GRAD_TOL;
      assertClose(loss.dataSync(), rloss.dataSync(), { ...tol, what: `${dtype} loss` });
      for (const k of Object.keys(p)) assertClose(gp[k]!.dataSync(), rgp[k]!.dataSync(), { ...tol, what: `${dtype} grad ${k}` });
    }
    expect(fallbacks()).toEqual([]);
    expect(sessions().length).toBe(2);
  });

  it("a scan (value and gradient) and a while loop run in sessions and agree with the interpreter", () => {
    const cumTanh = (c0: Tensor, xs: Tensor) => {
      const [c, ys] = lax.scan((c: Tensor, x: Tensor) => {
        const n = np.tanh(np.add(np.multiply(c, 0.9), x));
        return [n, np.multiply(n, n)];
      }, c0, xs);
      return np.add(np.sum(c), np.sum(ys));
    };
    const c0 = rand([3], 1);
    const xs = rand([6, 3], 2);
    checkAgainstInterpreter(cumTanh, [c0, xs], TOL.float64, "scan");
    checkAgainstInterpreter((a: Tensor, b: Tensor) => grad(cumTanh, { argnums: [0, 1] })(a, b) as Tensor[], [c0, xs], GRAD_TOL, "grad scan");
    const halve = (x: Tensor) => lax.whileLoop((c: Tensor) => np.greater(np.sum(np.abs(c)), 0.1), (c: Tensor) => np.multiply(c, 0.5), x);
    checkAgainstInterpreter(halve, [rand([4], 3, 1, 2)], TOL.float64, "while");
  });

  it("vmap, jvp and vjp inside jit are staged into the program and run in the session", () => {
    const f = (x: Tensor, w: Tensor) => np.sin(np.matmul(x, w));
    const x = rand([5, 3], 1);
    const w = rand([3, 2], 2);
    const v = rand([5, 3], 3);
    checkAgainstInterpreter((xx: Tensor, ww: Tensor) => vmap((row: Tensor) => f(row.reshape([1, 3]), ww).reshape([2]))(xx), [x, w], TOL.float64, "vmap");
    checkAgainstInterpreter((xx: Tensor, vv: Tensor) => jvp((a: Tensor) => f(a, w), [xx], [vv]) as Tensor[], [x, v], TOL.float64, "jvp");
    const ct = rand([5, 2], 4);
    checkAgainstInterpreter((xx: Tensor, ww: Tensor) => {
      const [, pull] = vjp(f, xx, ww);
      return pull(ct) as Tensor[];
    }, [x, w], GRAD_TOL, "vjp");
  });

  it("a weakly typed result (from a JS number argument) stays weakly typed, as on wasm", () => {
    const r = jit((a: Tensor) => np.multiply(a, 2))(3) as Tensor;
    expect(sessions().length).toBe(1);
    expect([r.dtype, r.aval.weak, r.item()]).toEqual(["float32", true, 6]);
  });

  it("one session serves a symbolic batch at two sizes", () => {
    const f = (x: Tensor, w: Tensor) => np.sum(np.tanh(np.matmul(x, w)), { axis: -1 });
    const jf = jit(grad((x: Tensor, w: Tensor) => np.sum(f(x, w)), { argnums: [0, 1] }), { shapes: [["B", 3], null] });
    const w = rand([3, 4], 9);
    for (const b of [2, 7]) {
      const x = rand([b, 3], b);
      const got = jf(x, w) as Tensor[];
      const want = interpret(makeProgram((a: Tensor, c: Tensor) => grad((xx: Tensor, ww: Tensor) => np.sum(f(xx, ww)), { argnums: [0, 1] })(a, c) as Tensor[])(x, w), [x, w]);
      expect(got[0]!.shape).toEqual([b, 3]);
      got.forEach((g, i) => assertClose(g.dataSync(), want[i]!.dataSync(), { ...GRAD_TOL, what: `B=${b} output ${i}` }));
    }
    expect(jf.cacheInfo().misses).toBe(1);
    expect(sessions().length).toBe(1);
  });
});

describe('config.backend "onnxruntime": keys, tiering, fallback, errors', () => {
  it("execution provider and thread count are key components: a change is a miss naming them, and back is a hit", () => {
    const jf = jit((x: Tensor) => np.exp(x), { name: "keyed" });
    const x = rand([4], 1);
    jf(x);
    config.update({ ortThreads: 1 });
    jf(x);
    expect(jf.cacheInfo().misses).toBe(2);
    expect(jf.cacheInfo().lastMiss?.reason).toBe("backend onnxruntime:cpu:threads=0 -> onnxruntime:cpu:threads=1");
    config.update({ ortThreads: 0 });
    jf(x);
    expect(jf.cacheInfo()).toMatchObject({ misses: 2, hits: 1 });
    // the provider: the key (memory and disk cache share keyParts) differs before anything is compiled
    const parts = () => keyString(keyParts({ kind: "array", children: [{ kind: "leaf" }] }, [x.aval], []));
    const cpu = parts();
    config.update({ ortProvider: "cuda" });
    expect(parts()).not.toBe(cpu);
    expect(parts()).toContain("onnxruntime:cuda:threads=0");
    config.update({ backend: "wasm" });
    expect(parts()).not.toContain("onnxruntime"); // ORT options are not part of other backends' keys
  });

  it("a provider the build does not have is an ArgumentError at compile time, not a fallback", () => {
    config.update({ ortProvider: "no-such-device" });
    const jf = jit((x: Tensor) => np.exp(x));
    expect(() => jf(rand([3], 1))).toThrow(ArgumentError);
    expect(() => jf(rand([3], 1))).toThrow(/execution provider "no-such-device" is not available in this onnxruntime-node build \(available: cpu/);
  });

  it("a program with a primitive ONNX cannot map runs on wasm, with a log line naming it, and gives the right numbers", () => {
    const rules = ONNX_RULES as unknown as Record<string, unknown>;
    const sin = rules["sin"];
    delete rules["sin"]; // as if sin had no ONNX mapping
    try {
      const f = (x: Tensor) => np.multiply(np.sin(x), np.exp(x));
      const x = rand([5], 4);
      const got = jit(f, { name: "unmappable" })(x) as Tensor;
      assertClose(got.dataSync(), interpret(makeProgram(f)(x), [x])[0]!.dataSync(), { rtol: 1e-12, atol: 1e-14 });
      expect(fallbacks().map((e) => e.message)).toEqual([
        expect.stringMatching(/^jit\(unmappable\): ONNX Runtime cannot run this program \(exportOnnx: primitive sin \(from .*onnx-jit\.test\.ts:\d+.*\) cannot be exported to ONNX: it has no ONNX mapping.*\); running it on the wasm backend$/),
      ]);
      expect(sessions()).toEqual([]);
      expect(events.some((e) => e.kind === "compile" && /generated \d+ kernels/.test(e.message))).toBe(true);
    } finally {
      rules["sin"] = sin;
    }
  });

  it("a gradient through a while loop runs in a session (static shapes: the reverse re-runs the loop) and is right", () => {
    const f = (x: Tensor) => np.sum(lax.whileLoop((c: Tensor) => np.less(np.sum(c), 10), (c: Tensor) => np.multiply(c, 1.5), x));
    const x = rand([3], 5, 0.5, 1);
    const got = jit(grad(f), { name: "whilegrad" })(x) as Tensor;
    assertClose(got.dataSync(), interpret(makeProgram(grad(f))(x), [x])[0]!.dataSync(), { rtol: 1e-12, atol: 1e-14 });
    expect(fallbacks().length).toBe(0);
    expect(sessions().length).toBe(1);
  });

  it("tiering: below ortMinWork a program runs on wasm, at or above it in a session", () => {
    config.update({ ortMinWork: 1000 });
    const f = (x: Tensor) => np.tanh(np.multiply(x, 2));
    jit(f)(rand([4], 1)); // work 8
    expect(sessions()).toEqual([]);
    expect(events.some((e) => e.kind === "compile" && /generated \d+ kernels/.test(e.message))).toBe(true);
    jit(f)(rand([600], 1)); // work 1200
    expect(sessions().length).toBe(1);
  });

  it("bad backend options are ArgumentErrors naming the option; nothing changes", () => {
    expect(() => config.update({ backend: "onnx" as never })).toThrow(/backend must be one of "wasm", "js", "interp" or "onnxruntime"/);
    expect(() => config.update({ ortThreads: -1 })).toThrow(/ortThreads must be an integer/);
    expect(() => config.update({ ortThreads: 1.5 })).toThrow(ArgumentError);
    expect(() => config.update({ ortProvider: "" })).toThrow(/ortProvider must be an execution provider name/);
    expect(() => config.update({ ortProvider: 3 as never })).toThrow(ArgumentError);
    expect(() => config.update({ ortMinWork: -1 })).toThrow(/ortMinWork/);
    expect(() => config.update({ ortProvidr: "cpu" } as never)).toThrow(/Did you mean "ortProvider"/);
    expect(config).toMatchObject({ ortProvider: "cpu", ortThreads: 0, ortMinWork: 0 });
  });
});

describe('config.backend "onnxruntime" without onnxruntime-node', () => {
  const dir = mkdtempSync(join(tmpdir(), "adgen-ort-missing-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is a typed error naming the package and how to install it", () => {
    // a preload that makes onnxruntime-node unresolvable, as when the optional peer is not installed
    const preload = join(dir, "hide-ort.cjs");
    writeFileSync(
      preload,
      `const M = require("module"); const r = M._resolveFilename;
       M._resolveFilename = function (req, ...rest) { if (String(req).startsWith("onnxruntime-node")) { const e = new Error("Cannot find module '" + req + "'"); e.code = "MODULE_NOT_FOUND"; throw e; } return r.call(this, req, ...rest); };`,
    );
    const script = join(dir, "run.mts");
    const entry = resolve("src/index.ts");
    writeFileSync(
      script,
      `import { config, jit, np, ArgumentError } from ${JSON.stringify(entry)};
       config.update({ backend: "onnxruntime", ortMinWork: 0, interpretBelowWork: 0 });
       try { jit((x) => np.exp(x))(np.ones([3])); console.log("NO ERROR"); }
       catch (e) { console.log(JSON.stringify({ argumentError: e instanceof ArgumentError, message: e.message })); }`,
    );
    const r = spawnSync(process.execPath, ["--require", preload, "--import", "tsx", script], { encoding: "utf8", timeout: 120_000 });
    const line = r.stdout.trim().split("\n").pop() ?? "";
    expect(line, r.stderr).not.toBe("NO ERROR");
    const out = JSON.parse(line) as { argumentError: boolean; message: string };
    expect(out.argumentError).toBe(true);
    expect(out.message).toMatch(/needs the optional peer dependency onnxruntime-node .*npm install onnxruntime-node/);
  }, 120_000);
});
