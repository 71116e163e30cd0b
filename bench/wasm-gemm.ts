/**
 * Benchmark of the generated WebAssembly GEMM (src/backends/wasm/) against tfjs-wasm (XNNPACK,
 * SIMD, single-threaded in Node) and a plain JavaScript loop, all in the same process run.
 *
 *   npx tsx bench/wasm-gemm.ts            (add --quick for fewer rounds, --json <file> to save)
 *
 * Columns (GFLOP/s = 2·M·N·K / median time):
 *   kernel      sgemm/dgemm on operands already in wasm memory (what compiled programs do)
 *   +copies     matmul(): copy A and B in, run, copy C out (eager convenience); the copy time
 *               itself is reported separately in "copy ms"
 *   2 threads   ThreadedGemm kernel (shared memory + 1 worker); falls back to 1 thread if needed.
 *               Each sample starts with 10 ms of untimed calls: the second core sits idle while
 *               the other cells run, and on this VM an idle vCPU needs milliseconds to get back
 *               to speed (even a single-threaded call right after a 100 ms sleep runs 1.3-1.8x
 *               slower); continuous use, as in a training loop, keeps it warm.
 *   tfjs-wasm   tf.matMul(a, b, transposeA, transposeB).dataSync() on resident tensors (its
 *               transposed variants are skipped at 1024: about 1 GFLOP/s, seconds per call)
 * Cells are sampled round-robin (one sample per cell per round) so machine noise spreads evenly
 * over all columns; medians over rounds are reported.
 */
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { ThreadedGemm } from "../src/runtime/wasm/gemm-threads.js";
import { WasmGemm } from "../src/runtime/wasm/wasm-gemm.js";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const JSON_OUT = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;
const ROUNDS = QUICK ? 5 : 11;
const MIN_SAMPLE_MS = 15;

type Dt = "f32" | "f64";
interface Shape {
  label: string;
  dt: Dt;
  M: number;
  N: number;
  K: number;
  tA: boolean;
  tB: boolean;
}
const sq = (n: number, dt: Dt, tA = false, tB = false): Shape => ({
  label: `${n}${dt === "f64" ? " f64" : ""} ${tA ? "Aᵀ" : "A"}·${tB ? "Bᵀ" : "B"}`,
  dt,
  M: n,
  N: n,
  K: n,
  tA,
  tB,
});
const SHAPES: Shape[] = [
  sq(128, "f32"),
  sq(256, "f32"),
  sq(512, "f32"),
  sq(1024, "f32"),
  sq(512, "f32", true, false),
  sq(512, "f32", false, true),
  sq(512, "f32", true, true),
  sq(1024, "f32", true, false),
  sq(1024, "f32", false, true),
  sq(512, "f64"),
  sq(512, "f64", true, false),
  sq(512, "f64", false, true),
  // MLP 784-256 layer, batch 128: forward X·W, gradients Xᵀ·G and G·Wᵀ.
  { label: "mlp X·W 128×784·784×256", dt: "f32", M: 128, N: 256, K: 784, tA: false, tB: false },
  { label: "mlp Xᵀ·G 784×128·128×256", dt: "f32", M: 784, N: 256, K: 128, tA: true, tB: false },
  { label: "mlp G·Wᵀ 128×256·256×784", dt: "f32", M: 128, N: 784, K: 256, tA: false, tB: true },
];

/** A cell: a function whose call is one timed unit, sampled round-robin. */
interface Cell {
  row: string;
  col: string;
  flops: number;
  fn: () => void;
  /** Untimed calls (10 ms) before each sample (wake the second core for the threaded column). */
  prime?: boolean;
  inner: number;
  samples: number[];
}

