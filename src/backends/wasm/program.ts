// Turns a lowered program into a callable running its WebAssembly (wasm/kernels.ts), laid out in
// a memory as [table][constants][inputs][arena temps][outputs]. The layout is planned once for
// static programs and once per binding of the symbols for shape-polymorphic ones (cached); each
// call writes the table, copies the inputs in, runs, and copies the outputs out (except inputs
// and outputs only matrix products and fallback calls touch: they stay JS arrays). Matrix
// products run through the shared matmul kernel (WebAssembly GEMM, worker threads) on views of
// this memory; fallback calls run the primitive's reference implementation.
//
// Memory is bounded: an executable keeps a memory of its own between calls only while it is small
// (wasmMemoryLimits.retainBytes). A larger layout runs in a memory taken from a pool shared by all
// executables, given back after the call; the pool keeps at most wasmMemoryLimits.poolBytes of
// idle memories (so repeated large calls reuse one, and a memory beyond that is dropped after
// its call instead of being pinned for the executable's lifetime). A layout beyond what
// WebAssembly can address (4 GiB), or a memory the engine cannot allocate or grow, runs that
// call with the JS backend instead (typed arrays, no 4 GiB address space), logged once.

import { ShapedArray } from "../../core/aval.js";
import { log } from "../../core/config.js";
import { type TypedArray, allocArray, byteSize, viewArray } from "../../core/dtype.js";
import { evalDim, isConcreteShape } from "../../core/shape.js";
import { type Binding, bindSymbols, instantiateParams } from "../../core/symbols.js";
import { Tensor } from "../../core/tensor.js";
import type { LoweredProgram } from "../../lower/kernel-ir.js";
import { type MemoryPlan, planMemory } from "../../lower/memory.js";
import { matmul } from "../../prims/ref/matmul.js";
import { type Executable, outputTensor } from "../executable.js";
import { type PrebuiltJs, compileJs } from "../js/compile.js";
import { type WasmProgram, constLayout, generateWasm, touchedByWasm } from "./kernels.js";
import { importedFunctions } from "./scalar.js";
import { WASM_PAGE, type WasmMemory, wasmApi } from "./wasm-api.js";

/**
 * Limits of the executables' WebAssembly memories. Internal: tests lower them, or replace
 * `create` / `grow` by functions that throw, to simulate the engine's limits without allocating
 * gigabytes.
 */
export const wasmMemoryLimits = {
  /** the most one memory can hold: wasm32 addresses 4 GiB */
  maxBytes: 2 ** 32,
  /** an executable keeps (and grows) a memory of its own up to this size */
  retainBytes: 16 * 2 ** 20,
  /** idle larger memories kept for reuse, all executables together */
  poolBytes: 512 * 2 ** 20,
  /** a new memory of `pages` 64 KiB pages (throws, e.g. RangeError, when the engine cannot) */
  create: (pages: number): WasmMemory => new (wasmApi().Memory)({ initial: pages }),
  /** grows `m` by `pages` pages (throws when the engine cannot) */
  grow: (m: WasmMemory, pages: number): void => void m.grow(pages),
};

/** Idle large memories, least recently used first. */
const pool: WasmMemory[] = [];

/** Bytes of the idle memories in the pool (internal, for tests). */
export function pooledWasmBytes(): number {
  return pool.reduce((n, m) => n + m.buffer.byteLength, 0);
}

/** The smallest pooled memory of at least `bytes`, or a new one (a power of two of pages, so sizes that differ a little share one). */
function takeMemory(bytes: number): WasmMemory {
  trimPool(); // poolBytes may have been lowered
  let best = -1;
  pool.forEach((m, i) => {
    if (m.buffer.byteLength >= bytes && (best < 0 || m.buffer.byteLength < pool[best]!.buffer.byteLength)) best = i;
  });
  if (best >= 0) return pool.splice(best, 1)[0]!;
  const pages = Math.ceil(bytes / WASM_PAGE);
  const cls = Math.min(2 ** Math.ceil(Math.log2(pages)), Math.floor(wasmMemoryLimits.maxBytes / WASM_PAGE));
  if (cls > pages) {
    try {
      return wasmMemoryLimits.create(cls);
    } catch {
      /* the engine may still manage the exact size */
    }
  }
  return wasmMemoryLimits.create(pages);
}

/** Returns a memory after its call: pooled (dropping the least recently used beyond poolBytes) or dropped. */
function giveBack(m: WasmMemory): void {
  if (m.buffer.byteLength > wasmMemoryLimits.poolBytes) return;
  pool.push(m);
  trimPool();
}

function trimPool(): void {
  let total = pooledWasmBytes();
  while (total > wasmMemoryLimits.poolBytes) total -= pool.shift()!.buffer.byteLength;
}

