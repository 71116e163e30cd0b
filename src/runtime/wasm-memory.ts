// WebAssembly memories for compiled programs, written once as a runtime (core/runtime-text.ts):
// growing a memory within the limits (false instead of a RangeError when it cannot), and a pool of
// idle large memories shared by every program of a process (the jit) or of a module (an export),
// so that repeated large calls reuse one memory and a memory beyond the pool's budget is dropped
// after its call instead of being pinned. `limits` is read at each call (tests lower it, or make
// create/grow throw, to simulate the engine's limits without allocating gigabytes).

/** Limits and allocation of WebAssembly memories (pages of 64 KiB). */
export interface WasmLimits<M extends { readonly buffer: ArrayBufferLike }> {
  /** the most one memory can hold: wasm32 addresses 4 GiB */
  maxBytes: number;
  /** a program keeps (and grows) a memory of its own up to this size */
  retainBytes: number;
  /** idle larger memories kept for reuse, all programs together */
  poolBytes: number;
  /**
   * a new memory of `pages` pages (throws, e.g. RangeError, when the engine cannot); `shared`: a
   * SharedArrayBuffer-backed one (the jit's threaded program modules import a shared memory)
   */
  create: (pages: number, shared?: boolean) => M;
  /** grows `m` by `pages` pages (throws when the engine cannot) */
  grow: (m: M, pages: number) => void;
}

export function wasmMemoryRuntime<M extends { readonly buffer: ArrayBufferLike }>(limits: WasmLimits<M>) {
  const PAGE = 65536;
  /** idle large memories, least recently used first */
  const pool: M[] = [];
  function pooledBytes(): number {
    let n = 0;
    for (let i = 0; i < pool.length; i++) n += pool[i]!.buffer.byteLength;
    return n;
  }
  function trimPool(): void {
    let total = pooledBytes();
    while (total > limits.poolBytes) total -= pool.shift()!.buffer.byteLength;
  }
  const isShared = (m: M) => typeof SharedArrayBuffer !== "undefined" && m.buffer instanceof SharedArrayBuffer;
  /**
   * The smallest pooled memory of at least `bytes` (shared or not, as asked), or a new one (a
   * power of two of pages, so sizes that differ a little share one).
   */
  function takeMemory(bytes: number, shared?: boolean): M {
    trimPool(); // poolBytes may have been lowered
    let best = -1;
    for (let i = 0; i < pool.length; i++) {
      const n = pool[i]!.buffer.byteLength;
      if (n >= bytes && isShared(pool[i]!) === !!shared && (best < 0 || n < pool[best]!.buffer.byteLength)) best = i;
    }
    if (best >= 0) return pool.splice(best, 1)[0]!;
    const pages = Math.ceil(bytes / PAGE);
    const cls = Math.min(Math.pow(2, Math.ceil(Math.log2(pages))), Math.floor(limits.maxBytes / PAGE));
    if (cls > pages) {
      try {
        return limits.create(cls, shared);
      } catch (e) {
        /* the engine may still manage the exact size */
      }
    }
    return limits.create(pages, shared);
  }
  /** Returns a memory after its call: pooled (dropping the least recently used beyond poolBytes) or dropped. */
  function giveBack(m: M): void {
    if (m.buffer.byteLength > limits.poolBytes) return;
    pool.push(m);
    trimPool();
  }
  /** Makes [0, end) of `m` addressable; false when the limits or the engine do not allow it. */
  function growTo(m: M, end: number): boolean {
    const have = m.buffer.byteLength;
    if (end <= have) return true;
    if (Math.ceil(end / PAGE) * PAGE > limits.maxBytes) return false;
    try {
      limits.grow(m, Math.ceil((end - have) / PAGE));
      return true;
    } catch (e) {
      return false;
    }
  }
  return { takeMemory, giveBack, pooledBytes, growTo };
}