function randomArray(dt: Dt, n: number, seed: number): Float32Array | Float64Array {
  const a = dt === "f32" ? new Float32Array(n) : new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/** Naive JS: i-p-j loop (row of B streamed, the usual hand-written baseline). */
function naiveMatmul(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  c.fill(0);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < n; p++) {
      const aip = a[i * n + p]!;
      const bo = p * n;
      const co = i * n;
      for (let j = 0; j < n; j++) c[co + j]! += aip * b[bo + j]!;
    }
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

async function main(): Promise<void> {
  const require = createRequire(import.meta.url);
  setWasmPaths(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm")) + path.sep);
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs wasm backend unavailable");
  await tf.ready();

  const gemm = new WasmGemm();
  const threaded = await ThreadedGemm.create({ threads: 2 });
  const cells: Cell[] = [];
  const add = (row: string, col: string, flops: number, fn: () => void) =>
    cells.push({ row, col, flops, fn, prime: col === "2 threads", inner: 1, samples: [] });
  const copyMs = new Map<string, number[]>();
  const tensors: tf.Tensor[] = [];

  for (const s of SHAPES) {
    const { M, N, K, tA, tB, dt } = s;
    const E = dt === "f32" ? 4 : 8;
    const flops = 2 * M * N * K;
    const a = randomArray(dt, M * K, 1);
    const b = randomArray(dt, K * N, 2);
    const lda = tA ? M : K;
    const ldb = tB ? K : N;
    const resident = (g: WasmGemm) => {
      const aOff = g.alloc(a.length * E);
      const bOff = g.alloc(b.length * E);
      const cOff = g.alloc(M * N * E);
      (dt === "f32" ? g.f32(aOff, a.length) : g.f64(aOff, a.length)).set(a);
      (dt === "f32" ? g.f32(bOff, b.length) : g.f64(bOff, b.length)).set(b);
      return [aOff, bOff, cOff] as const;
    };
    {
      const [aOff, bOff, cOff] = resident(gemm);
      const f = gemm.gemm(dt);
      add(s.label, "kernel", flops, () => f(M, N, K, aOff, lda, +tA, bOff, ldb, +tB, cOff, N, 0));
    }
    add(s.label, "+copies", flops, () => void gemm.matmul(a, b, M, N, K, { transA: tA, transB: tB }));
    // Copy time alone: what matmul() adds around the kernel (operands in, result out).
    const [cA, cB, cC] = resident(gemm);
    copyMs.set(s.label, []);
    add(s.label, "copy", 0, () => {
      const view = (off: number, n: number) => (dt === "f32" ? gemm.f32(off, n) : gemm.f64(off, n));
      view(cA, a.length).set(a);
      view(cB, b.length).set(b);
      view(cC, M * N).slice();
    });
    {
      const [aOff, bOff, cOff] = resident(threaded.local);
      const f = dt === "f32" ? threaded.sgemm : threaded.dgemm;
      add(s.label, "2 threads", flops, () => f(M, N, K, aOff, lda, +tA, bOff, ldb, +tB, cOff, N, 0));
    }
    // tfjs-wasm's transposed-operand kernels run at ~1 GFLOP/s: skip them at 1024 (seconds per call).
    if (dt === "f32" && !((tA || tB) && M * N * K > 2 ** 28)) {
      const ta = tf.tensor2d(a as Float32Array, tA ? [K, M] : [M, K]);
      const tb = tf.tensor2d(b as Float32Array, tB ? [N, K] : [K, N]);
      tensors.push(ta, tb);
      add(s.label, "tfjs-wasm", flops, () => {
        const c = tf.matMul(ta, tb, tA, tB);
        c.dataSync();
        c.dispose();
      });
    }
  }
  {
    const n = 256;
    const a = randomArray("f32", n * n, 1) as Float32Array;
    const b = randomArray("f32", n * n, 2) as Float32Array;
    const c = new Float32Array(n * n);
    add("256 A·B", "naive JS", 2 * n ** 3, () => naiveMatmul(a, b, c, n));
  }

  // Warm-up (tiers wasm up to the optimizing compiler) and choose calls per sample.
  for (const cell of cells) {
    const t0 = performance.now();
    let calls = 0;
    while (calls < 3 || performance.now() - t0 < 150) {
      cell.fn();
      calls++;
    }
    const per = (performance.now() - t0) / calls;
    cell.inner = Math.max(1, Math.ceil(MIN_SAMPLE_MS / per));
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const cell of cells) {
      for (const t0 = performance.now(); cell.prime && performance.now() - t0 < 10; ) cell.fn();
      const t0 = performance.now();
      for (let i = 0; i < cell.inner; i++) cell.fn();
      cell.samples.push((performance.now() - t0) / cell.inner);
    }
  }

  const rows = [...new Set(cells.map((c) => c.row))];
  const cols = ["kernel", "+copies", "copy", "2 threads", "tfjs-wasm", "naive JS"];
  const get = (row: string, col: string) => cells.find((c) => c.row === row && c.col === col);
  const gflops = (c: Cell | undefined) => (c ? (c.flops / median(c.samples) / 1e6).toFixed(1) : "-");
  const header = ["shape", "kernel GFLOP/s", "+copies GFLOP/s", "copy ms", "kernel ms"];
  header.push("2 threads GFLOP/s", "tfjs-wasm GFLOP/s", "kernel/tfjs", "naive JS GFLOP/s");
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  const json: Record<string, Record<string, number>> = {};
  for (const row of rows) {
    const k = get(row, "kernel");
    const t = get(row, "tfjs-wasm");
    const copy = get(row, "copy");
    const ratio = k && t ? (median(t.samples) / median(k.samples)).toFixed(2) + "x" : "-";
    lines.push(
      `| ${row} | ${gflops(k)} | ${gflops(get(row, "+copies"))} | ${copy ? median(copy.samples).toFixed(3) : "-"} | ${
        k ? median(k.samples).toFixed(3) : "-"
      } | ${gflops(get(row, "2 threads"))} | ${gflops(t)} | ${ratio} | ${gflops(get(row, "naive JS"))} |`,
    );
    json[row] = {};
    for (const col of cols) {
      const c = get(row, col);
      if (!c) continue;
      if (col === "copy") json[row]!["copy ms"] = median(c.samples);
      else json[row]![col + " GFLOP/s"] = c.flops / median(c.samples) / 1e6;
    }
  }
  const cpu = os.cpus()[0]?.model ?? "?";
  console.log(`wasm gemm bench: node ${process.version}, ${cpu}, ${os.cpus().length} cpus, ${ROUNDS} rounds, ` +
    `fma=${gemm.config.fma}, threads=${threaded.threads}, tfjs ${tf.version.tfjs} (${tf.getBackend()})`);
  console.log(lines.join("\n"));
  if (JSON_OUT) {
    const out = { date: new Date().toISOString(), node: process.version, cpu, fma: gemm.config.fma, results: json };
    writeFileSync(JSON_OUT, JSON.stringify(out, null, 2));
  }
  tf.dispose(tensors);
  await threaded.close();
}

await main();
