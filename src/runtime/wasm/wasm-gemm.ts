/**
 * `WasmGemm`: the JS-side owner of one instance of the generated GEMM module (see gemm.ts). It
 * owns or accepts a WebAssembly.Memory, reserves the instance's scratch region in it, offers a
 * bump allocator for operands (tests, eager use), typed-array views, and a copy-in/copy-out
 * `matmul` convenience. Compiled programs call `sgemm`/`dgemm` directly on arena byte offsets.
 *
 * Memory layout when WasmGemm creates the memory:
 *   [scratchOffset, scratchOffset + scratchBytes)  packing scratch (gemmScratchBytes(), 1.25 MiB)
 *   [heapStart, ...)                               bump-allocated operands (alloc/reset)
 */
import {
  DEFAULT_BLOCKING,
  type GemmBlocking,
  type GemmConfig,
  type GemmDtype,
  type GemmExports,
  type GemmFn,
  gemmModuleBytes,
  gemmScratchBytes,
  hasRelaxedSimd,
} from "./gemm.js";
import { WASM_PAGE, type WasmMemory, type WasmModule, wasmApi } from "./wasm-api.js";

export interface WasmGemmOptions {
  /** Memory to import (shared or not). Default: a fresh non-shared memory. */
  memory?: WasmMemory;
  /**
   * Byte offset of this instance's scratch region (64-byte aligned, gemmScratchBytes() long).
   * Default 0: when passing your own memory, reserve the region and pass its offset.
   */
  scratchOffset?: number;
  /** Where `alloc` starts. Default: right after the scratch region. */
  heapStart?: number;
  /** Tile/block sizes. */
  blocking?: { f32?: Partial<GemmBlocking>; f64?: Partial<GemmBlocking> };
  /** Relaxed-SIMD multiply-add: "auto" (default) uses it when the engine validates it. */
  fma?: boolean | "auto";
}

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

type FloatArray = Float32Array | Float64Array;

const moduleCache = new Map<string, WasmModule>();

/** Full configuration from options: default blocking, fma detection, shared-ness of the memory. */
export function resolveGemmConfig(opts: WasmGemmOptions, memory: WasmMemory | undefined = opts.memory): GemmConfig {
  const fma = opts.fma === undefined || opts.fma === "auto" ? hasRelaxedSimd() : opts.fma;
  const shared = typeof SharedArrayBuffer !== "undefined" && memory?.buffer instanceof SharedArrayBuffer;
  const f32 = { ...DEFAULT_BLOCKING.f32, ...opts.blocking?.f32 };
  const f64 = { ...DEFAULT_BLOCKING.f64, ...opts.blocking?.f64 };
  return { f32, f64, fma, shared };
}

function compiledModule(cfg: GemmConfig): WasmModule {
  const key = JSON.stringify(cfg);
  let m = moduleCache.get(key);
  if (!m) {
    m = new (wasmApi().Module)(gemmModuleBytes(cfg));
    moduleCache.set(key, m);
  }
  return m;
}

export class WasmGemm {
  readonly memory: WasmMemory;
  readonly sgemm: GemmFn;
  readonly dgemm: GemmFn;
  readonly scratchOffset: number;
  readonly scratchBytes: number;
  readonly heapStart: number;
  readonly config: GemmConfig;
  /** The compiled module (instantiate it elsewhere, e.g. in workers, with the same memory). */
  readonly module: WasmModule;
  private top: number;

