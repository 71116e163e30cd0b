/**
 * Multi-threaded GEMM: the generated module (gemm.ts) instantiated once on the calling thread and
 * once in each worker, all importing ONE shared WebAssembly.Memory (SharedArrayBuffer-backed).
 * A call splits op(A)·op(B) into tile-aligned row chunks (M) or column chunks (N), 2 per
 * thread, which the calling thread and the workers claim from a shared atomic counter (so a slow
 * or descheduled thread only delays its current chunk). Each instance has its own scratch
 * region, so every chunk packs its own panels (the duplicated packing of the shared operand
 * costs O(K·N) or O(M·K) per chunk, small next to its O(chunk·K·N) compute).
 *
 * Signalling is by Atomics on a control region in the shared memory (no postMessage on the hot
 * path): the caller writes the chunk table, publishes it, bumps each worker's `SEQ` and notifies;
 * workers (polling for `spinMs`, then parked in Atomics.wait) claim chunks and count them in
 * `FINISHED`. The caller runs chunks too, then polls briefly and waits (Atomics.wait where
 * blocking is allowed: Node main thread, workers; polling on a browser main thread) until every
 * chunk is finished. Calls are synchronous, like the single-threaded exports, so a compiled
 * program can use either.
 *
 * The same workers run large kernels of the jit's program modules (ThreadedGemm.kernel, OP 4):
 * the module imports a shared memory, each worker instantiates the same module bytes against it
 * once (registration by postMessage, received synchronously with receiveMessageOnPort: Node
 * only; web workers never take such chunks) and runs the exported kernel over a range of rows.
 *
 * Fallback: without SharedArrayBuffer (e.g. a page that is not cross-origin isolated), without a
 * worker API, or with threads = 1, `ThreadedGemm` runs everything on the calling thread.
 *
 * Memory layout: [job block + 64 B per worker][scratch per thread][heap (local.alloc)].
 */
import { type GemmDtype, type GemmFn, gemmScratchBytes } from "./gemm.js";
import { type MatmulOptions, resolveGemmConfig, WasmGemm, type WasmGemmOptions } from "./wasm-gemm.js";
import { type WasmMemory, type WasmModule, wasmApi } from "./wasm-api.js";
import { type WorkerHandle, canBlock, spawnWorker, spawnWorkerSync } from "./workers.js";

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

/**
 * Shared control region: one job block, then one 64-byte block per worker (word SEQ: bumped by
 * the caller to wake that worker). Job block (Int32 words):
 *   NEXT      (generation << 8) | next chunk index, claimed by compare-exchange; index 255 =
 *             "job being written". A claim succeeds only while NEXT is unchanged since it was
 *             read, so a late thread can never take a chunk of a job that has been replaced.
 *   COUNT     chunks in the job;  OP: 0 = sgemm, 1 = dgemm, 2 / 3 = batched sgemm / dgemm,
 *             4 = program kernel (chunk: program key, kernel index, rows [lo, hi)), -1 = quit
 *   FINISHED  chunks completed (the caller waits for COUNT);  ERR: 1 if a chunk threw
 *   from JOB_TABLE: the 12 gemm arguments of each chunk; for a batched job, the shared arguments
 *             (M, N, K, lda, aT, ldb, bT, ldc, acc) and the chunk's range [first, end) of products
 *   from BATCH_TABLE: the (A, B, C) byte offsets of each product of a batched job.
 */
const NEXT = 0,
  COUNT = 1,
  OP = 2,
  FINISHED = 3,
  ERR = 4,
  JOB_TABLE = 16;
const MAX_CHUNKS = 16;
const NOT_READY = 255;
const BATCH_TABLE = JOB_TABLE + 12 * MAX_CHUNKS;
/** Products per batched job (a longer batch runs as several jobs). */
const MAX_BATCH = 1024;
const JOB_BYTES = (BATCH_TABLE + 3 * MAX_BATCH) * 4;
const SEQ = 0;
const WORKER_BYTES = 64;

