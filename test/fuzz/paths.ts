// Runs one fuzzer program through every execution path adgen offers and compares each with the
// path the contract says it must equal:
//   bit for bit (NaN == NaN, but -0 != +0) with eager evaluation: jit on the "interp", "js" and
//     "wasm" backends, tiered jit (interpreted first, compiled once hot), exported modules (wasm
//     and js), vmap against a loop of eager calls, jvp's primal output; and with eager `grad`:
//     the eager tape, `vjp`, and jit/export of `grad`;
//   within a tolerance scaled by the reference's error bound, with the independent reference
//     (ref.ts, float64 programs only): eager values, grad, vjp, jvp, and grad-of-vmap-of-jit.
// Each check is one "path"; a failing path yields a Failure with a pasteable repro.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Tensor, config, exportFunction, grad, jacfwd, jacrev, jit, jvp, np, spec, variable, vjp, vmap } from "../../src/index.js";
import { encodeNumber } from "../../src/core/encode.js";
import { rng } from "../../bench/workloads/data.js";
import { type Prog, size } from "./ast.js";
import { type Fn, buildFn, programCode, reproCode } from "./print.js";
import { evaluate, refGrad, refJvp } from "./ref.js";

export type Backend = "interp" | "js" | "wasm";
export const BACKENDS: Backend[] = ["interp", "js", "wasm"];

export interface Failure {
  path: string;
  /** which input set: "special" (signed zeros, infinities, NaN, subnormals, extremes) or "smooth" */
  set: string;
  detail: string;
  repro: string;
}

export interface Options {
  /** run the exported-module paths (writes and imports a module per program and path) */
  exportModules: boolean;
  /** a deliberately wrong reference (self-check: the comparisons must catch it) */
  mutateReference?: boolean;
}

export interface Outcome {
  /** the program was rejected by eager evaluation (an adgen error): nothing to compare */
  rejected: string | null;
  checks: number;
  /** reference checks skipped because of a kink / ill-conditioning at the input */
  skippedRef: number;
  failures: Failure[];
}

const SPECIALS = [0, -0, NaN, Infinity, -Infinity, 1e-310, 5e-324, 1e-40, 1e30, -1e300, 3.4e38, -2, 0.5, 1, -1];

/** Input sets for a program: [special, smooth, smooth2], rounded to the program's dtype. */
export function inputSets(p: Prog, seed: number): Float64Array[][] {
  const r = rng(seed);
  const round = (d: Float64Array) => (p.dt === "float32" ? Float64Array.from(Float32Array.from(d)) : d);
  const smooth = () => p.inputs.map((sh) => round(Float64Array.from({ length: size(sh) }, () => (r() < 0.5 ? -1 : 1) * (0.3 + 1.4 * r()))));
  const special = p.inputs.map((sh) =>
    round(Float64Array.from({ length: size(sh) }, () => (r() < 0.35 ? SPECIALS[Math.floor(r() * SPECIALS.length)]! : (r() - 0.5) * 6))));
  return [special, smooth(), smooth()];
}

/** Flat float64 data of a result (a plain JS number is what a weak scalar tensor would hold). */
const flat = (t: any): Float64Array =>
  t instanceof Tensor ? Float64Array.from(t.dataSync()) : typeof t === "number" ? flat(np.asarray(t)) : Float64Array.from(t.data);

/** Bit-equal as numbers: the canonical encoding distinguishes -0 and +0 and equates NaNs. */
export function bitDiff(got: Float64Array, want: Float64Array): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    if (encodeNumber(got[i]!) !== encodeNumber(want[i]!)) return `element ${i}: got ${encodeNumber(got[i]!)}, expected ${encodeNumber(want[i]!)}`;
  }
  return null;
}

/** Within rtol of the reference's error scale `m`; non-finite expectations must match exactly. */
export function tolDiff(got: Float64Array, want: Float64Array, m: Float64Array, rtol: number): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const [a, e] = [got[i]!, want[i]!];
    if (Number.isFinite(e) && !Number.isFinite(m[i]!)) continue; // no meaningful error bound here
    if (Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= rtol * (m[i]! + Math.abs(e)) + 1e-300) continue;
    return `element ${i}: got ${encodeNumber(a)}, expected ${encodeNumber(e)} (tolerance ${rtol} x ${encodeNumber(m[i]! + Math.abs(e))})`;
  }
  return null;
}

/** Milliseconds spent per path (backends merged), for tuning the bounded run's budget. */
export const PATH_MS = new Map<string, number>();

