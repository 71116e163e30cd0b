/**
 * Multi-threaded GEMM: the generated module (gemm.ts) instantiated once on the calling thread and
 * once in each worker, all importing ONE shared WebAssembly.Memory (SharedArrayBuffer-backed).
 * A call splits op(A)·op(B) into row blocks (M) or column blocks (N), tile-aligned, one per
 * thread; the calling thread computes block 0 itself. Each instance has its own scratch region,
 * so every thread packs its own panels (the duplicated packing of the shared operand costs
 * O(K·N) or O(M·K), small next to the O(M·N·K) compute).
 *
 * Signalling is by Atomics on a per-worker control block in the shared memory (no postMessage on
 * the hot path): the caller writes the arguments, bumps `seq` and notifies; the worker (blocked in
 * Atomics.wait) runs its block, stores `done = seq` and notifies. The caller waits with
 * Atomics.wait where blocking is allowed (Node main thread, workers) and spins otherwise (browser
 * main thread).
 *
 * Fallback: without SharedArrayBuffer (e.g. a page that is not cross-origin isolated), without a
 * worker API, or with threads = 1, `ThreadedGemm` runs everything on the calling thread.
 *
 * Memory layout: [control blocks: 64 B per worker][scratch per thread][heap (local.alloc)].
 */
import { type GemmDtype, type GemmFn, gemmScratchBytes } from "./gemm.js";
import { type MatmulOptions, resolveGemmConfig, WasmGemm, type WasmGemmOptions } from "./wasm-gemm.js";
import { type WasmMemory, type WasmModule, wasmApi } from "./wasm-api.js";

export interface ThreadedGemmOptions {
  /** Threads including the caller (default 2). */
  threads?: number;
  /** Problems below this many flops (2·M·N·K) run on the calling thread only. Default 2^21. */
  minFlops?: number;
  /**
   * How long an idle worker polls for the next job before parking in Atomics.wait (ms, default
   * 0.25; the caller polls for completion at most min(spinMs, 0.05) ms). Polling keeps
   * back-to-back calls fast (a futex wake-up costs tens of microseconds and tends to run the woken
   * thread on the waker's core) but burns the polling core; keep it short on shared machines.
   */
  spinMs?: number;
  /** Maximum size of the shared memory in 64 KiB pages (default 16384 = 1 GiB). */
  maximumPages?: number;
  blocking?: WasmGemmOptions["blocking"];
  fma?: WasmGemmOptions["fma"];
}

/** Control block words (Int32, per worker). */
const SEQ = 0, // bumped by the caller to start a job
  DONE = 1, // set to SEQ by the worker when finished
  OP = 2, // 0 = sgemm, 1 = dgemm, -1 = quit
  ARGS = 3, // 12 gemm arguments
  ERR = 15; // 1 if the worker's gemm threw
const CTRL_BYTES = 64;

/** Worker body (our own constant code, no user input): runs gemm jobs until told to quit. */
const WORKER_MAIN = `
function start(msg, signalReady) {
  const { module, memory, scratch, ctrl } = msg;
  const g = new WebAssembly.Global({ value: "i32" }, scratch);
  const ex = new WebAssembly.Instance(module, { env: { memory, scratch: g } }).exports;
  const I = new Int32Array(memory.buffer, ctrl, 16);
  signalReady();
  let seen = 0;
  for (;;) {
    // Spin briefly before parking: a futex wake-up costs tens of microseconds and tends to put
    // the woken thread on the waker's core, serialising short jobs.
    const until = performance.now() + msg.spinMs;
    for (let i = 0; Atomics.load(I, ${SEQ}) === seen; i++) {
      if ((i & 255) === 0 && performance.now() > until) Atomics.wait(I, ${SEQ}, seen);
    }
    seen = Atomics.load(I, ${SEQ});
    const op = I[${OP}];
    if (op === -1) return;
    try {
      const a = I.subarray(${ARGS}, ${ARGS + 12});
      (op === 0 ? ex.sgemm : ex.dgemm)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]);
      I[${ERR}] = 0;
    } catch (e) {
      I[${ERR}] = 1;
    }
    Atomics.store(I, ${DONE}, seen);
    Atomics.notify(I, ${DONE});
  }
}`;
const NODE_WORKER = `${WORKER_MAIN}
const { parentPort } = require("node:worker_threads");
parentPort.once("message", (m) => start(m, () => parentPort.postMessage("ready")));`;
const WEB_WORKER = `${WORKER_MAIN}
self.onmessage = (e) => start(e.data, () => self.postMessage("ready"));`;