/** A memory with an instance of the program's module bound to it. */
interface Space {
  memory: WasmMemory;
  run: () => void;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const MAX_LAYOUTS = 8;

interface Layout {
  env: Binding;
  sizes: number[];
  /** byte address of every buffer */
  addr: number[];
  end: number;
  plan: MemoryPlan;
  /** the table's contents: symbol values, then buffer addresses */
  table: Int32Array;
  /** concrete output avals */
  outAvals: ShapedArray[];
  /** typed-array views of this layout in the current memory buffer (rebuilt after a grow) */
  views: { buffer: ArrayBuffer | SharedArrayBuffer; table: Int32Array; bufs: TypedArray[] } | null;
}

export function compileWasm(lp: LoweredProgram, name = "program", prebuilt?: WasmProgram): Executable {
  const prog = prebuilt ?? generateWasm(lp);
  const wa = wasmApi();
  const module = new wa.Module(prog.bytes);
  const symbolic = lp.symbols.length > 0;
  // constants right after the table, at fixed addresses
  const { addr: constAddr, end: constEnd } = constLayout(lp);
  let imports: Record<string, (...a: never[]) => unknown>;
  /** An instance of the module on `memory`, with the constants written in. */
  const instantiate = (memory: WasmMemory): Space => {
    for (const c of lp.consts) viewArray(c.value.dtype, memory.buffer, constAddr.get(c.buf)!, c.value.size).set(c.value.data);
    const instance = new wa.Instance(module, { env: { memory }, m: imports });
    return { memory, run: instance.exports["run"] as () => void };
  };

  const layouts = new Map<string, Layout>();
  const layoutFor = (env: Binding, S: number[]): Layout => {
    const key = S.join(",");
    const hit = layouts.get(key);
    if (hit) return hit;
    const sizes = lp.buffers.map((b) => evalDim(b.size, env));
    const plan = planMemory(lp, sizes);
    const addr: number[] = [];
    let at = constEnd;
    for (const b of lp.buffers) if (b.kind === "input") (addr[b.id] = at), (at = align16(at + sizes[b.id]! * byteSize(b.dtype)));
    const arena = at;
    at = align16(arena + plan.arenaBytes);
    for (const b of lp.buffers) {
      if (b.kind === "temp") addr[b.id] = arena + plan.offsets[b.id]!;
      else if (b.kind === "const") addr[b.id] = constAddr.get(b.id)!;
      else if (b.kind === "output") (addr[b.id] = at), (at = align16(at + sizes[b.id]! * byteSize(b.dtype)));
    }
    const table = Int32Array.from([...S, ...lp.buffers.map((b) => addr[b.id] ?? 0)]);
    const outAvals = lp.outAvals.map((a) => (isConcreteShape(a.shape) ? a : new ShapedArray(a.shape.map((d) => evalDim(d, env)), a.dtype, a.weak)));
    const l: Layout = { env, sizes, addr, end: at, plan, table, outAvals, views: null };
    if (layouts.size >= MAX_LAYOUTS) layouts.delete(layouts.keys().next().value!);
    layouts.set(key, l);
    return l;
  };

  // Inputs only matrix products or fallback calls read stay in their JS arrays (no copy in);
  // outputs only they write are JS arrays the product writes into (no copy out).
  const inWasm = touchedByWasm(lp);
  const external = new Set(lp.buffers.filter((b) => (b.kind === "input" || b.kind === "output") && !inWasm.has(b.id)).map((b) => b.id));
  const ext = new Map<number, TypedArray>();

  let cur: Layout | null = null;
  /** the memory the current call runs in */
  let mem: WasmMemory;
  const viewsOf = (l: Layout) => {
    if (l.views?.buffer !== mem.buffer) {
      const buffer = mem.buffer;
      l.views = { buffer, table: new Int32Array(buffer, 0, l.table.length), bufs: lp.buffers.map((b) => viewArray(b.dtype, buffer, l.addr[b.id]!, l.sizes[b.id]!)) };
    }
    return l.views;
  };
  const bufView = (id: number) => ext.get(id) ?? viewsOf(cur!).bufs[id]!;
  const hooks = {
    dot: (k: number, aOff: number, bOff: number) => {
      const d = prog.dots[k]!;
      const e = (x: Parameters<typeof evalDim>[0]) => evalDim(x, cur!.env);
      const st = (v: { strides: readonly Parameters<typeof evalDim>[0][] }) => v.strides.map(e) as unknown as [number, number, number];
      matmul(
        { f64: d.dtype === "float64", B: e(d.B), M: e(d.M), N: e(d.N), K: e(d.K), a: bufView(d.lhs.buf), aOff, aStrides: st(d.lhs), b: bufView(d.rhs.buf), bOff, bStrides: st(d.rhs), out: bufView(d.out), outOff: 0 },
        d.dtype === "float32" || d.dtype === "float64",
      );
    },
    call: (k: number) => {
      const c = prog.calls[k]!;
      const env = cur!.env;
      const concrete = (a: ShapedArray) => (isConcreteShape(a.shape) ? a : new ShapedArray(a.shape.map((d) => evalDim(d, env)), a.dtype, a.weak));
      const ins = c.inAvals.map((a, j) => new Tensor(concrete(a), bufView(c.ins[j]!).slice()));
      const res = c.prim.impl(ins, symbolic ? instantiateParams(c.params, env) : c.params, c.outAvals.map(concrete));
      res.forEach((r, j) => bufView(c.outs[j]!).set(r));
    },
  };
  imports = importedFunctions(hooks);
  const kept = instantiate(wasmMemoryLimits.create(Math.max(1, Math.ceil(constEnd / WASM_PAGE))));
  mem = kept.memory;

  /** this executable's instances on pooled memories (weak: the pool alone decides what lives) */
  const large = new WeakMap<WasmMemory, Space>();
  /**
   * Where a call of layout `l` runs: the kept memory (grown while small), a pooled memory, or (a
   * string) why it cannot run in WebAssembly.
   */
  const spaceFor = (l: Layout): Space | string => {
    const have = kept.memory.buffer.byteLength;
    if (l.end <= have) return kept;
    const pages = Math.ceil(l.end / WASM_PAGE);
    if (pages * WASM_PAGE > wasmMemoryLimits.maxBytes) return `more than WebAssembly can address (${gib(wasmMemoryLimits.maxBytes)})`;
    try {
      if (l.end > wasmMemoryLimits.retainBytes) {
        const m = takeMemory(l.end);
        let sp = large.get(m);
        if (!sp) large.set(m, (sp = instantiate(m)));
        return sp;
      }
      wasmMemoryLimits.grow(kept.memory, pages - have / WASM_PAGE);
      return kept;
    } catch (err) {
      return `the engine could not allocate it (${(err as Error).message})`;
    }
  };
  // Calls that do not fit in WebAssembly run with the JS backend; its code is generated once, but
  // its executable (which holds the arena) is made per call and dropped after it.
  let jsCode: PrebuiltJs | undefined;
  let logged = false;
  const runJs = (args: Tensor[], l: Layout, why: string): Tensor[] => {
    if (!logged) {
      logged = true;
      const message = `${name}: a call needs ${gib(l.end)} of WebAssembly memory, ${why}; running the calls that do not fit with the JS backend`;
      log({ kind: "info", message, program: name, bytes: l.end });
    }
    const exec = compileJs(lp, name, jsCode);
    jsCode ??= { source: exec.source, plan: exec.plan };
    return exec.run(args);
  };

  const outBufs = lp.buffers.filter((b) => b.kind === "output").map((b) => b.id);
  const noSymbols: number[] = [];
  const staticLayout = symbolic ? null : layoutFor({}, noSymbols);
  if (staticLayout) {
    lp.arenaBytes = staticLayout.plan.arenaBytes;
    lp.offsets = staticLayout.plan.offsets;
  }

  return {
    source: `// ${name}: WebAssembly (${prog.bytes.length} bytes, ${lp.kernels.length} kernels); see .text("js") for the equivalent JS`,
    lowered: lp,
    plan: staticLayout?.plan ?? null,
    wasm: prog,
    run(args: Tensor[]): Tensor[] {
      let env: Binding = {};
      let S = noSymbols;
      if (symbolic) {
        env = bindSymbols(lp.inShapes, args.map((a) => a.aval.shape as number[]), (i) => `argument ${i}`);
        S = lp.symbols.map((s) => env[s]!);
      }
      const l = staticLayout ?? layoutFor(env, S);
      const space = spaceFor(l);
      if (typeof space === "string") return runJs(args, l, space);
      cur = l;
      mem = space.memory;
      try {
        const v = viewsOf(l);
        v.table.set(l.table);
        ext.clear();
        for (let i = 0; i < lp.inputs.length; i++) {
          const b = lp.inputs[i]!;
          if (external.has(b)) ext.set(b, args[i]!.data);
          else v.bufs[b]!.set(args[i]!.data);
        }
        for (const id of outBufs) if (external.has(id)) ext.set(id, allocArray(lp.buffers[id]!.dtype, l.sizes[id]!));
        space.run();
        return lp.outputs.map((o, i) => outputTensor(o, l.outAvals[i]!, args, (buf) => ext.get(buf) ?? v.bufs[buf]!.slice()));
      } finally {
        ext.clear();
        if (space !== kept) {
          // the pool decides whether the memory lives on (nothing here refers to it strongly)
          l.views = null;
          mem = kept.memory;
          giveBack(space.memory);
        }
      }
    },
    memoryBytes: () => kept.memory.buffer.byteLength,
  };
}
