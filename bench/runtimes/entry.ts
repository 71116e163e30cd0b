/**
 * Entry of the runtime-neutral bench bundle (bench/runtimes.ts builds it with esbuild, together
 * with adgen's sources, into one ES module that Node 20, Node 24 and Chromium all import).
 */
import * as adgen from "../../src/index.js";
import { type RunOptions, type RuntimeResult, runRows } from "./rows.js";

export function run(runtime: string, opts: RunOptions = {}): Promise<RuntimeResult> {
  return runRows(adgen, runtime, opts);
}