/** The few worker operations we need, over Node worker_threads or web Workers. */
interface WorkerHandle {
  post(msg: unknown): void;
  ready: Promise<void>;
  terminate(): Promise<unknown> | void;
}

async function spawnWorker(): Promise<WorkerHandle | undefined> {
  const g = globalThis as { process?: { versions?: { node?: string } }; Worker?: new (url: string) => WebWorkerLike };
  if (g.process?.versions?.node) {
    const wt = await import("node:worker_threads");
    const w = new wt.Worker(NODE_WORKER, { eval: true });
    w.unref(); // a parked worker must not keep the process alive
    const ready = new Promise<void>((res, rej) => {
      w.once("message", () => res());
      w.on("error", rej); // kept: an unhandled worker 'error' event would crash the process
    });
    return { post: (m) => w.postMessage(m), ready, terminate: () => w.terminate() };
  }
  const Blob_ = (globalThis as { Blob?: new (parts: string[], o: { type: string }) => object }).Blob;
  const URL_ = (globalThis as { URL?: { createObjectURL?(b: object): string } }).URL;
  if (!g.Worker || !Blob_ || !URL_?.createObjectURL) return undefined;
  const w = new g.Worker(URL_.createObjectURL(new Blob_([WEB_WORKER], { type: "text/javascript" })));
  const ready = new Promise<void>((res, rej) => {
    w.onmessage = () => res();
    w.onerror = (e) => rej(e);
  });
  return { post: (m) => w.postMessage(m), ready, terminate: () => w.terminate() };
}
interface WebWorkerLike {
  postMessage(m: unknown): void;
  terminate(): void;
  onmessage: ((e: unknown) => void) | null;
  onerror: ((e: unknown) => void) | null;
}

/** Can this thread block in Atomics.wait? (Not on a browser main thread.) */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

export class ThreadedGemm {
  /** The calling thread's instance: owns the (shared) memory and the bump allocator. */
  readonly local: WasmGemm;
  readonly minFlops: number;
  readonly sgemm: GemmFn;
  readonly dgemm: GemmFn;
  private readonly ctrl: Int32Array[];
  private readonly workers: WorkerHandle[];
  private readonly blocking: boolean;
  private readonly mr: Record<GemmDtype, number>;
  private readonly nr: Record<GemmDtype, number>;

  private constructor(
    local: WasmGemm,
    workers: WorkerHandle[],
    ctrl: Int32Array[],
    minFlops: number,
    private readonly spinMs: number,
  ) {
    this.local = local;
    this.workers = workers;
    this.ctrl = ctrl;
    this.minFlops = minFlops;
    this.blocking = workers.length > 0 && canBlock();
    const b = local.config;
    this.mr = { f32: b.f32.mr, f64: b.f64.mr };
    this.nr = { f32: b.f32.nv * 4, f64: b.f64.nv * 2 };
    this.sgemm = (...a) => this.gemm("f32", ...a);
    this.dgemm = (...a) => this.gemm("f64", ...a);
  }

  /** Threads in use, including the caller (1 after a fallback or close()). */
  get threads(): number {
    return this.workers.length + 1;
  }

  get memory(): WasmMemory {
    return this.local.memory;
  }

  static async create(opts: ThreadedGemmOptions = {}): Promise<ThreadedGemm> {
    const threads = Math.max(1, Math.floor(opts.threads ?? 2));
    const minFlops = opts.minFlops ?? 2 ** 21;
    const spinMs = opts.spinMs ?? 0.25;
    const base: WasmGemmOptions = { fma: opts.fma, blocking: opts.blocking };
    const shared = typeof SharedArrayBuffer !== "undefined" && threads > 1;
    if (!shared) return new ThreadedGemm(await WasmGemm.create(base), [], [], minFlops, spinMs);

    const wa = wasmApi();
    const nWorkers = threads - 1;
    const ctrlBytes = Math.ceil((nWorkers * CTRL_BYTES) / 64) * 64;
    const scratch = gemmScratchBytes(resolveGemmConfig(base));
    const heapStart = ctrlBytes + threads * scratch;
    const memory = new wa.Memory({
      initial: Math.ceil(heapStart / 65536) + 16,
      maximum: opts.maximumPages ?? 16384,
      shared: true,
    });
    const local = await WasmGemm.create({ ...base, memory, scratchOffset: ctrlBytes, heapStart });
    const module: WasmModule = local.module;
    const workers: WorkerHandle[] = [];
    const ctrl: Int32Array[] = [];
    try {
      for (let w = 0; w < nWorkers; w++) {
        const h = await spawnWorker();
        if (!h) break;
        const ctrlOff = w * CTRL_BYTES;
        h.post({ module, memory, scratch: ctrlBytes + (w + 1) * scratch, ctrl: ctrlOff, spinMs });
        await h.ready;
        workers.push(h);
        ctrl.push(new Int32Array(memory.buffer, ctrlOff, 16));
      }
    } catch {
      // No usable workers here: the threads we did start still work; the rest stays local.
    }
    return new ThreadedGemm(local, workers, ctrl, minFlops, spinMs);
  }

