// Turns a lowered program into a callable: generates the JS source, compiles it with
// `new Function` on first run (the source is built only from the kernel IR), binds symbolic dimensions from the
// arguments' shapes, plans the arena (once for static programs, once per binding of the symbols
// for shape-polymorphic ones, cached) and wraps inputs/outputs.

import { profiled } from "../../core/profile.js";
import { ShapedArray } from "../../core/aval.js";
import { ArgumentError } from "../../core/errors.js";
import { type TypedArray, viewArray } from "../../core/dtype.js";
import { evalDim, isConcreteShape } from "../../core/shape.js";
import { type Binding, bindSymbols, instantiateParams } from "../../core/symbols.js";
import { Tensor } from "../../core/tensor.js";
import { type LoweredProgram, callKernels } from "../../lower/kernel-ir.js";
import { type Executable, outputTensor } from "../executable.js";
import { type MemoryPlan, planMemory } from "../../lower/memory.js";
import { type DonationPlan, donationFor, unsharedInputs } from "../../lower/memory-donate.js";
import { matmul } from "../../prims/ref/matmul.js";
import { generateJs } from "./codegen.js";

export type { Executable } from "../executable.js";

type RunFn = (inputs: TypedArray[], temps: TypedArray[], S: number[]) => TypedArray[];
type CallFn = (S: number[], ...arrays: TypedArray[]) => void;

/** Arena views of the temps for one set of buffer sizes. */
function tempsFor(lp: LoweredProgram, sizes: number[], plan = profiled("plan", () => planMemory(lp, sizes))): { plan: MemoryPlan; temps: TypedArray[] } {
  const arena = new ArrayBuffer(Math.max(8, plan.arenaBytes));
  const temps: TypedArray[] = [];
  for (const b of lp.buffers) if (b.kind === "temp") temps[b.id] = viewArray(b.dtype, arena, plan.offsets[b.id]!, sizes[b.id]!);
  return { plan, temps };
}

const MAX_PLANS = 8;

/** Output of an earlier compile of the same lowered program (the jit disk cache): skips codegen. */
export interface PrebuiltJs {
  source: string;
  /** the memory plan of a static program */
  plan: MemoryPlan | null;
}

/**
 * The one place the JS backend evaluates a string (backend "js", chosen explicitly or as the
 * fallback where WebAssembly is missing). Where code generation from strings is disallowed, says
 * which backends work instead.
 */
function compileSource(source: string, name: string): (consts: TypedArray[], calls: CallFn[], mm: typeof matmul) => RunFn {
  try {
    return profiled("js-eval", () => new Function("consts", "calls", "matmul", source)) as (consts: TypedArray[], calls: CallFn[], mm: typeof matmul) => RunFn;
  } catch (e) {
    if (!(e instanceof EvalError)) throw e;
    throw new ArgumentError(
      `jit (${name}): the "js" backend compiles generated JavaScript, which this environment forbids (${e.message}; ` +
        `a Content-Security-Policy without 'unsafe-eval'?). Use config.update({ backend: "wasm" }) (needs only 'wasm-unsafe-eval') or "interp".`,
    );
  }
}