  /** Synchronous construction (Node, workers; browsers limit sync compilation on the main thread). */
  constructor(opts: WasmGemmOptions = {}, module?: WasmModule) {
    const wa = wasmApi();
    this.config = resolveGemmConfig(opts);
    this.scratchOffset = opts.scratchOffset ?? 0;
    if (this.scratchOffset % 64 !== 0) throw new Error("WasmGemm: scratchOffset must be 64-byte aligned");
    this.scratchBytes = gemmScratchBytes(this.config);
    this.heapStart = opts.heapStart ?? this.scratchOffset + this.scratchBytes;
    this.top = this.heapStart;
    this.memory = opts.memory ?? new wa.Memory({ initial: Math.ceil((this.heapStart + 1) / WASM_PAGE) + 1 });
    this.ensure(Math.max(this.heapStart, this.scratchOffset + this.scratchBytes));
    const scratch = new wa.Global({ value: "i32" }, this.scratchOffset);
    this.module = module ?? compiledModule(this.config);
    const inst = new wa.Instance(this.module, {
      env: { memory: this.memory, scratch },
    });
    const ex = inst.exports as unknown as GemmExports;
    this.sgemm = ex.sgemm;
    this.dgemm = ex.dgemm;
  }

  /** Asynchronous construction (compiles off the main thread in browsers). */
  static async create(opts: WasmGemmOptions = {}): Promise<WasmGemm> {
    const cfg = resolveGemmConfig(opts);
    const key = JSON.stringify(cfg);
    let m = moduleCache.get(key);
    if (!m) {
      m = await wasmApi().compile(gemmModuleBytes(cfg));
      moduleCache.set(key, m);
    }
    return new WasmGemm(opts, m);
  }

  /** Grow the memory so that [0, end) is addressable. */
  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / WASM_PAGE));
  }

  /** Bump-allocate `bytes` (aligned to `align`); returns the byte offset. Grows the memory. */
  alloc(bytes: number, align = 64): number {
    const off = Math.ceil(this.top / align) * align;
    this.top = off + bytes;
    this.ensure(this.top);
    return off;
  }
  /** Current allocation mark, for `reset(mark)`. */
  mark(): number {
    return this.top;
  }
  /** Free everything allocated after `mark` (default: everything). */
  reset(mark = this.heapStart): void {
    this.top = mark;
  }

  /** Typed views on the memory (re-create after any alloc: growth replaces the buffer). */
  f32(byteOffset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, byteOffset, length);
  }
  f64(byteOffset: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, byteOffset, length);
  }

  /** sgemm or dgemm by dtype; same arguments (byte offsets, element leading dimensions). */
  gemm(dtype: GemmDtype): GemmFn {
    return dtype === "f32" ? this.sgemm : this.dgemm;
  }

  /**
   * C = op(A)·op(B) for dense row-major arrays: op(A) is M×K (A stored K×M when transA), op(B) is
   * K×N (B stored N×K when transB). Copies operands into the memory and the result out; the dtype
   * follows `a` (Float32Array -> sgemm, Float64Array -> dgemm). `gemmFor` substitutes the
   * function that runs (e.g. the threaded one over the same memory).
   */
  matmul<T extends FloatArray>(
    a: T,
    b: T,
    M: number,
    N: number,
    K: number,
    opts: MatmulOptions = {},
    gemmFor: (dtype: GemmDtype) => GemmFn = (dt) => this.gemm(dt),
  ): T {
    const f64 = a instanceof Float64Array;
    if (f64 !== b instanceof Float64Array) throw new Error("WasmGemm.matmul: a and b must have the same dtype");
    if (a.length !== M * K || b.length !== K * N)
      throw new Error(`WasmGemm.matmul: expected a of ${M * K} and b of ${K * N} elements, got ${a.length}, ${b.length}`);
    const E = f64 ? 8 : 4;
    const mark = this.mark();
    try {
      const aOff = this.alloc(a.length * E);
      const bOff = this.alloc(b.length * E);
      const cOff = this.alloc(M * N * E);
      const view = (off: number, n: number) => (f64 ? this.f64(off, n) : this.f32(off, n));
      view(aOff, a.length).set(a);
      view(bOff, b.length).set(b);
      const lda = opts.transA ? M : K;
      const ldb = opts.transB ? K : N;
      gemmFor(f64 ? "f64" : "f32")(M, N, K, aOff, lda, opts.transA ? 1 : 0, bOff, ldb, opts.transB ? 1 : 0, cOff, N, 0);
      return view(cOff, M * N).slice() as T;
    } finally {
      this.reset(mark);
    }
  }
}