  /**
   * Same arguments and units as the exported sgemm/dgemm (byte offsets, element leading dims);
   * synchronous: returns when every thread has finished its block.
   */
  gemm(
    dtype: GemmDtype,
    M: number,
    N: number,
    K: number,
    aOff: number,
    lda: number,
    aT: number,
    bOff: number,
    ldb: number,
    bT: number,
    cOff: number,
    ldc: number,
    acc: number,
  ): void {
    const f = this.local.gemm(dtype);
    const T = this.workers.length + 1;
    if (T === 1 || 2 * M * N * K < this.minFlops) return f(M, N, K, aOff, lda, aT, bOff, ldb, bT, cOff, ldc, acc);
    const E = dtype === "f32" ? 4 : 8;
    // Split the longer of M and N into T tile-aligned blocks.
    const splitM = M >= N;
    const unit = splitM ? this.mr[dtype] : this.nr[dtype];
    const len = splitM ? M : N;
    const chunk = Math.ceil(len / T / unit) * unit;
    const jobs: number[][] = [];
    for (let t = 0; t * chunk < len; t++) {
      const s = t * chunk;
      const n = Math.min(chunk, len - s);
      if (splitM) {
        const a = aOff + s * (aT ? 1 : lda) * E;
        jobs.push([n, N, K, a, lda, aT, bOff, ldb, bT, cOff + s * ldc * E, ldc, acc]);
      } else {
        const b = bOff + s * (bT ? ldb : 1) * E;
        jobs.push([M, n, K, aOff, lda, aT, b, ldb, bT, cOff + s * E, ldc, acc]);
      }
    }
    const started: Int32Array[] = [];
    for (let t = 1; t < jobs.length; t++) {
      const I = this.ctrl[t - 1]!;
      I[OP] = dtype === "f32" ? 0 : 1;
      I.set(jobs[t]!, ARGS);
      Atomics.add(I, SEQ, 1);
      Atomics.notify(I, SEQ);
      started.push(I);
    }
    const j0 = jobs[0]!;
    f(j0[0]!, j0[1]!, j0[2]!, j0[3]!, j0[4]!, j0[5]!, j0[6]!, j0[7]!, j0[8]!, j0[9]!, j0[10]!, j0[11]!);
    let failed = false;
    for (const I of started) {
      const seq = Atomics.load(I, SEQ);
      // Poll first (the workers usually finish within microseconds of us), then park if allowed.
      const until = performance.now() + Math.min(this.spinMs, 0.05);
      for (let i = 0, d = Atomics.load(I, DONE); d !== seq; i++, d = Atomics.load(I, DONE)) {
        if (this.blocking && (i & 255) === 0 && performance.now() > until) Atomics.wait(I, DONE, d);
      }
      failed ||= I[ERR] !== 0;
    }
    if (failed) throw new Error("ThreadedGemm: a worker's gemm trapped (operands out of memory bounds?)");
  }

  /** Copy-in/copy-out convenience like WasmGemm.matmul, computed on all threads. */
  matmul<T extends Float32Array | Float64Array>(a: T, b: T, M: number, N: number, K: number, opts: MatmulOptions = {}): T {
    return this.local.matmul(a, b, M, N, K, opts, (dt) => (dt === "f32" ? this.sgemm : this.dgemm));
  }

  /** Stop the workers (the instance stays usable, single-threaded). */
  async close(): Promise<void> {
    for (let w = 0; w < this.workers.length; w++) {
      const I = this.ctrl[w]!;
      I[OP] = -1;
      Atomics.add(I, SEQ, 1);
      Atomics.notify(I, SEQ);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