/** Claim the next chunk of the current job, or -1 (shared by the caller and the worker body). */
function claim(J: Int32Array): number {
  for (;;) {
    const v = Atomics.load(J, NEXT);
    const idx = v & 255;
    if (idx >= Atomics.load(J, COUNT)) return -1;
    if (Atomics.compareExchange(J, NEXT, v, v + 1) === v) return idx;
  }
}

/** Runs chunk `c` of the current job with the instance's sgemm / dgemm or program kernels (shared by the caller and the worker body). */
function runChunk(J: Int32Array, c: number, sgemm: GemmFn, dgemm: GemmFn, kern: (key: number, k: number, lo: number, hi: number) => void): void {
  const a = JOB_TABLE + 12 * c;
  const op = J[OP]!;
  if (op === 4) return kern(J[a]!, J[a + 1]!, J[a + 2]!, J[a + 3]!);
  const f = op === 0 || op === 2 ? sgemm : dgemm;
  if (op < 2) return f(J[a]!, J[a + 1]!, J[a + 2]!, J[a + 3]!, J[a + 4]!, J[a + 5]!, J[a + 6]!, J[a + 7]!, J[a + 8]!, J[a + 9]!, J[a + 10]!, J[a + 11]!);
  for (let i = J[a + 9]!; i < J[a + 10]!; i++) {
    const t = BATCH_TABLE + 3 * i;
    f(J[a]!, J[a + 1]!, J[a + 2]!, J[t]!, J[a + 3]!, J[a + 4]!, J[t + 1]!, J[a + 5]!, J[a + 6]!, J[t + 2]!, J[a + 7]!, J[a + 8]!);
  }
}

/**
 * Worker body (our own constant code, no user input): each time its SEQ changes, claims and runs
 * chunks until none are left. Polls for `spinMs` before parking in Atomics.wait.
 */
