// Turns a lowered program into a callable running its WebAssembly (wasm/kernels.ts): the program
// runtime (runtime/wasm-program.ts, the same code an exported module embeds) lays it out in a
// memory as [table][constants][inputs][arena temps][outputs], once for static programs and once per
// binding of the symbols for shape-polymorphic ones (cached), and runs each call: write the table,
// copy the inputs in, run, copy the outputs out (except inputs and outputs only matrix products
// and fallback calls touch: they stay JS arrays). Matrix products run through the shared matmul
// kernel (WebAssembly GEMM, worker threads) on views of this memory; fallback calls run the
// primitive's reference implementation.
//
// Memory is bounded (runtime/wasm/memory.ts): an executable keeps a memory of its own between
// calls only while it is small (wasmMemoryLimits.retainBytes). A larger layout runs in a memory
// taken from a pool shared by all executables, given back after the call; the pool keeps at most
// wasmMemoryLimits.poolBytes of idle memories (so repeated large calls reuse one, and a memory
// beyond that is dropped after its call instead of being pinned for the executable's lifetime). A
// layout beyond what WebAssembly can address (4 GiB), or a memory the engine cannot allocate or
// grow, runs that call with the JS backend instead (typed arrays, no 4 GiB address space), logged
// once.

import { ShapedArray } from "../../core/aval.js";
import { log } from "../../core/config.js";
import { profiled } from "../../core/profile.js";
import { type DType, type TypedArray, byteSize } from "../../core/dtype.js";
import { evalDim, isConcreteShape } from "../../core/shape.js";
import { type Binding, bindSymbols, instantiateParams } from "../../core/symbols.js";
import { Tensor } from "../../core/tensor.js";
import type { LoweredProgram } from "../../lower/kernel-ir.js";
import { memorySchedule, planMemory } from "../../lower/memory.js";
import { donationFor } from "../../lower/memory-donate.js";
import type { WasmDonation } from "../../runtime/wasm-program.js";
import { matmul } from "../../prims/ref/matmul.js";
import { type Executable, outputTensor } from "../executable.js";
import { type PrebuiltJs, compileJs } from "../js/compile.js";
import { type WasmProgram, constLayout, generateWasm, touchedByWasm } from "./kernels.js";
import { wasmMemoryLimits, wasmProgram, pooledWasmBytes, sharedWasmMemories } from "../../runtime/wasm/memory.js";
import { dropKernelInstance, kernelThreads } from "../../runtime/wasm/matmul.js";
import { rowSplit } from "./threads.js";
import { importedFunctions } from "./scalar.js";
import { type WasmMemory, wasmApi } from "../../runtime/wasm/wasm-api.js";

export { pooledWasmBytes, wasmMemoryLimits };

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const ARRAY_TYPES: Record<DType, Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
};

/** What the jit keeps with each layout: the binding of the symbols and the concrete output avals. */
interface LayoutInfo {
  env: Binding;
  outAvals: ShapedArray[];
}

/** Keys of threaded program instances (the workers' instances of them: ThreadedGemm.kernel). */
let nextProgramKey = 1;
const programInstances = new FinalizationRegistry<number>(dropKernelInstance);

