// The compiled stage of `jit(f).lower(...args).compile()` (like jax.stages.Compiled): the
// specialization compiled with the configured backend, callable, with `costAnalysis()` (flops,
// transcendentals, bytes per kernel and in total, as formulas in the symbolic dims; cost.ts) and
// `memoryAnalysis()` (arena, residuals, inputs, outputs, constants, peak live bytes), and its
// stages as text (`asText("wasm")`: the WebAssembly it runs, per kernel).

import { ArgumentError } from "../core/errors.js";
import { type Dim, dimAdd, dimToString } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import type { Executable } from "../backends/executable.js";
import { codegen } from "./compile.js";
import { type CostAnalysis, bytesOf, costAnalysis } from "./cost.js";
import { formatBytes } from "./report.js";
import { serializeStage } from "./stage-export.js";
import { type KernelProfile, type ProfileOptions, profileStage } from "./profile.js";
import { checkOptions, is } from "../core/options.js";
import type { Lowered, Stage } from "./lowered.js";
import { config } from "../core/config.js";

export interface MemoryAnalysis {
  /** bytes of the planned arena of intermediates (null when sizes are symbolic: planned per call) */
  arenaBytes: number | null;
  /** bytes a gradient inside the function saves between its forward and backward halves */
  residualBytes: string;
  inputBytes: string;
  outputBytes: string;
  constantBytes: string;
  /** an upper bound of the bytes live during one call: arena + inputs + outputs + constants */
  peakLiveBytes: string;
}

const sum = (ds: Dim[]) => ds.reduce<Dim>((a, b) => dimAdd(a, b), 0);

export class CompiledStage {
  /** the generated code (backend config.backend) */
  readonly executable: Executable;

  constructor(
    readonly lowered: Lowered,
    /** runs the user's arguments (set by jit: flattens them and checks their types) */
    private readonly call: ((run: (leaves: Tensor[]) => Tensor[], args: unknown[]) => unknown) | null,
  ) {
    this.executable = codegen(lowered.optimized, lowered.name);
  }

  /** Runs the program on its flat input leaves (arguments, then captured constants). */
  run(leaves: Tensor[]): Tensor[] {
    return this.executable.run(leaves);
  }

  /** Calls the specialization with the user's arguments (of the lowered types). */
  callWith(...args: unknown[]): unknown {
    if (!this.call) throw new ArgumentError(`${this.lowered.name}: this compiled stage has no argument adapter; use .run(leaves)`);
    return this.call((leaves) => this.run(leaves), args);
  }

  /**
   * A stage as text. "wasm": a readable listing of the WebAssembly module this compiled stage
   * runs (one function per kernel, labelled with the kernel it computes); "js": the generated JS
   * (for a wasm executable, the equivalent JS); the other stages as `lowered.text(stage)`.
   */
  asText(stage: Stage = "wasm"): string {
    if (stage === "wasm") {
      const w = this.executable.wasm;
      if (!w) throw new ArgumentError(`${this.lowered.name}: compiled with backend ${JSON.stringify(config.backend)}, which generated no WebAssembly (it runs the JS of asText("js")); lower(...).text("wasm") lists the module the wasm backend would generate`);
      return this.lowered.wasmText(w.bytes);
    }
    if (stage === "js" && !this.executable.wasm) return this.executable.source;
    return this.lowered.text(stage);
  }

  /**
   * The compiled stage as bytes (stage-export.ts): `jit(f).insert(bytes)` in another process
   * (with the same function, backend and compiler options) serves calls of these argument types
   * without tracing or compiling.
   */
  serialize(): Uint8Array {
    return serializeStage(this);
  }

  /**
   * Runs this specialization on `args` (the user's arguments, of the lowered types) and times
   * each kernel: time, share, flops, transcendentals and bytes per kernel (profile.ts).
   */
  profileKernels(args: unknown[], opts?: ProfileOptions): KernelProfile {
    checkOptions("profileKernels", opts, { repeats: is.int(1), warmup: is.int(0) });
    if (!Array.isArray(args)) throw new ArgumentError(`profileKernels: pass the arguments as an array, e.g. profileKernels(jf, [x, w])`);
    if (!this.call) throw new ArgumentError(`${this.lowered.name}: this compiled stage has no argument adapter`);
    let leaves: Tensor[] = [];
    this.call((xs) => this.run((leaves = xs)), args); // checks the argument types; a first (untimed) call
    return profileStage(this, leaves, this.costAnalysis(), opts);
  }

  costAnalysis(): CostAnalysis {
    return costAnalysis(
      this.lowered.optimized,
      this.lowered.fusion().map((f) => ({ kind: f.kind, equations: f.equations.map((e) => e.index) })),
    );
  }

  memoryAnalysis(): MemoryAnalysis {
    const p = this.lowered.optimized;
    const lp = this.executable.lowered;
    const ins = sum(p.inputs.map((v) => bytesOf(v.aval)));
    const outs = sum(p.outAvals.map(bytesOf));
    const consts = sum(p.consts.map((v) => bytesOf(v.aval)));
    const arena = lp.symbols.length ? null : lp.arenaBytes;
    return {
      arenaBytes: arena,
      residualBytes: dimToString(sum(this.lowered.residuals().map((r) => r.bytes))),
      inputBytes: dimToString(ins),
      outputBytes: dimToString(outs),
      constantBytes: dimToString(consts),
      peakLiveBytes: arena === null ? `arena(${lp.symbols.join(",")}) + ${dimToString(sum([ins, outs, consts]))}` : dimToString(sum([arena, ins, outs, consts])),
    };
  }

  /** A readable summary: the cost table and the memory analysis. */
  toString(): string {
    const c = this.costAnalysis();
    const m = this.memoryAnalysis();
    const n = (s: string) => (/^\d+$/.test(s) ? formatBytes(Number(s)) : `${s} bytes`);
    const lines = [`Compiled(${this.lowered.toString().slice("Lowered(".length, -1)}): ${c.kernels.length} kernels`];
    for (const k of c.kernels) lines.push(`  kernel ${k.kernel} ${k.kind} (${k.primitives.join(" ")}): flops ${k.flops}, transcendentals ${k.transcendentals}, read ${n(k.bytesRead)}, written ${n(k.bytesWritten)}`);
    lines.push(`  total: flops ${c.total.flops}, transcendentals ${c.total.transcendentals}, read ${n(c.total.bytesRead)}, written ${n(c.total.bytesWritten)}`);
    lines.push(`  memory: arena ${m.arenaBytes === null ? "planned per call" : formatBytes(m.arenaBytes)}, inputs ${n(m.inputBytes)}, outputs ${n(m.outputBytes)}, constants ${n(m.constantBytes)}, residuals ${n(m.residualBytes)}, peak live <= ${n(m.peakLiveBytes)}`);
    return lines.join("\n");
  }
}