const WORKER_MAIN = `
function claim(J) { // the same as claim() above (kept as text: no Function.toString tricks)
  for (;;) {
    const v = Atomics.load(J, ${NEXT});
    const idx = v & 255;
    if (idx >= Atomics.load(J, ${COUNT})) return -1;
    if (Atomics.compareExchange(J, ${NEXT}, v, v + 1) === v) return idx;
  }
}
function runChunk(J, c, sgemm, dgemm, kern) { // the same as runChunk() above
  const a = ${JOB_TABLE} + 12 * c;
  const op = J[${OP}];
  if (op === 4) return kern(J[a], J[a + 1], J[a + 2], J[a + 3]);
  const f = op === 0 || op === 2 ? sgemm : dgemm;
  if (op < 2) return f(J[a], J[a + 1], J[a + 2], J[a + 3], J[a + 4], J[a + 5], J[a + 6], J[a + 7], J[a + 8], J[a + 9], J[a + 10], J[a + 11]);
  for (let i = J[a + 9]; i < J[a + 10]; i++) {
    const t = ${BATCH_TABLE} + 3 * i;
    f(J[a], J[a + 1], J[a + 2], J[t], J[a + 3], J[a + 4], J[t + 1], J[a + 5], J[a + 6], J[t + 2], J[a + 7], J[a + 8]);
  }
}
// program instances by key (OP 4), registered and dropped by messages the caller posts before the job
const programs = new Map();
function onMessage(m) {
  if (m.drop !== undefined) return void programs.delete(m.drop);
  const imports = {};
  for (const i of WebAssembly.Module.imports(m.module)) {
    // the kernels run here call no JS import (backends/wasm/threads.ts): a stub that says so
    (imports[i.module] ??= {})[i.name] = i.kind === "memory" ? m.memory : () => { throw new Error("adgen worker: no import " + i.name); };
  }
  programs.set(m.program, new WebAssembly.Instance(m.module, imports).exports);
}
function kern(key, k, lo, hi) {
  if (!programs.has(key)) drain();
  programs.get(key)["k" + k](lo, hi);
}
let drain = () => {};
function start(msg, signalReady, drainMessages) {
  if (drainMessages) drain = () => drainMessages(onMessage);
  const { module, memory, scratch, job, ctrl, spinMs } = msg;
  const g = new WebAssembly.Global({ value: "i32" }, scratch);
  const ex = new WebAssembly.Instance(module, { env: { memory, scratch: g } }).exports;
  const J = new Int32Array(memory.buffer, job, ${JOB_BYTES / 4});
  const I = new Int32Array(memory.buffer, ctrl, ${WORKER_BYTES / 4});
  signalReady();
  let seen = 0;
  for (;;) {
    const until = performance.now() + spinMs;
    for (let i = 0; Atomics.load(I, ${SEQ}) === seen; i++) {
      if ((i & 255) === 0 && performance.now() > until) Atomics.wait(I, ${SEQ}, seen);
    }
    seen = Atomics.load(I, ${SEQ});
    const op = Atomics.load(J, ${OP});
    if (op === -1) return;
    if (op === 4) {
      drain();
      if (!programs.has(J[${JOB_TABLE}])) continue; // not ours to run (a web worker): the caller runs it
    }
    for (let c = claim(J); c >= 0; c = claim(J)) {
      try {
        runChunk(J, c, ex.sgemm, ex.dgemm, kern);
      } catch (e) {
        Atomics.store(J, ${ERR}, 1);
      }
      Atomics.add(J, ${FINISHED}, 1);
      Atomics.notify(J, ${FINISHED});
    }
  }
}`;
const NODE_WORKER = `${WORKER_MAIN}
const { parentPort, receiveMessageOnPort } = require("node:worker_threads");
const drainPort = (f) => { for (let r = receiveMessageOnPort(parentPort); r; r = receiveMessageOnPort(parentPort)) f(r.message); };
parentPort.once("message", (m) => start(m, () => parentPort.postMessage("ready"), drainPort));`;
const WEB_WORKER = `${WORKER_MAIN}
self.onmessage = (e) => start(e.data, () => self.postMessage("ready"), null);`;
const WORKER_CODE = { node: NODE_WORKER, web: WEB_WORKER };

export class ThreadedGemm {
  /** The calling thread's instance: owns the (shared) memory and the bump allocator. */
  readonly local: WasmGemm;
  readonly minFlops: number;
  readonly sgemm: GemmFn;
  readonly dgemm: GemmFn;
  /** Job block and per-worker blocks (views on the shared memory). */
  private readonly job: Int32Array;
  private readonly ctrl: Int32Array[];
  private readonly workers: WorkerHandle[];
  private blocking: boolean;
  private readonly mr: Record<GemmDtype, number>;
  private readonly nr: Record<GemmDtype, number>;
  /** Job generation (see NEXT). */
  private gen = 0;
  /** Chunks the workers have run so far (tests check that a split really ran on them). */
  workerChunks = 0;

