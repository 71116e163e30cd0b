/**
 * Minimal typings for the WebAssembly JS API. The project compiles with lib ES2022 and Node types
 * only (no DOM lib), which do not declare the `WebAssembly` global; this file declares the small
 * part we use and reads the global once, so no ambient declaration leaks into the rest of src/.
 */

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}
export interface WasmGlobal {
  value: number;
}
export type WasmModule = object;
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
export type WasmImports = Record<string, Record<string, WasmMemory | WasmGlobal | number | ((...a: never[]) => unknown)>>;

export interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Global: new (d: { value: "i32"; mutable?: boolean }, v: number) => WasmGlobal;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: WasmImports) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(m: WasmModule, imports: WasmImports): Promise<WasmInstance>;
}

/** The engine's WebAssembly namespace (throws a clear error where there is none). */
export function wasmApi(): WasmApi {
  const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wa) throw new Error("WebAssembly is not available in this JavaScript engine");
  return wa;
}

/** 64 KiB. */
export const WASM_PAGE = 65536;
