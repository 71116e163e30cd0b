// Worker threads for the GEMM's pool (gemm-threads.ts), over Node worker_threads or web Workers:
// spawning one that runs a given source (awaited, or not: it joins in once started), and whether
// this thread may block in Atomics.wait.

/** The source a worker runs: for Node (CommonJS, `require` available) and for a web Worker. */
export interface WorkerCode {
  node: string;
  web: string;
}

/** The few worker operations the pool needs. */
export interface WorkerHandle {
  post(msg: unknown): void;
  /** receives messages while busy (Node: receiveMessageOnPort), so it can run program kernels */
  sync: boolean;
  ready: Promise<void>;
  terminate(): Promise<unknown> | void;
}

/** Spawns a worker running `code` and resolves once it is created (its `ready` resolves when it has started). */
export async function spawnWorker(code: WorkerCode): Promise<WorkerHandle | undefined> {
  const g = globalThis as { process?: { versions?: { node?: string } }; Worker?: new (url: string) => WebWorkerLike };
  if (g.process?.versions?.node) {
    const wt = await import("node:worker_threads");
    const w = new wt.Worker(code.node, { eval: true });
    w.unref(); // a parked worker must not keep the process alive
    const ready = new Promise<void>((res, rej) => {
      w.once("message", () => res());
      w.on("error", rej); // kept: an unhandled worker 'error' event would crash the process
    });
    return { post: (m) => w.postMessage(m), sync: true, ready, terminate: () => w.terminate() };
  }
  const Blob_ = (globalThis as { Blob?: new (parts: string[], o: { type: string }) => object }).Blob;
  const URL_ = (globalThis as { URL?: { createObjectURL?(b: object): string } }).URL;
  if (!g.Worker || !Blob_ || !URL_?.createObjectURL) return undefined;
  const w = new g.Worker(URL_.createObjectURL(new Blob_([code.web], { type: "text/javascript" })));
  const ready = new Promise<void>((res, rej) => {
    w.onmessage = () => res();
    w.onerror = (e) => rej(e);
  });
  return { post: (m) => w.postMessage(m), sync: false, ready, terminate: () => w.terminate() };
}
interface WebWorkerLike {
  postMessage(m: unknown): void;
  terminate(): void;
  onmessage: ((e: unknown) => void) | null;
  onerror: ((e: unknown) => void) | null;
}

/**
 * Spawns a worker without awaiting anything (Node: via process.getBuiltinModule, Node >= 20.16;
 * browsers: a Blob-URL Worker). The worker joins in whenever it has started: chunks are claimed
 * from a shared counter, so the caller never waits for a worker that is not running yet.
 */
export function spawnWorkerSync(code: WorkerCode): WorkerHandle | undefined {
  const g = globalThis as {
    process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown };
    Worker?: new (url: string) => WebWorkerLike;
  };
  if (g.process?.versions?.node) {
    const wt = g.process.getBuiltinModule?.("node:worker_threads") as typeof import("node:worker_threads") | undefined;
    if (!wt) return undefined;
    const w = new wt.Worker(code.node, { eval: true });
    w.unref(); // a parked worker must not keep the process alive
    const ready = new Promise<void>((res) => {
      w.once("message", () => res());
      w.on("error", () => res()); // a failed worker simply never claims a chunk
    });
    return { post: (m) => w.postMessage(m), sync: true, ready, terminate: () => w.terminate() };
  }
  const Blob_ = (globalThis as { Blob?: new (parts: string[], o: { type: string }) => object }).Blob;
  const URL_ = (globalThis as { URL?: { createObjectURL?(b: object): string } }).URL;
  if (!g.Worker || !Blob_ || !URL_?.createObjectURL) return undefined;
  const w = new g.Worker(URL_.createObjectURL(new Blob_([code.web], { type: "text/javascript" })));
  const ready = new Promise<void>((res) => {
    w.onmessage = () => res();
    w.onerror = () => res();
  });
  return { post: (m) => w.postMessage(m), sync: false, ready, terminate: () => w.terminate() };
}

/** Can this thread block in Atomics.wait? (Not on a browser main thread.) */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
