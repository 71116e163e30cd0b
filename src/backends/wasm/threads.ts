// Threaded kernels of a program module (issue 12): which kernels worker threads may split, and how
// `run` calls them. A map kernel, or a reduction with kept dims (rows: softmax, layernorm, row
// sums), is emitted as an exported function `k<index>(lo, hi)` running its outermost loop over
// [lo, hi) only; every output element (every row's reduction) is computed by the same code in
// the same order whichever range it falls in, so the bits do not depend on the split or on the
// number of threads. `run` calls m.par(k, rows) when the kernel's work (loop-space elements
// weighted by the fusion cost of its expression) reaches kernelThreadLimits.minWork, else the
// function itself over all rows (no JS transition). The
// module then imports a shared memory, which the workers of the GEMM's pool instantiate the
// same module bytes against (runtime/wasm/gemm-threads.ts, backends/wasm/program.ts). Kernels
// that call a JS import (float64 library functions, fallbacks) stay on the calling thread: the
// workers have none of our JS functions.

import type { Dim } from "../../core/shape.js";
import type { Kernel } from "../../lower/kernel-ir.js";
import { mapNest, reduceNest } from "../../lower/loop-nest.js";
import { exprCost } from "../../lower/rules.js";
import type { Fn } from "./emit.js";
import type { ModuleMath } from "./math.js";

/**
 * From how much work (loop-space elements x (1 + the expression's fusion cost, lower/rules.ts:
 * `x * 0.5 + 1` 3, `tanh(x) * exp(-x * x)` 20, a tanh GELU 17, softmax's exp map 13) a kernel is
 * split over threads; read when a module is generated (tests lower it to split small kernels).
 * Measured with bench/kernel-threads.ts on the shared 2-core machine under load 20-25 (medians,
 * 1 vs 2 threads): `tanh(x) * exp(-x * x)` over 256K (work 5.2M) 2.98 -> 2.04 ms, but
 * `x * 0.5 + 1` over 1M (work 3.1M) 1.93 -> 3.53 ms and softmax / layernorm rows 4096x128
 * slower too (a worker descheduled while it holds a chunk makes the caller wait). So only heavy
 * kernels split: 2^22, about a millisecond of work or more on one thread. A quiet machine
 * probably pays from less (left to measure there with the same script).
 */
export const kernelThreadLimits = { minWork: 1 << 22 };

/** A kernel threads may split: its outermost loop's extent, its loop space, and from how many elements it is split. */
export interface RowSplit {
  rows: Dim;
  space: Dim[];
  minElements: number;
}

/** The split of a top-level kernel, or undefined (not a map or row reduction, one row, or too small). */
export function rowSplit(k: Kernel): RowSplit | undefined {
  let space: Dim[];
  if (k.kind === "map") space = mapNest(k).shape;
  else if (k.kind === "reduce" && k.op !== "cumsum" && k.op !== "cumprod") {
    const n = reduceNest(k);
    if (n.nOuter === 0) return undefined;
    space = n.shape;
  } else return undefined;
  if (space.length === 0 || space[0] === 1) return undefined;
  const minElements = Math.ceil(kernelThreadLimits.minWork / (1 + exprCost(k.expr)));
  if (space.every((d) => typeof d === "number") && (space as number[]).reduce((a, b) => a * b, 1) < minElements) return undefined;
  return { rows: space[0]!, space, minElements };
}

/**
 * Emits `run`'s call of kernel function `f` (top-level kernel `k`): with a split that may run in
 * parallel, par(k, rows) when the loop space is large enough (known statically or compared at
 * run time), else f(0, rows); without a split, f().
 */
export function emitRunKernel(run: Fn, f: number, k: number, split: RowSplit | undefined, parallel: boolean, par: number | undefined): void {
  const c = run.body;
  if (!split) return void c.call(f);
  const local = () => (c.i32Const(0), run.dim(split.rows), c.call(f));
  if (!parallel || par === undefined) return void local();
  const isStatic = split.space.every((d) => typeof d === "number");
  if (!isStatic) {
    split.space.forEach((d, i) => (run.dim(d), i > 0 && c.i32Mul()));
    c.i32Const(split.minElements).raw(0x4f); // i32.ge_u
    c.if_();
  }
  c.i32Const(k);
  run.dim(split.rows);
  c.call(par);
  if (!isStatic) {
    c.else_();
    local();
    c.end();
  }
}

/**
 * The module's imports by name, recording which ones a kernel's code asks for (directly, or
 * through a math function with a float64 library lane): such a kernel cannot run in a worker.
 */
export class ImportUse extends Map<string, number> {
  private used = false;
  math: ModuleMath | undefined;
  constructor(m: Map<string, number>) {
    super(m);
  }
  override get(name: string): number | undefined {
    this.used = true;
    return super.get(name);
  }
  startKernel(): void {
    this.used = false;
    this.math?.requested.clear();
  }
  kernelUsesImports(): boolean {
    return this.used || [...(this.math?.requested ?? [])].some((name) => this.math!.usesLibrary(name));
  }
}

/**
 * Whether a program module imports a shared memory (read back from its bytes: a cached module
 * generated with or without threads). Our modules import the memory first: section 2, first entry.
 */
export function importsSharedMemory(bytes: Uint8Array): boolean {
  let p = 8;
  const uleb = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[p++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (p < bytes.length) {
    const id = bytes[p++]!;
    const size = uleb();
    if (id !== 2) {
      p += size;
      continue;
    }
    if (uleb() === 0) return false;
    for (let name = 0; name < 2; name++) {
      const len = uleb(); // module name, then field name (read before moving past them)
      p += len;
    }
    return bytes[p] === 2 && (bytes[p + 1]! & 2) !== 0; // kind memory, limits flag "shared"
  }
  return false;
}