/** `tick`: the profiling import of a module generated with generateWasm(lp, { profile: true }). */
export function compileWasm(lp: LoweredProgram, name = "program", prebuilt?: WasmProgram, tick?: (k: number) => void): Executable {
  const prog = prebuilt ?? profiled("codegen-wasm", () => generateWasm(lp, { threads: sharedWasmMemories }));
  const wa = wasmApi();
  const module = profiled("wasm-compile", () => new wa.Module(prog.bytes));
  const symbolic = lp.symbols.length > 0;
  const { addr: constAddr, end: constEnd } = constLayout(lp);
  const schedule = profiled("plan", () => memorySchedule(lp));
  const envOf = (S: number[]): Binding => Object.fromEntries(lp.symbols.map((s, i) => [s, S[i]!]));
  const ctors = lp.buffers.map((b) => ARRAY_TYPES[b.dtype]);
  // Inputs only matrix products or fallback calls read stay in their JS arrays (no copy in);
  // outputs only they write are JS arrays the product writes into (no copy out).
  const inWasm = touchedByWasm(lp);
  // the imports call back into the current call's layout and buffers (P is set before any call)
  const bufView = (id: number) => P.view(id) as unknown as TypedArray;
  const hooks = {
    dot: (k: number, aOff: number, bOff: number) => {
      const d = prog.dots[k]!;
      const env = P.current().info!.env;
      const e = (x: Parameters<typeof evalDim>[0]) => evalDim(x, env);
      const st = (v: { strides: readonly Parameters<typeof evalDim>[0][] }) => v.strides.map(e);
      matmul(
        { f64: d.dtype === "float64", B: e(d.B), ...(d.batch ? { batch: d.batch.map(e) } : {}), M: e(d.M), N: e(d.N), K: e(d.K), a: bufView(d.lhs.buf), aOff, aStrides: st(d.lhs), b: bufView(d.rhs.buf), bOff, bStrides: st(d.rhs), out: bufView(d.out), outOff: 0 },
        d.dtype === "float32" || d.dtype === "float64",
      );
    },
    call: (k: number) => {
      const c = prog.calls[k]!;
      const env = P.current().info!.env;
      const concrete = (a: ShapedArray) => (isConcreteShape(a.shape) ? a : new ShapedArray(a.shape.map((d) => evalDim(d, env)), a.dtype, a.weak));
      const ins = c.inAvals.map((a, j) => new Tensor(concrete(a), bufView(c.ins[j]!).slice()));
      const res = c.prim.impl(ins, symbolic ? instantiateParams(c.params, env) : c.params, c.outAvals.map(concrete));
      res.forEach((r, j) => bufView(c.outs[j]!).set(r));
    },
  };
  const imports = importedFunctions(hooks);
  if (tick) imports["tick"] = tick;
  // a threaded module: m.par(k, rows) runs kernel k's rows on the worker pool (wasm/threads.ts);
  // 1-D kernels split in multiples of 16 elements (whole f32x4 steps, aligned cache lines)
  const align = lp.kernels.map((k) => (rowSplit(k)?.space.length === 1 ? 16 : 1));
  const instantiate = (memory: WasmMemory) => {
    if (!prog.shared) return new wa.Instance(module, { env: { memory }, m: imports }).exports["run"] as () => void;
    const p = { key: nextProgramKey++, module, memory };
    let ex: Record<string, unknown> = {};
    const par = (k: number, rows: number) => {
      const f = ex[`k${k}`] as (lo: number, hi: number) => void;
      const t = kernelThreads();
      if (t) t.kernel(p, k, rows, align[k]!, f);
      else f(0, rows);
    };
    ex = new wa.Instance(module, { env: { memory }, m: { ...imports, par } }).exports;
    // when this instance's memory is collected, the workers forget their instances of it
    programInstances.register(memory, p.key);
    return ex["run"] as () => void;
  };
  const P = wasmProgram<LayoutInfo>({
    shared: prog.shared,
    instantiate: (memory) => instantiate(memory as WasmMemory),
    consts: lp.consts.map((c) => [constAddr.get(c.buf)!, ARRAY_TYPES[c.value.dtype], c.value.data]),
    constEnd,
    kinds: lp.buffers.map((b) => b.kind[0]).join(""),
    ctors,
    elemBytes: lp.buffers.map((b) => byteSize(b.dtype)),
    constAddr: lp.buffers.map((b) => constAddr.get(b.id) ?? 0),
    external: lp.buffers.map((b) => (b.kind === "input" || b.kind === "output") && !inWasm.has(b.id)),
    inputs: lp.inputs,
    outputs: lp.buffers.filter((b) => b.kind === "output").map((b) => b.id),
    sizes: (S) => {
      const env = envOf(S);
      return lp.buffers.map((b) => evalDim(b.size, env));
    },
    plan: (_S, sizes) => {
      const p = profiled("plan", () => planMemory(lp, sizes, schedule));
      return { offsets: p.offsets, end: p.arenaBytes };
    },
    info: (S) => {
      const env = envOf(S);
      return { env, outAvals: lp.outAvals.map((a) => (isConcreteShape(a.shape) ? a : new ShapedArray(a.shape.map((d) => evalDim(d, env)), a.dtype, a.weak))) };
    },
  });

  // no memory at all: the caller (jit/compile.ts codegen) runs the program with the JS backend
  if (P.creationError()) throw P.creationError();

  // Calls that do not fit in WebAssembly run with the JS backend; its code is generated once, but
  // its executable (which holds the arena) is made per call and dropped after it.
  let jsCode: PrebuiltJs | undefined;
  let logged = false;
  const runJs = (args: Tensor[], bytes: number, why: string): Tensor[] => {
    if (!logged) {
      logged = true;
      const message = `${name}: a call needs ${gib(bytes)} of WebAssembly memory, ${why}; running the calls that do not fit with the JS backend`;
      log({ kind: "info", message, program: name, bytes });
    }
    const exec = compileJs(lp, name, jsCode);
    jsCode ??= { source: exec.source, plan: exec.plan };
    return exec.run(args);
  };

  const outBufs = lp.buffers.filter((b) => b.kind === "output").map((b) => b.id);
  const noSymbols: number[] = [];
  // per donated set: the in-place plan (lower/memory-donate.ts) as the layout runtime takes it;
  // inputs are copied into this memory, so no check of inputs sharing memory is needed here
  const donations = new Map<string, WasmDonation | null>();
  const donation = (give: readonly number[]): WasmDonation | null => {
    const key = [...give].sort((a, b) => a - b).join(",");
    if (!donations.has(key)) {
      const d = donationFor(lp, give);
      const alias: (number | undefined)[] = [];
      for (const [b, root] of d.aliases) alias[b] = root;
      donations.set(key, d.aliases.size ? { key, alias, plan: (_S, sizes) => { const p = planMemory(lp, sizes, d.schedule); return { offsets: p.offsets, end: p.arenaBytes }; } } : null);
    }
    return donations.get(key)!;
  };
  const staticLayout = symbolic ? null : P.layoutFor(noSymbols);
  const staticPlan = staticLayout && { offsets: staticLayout.plan.offsets, arenaBytes: staticLayout.plan.end };
  if (staticPlan) {
    lp.arenaBytes = staticPlan.arenaBytes;
    lp.offsets = staticPlan.offsets;
  }

  return {
    source: `// ${name}: WebAssembly (${prog.bytes.length} bytes, ${lp.kernels.length} kernels); see .text("js") for the equivalent JS`,
    lowered: lp,
    plan: staticPlan,
    wasm: prog,
    run(args: Tensor[], donate?: readonly number[]): Tensor[] {
      let S = noSymbols;
      if (symbolic) {
        const env = bindSymbols(lp.inShapes, args.map((a) => a.aval.shape as number[]), (i) => `argument ${i}`);
        S = lp.symbols.map((s) => env[s]!);
      }
      const outs = P.run(
        args.map((a) => a.data),
        S,
        donate?.length ? donation(donate) : null,
      );
      if (!Array.isArray(outs)) return runJs(args, outs.bytes, outs.why);
      const info = P.current().info!; // the layout this call ran with
      return lp.outputs.map((o, i) => outputTensor(o, info.outAvals[i]!, args, (buf) => outs[outBufs.indexOf(buf)] as unknown as TypedArray));
    },
    memoryBytes: () => P.memoryBytes(),
  };
}
