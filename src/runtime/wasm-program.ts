// Running one compiled WebAssembly program, written once as a runtime (core/runtime-text.ts): the
// memory layout [table][constants][inputs][arena temps][outputs] (once for a static program, once
// per binding of the symbols for a shape-polymorphic one, the last 8 kept), the choice of memory
// for a call (the program's own while small, else one from the shared pool, given back after the
// call), and a call itself: write the table, copy the inputs in, run, copy the outputs out
// (inputs and outputs only matrix products and fallback calls touch stay JS arrays). With a
// donation, temporaries and outputs the planner writes in place of donated inputs take those
// inputs' addresses (outside the arena and the outputs region, which shrink). A call that
// does not fit in WebAssembly (beyond what it can address, or a memory the engine cannot create
// or grow) returns why, and the caller runs it with its JavaScript form instead. The jit
// (backends/wasm/program.ts) calls it in-process; an exported module (aot/wasm-runner.ts) embeds
// the same text, so both get the same layout, pool and fallback.

import type { WasmLimits } from "./wasm-memory.js";

export type Memory = { readonly buffer: ArrayBufferLike };
export type Arr = { set(a: ArrayLike<number>): void; slice(): Arr; readonly length: number };
export type ArrCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): Arr; new (length: number): Arr };

/** What the runtime needs to know of a program (all by buffer id unless said otherwise). */
export interface WasmProgramDesc<Info> {
  /** the module imports a shared memory (the jit's threaded modules; exports: never) */
  shared?: boolean;
  /** an instance of the program's module bound to `memory` (imports set by the caller); returns its `run` export */
  instantiate(memory: Memory): () => void;
  /** constants, written into every memory before instantiating: [byte address, array constructor, data] */
  consts: [number, ArrCtor, ArrayLike<number>][];
  /** where constants end (the first input's address) */
  constEnd: number;
  /** per buffer: "i" input, "t" temp, "c" const, "o" output */
  kinds: string;
  ctors: ArrCtor[];
  elemBytes: number[];
  /** byte address of each constant buffer */
  constAddr: number[];
  /** inputs and outputs no WebAssembly kernel touches (kept as JS arrays) */
  external: boolean[];
  /** input buffers in argument order */
  inputs: number[];
  /** output buffers in id order (what a call returns) */
  outputs: number[];
  /** element count of every buffer for symbol values S */
  sizes(S: number[]): number[];
  /** the arena plan (runtime/arena.ts) for symbol values S */
  plan(S: number[], sizes: number[]): { offsets: number[]; end: number };
  /** anything the caller wants kept with a layout (the jit: the binding and output avals) */
  info: ((S: number[], sizes: number[]) => Info) | null;
}

/**
 * Donation for one donated set (lower/memory-donate.ts): `alias[b]` is the donated input buffer
 * whose memory buffer b is written into (undefined: its own place), `plan` the arena without the
 * aliased temporaries; `key` names the set (layouts are kept per binding and set).
 */
export interface WasmDonation {
  key: string;
  alias: (number | undefined)[];
  plan(S: number[], sizes: number[]): { offsets: number[]; end: number };
}

/** A layout of a program for one binding of its symbols. */
export interface WasmLayout<Info> {
  S: number[];
  sizes: number[];
  addr: number[];
  end: number;
  plan: { offsets: number[]; end: number };
  table: Int32Array;
  info: Info | null;
  /** typed-array views of this layout in the current memory buffer (rebuilt after a grow) */
  views: { buffer: ArrayBufferLike; table: Int32Array; bufs: Arr[] } | null;
}

