// The jit's WebAssembly memories: the limits every executable and the GEMM respect
// (wasmMemoryLimits, an internal test hook), the process-wide pool of idle large memories and the
// program runner on top of it, i.e. the runtimes runtime/wasm-memory.ts and runtime/wasm-program.ts
// defined in-process. Exported modules embed the same texts (WASM_MEMORY_JS, WASM_PROGRAM_JS) with
// limits of their own.

import { defineRuntime } from "../../core/runtime-text.js";
import { wasmMemoryRuntime } from "../../runtime/wasm-memory.js";
import { wasmProgramRuntime } from "../../runtime/wasm-program.js";
import { type WasmMemory, wasmApi } from "./wasm-api.js";

/**
 * Whether the jit's program modules import a shared memory (and so may run kernels on the GEMM's
 * worker threads, backends/wasm/threads.ts): wherever SharedArrayBuffer exists. Exported modules
 * never do.
 */
export const sharedWasmMemories = typeof SharedArrayBuffer !== "undefined";

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
  /**
   * a new memory of `pages` 64 KiB pages (throws, e.g. RangeError, when the engine cannot);
   * `shared` (default: where SharedArrayBuffer exists, as the jit's modules are generated):
   * SharedArrayBuffer-backed, for program modules that worker threads run kernels of
   */
  create: (pages: number, shared = sharedWasmMemories): WasmMemory =>
    new (wasmApi().Memory)(shared ? { initial: pages, maximum: 65536, shared: true } : { initial: pages }),
  /** grows `m` by `pages` pages (throws when the engine cannot) */
  grow: (m: WasmMemory, pages: number): void => void m.grow(pages),
};

const WASM_MEMORY = defineRuntime(wasmMemoryRuntime<WasmMemory>, [wasmMemoryLimits], ["$WASM_LIMITS"]);
/** The process-wide pool and growth helper. */
export const wasmMemory = WASM_MEMORY.value;
/** The text an exported module embeds (declares $takeMemory, $giveBack, $growTo, ... given $WASM_LIMITS). */
export const WASM_MEMORY_JS = WASM_MEMORY.text;

/** Bytes of the idle memories in the pool (internal, for tests). */
export function pooledWasmBytes(): number {
  return wasmMemory.pooledBytes();
}

const WASM_PROGRAM = defineRuntime(wasmProgramRuntime<WasmMemory>, [wasmMemory, wasmMemoryLimits], ["{ takeMemory: $takeMemory, giveBack: $giveBack }", "$WASM_LIMITS"]);
/** Layout, memory choice and calls of one compiled program (runtime/wasm-program.ts), in-process. */
export const wasmProgram = WASM_PROGRAM.value.wasmProgram;
/** The text an exported module embeds after WASM_MEMORY_JS: declares $wasmProgram. */
export const WASM_PROGRAM_JS = WASM_PROGRAM.text;
