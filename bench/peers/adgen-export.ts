/**
 * adgen's export-load rows (bench/workloads/export.ts): exports the MLP's loss, gradient and split
 * VJP once per run into a temporary directory (with the src/ adgen this process runs), as one
 * module importing the shared runtime file and as three separate bundled modules; each sample runs
 * bench/peers/adgen-export-child.ts in a fresh process. The setup's note gives the artifact bytes.
 */
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as adgen from "../../src/index.js";
import type { SetupFactory } from "../harness.js";
import type { WorkloadId } from "../workloads/index.js";
import { MLP } from "../workloads/data.js";
import { mlpLoss } from "./adgen-model.js";
import { childSampleSetup } from "./child.js";

let written: Promise<{ dir: string; note: string }> | undefined;

/** Writes the artifacts once: <dir>/one (model.mjs + runtime), <dir>/three (loss, grad, vjp .mjs). */
function artifacts(): Promise<{ dir: string; note: string }> {
  written ??= (async () => {
    const { spec, exportModule, exportFunction, exportVjp, grad, vjpOf } = adgen;
    const { nIn, nHidden: H, nOut: K } = MLP;
    const loss = mlpLoss(adgen);
    const specs = [
      { W1: spec("float32", [nIn, H]), b1: spec("float32", [H]), W2: spec("float32", [H, K]), b2: spec("float32", [K]) },
      spec("float32", ["B", nIn]),
      spec("float32", ["B", K]),
    ];
    const dir = mkdtempSync(join(tmpdir(), "adgen-export-bench-"));
    await exportModule({ loss, grad: grad(loss), step: vjpOf(loss, { argnums: 0 }) }, specs, { name: "model" }).write(join(dir, "one"));
    await exportFunction(loss, specs, { name: "loss" }).write(join(dir, "three"));
    await exportFunction(grad(loss), specs, { name: "lossGrad" }).write(join(dir, "three"));
    await exportVjp(loss, specs, { name: "lossVjp", argnums: 0 }).write(join(dir, "three"));
    const bytes = (sub: string) => readdirSync(join(dir, sub)).filter((f) => f.endsWith(".mjs")).reduce((n, f) => n + statSync(join(dir, sub, f)).size, 0);
    return { dir, note: `one module + shared runtime: ${bytes("one").toLocaleString("en-US")} bytes; three bundled modules: ${bytes("three").toLocaleString("en-US")} bytes` };
  })();
  return written;
}

const row = (mode: string): SetupFactory => async () => {
  const { dir, note } = await artifacts();
  return childSampleSetup("bench/peers/adgen-export-child.ts", [dir, mode], note)();
};

export const EXPORT_IMPLS: Partial<Record<WorkloadId, SetupFactory>> = {
  ["export-import-mlp" as WorkloadId]: row("import"),
  ["export-first-call-mlp" as WorkloadId]: row("first"),
  ["export-first-call-mlp-3" as WorkloadId]: row("first3"),
};
