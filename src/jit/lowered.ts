// What `jit(f).lower(...args)` returns: every stage of the pipeline for one specialization, as
// text (traced, jvp, linearized, transposed, optimized, kernels, js, wasm), the residuals a traced
// gradient saves between its forward and backward halves, and which equations were fused into
// which kernel. The linearized and transposed stages are the tangent map and the backward program
// of `vjpSplit` (the split exportVjp exports); residuals are reported as `ResidualInfo`
// (transforms/residuals.ts), the form of the export manifest's residual ABI.

import { ShapedArray } from "../core/aval.js";
import { ArgumentError } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import { shapeToString } from "../core/shape.js";
import { type Executable, compileJs } from "../backends/js/compile.js";
import { printProgram } from "../ir/printer.js";
import type { Program } from "../ir/program.js";
import type { LoweredProgram } from "../lower/kernel-ir.js";
import { lowerProgram } from "../lower/fuse.js";
import { optimize } from "../passes/pipeline.js";
import { StagingTracer } from "../trace/staging.js";
import type { Residual } from "../transforms/linearize.js";
import type { Tensor } from "../core/tensor.js";
import { jvpProgram } from "../transforms/program.js";
import { CompiledStage } from "./staged.js";
import type { TreeDef } from "../core/tree.js";
import type { KeyParts } from "./key.js";
import { generateWasm } from "../backends/wasm/kernels.js";
import { kernelModuleListing } from "./wasm-listing.js";
import { type ResidualInfo, type SavedValue, describeResiduals } from "../transforms/residuals.js";
import { type VjpSplit, vjpSplit } from "../transforms/vjp.js";

export type Stage = "traced" | "jvp" | "linearized" | "transposed" | "optimized" | "kernels" | "js" | "wasm";
export const STAGES: readonly Stage[] = ["traced", "jvp", "linearized", "transposed", "optimized", "kernels", "js", "wasm"];

export type { ResidualInfo };

/**
 * What jit records on a Lowered: where it came from, to insert or serialize its compiled stage
 * (stage-export.ts). (Declared here, not there: the public declarations of Lowered must not
 * reach the disk cache's, which name Node modules.)
 */
export interface StageOrigin {
  /** identifies the jitted function (its in-memory cache) */
  owner: object;
  /** the jit's name and the hash of its function's source text */
  name: string;
  sourceHash: string;
  /** the key a call with the lowered argument types has */
  parts: KeyParts;
  outTree: TreeDef;
  /** captured eager-tape values (passed as trailing inputs) */
  consts: Tensor[];
  residuals: Residual[];
}

export interface FusedKernel {
  kernel: number;
  kind: string;
  equations: { index: number; primitive: string; source?: string }[];
}

export class Lowered {
  private optimizedP: Program | null = null;
  private exec: Executable | null = null;

  constructor(
    readonly name: string,
    readonly program: Program,
    private readonly saved: Residual[],
    readonly inAvals: ShapedArray[],
    /** argument paths of the program inputs ("arg 0", "arg 1.W", ...) */
    private readonly inputNames: string[] = [],
  ) {}

  get optimized(): Program {
    return (this.optimizedP ??= optimize(this.program));
  }

  get lowered(): LoweredProgram {
    return this.executable.lowered;
  }

  get executable(): Executable {
    return (this.exec ??= compileJs(lowerProgram(this.optimized), this.name));
  }

  text(stage: Stage = "traced"): string {
    switch (stage) {
      case "traced":
        return printProgram(this.program);
      case "optimized":
        return printProgram(this.optimized);
      case "jvp":
        return printProgram(this.jvp().program);
      case "linearized":
        return printProgram(this.split().linear);
      case "transposed":
        return printProgram(this.split().backward);
      case "kernels":
        return this.kernelListing();
      case "js":
        return this.executable.source;
      case "wasm":
        // the module the wasm backend generates for this specialization (whatever config.backend is)
        return this.wasmText(generateWasm(this.lowered).bytes);
      default:
        throw new ArgumentError(`lower(...).text: unknown stage ${JSON.stringify(stage)}; stages are ${STAGES.join(", ")}`);
    }
  }

  private floatMask(): boolean[] {
    return this.program.inAvals.map((a) => isFloat(a.dtype));
  }

  private jvp() {
    return jvpProgram(this.program, this.floatMask());
  }