/** `pool`: the memory runtime (runtime/wasm-memory.ts); `limits`: the ones it was given. */
export function wasmProgramRuntime<M extends Memory>(pool: { takeMemory(bytes: number, shared?: boolean): M; giveBack(m: M): void }, limits: WasmLimits<M>) {
  const PAGE = 65536;
  const align16 = (n: number) => Math.ceil(n / 16) * 16;
  const gib = (bytes: number) => (bytes / 1073741824).toFixed(2) + " GiB";

  function wasmProgram<Info>(d: WasmProgramDesc<Info>) {
    const n = d.kinds.length;
    const layouts = new Map<string, WasmLayout<Info>>();
    function layoutFor(S: number[], don?: WasmDonation | null): WasmLayout<Info> {
      const key = don ? S.join(",") + "|" + don.key : S.join(",");
      const hit = layouts.get(key);
      if (hit) return hit;
      const sizes = d.sizes(S);
      const plan = don ? don.plan(S, sizes) : d.plan(S, sizes);
      const alias = don ? don.alias : [];
      const addr: number[] = [];
      let at = d.constEnd;
      for (let i = 0; i < n; i++) if (d.kinds[i] === "i") (addr[i] = at), (at = align16(at + sizes[i]! * d.elemBytes[i]!));
      const arena = at;
      at = align16(arena + plan.end);
      for (let i = 0; i < n; i++) {
        const k = d.kinds[i];
        if (k === "t") addr[i] = plan.offsets[i] === undefined || plan.offsets[i] === null ? 0 : arena + plan.offsets[i]!;
        else if (k === "c") addr[i] = d.constAddr[i]!;
        else if (k === "o" && alias[i] === undefined) (addr[i] = at), (at = align16(at + sizes[i]! * d.elemBytes[i]!));
        // written in place of a donated input: at that input's address
        if (alias[i] !== undefined) addr[i] = addr[alias[i]!]!;
      }
      const table = new Int32Array(S.length + n);
      table.set(S);
      for (let i = 0; i < n; i++) table[S.length + i] = addr[i]!;
      const l: WasmLayout<Info> = { S, sizes, addr, end: at, plan, table, info: d.info ? d.info(S, sizes) : null, views: null };
      if (layouts.size >= 8) layouts.delete(layouts.keys().next().value!);
      layouts.set(key, l);
      return l;
    }

    /** An instance of the module on `memory`, with the constants written in. */
    function space(memory: M) {
      for (let i = 0; i < d.consts.length; i++) {
        const c = d.consts[i]!;
        new c[1](memory.buffer, c[0], c[2].length).set(c[2]);
      }
      return { memory, run: d.instantiate(memory) };
    }
    // the program's own memory, kept between calls while small (none when the engine refuses it)
    let kept: { memory: M; run: () => void } | null = null;
    let keptError: unknown = null;
    try {
      kept = space(limits.create(Math.max(1, Math.ceil(d.constEnd / PAGE)), d.shared === true));
    } catch (e) {
      keptError = e;
    }
    /** this program's instances on pooled memories (weak: the pool alone decides what lives) */
    const large = new WeakMap<M, { memory: M; run: () => void }>();
    /** Where a call of layout `l` runs: the kept memory (grown while small), a pooled one, or (a string) why not in WebAssembly. */
    function spaceFor(l: WasmLayout<Info>) {
      if (!kept) return "the engine could not allocate it (" + (keptError as Error).message + ")";
      const have = kept.memory.buffer.byteLength;
      if (l.end <= have) return kept;
      const pages = Math.ceil(l.end / PAGE);
      if (pages * PAGE > limits.maxBytes) return "more than WebAssembly can address (" + gib(limits.maxBytes) + ")";
      try {
        if (l.end > limits.retainBytes) {
          const m = pool.takeMemory(l.end, d.shared === true);
          let sp = large.get(m);
          if (!sp) large.set(m, (sp = space(m)));
          return sp;
        }
        limits.grow(kept.memory, pages - have / PAGE);
        return kept;
      } catch (e) {
        return "the engine could not allocate it (" + (e as Error).message + ")";
      }
    }

    let cur: WasmLayout<Info> | null = null;
    /** the memory the current call runs in */
    let mem: M | null = kept && kept.memory;
    const ext = new Map<number, Arr>();
    function viewsOf(l: WasmLayout<Info>) {
      const buffer = mem!.buffer;
      if (!l.views || l.views.buffer !== buffer) {
        const bufs: Arr[] = [];
        for (let i = 0; i < n; i++) bufs.push(new d.ctors[i]!(buffer, l.addr[i]!, l.sizes[i]!));
        l.views = { buffer, table: new Int32Array(buffer, 0, l.table.length), bufs };
      }
      return l.views;
    }
    /** Buffer `id` of the current call (for the imports: matrix products, fallback calls). */
    function view(id: number): Arr {
      const e = ext.get(id);
      return e !== undefined ? e : viewsOf(cur!).bufs[id]!;
    }

    /** Runs one call: the output buffers' arrays, or why it cannot run in WebAssembly and the bytes it needs. */
    function run(inputs: ArrayLike<number>[], S: number[], don?: WasmDonation | null): Arr[] | { why: string; bytes: number } {
      const l = layoutFor(S, don);
      const sp = spaceFor(l);
      if (typeof sp === "string") return { why: sp, bytes: l.end };
      cur = l;
      mem = sp.memory;
      try {
        const v = viewsOf(l);
        v.table.set(l.table);
        ext.clear();
        for (let i = 0; i < d.inputs.length; i++) {
          const b = d.inputs[i]!;
          if (d.external[b]) ext.set(b, inputs[i] as Arr);
          else v.bufs[b]!.set(inputs[i]!);
        }
        for (let i = 0; i < d.outputs.length; i++) {
          const b = d.outputs[i]!;
          if (d.external[b]) ext.set(b, new d.ctors[b]!(l.sizes[b]!));
        }
        sp.run();
        const outs: Arr[] = [];
        for (let i = 0; i < d.outputs.length; i++) {
          const b = d.outputs[i]!;
          outs.push(d.external[b] ? ext.get(b)! : v.bufs[b]!.slice());
        }
        return outs;
      } finally {
        ext.clear();
        if (sp !== kept) {
          // the pool decides whether the memory lives on (nothing here refers to it strongly)
          l.views = null;
          mem = kept!.memory;
          pool.giveBack(sp.memory);
        }
      }
    }
    return {
      run,
      view,
      layoutFor,
      /** the layout of the call running now */
      current: () => cur!,
      /** why the program has no memory of its own (every call then returns why), else null */
      creationError: () => keptError,
      /** bytes of the program's own memory */
      memoryBytes: () => (kept ? kept.memory.buffer.byteLength : 0),
    };
  }
  return { wasmProgram };
}