let exportDir: string | null = null;
let exportCount = 0;
/** Writes an export to a temporary directory and imports it. */
async function loadExport(f: Fn, p: Prog, backend: "wasm" | "js", batch?: string): Promise<any> {
  exportDir ??= mkdtempSync(join(tmpdir(), "adgen-fuzz-"));
  const name = `fz${exportCount++}`;
  const e = exportFunction(f, p.inputs.map((sh) => spec(p.dt, batch ? [batch, ...sh] : sh)), { name, backend });
  await e.write(exportDir);
  return (await import(/* @vite-ignore */ pathToFileURL(join(exportDir, e.manifest.files.module)).href)).default;
}
export function cleanupExports(): void {
  if (exportDir) rmSync(exportDir, { recursive: true, force: true });
  exportDir = null;
}

const DEFAULTS = { backend: config.backend, interpretBelowWork: config.interpretBelowWork, hotCalls: config.hotCalls, logger: config.logger };
function withBackend<T>(backend: Backend, eagerCompile: boolean, f: () => T): T {
  config.update({ backend, interpretBelowWork: eagerCompile ? 0 : DEFAULTS.interpretBelowWork });
  try {
    return f();
  } finally {
    config.update({ backend: DEFAULTS.backend, interpretBelowWork: DEFAULTS.interpretBelowWork });
  }
}

function withCapture<T>(f: () => T): T {
  config.update({ capture: true });
  try {
    return f();
  } finally {
    config.update({ capture: false });
  }
}

const errText = (e: unknown) => (e instanceof Error ? `${e.constructor.name}: ${e.message.split("\n")[0]}` : String(e));

