/**
 * PyTorch peer (issue 12: the native anchor on the same CPU). One long-lived Python process
 * (bench/peers/torch_server.py, the system python3 with torch; on Debian `apt-get install
 * python3-torch libopenblas0-pthread`) runs each workload on the same float32 inputs, written to
 * a temporary directory by this side; its outputs come back as files and are checked against the
 * same float64 references as every other peer. Each sample is the mean of enough back-to-back
 * calls to last ~50 ms, timed inside Python (no pipe overhead in the figure). Where Python or
 * torch is missing, the column says why.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { SampledSetup, SetupFactory } from "../harness.js";
import { checkMatmul, checkMlpGrads, checkMlpLoss, matmulInputs, mlpData } from "../workloads/data.js";
import { type WorkloadId, WORKLOADS } from "../workloads/index.js";
import { checkEwGrad, checkEwValue, checkTfGrads, checkTfLoss, ewInput, TF_PARAM_NAMES, tfData } from "../workloads/transformer.js";
import type { Peer } from "./types.js";
import { CNN_PARAM_NAMES, checkCnnBiasGrad, checkCnnLoss, cnnData } from "../workloads/cnn.js";

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), "torch_server.py");
const PYTHONS = [process.env.ADGEN_BENCH_PYTHON, "/usr/bin/python3", "python3"].filter((p): p is string => !!p);

let python: string | undefined;
let server: { proc: ChildProcessWithoutNullStreams; next: () => Promise<Record<string, unknown>> } | undefined;
let facts: Record<string, unknown> = {};

function findPython(): string | string[] {
  const tried: string[] = [];
  for (const p of PYTHONS) {
    const r = spawnSync(p, ["-c", "import torch, numpy; print(torch.__version__)"], { encoding: "utf8", timeout: 60_000 });
    if (r.status === 0) return p;
    tried.push(`${p}: ${(r.stderr || r.error?.message || "failed").trim().split("\n").pop()}`);
  }
  return tried;
}

async function start(): Promise<void> {
  const proc = spawn(python!, [SERVER], { stdio: ["pipe", "pipe", "pipe"] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  let stderr = "";
  proc.stderr.on("data", (b) => (stderr += String(b)));
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`the PyTorch process exited: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  facts = await next();
  server = { proc, next };
  process.once("exit", () => proc.kill());
}

async function ask(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  server!.proc.stdin.write(JSON.stringify(msg) + "\n");
  const r = await server!.next();
  if (typeof r.error === "string") throw new Error(`PyTorch: ${r.error}`);
  return r;
}

const writeF32 = (dir: string, name: string, a: Float32Array | Int32Array) => writeFileSync(path.join(dir, `${name}.f32`), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const readOut = (dir: string, name: string) => {
  const b = readFileSync(path.join(dir, `out_${name}.f32`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** Writes the inputs, builds the workload in Python, checks its outputs, and samples it. */
function torchSetup(id: WorkloadId, write: (dir: string) => void, check: (out: (name: string) => Float32Array) => string | undefined): SetupFactory {
  return async (): Promise<SampledSetup> => {
    const dir = mkdtempSync(path.join(tmpdir(), "adgen-bench-torch-"));
    write(dir);
    await ask({ cmd: "setup", id, dir });
    const verifyError = check((n) => readOut(dir, n));
    const spec = WORKLOADS.find((w) => w.id === id)!;
    let inner = 1;
    return {
      verify: () => verifyError,
      sample: async () => {
        let ms = (await ask({ cmd: "sample", inner })).ms as number;
        if (ms * inner < 30) {
          inner = Math.max(1, Math.ceil(50 / Math.max(ms, 1e-3)));
          ms = (await ask({ cmd: "sample", inner })).ms as number;
        }
        return spec.unit === "GFLOP/s" ? spec.flops! / (ms * 1e6) : ms;
      },
      teardown: () => rmSync(dir, { recursive: true, force: true }),
    };
  };
}

function matmulSetup(n: 512 | 1024): SetupFactory {
  const inputs = () => matmulInputs(n);
  return torchSetup(
    `matmul-${n}`,
    (dir) => {
      const { a, b } = inputs();
      writeF32(dir, "a", a);
      writeF32(dir, "b", b);
    },
    (out) => {
      const { a, b } = inputs();
      return checkMatmul(a, b, n, out("c"));
    },
  );
}

function mlpSetup(step: boolean): SetupFactory {
  const write = (dir: string) => {
    const d = mlpData();
    for (const [k, v] of Object.entries({ x: d.x, y: d.y, w1: d.w1, b1: d.b1, w2: d.w2, b2: d.b2 })) writeF32(dir, k, v);
  };
  return torchSetup(step ? "mlp-step" : "mlp-fwd", write, (out) =>
    step ? checkMlpGrads(mlpData(), { loss: out("loss")[0]!, w1: out("w1"), b1: out("b1"), w2: out("w2"), b2: out("b2") }) : checkMlpLoss(mlpData(), out("loss")[0]!),
  );
}

function transformerSetup(step: boolean): SetupFactory {
  const write = (dir: string) => {
    const d = tfData();
    writeF32(dir, "x", d.x);
    writeF32(dir, "target", d.target);
    for (const n of TF_PARAM_NAMES) writeF32(dir, `p_${n}`, d.p[n]);
  };
  return torchSetup(step ? "transformer-step" : "transformer-fwd", write, (out) => {
    const loss = checkTfLoss(out("loss")[0]!);
    if (loss || !step) return loss;
    return checkTfGrads(Object.fromEntries(TF_PARAM_NAMES.map((n) => [n, out(n)])) as never);
  });
}

function ewSetup(grad: boolean): SetupFactory {
  return torchSetup(grad ? "ew-4m-grad" : "ew-4m-fwd", (dir) => writeF32(dir, "x", ewInput()), (out) => (grad ? checkEwGrad(out("grad")) : checkEwValue(out("value")[0]!)));
}

function cnnSetup(): SetupFactory {
  const write = (dir: string) => {
    const d = cnnData();
    writeF32(dir, "x", d.x);
    writeF32(dir, "labels", Float32Array.from(d.labels));
    for (const n of CNN_PARAM_NAMES) writeF32(dir, `p_${n}`, d.p[n]);
  };
  return torchSetup("cnn-step", write, (out) => checkCnnLoss(out("loss")[0]!) ?? checkCnnBiasGrad(out("b3")));
}

export const torchPeer: Peer = {
  name: "pytorch",
  version: "system python3 torch",
  init: async () => {
    const found = findPython();
    if (Array.isArray(found)) throw new Error(`no Python with torch and numpy (${found.join("; ")}); on Debian: apt-get install python3-torch libopenblas0-pthread`);
    python = found;
    await start();
  },
  info: () => ({ python, ...facts }),
  impls: {
    "matmul-512": matmulSetup(512),
    "matmul-1024": matmulSetup(1024),
    "mlp-fwd": mlpSetup(false),
    "mlp-step": mlpSetup(true),
    "transformer-fwd": transformerSetup(false),
    "transformer-step": transformerSetup(true),
    "ew-4m-fwd": ewSetup(false),
    "ew-4m-grad": ewSetup(true),
    "cnn-step": cnnSetup(),
  },
};

/** Stops the Python process (run.ts calls it when the run ends). */
export function stopTorch(): void {
  if (server) server.proc.stdin.end(JSON.stringify({ cmd: "quit" }) + "\n");
  server = undefined;
}
