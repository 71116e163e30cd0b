/**
 * The WebAssembly backend's public surface (so far: GEMM). `encoder` builds module bytes;
 * `gemm` generates the sgemm/dgemm module; `WasmGemm` instantiates it on a (possibly shared)
 * memory; `ThreadedGemm` splits calls across workers sharing that memory.
 */
export { Code, FuncBuilder, ModuleBuilder, type Label, type ValType } from "./encoder.js";
export {
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
export { ThreadedGemm, type ThreadedGemmOptions } from "./gemm-threads.js";
export { type MatmulOptions, resolveGemmConfig, WasmGemm, type WasmGemmOptions } from "./wasm-gemm.js";
export { type WasmMemory, wasmApi } from "./wasm-api.js";