  private constructor(
    local: WasmGemm,
    workers: WorkerHandle[],
    job: Int32Array,
    ctrl: Int32Array[],
    minFlops: number,
    private readonly spinMs: number,
  ) {
    this.local = local;
    this.workers = workers;
    this.job = job;
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
    if (!shared) return new ThreadedGemm(await WasmGemm.create(base), [], new Int32Array(0), [], minFlops, spinMs);

    const wa = wasmApi();
    const nWorkers = threads - 1;
    const ctrlBytes = Math.ceil((JOB_BYTES + nWorkers * WORKER_BYTES) / 64) * 64;
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
        const h = await spawnWorker(WORKER_CODE);
        if (!h) break;
        const ctrlOff = JOB_BYTES + w * WORKER_BYTES;
        h.post({ module, memory, scratch: ctrlBytes + (w + 1) * scratch, job: 0, ctrl: ctrlOff, spinMs });
        await h.ready;
        workers.push(h);
        ctrl.push(new Int32Array(memory.buffer, ctrlOff, WORKER_BYTES / 4));
      }
    } catch {
      // No usable workers here: the threads we did start still work; the rest stays local.
    }
    const job = new Int32Array(memory.buffer, 0, JOB_BYTES / 4);
    return new ThreadedGemm(local, workers, job, ctrl, minFlops, spinMs);
  }

  /**
   * Synchronous construction: the module is compiled on this thread and workers are spawned
   * without waiting for them (they start claiming chunks as soon as they are up). Falls back to
   * one thread where shared memory or workers are unavailable. With `deferWorkers`, the shared
   * memory is laid out for `threads` but no worker is spawned until `spawnWorkers()`: the
   * calling thread's instance is usable at once, and spawning later costs only the workers.
   */
  static createSync(opts: ThreadedGemmOptions & { deferWorkers?: boolean } = {}): ThreadedGemm {
    const threads = Math.max(1, Math.floor(opts.threads ?? 2));
    const minFlops = opts.minFlops ?? 2 ** 21;
    const spinMs = opts.spinMs ?? 0.25;
    const base: WasmGemmOptions = { fma: opts.fma, blocking: opts.blocking };
    const shared = typeof SharedArrayBuffer !== "undefined" && threads > 1;
    if (!shared) return new ThreadedGemm(new WasmGemm(base), [], new Int32Array(0), [], minFlops, spinMs);
    const wa = wasmApi();
    const nWorkers = threads - 1;
    const ctrlBytes = Math.ceil((JOB_BYTES + nWorkers * WORKER_BYTES) / 64) * 64;
    const scratch = gemmScratchBytes(resolveGemmConfig(base));
    const heapStart = ctrlBytes + threads * scratch;
    const memory = new wa.Memory({ initial: Math.ceil(heapStart / 65536) + 16, maximum: opts.maximumPages ?? 16384, shared: true });
    const local = new WasmGemm({ ...base, memory, scratchOffset: ctrlBytes, heapStart });
    const job = new Int32Array(memory.buffer, 0, JOB_BYTES / 4);
    const t = new ThreadedGemm(local, [], job, [], minFlops, spinMs);
    t.pending = { planned: nWorkers, ctrlBytes, scratch };
    if (!opts.deferWorkers) t.spawnWorkers();
    return t;
  }

  /** Workers planned by createSync({ deferWorkers }) and not spawned yet. */
  private pending: { planned: number; ctrlBytes: number; scratch: number } | null = null;

  /** Spawns the workers a deferred createSync planned (no-op otherwise); does not wait for them. */
  spawnWorkers(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    const memory = this.local.memory;
    for (let w = this.workers.length; w < p.planned; w++) {
      let h: WorkerHandle | undefined;
      try {
        h = spawnWorkerSync(WORKER_CODE);
      } catch {
        h = undefined;
      }
      if (!h) break;
      const ctrlOff = JOB_BYTES + w * WORKER_BYTES;
      h.post({ module: this.local.module, memory, scratch: p.ctrlBytes + (w + 1) * p.scratch, job: 0, ctrl: ctrlOff, spinMs: this.spinMs });
      this.workers.push(h);
      this.ctrl.push(new Int32Array(memory.buffer, ctrlOff, WORKER_BYTES / 4));
    }
    this.blocking = this.workers.length > 0 && canBlock();
  }

  /**
   * Same arguments and units as the exported sgemm/dgemm (byte offsets, element leading dims);
   * synchronous: returns when every chunk is done.
   *
   * Work split: the longer of M and N is cut into tile-aligned chunks of at least 64 rows/columns
   * (each chunk re-packs the other operand, so tiny chunks would cost packing), 2 per thread
   * (measured: 1, 2 and 4 per thread are within 5% on an idle machine, 2 best); every thread
   * claims chunks from a shared counter until none are left. The caller
   * only waits for chunks a worker has actually started: a worker that is descheduled (a busy
   * machine) or slow to wake costs nothing, the caller simply takes the remaining chunks.
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
    const splitM = M >= N;
    const len = splitM ? M : N;
    const count = Math.min(MAX_CHUNKS, 2 * T, Math.floor(len / 64));
    if (T === 1 || count < 2 || 2 * M * N * K < this.minFlops)
      return f(M, N, K, aOff, lda, aT, bOff, ldb, bT, cOff, ldc, acc);
    const E = dtype === "f32" ? 4 : 8;
    const unit = splitM ? this.mr[dtype] : this.nr[dtype];
    const chunk = Math.ceil(len / count / unit) * unit;
    const chunks: number[][] = [];
    for (let s = 0; s < len; s += chunk) {
      const w = Math.min(chunk, len - s);
      chunks.push(
        splitM
          ? [w, N, K, aOff + s * (aT ? 1 : lda) * E, lda, aT, bOff, ldb, bT, cOff + s * ldc * E, ldc, acc]
          : [M, w, K, aOff, lda, aT, bOff + s * (bT ? ldb : 1) * E, ldb, bT, cOff + s * E, ldc, acc],
      );
    }
    this.runJob(dtype === "f32" ? 0 : 1, chunks);
  }

  /**
   * `table.length / 3` products of one shape, their (A, B, C) byte offsets in `table`: split over
   * the batch (contiguous ranges of products, each product whole on one thread, claimed from the
   * shared counter) when there are at least two per thread, else one after another, each split
   * as gemm() splits it. Either way every product is computed exactly as on one thread.
   */
  batched(dtype: GemmDtype, M: number, N: number, K: number, lda: number, aT: number, ldb: number, bT: number, ldc: number, table: Int32Array, acc = 0): void {
    const count = table.length / 3;
    const T = this.workers.length + 1;
    if (T === 1 || count < 2 * T || 2 * M * N * K * count < this.minFlops) {
      for (let i = 0; i < count; i++) this.gemm(dtype, M, N, K, table[3 * i]!, lda, aT, table[3 * i + 1]!, ldb, bT, table[3 * i + 2]!, ldc, acc);
      return;
    }
    for (let first = 0; first < count; first += MAX_BATCH) {
      const n = Math.min(MAX_BATCH, count - first);
      this.job.set(table.subarray(3 * first, 3 * (first + n)), BATCH_TABLE);
      const per = Math.ceil(n / Math.min(MAX_CHUNKS, n));
      const chunks: number[][] = [];
      for (let s = 0; s < n; s += per) chunks.push([M, N, K, lda, aT, ldb, bT, ldc, acc, s, Math.min(n, s + per), 0]);
      this.runJob(dtype === "f32" ? 2 : 3, chunks);
    }
  }

  /**
   * Publishes a job (OP `op`, one 12-word argument row per chunk), wakes as many workers as it
   * has chunks beyond the first, runs chunks on this thread until none are left, then waits for
   * the chunks still running on workers. The caller only waits for chunks a worker has actually
   * started: a worker that is descheduled or slow to wake costs nothing.
   */
  private runJob(op: number, chunks: number[][]): void {
    const J = this.job;
    const n = chunks.length;
    this.gen = (this.gen + 1) & 0x7fffff;
    Atomics.store(J, NEXT, (this.gen << 8) | NOT_READY); // invalidates claims of the last job
    chunks.forEach((args, c) => J.set(args, JOB_TABLE + 12 * c));
    J[COUNT] = n;
    J[OP] = op;
    J[ERR] = 0;
    Atomics.store(J, FINISHED, 0);
    Atomics.store(J, NEXT, this.gen << 8); // publish
    for (const I of this.ctrl.slice(0, n - 1)) {
      Atomics.add(I, SEQ, 1);
      Atomics.notify(I, SEQ);
    }
    const sgemm = this.local.gemm("f32"), dgemm = this.local.gemm("f64");
    let mine = 0;
    for (let c = claim(J); c >= 0; c = claim(J), mine++) {
      try {
        runChunk(J, c, sgemm, dgemm, this.kern);
      } catch {
        Atomics.store(J, ERR, 1);
      }
      Atomics.add(J, FINISHED, 1);
    }
    this.workerChunks += n - mine;
    // Wait for the chunks still running on workers: poll briefly, then park where allowed.
    const until = performance.now() + Math.min(this.spinMs, 0.05);
    for (let i = 0, d = Atomics.load(J, FINISHED); d !== n; i++, d = Atomics.load(J, FINISHED)) {
      if (this.blocking && (i & 255) === 0 && performance.now() > until) Atomics.wait(J, FINISHED, d);
    }
    if (J[ERR] !== 0) throw new Error("ThreadedGemm: a gemm chunk trapped (operands out of memory bounds?)");
  }

  /** The caller's side of a program-kernel job (OP 4): its own instance's kernel over [lo, hi). */
  private kern = (_key: number, _k: number, _lo: number, _hi: number): void => {
    throw new Error("ThreadedGemm: no program kernel job");
  };
  /** Program instances each worker has (the worker's map mirrors it: same messages, same order). */
  private registered: Set<number>[] = [];

  /**
   * Runs exported kernel `k<k>`(lo, hi) of program instance `p` (a module importing the shared
   * memory `p.memory`) over rows [0, rows) on all threads: ranges of whole rows, 2 per thread,
   * each a multiple of `align` rows (but the last), claimed from the shared counter. The caller
   * runs them with `local`, the workers with their own instance of the same module (registered
   * here on first use). Every row is computed by the same code whichever thread runs it.
   */
  kernel(p: { key: number; module: WasmModule; memory: WasmMemory }, k: number, rows: number, align: number, local: (lo: number, hi: number) => void): void {
    const ws = this.workers.filter((w) => w.sync);
    const count = Math.min(MAX_CHUNKS, 2 * (ws.length + 1), Math.ceil(rows / align));
    if (count < 2) return local(0, rows);
    ws.forEach((w, i) => {
      const reg = (this.registered[i] ??= new Set());
      if (reg.has(p.key)) return;
      if (reg.size >= 64) this.drop(reg.values().next().value!);
      w.post({ program: p.key, module: p.module, memory: p.memory });
      reg.add(p.key);
    });
    const per = Math.ceil(rows / count / align) * align;
    const chunks: number[][] = [];
    for (let s = 0; s < rows; s += per) chunks.push([p.key, k, s, Math.min(rows, s + per), 0, 0, 0, 0, 0, 0, 0, 0]);
    this.kern = (_key, _k, lo, hi) => local(lo, hi);
    this.runJob(4, chunks);
  }

  /** Forgets program instance `key` in every worker (its memory can then be collected). */
  drop(key: number): void {
    this.workers.filter((w) => w.sync).forEach((w, i) => {
      if (this.registered[i]?.delete(key)) w.post({ drop: key });
    });
  }

  /** Copy-in/copy-out convenience like WasmGemm.matmul, computed on all threads. */
  matmul<T extends Float32Array | Float64Array>(a: T, b: T, M: number, N: number, K: number, opts: MatmulOptions = {}): T {
    return this.local.matmul(a, b, M, N, K, opts, (dt) => (dt === "f32" ? this.sgemm : this.dgemm));
  }

  /** Stop the workers (the instance stays usable, single-threaded). */
  async close(): Promise<void> {
    if (this.workers.length > 0) {
      Atomics.store(this.job, NEXT, NOT_READY);
      Atomics.store(this.job, OP, -1);
    }
    for (let w = 0; w < this.workers.length; w++) {
      const I = this.ctrl[w]!;
      Atomics.add(I, SEQ, 1);
      Atomics.notify(I, SEQ);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