  /** The vjp split of the traced program with respect to its float inputs. */
  private split(): VjpSplit {
    return vjpSplit(this.program, this.floatMask());
  }

  /**
   * Values saved by reverse-mode differentiation inside the traced function (JAX's saved
   * residuals), each once. At concrete shapes (the usual case) shapes and bytes are numbers;
   * under `jit(f, {shapes})` they carry the symbolic dimensions (see ResidualInfo).
   */
  residuals(): ResidualInfo<number>[] {
    const seen = new Set<unknown>();
    const saved: SavedValue[] = [];
    for (const r of this.saved) {
      const ci = this.program.constValues.indexOf(r.value);
      const v = r.value instanceof StagingTracer ? r.value.v : ci >= 0 ? this.program.consts[ci]! : null;
      if (seen.has(v ?? r.value)) continue;
      seen.add(v ?? r.value);
      saved.push({ atom: v, aval: r.aval, producedBy: r.producedBy });
    }
    return describeResiduals(this.program, saved, this.inputNames) as ResidualInfo<number>[];
  }

  /** Which traced-and-optimized equations each kernel computes. */
  fusion(): FusedKernel[] {
    const eqns = this.optimized.equations;
    return this.lowered.kernels.map((k, i) => ({
      kernel: i,
      kind: k.kind === "call" ? `call ${k.prim.name}` : k.kind,
      equations: [...new Set(k.eqns)].sort((a, b) => a - b).map((index) => ({
        index,
        primitive: eqns[index]!.prim.name,
        ...(eqns[index]!.source && String(eqns[index]!.source) ? { source: String(eqns[index]!.source) } : {}),
      })),
    }));
  }

  /** One line per kernel: what it computes and which equations it fuses. */
  kernelDescriptions(): string[] {
    const lp = this.lowered;
    return this.fusion().map((f) => {
      const k = lp.kernels[f.kernel]!;
      const eq = f.equations.map((e) => `${e.primitive}#${e.index}`).join(" ");
      if (k.kind === "loop" || k.kind === "cond" || k.kind === "while") {
        const what =
          k.kind === "loop"
            ? `loop ${k.length}${k.reverse ? " reversed" : ""} over ${k.body.length} kernels`
            : k.kind === "cond"
              ? `cond of ${k.branches.length} branches`
              : `while loop over ${k.cond.length} + ${k.body.length} kernels`;
        return `${what}   fuses: ${eq}`;
      }
      const out = lp.buffers[k.kind === "call" ? k.outs[0]! : k.out]!;
      const what = k.kind === "map" ? `[${k.shape}]` : k.kind === "reduce" ? `[${k.outShape}] over [${k.redShape}]` : k.kind === "dot" ? ` B=${k.B} M=${k.M} N=${k.N} K=${k.K}` : "";
      return `${f.kind} ${out.dtype}${what} -> ${out.kind} b${out.id}   fuses: ${eq || "(copy)"}`;
    });
  }

  private kernelListing(): string {
    const lp = this.lowered;
    const head = `${lp.kernels.length} kernels, ${lp.symbols.length ? `arena planned per ${lp.symbols.join(",")}` : `arena ${lp.arenaBytes} bytes`}`;
    return [head, ...this.kernelDescriptions().map((d, i) => `  kernel ${i}: ${d}`)].join("\n");
  }

  /** A readable listing of a kernel module of this specialization, each kernel's function labelled. */
  wasmText(bytes: Uint8Array): string {
    return kernelModuleListing(bytes, this.kernelDescriptions().map((d) => d.replace(/ {3}fuses: /, ", fuses ")));
  }

  /** Where jit lowered this from (its key, output tree, captured values): to insert or serialize the compiled stage. */
  origin: StageOrigin | null = null;

  /** Adapts the user's arguments to this specialization's leaves (set by jit). */
  caller: ((run: (leaves: Tensor[]) => Tensor[], args: unknown[]) => unknown) | null = null;

  /** The specialization compiled with config.backend, with cost and memory analysis (staged.ts). */
  compile(): CompiledStage {
    return new CompiledStage(this, this.caller);
  }

  toString(): string {
    return `Lowered(${this.name}: ${this.inAvals.map((a) => `${a.dtype}${shapeToString(a.shape)}`).join(", ")})`;
  }
}