/** Runs every path of `p` and returns what disagreed. */
export async function checkProgram(p: Prog, seed: number, opts: Options): Promise<Outcome> {
  const out: Outcome = { rejected: null, checks: 0, skippedRef: 0, failures: [] };
  const f = buildFn(p);
  const sets = inputSets(p, seed);
  const tensors = (vals: Float64Array[]) => vals.map((d, i) => np.reshape(np.array(d, { dtype: p.dt }), p.inputs[i]!));
  const setName = (s: number) => ["special", "smooth", "smooth2"][s]!;
  const argnums = p.inputs.map((_, i) => i);
  // one jitted function per backend and kind, reused over the input sets (compiled once: the
  // sets share shapes, so later calls run the same compiled code on other values)
  const jits = new Map<string, Fn>();
  const jitted = (key: string, make: () => Fn) => jits.get(key) ?? jits.set(key, make()).get(key)!;
  const hf = buildFn(p, true);
  const hjit = jit(hf);

  // eager: the baseline every other path is compared with
  const eager: Float64Array[] = [];
  let outShape: number[] = [];
  let outDtype: "float32" | "float64" = p.dt;
  try {
    for (const s of sets) {
      const r = f(...tensors(s));
      eager.push(flat(r));
      outShape = r instanceof Tensor ? (r.shape as number[]) : [];
      outDtype = r instanceof Tensor ? (r.dtype as "float32" | "float64") : Number.isInteger(r) ? ("int32" as any) : "float32"; // JS numbers are weak
    }
  } catch (e) {
    out.rejected = errText(e);
    return out;
  }
  const W = Float64Array.from({ length: size(outShape) }, (_, i) => 0.5 + ((i * 7) % 5) * 0.25 * (i % 2 ? -1 : 1));
  const Wt = () => np.reshape(np.array(W, { dtype: outDtype }), outShape);
  const loss = (...xs: unknown[]) => np.sum(np.multiply(f(...xs), Wt()));

  const fail = (path: string, s: number, detail: string, run: string) =>
    out.failures.push({ path, set: setName(s), detail, repro: reproCode(p, sets[s]!, run) });
  /** Runs one path on input set s; compares with `cmp`, which returns a difference or null. */
  const check = async (path: string, s: number, run: string, get: () => Float64Array | Promise<Float64Array>, cmp: (got: Float64Array) => string | null) => {
    out.checks++;
    let got: Float64Array;
    const t0 = performance.now();
    try {
      got = await get();
    } catch (e) {
      fail(path, s, `throws ${errText(e)}`, run);
      return;
    } finally {
      const key = path.replace(/:(interp|js|wasm)/, "");
      PATH_MS.set(key, (PATH_MS.get(key) ?? 0) + performance.now() - t0);
    }
    const d = cmp(got);
    if (d !== null) fail(path, s, d, run);
  };
  const argList = p.inputs.map((_, i) => `x${i}`).join(", ");
  const cat = (xs: any[]) => Float64Array.from(xs.flatMap((x) => Array.from(flat(x))));

  // eager gradients (baseline of the derivative paths); a rejection here is a finding too. An
  // integer result (JS integer literals are weak int32: np.add(1, 1)) has nothing to differentiate.
  const eagerGrad: (Float64Array | null)[] = [];
  const floatOut = outDtype === "float32" || outDtype === "float64";
  for (let s = 0; s < sets.length; s++) {
    if (!floatOut) { eagerGrad.push(null); continue; }
    try {
      eagerGrad.push(cat(grad(loss, { argnums })(...tensors(sets[s]!)) as any[]));
    } catch (e) {
      eagerGrad.push(null);
      fail("grad", s, `throws ${errText(e)} (eager value works)`, `grad(loss, { argnums: [${argnums}] })(${argList})`);
    }
  }
  const lossCode = `const loss = (${argList}) => np.sum(np.multiply(f(${argList}), np.reshape(np.array([${Array.from(W)}], { dtype: "${outDtype}" }), [${outShape}])));`;

  for (let s = 0; s < sets.length; s++) {
    const xs = () => tensors(sets[s]!);
    const want = eager[s]!;
    const bits = (g: Float64Array) => bitDiff(g, want);
    // jit on each backend, compiled from the first call
    for (const b of BACKENDS) {
      await check(`jit:${b}`, s, `config.update({ backend: "${b}", interpretBelowWork: 0 });\nconsole.log(jit(f)(${argList}).dataSync(), f(${argList}).dataSync());`,
        () => withBackend(b, true, () => flat(jitted(`f ${b}`, () => jit(f))(...xs()))), bits);
    }
    if (s === 0) {
      // tiering with default settings: every call must give the same bits
      await check("jit:tiered", s, `const g = jit(f);\nfor (let i = 0; i < 5; i++) console.log(g(${argList}).dataSync());`, () => {
        const g = jit(f);
        for (let i = 0; i < 4; i++) { const d = bitDiff(flat(g(...xs())), want); if (d) throw new Error(`call ${i + 1}: ${d}`); }
        return flat(g(...xs()));
      }, bits);
      if (opts.exportModules) {
        for (const b of ["wasm", "js"] as const) {
          await check(`export:${b}`, s, `const m = await import(<exportFunction(f, specs, { backend: "${b}" }).write(dir)>);\nconsole.log(m.default(${argList}).data);`,
            async () => flat((await loadExport(f, p, b))(...xs())), bits);
        }
      }
      // vmap over all input sets against eager on each, and the same exported with a symbolic batch
      const stackedSets = () => p.inputs.map((_, i) => np.stack(sets.map((set) => tensors(set)[i]!)));
      const allEager = Float64Array.from(eager.flatMap((e) => Array.from(e)));
      if (opts.exportModules) {
        await check("export:vmap:symbolic", s, `const m = await import(<exportFunction(vmap(f), [spec(dtype, ["B", ...shape]) per argument]).write(dir)>);\nm.default(...[set0, set1, set2] stacked per argument)[k] vs f(...set_k)`,
          async () => flat((await loadExport(vmap(f), p, "wasm", "B"))(...stackedSets())), (g) => bitDiff(g, allEager));
      }
      await check("vmap", s, `const xb = [${sets.map((_, k) => `set${k}`).join(", ")}] stacked per argument;\nvmap(f)(...xb)[k] vs f(...set_k)`, () => {
        return flat(vmap(f)(...stackedSets()));
      }, (g) => bitDiff(g, allEager));
    }
    // hybrid: the program with JS branches on observed values (graph breaks), jitted once and
    // called on every input set (later calls replay the captured regions), must give eager's bits;
    // and the same eagerly with config.capture (deferred regions, flushed at each observation)
    const hrun = `const h = ${programCode(p, true)};\nconst hj = jit(h); // called on the other input sets first`;
    await check("hybrid:jit", s, `${hrun}\nconsole.log(hj(${argList}).dataSync())`, () => withBackend("wasm", true, () => flat(hjit(...xs()))), bits);
    if (s === 0) {
      await check("hybrid:capture", s, `config.update({ capture: true });\nconst h = ${programCode(p, true)};\nfor (let i = 0; i < 3; i++) console.log(h(${argList}).dataSync());`, () => withCapture(() => {
        for (let i = 0; i < 2; i++) { const d = bitDiff(flat(hf(...xs())), want); if (d) throw new Error(`call ${i + 1}: ${d}`); }
        return flat(hf(...xs()));
      }), bits);
    }
    // jvp's primal output is the eager value
    const T = sets[s === 1 ? 2 : 1]!; // smooth tangents
    let jvpOut: [Float64Array, Float64Array] | null = null;
    await check("jvp:primal", s, `jvp(f, [${argList}], tangents)[0]`, () => {
      const [o, t] = jvp(f, xs(), tensors(T));
      jvpOut = [flat(o), flat(t)];
      return jvpOut[0];
    }, bits);

    const g = eagerGrad[s];
    if (!g) continue;
    // the tape, vjp and compiled gradients equal eager grad bit for bit (the tape refuses a loss
    // that does not depend on any variable, as PyTorch does)
    await check("tape", s, `${lossCode}\nconst vs = [${argList}].map(variable);\nloss(...vs).backward();\nvs.map((v) => v.grad) vs grad(loss, { argnums })(...)`, () => {
      const vs = xs().map((x) => variable(x));
      try {
        (loss(...vs) as any).backward();
      } catch (e) {
        // refusing a loss that does not depend on any variable is right when every gradient is 0
        if (/does not depend on any variable/.test(String(e)) && g.every((x) => x === 0)) return g;
        throw e;
      }
      return cat(vs.map((v: any) => v.grad ?? np.zerosLike(v)));
    }, (x) => bitDiff(x, g));
    await check("vjp", s, `${lossCode}\nconst [, pb] = vjp(f, ${argList}); pb(W) vs grad(loss, { argnums: [${argnums}] })(${argList})`, () => {
      const [, pb] = vjp(f, ...xs());
      return cat(pb(Wt()));
    }, (x) => bitDiff(x, g));
    for (const b of BACKENDS) {
      await check(`jit:${b}:grad`, s, `${lossCode}\nconfig.update({ backend: "${b}", interpretBelowWork: 0 });\nconsole.log(jit(grad(loss, { argnums: [${argnums}] }))(${argList}), grad(loss, { argnums: [${argnums}] })(${argList}));`,
        () => withBackend(b, true, () => cat(jitted(`grad ${b}`, () => jit(grad(loss, { argnums })))(...xs()) as any[])), (x) => bitDiff(x, g));
    }
    const hloss = (...a: unknown[]) => np.sum(np.multiply(hf(...a), Wt()));
    if (s === 0) await check("hybrid:jit:grad", s, `${lossCode.replace("f(", "h(")}\nconst h = ${programCode(p, true)};\njit(grad(loss, { argnums: [${argnums}] }))(${argList}) vs grad of f`,
      () => withBackend("wasm", true, () => cat(jit(grad(hloss, { argnums }))(...xs()) as any[])), (x) => bitDiff(x, g));
    if (s === 0 && opts.exportModules) {
      await check("export:wasm:grad", s, `${lossCode}\nconst m = await import(<exportFunction(grad(loss, { argnums: [${argnums}] }), specs).write(dir)>);`,
        async () => cat(await (await loadExport(grad(loss, { argnums }), p, "wasm"))(...xs())), (x) => bitDiff(x, g));
    }

    // the independent reference (float32 programs with float32 error scales)
    let ref = evaluate(p, sets[s]!);
    // a weak result (built from JS numbers only) is materialized as float32
    if (ref.out.weak) ref = { ...ref, out: { ...ref.out, v: ref.out.v.map(Math.fround) } };
    if (opts.mutateReference) ref = { ...ref, out: { ...ref.out, v: ref.out.v.map((v, i) => (i === 0 ? v * (1 + 1e-6) + 1e-6 : v)) } };
    // a float32 value whose error scale (the magnitudes it was computed from) exceeds float32's
    // range may overflow or not depending on the summation order (F18: mean of [3.4e38, 3.4e38,
    // ...] is Infinity in float32, as in NumPy and JAX, where the float64 reference is 2.5e37):
    // not compared with the reference (the bit-for-bit paths still compare adgen with itself)
    const valueScale = p.dt === "float32" ? ref.out.mv.map((m) => (m > 3.4028234663852886e38 ? Infinity : m)) : ref.out.mv;
    await check("eager~ref", s, `console.log(f(${argList}).dataSync())`, () => want, (x) => (ref.kink ? null : tolDiff(x, ref.out.v, valueScale, 1e-12)));
    if (ref.kink || ref.ill) {
      out.skippedRef++;
      continue;
    }
    const sizes = p.inputs.map(size);
    // derivatives w.r.t. float32 inputs are float32 arrays: one more float32 rounding
    // (and below float32's normal range they underflow: an absolute 1e-38 after rtol)
    const slack = (want: Float64Array, m: Float64Array) => (p.dt === "float32" ? m.map((x, i) => x + 2 ** 13 * Math.abs(want[i]!) + 1e-29) : m);
    // ... and a derivative beyond float32's range is +-Infinity there, as in JAX (F16: the exact
    // gradient of a float64 result w.r.t. a float32 input can exceed 3.4e38)
    const asInput = (v: Float64Array) => (p.dt === "float32" ? v.map((x) => (Math.abs(x) > 3.4028234663852886e38 ? Math.fround(x) : x)) : v);
    const rg = refGrad(ref, W, sizes);
    const rgFlat = asInput(Float64Array.from(rg.g.flatMap((x) => Array.from(x))));
    const rgM = Float64Array.from(rg.m.flatMap((x) => Array.from(x)));
    if (opts.mutateReference && rgFlat.length) rgFlat[0] = rgFlat[0]! * (1 + 1e-6) + 1e-6;
    await check("grad~ref", s, `${lossCode}\nconsole.log(grad(loss, { argnums: [${argnums}] })(${argList}))`, () => g, (x) => tolDiff(x, rgFlat, slack(rgFlat, rgM), 1e-9));
    if (jvpOut) {
      const rj = refJvp(ref, T);
      const [, tangentOut] = jvpOut as [Float64Array, Float64Array];
      await check("jvp~ref", s, `jvp(f, [${argList}], tangents)[1] with tangents = the next input set`, () => tangentOut, (x) => tolDiff(x, rj.d, slack(rj.d, rj.m), 1e-9));
    }
    // full Jacobians w.r.t. argument 0 (out.shape + in.shape): rows of the reference's tangents
    const n0 = sizes[0]!;
    const nT = sizes.reduce((a, b) => a + b, 0);
    if (ref.out.d && ref.out.md && ref.out.v.length * n0 <= 400) {
      const nOut = ref.out.v.length;
      const J = new Float64Array(nOut * n0);
      const JM = new Float64Array(nOut * n0);
      for (let k = 0; k < nOut; k++) for (let t = 0; t < n0; t++) { J[k * n0 + t] = ref.out.d[k * nT + t]!; JM[k * n0 + t] = ref.out.md[k * nT + t]!; }
      for (const [name, jac] of [["jacfwd", jacfwd], ["jacrev", jacrev]] as const) {
        // jacrev's rows are cotangents of the (float32) input, jacfwd's columns tangents of the output
        const Jw = name === "jacrev" ? asInput(J) : J;
        await check(`${name}~ref`, s, `${name}(f)(${argList})`, () => flat(jac(f)(...xs())), (x) => tolDiff(x, Jw, slack(J, JM), 1e-9));
      }
    }
    if (s === 1) {
      // grad of vmap of jit over both smooth sets, against the reference gradient of each
      const ref2 = evaluate(p, sets[2]!);
      if (ref2.kink || ref2.ill) continue;
      const rg2 = refGrad(ref2, W, sizes);
      await check("grad(vmap(jit))~ref", s, `${lossCode}\nconst lb = (...xb) => np.sum(np.multiply(vmap(jit(f))(...xb), W stacked twice));\ngrad(lb, { argnums })(...[smooth, smooth2] stacked)`, () => {
        const stacked = p.inputs.map((_, i) => np.stack([1, 2].map((k) => tensors(sets[k]!)[i]!)));
        const Wb = np.stack([Wt(), Wt()]);
        const lb = (...xb: unknown[]) => np.sum(np.multiply(vmap(jit(f))(...xb), Wb));
        const gb = grad(lb, { argnums })(...stacked) as Tensor[];
        // per argument [2, ...shape] -> batch 0 of every argument, then batch 1
        const per = gb.map((t) => flat(t));
        return Float64Array.from([0, 1].flatMap((k) => per.flatMap((d) => Array.from(d.subarray((k * d.length) / 2, ((k + 1) * d.length) / 2)))));
      }, (x) => {
        const want = Float64Array.from([...rgFlat, ...asInput(Float64Array.from(rg2.g.flatMap((a) => Array.from(a))))]);
        return tolDiff(x, want, slack(want, Float64Array.from([...rgM, ...rg2.m.flatMap((a) => Array.from(a))])), 1e-9);
      });
    }
  }
  return out;
}