export function compileJs(lp: LoweredProgram, name = "program", prebuilt?: PrebuiltJs): Executable {
  const symbolic = lp.symbols.length > 0;
  const sizesOf = (env: Binding) => lp.buffers.map((b) => evalDim(b.size, env));
  const staticTemps = symbolic ? null : tempsFor(lp, sizesOf({}), prebuilt?.plan ?? undefined);
  if (staticTemps) lp.arenaBytes = staticTemps.plan.arenaBytes;
  if (staticTemps) lp.offsets = staticTemps.plan.offsets;
  const source = prebuilt?.source ?? profiled("codegen-js", () => generateJs(lp, name));
  const calls: CallFn[] = callKernels(lp.kernels).map((k) => {
    return (S: number[], ...arrays: TypedArray[]) => {
      const env: Record<string, number> = {};
      lp.symbols.forEach((s, j) => (env[s] = S[j]!));
      const concrete = (a: ShapedArray) => (isConcreteShape(a.shape) ? a : new ShapedArray(a.shape.map((d) => evalDim(d, env)), a.dtype, a.weak));
      const ins = k.inAvals.map((a, j) => new Tensor(concrete(a), arrays[j]!));
      const params = symbolic ? instantiateParams(k.params, env) : k.params;
      const res = k.prim.impl(ins, params, k.outAvals.map(concrete));
      res.forEach((r, j) => arrays[k.ins.length + j]!.set(r));
    };
  });
  // compiled on the first run, not here: listing the generated JS (Lowered.text("js")) needs no
  // string evaluation, so it also works where a Content-Security-Policy forbids it
  let runFn: RunFn | null = null;
  const run: RunFn = (inputs, temps, S) => (runFn ??= compileSource(source, name)(lp.consts.map((c) => c.value.data), calls, matmul))(inputs, temps, S);
  const outBufs = lp.buffers.filter((b) => b.kind === "output").map((b) => b.id);
  const outPos = new Map(outBufs.map((id, i) => [id, i]));
  const plans = new Map<string, TypedArray[]>();
  const noSymbols: number[] = [];
  /** per donated set: its in-place plan (lower/memory-donate.ts) and arenas per binding of the symbols */
  const donations = new Map<string, { plan: DonationPlan; arenas: Map<string, { temps: TypedArray[]; sizes: number[] }> }>();
  /** The temps of a call writing in place of donated inputs: arena views, aliased ones in the inputs' memory. */
  const donatedTemps = (args: Tensor[], give: number[], S: number[], env: Binding): TypedArray[] | null => {
    const key = give.join(",");
    let d = donations.get(key);
    if (!d) donations.set(key, (d = { plan: donationFor(lp, give), arenas: new Map() }));
    if (!d.plan.aliases.size) return null;
    const skey = S.join(",");
    let a = d.arenas.get(skey);
    if (!a) {
      const sizes = sizesOf(env);
      a = { temps: tempsFor(lp, sizes, planMemory(lp, sizes, d.plan.schedule)).temps, sizes };
      if (d.arenas.size >= MAX_PLANS) d.arenas.delete(d.arenas.keys().next().value!);
      d.arenas.set(skey, a);
    }
    const temps = a.temps.slice();
    for (const [b, root] of d.plan.aliases) {
      const src = args[lp.inputs.indexOf(root)]!.data;
      const dtype = lp.buffers[b]!.dtype;
      const n = a.sizes[b]!;
      // an output of the input's dtype and size is the input's array itself
      temps[b] = dtype === lp.buffers[root]!.dtype && n === src.length ? src : viewArray(dtype, src.buffer as ArrayBuffer, src.byteOffset, n);
    }
    return temps;
  };
  return {
    source,
    lowered: lp,
    plan: staticTemps?.plan ?? null,
    run(args: Tensor[], donate?: readonly number[]): Tensor[] {
      let S = noSymbols;
      let temps: TypedArray[];
      let env: Binding = {};
      if (staticTemps) temps = staticTemps.temps;
      else {
        env = bindSymbols(lp.inShapes, args.map((a) => a.aval.shape as number[]), (i) => `argument ${i}`);
        S = lp.symbols.map((s) => env[s]!);
        const key = S.join(",");
        let t = plans.get(key);
        if (!t) {
          t = tempsFor(lp, sizesOf(env)).temps;
          if (plans.size >= MAX_PLANS) plans.delete(plans.keys().next().value!);
          plans.set(key, t);
        }
        temps = t;
      }
      const give = donate?.length ? unsharedInputs(args.map((a) => a.data), donate) : [];
      if (give.length) temps = donatedTemps(args, give, S, env) ?? temps;
      const outs = run(args.map((a) => a.data), temps, S);
      return lp.outputs.map((o, i) => {
        const a = lp.outAvals[i]!;
        const aval = isConcreteShape(a.shape) ? a : new ShapedArray(a.shape.map((d) => evalDim(d, env)), a.dtype, a.weak);
        return outputTensor(o, aval, args, (buf) => outs[outPos.get(buf)!]!);
      });
    },
  };
}

