// What the playground shows for one function and its argument specs: every stage adgen exposes
// through jit(f).lower(...) (traced, jvp, linearized, transposed, optimized, kernels, js), a
// listing of the WebAssembly module the wasm backend generates for it, the residual table of
// grad(f), the fusion report, a call of the jitted function (whose cache misses adgen explains),
// and the AOT export. Each part is computed on its own, so one failing stage shows its error in
// its pane while the others still update.

import * as adgen from "../../src/index.js";
import { type ParsedSpec, parseSpec } from "../../src/cli/spec-parse.js";
import { evalDim, parseDim } from "../../src/core/shape.js";
import type { ResidualInfo } from "../../src/jit/lowered.js";

const { np, jit, grad, valueAndGrad, exportFunction, spec } = adgen;

export const STAGE_PANES = ["traced", "jvp", "linearized", "transposed", "optimized", "kernels", "js", "wasm"] as const;
export type Transform = "f" | "grad" | "valueAndGrad";

export interface Analysis {
  stages: Record<string, string>;
  /** the residual table, or the error that prevented it */
  residuals: ResidualInfo[] | string;
  fusion: string;
  result: string;
  exported: { module: string; manifest: string; name: string } | string;
}

/** Parses "x: float32[B,3]" lines (the name is optional) into specs. */
export function parseSpecs(text: string): { names: string[]; specs: ParsedSpec[] } {
  const names: string[] = [];
  const specs: ParsedSpec[] = [];
  text.split("\n").map((l) => l.trim()).filter(Boolean).forEach((line, i) => {
    const m = /^([A-Za-z_$][\w$]*)\s*:\s*(.*)$/.exec(line);
    try {
      specs.push(parseSpec(m ? m[2]! : line));
    } catch (e) {
      throw new Error(`argument ${i + 1} (${JSON.stringify(line)}): ${(e as Error).message}`);
    }
    names.push(m ? m[1]! : `arg${i}`);
  });
  return { names, specs };
}

/** Parses "B=4, T=3" into sizes for the symbolic dimensions of the example arguments. */
export function parseSizes(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_]\w*)\s*=\s*(\d+)$/.exec(part);
    if (!m) throw new Error(`sizes: ${JSON.stringify(part)} is not NAME=integer`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Deterministic example arguments at the specs, symbols bound by `sizes` (default 2). */
export function exampleArgs(specs: ParsedSpec[], sizes: Record<string, number>): adgen.Tensor[] {
  return specs.map((s, k) => {
    const shape = s.shape.map((d) => {
      if (typeof d === "number") return d;
      const dim = parseDim(d);
      // a symbol without a given size is 2
      const env = new Proxy(sizes, { get: (t, name: string) => t[name] ?? 2, has: () => true });
      return evalDim(dim, env);
    });
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, (_, i) => (s.dtype === "bool" ? i % 2 : s.dtype === "int32" ? i % 5 : Math.sin(i * 0.37 + k)));
    return np.array(values, { dtype: s.dtype }).reshape(shape);
  });
}

export function transformed(f: (...a: any[]) => any, t: Transform): (...a: any[]) => any {
  const g = t === "grad" ? grad(f) : t === "valueAndGrad" ? valueAndGrad(f) : f;
  Object.defineProperty(g, "name", { value: t === "f" ? f.name : `${t}_${f.name}` });
  return g;
}

const attempt = <T>(what: () => T): T | string => {
  try {
    return what();
  } catch (e) {
    return `error: ${(e as Error).name}: ${(e as Error).message}`;
  }
};

/** The jitted function of one editor text and transform (reused so that jit explains its cache misses). */
const jitted = new Map<string, adgen.Jitted>();

export function analyze(key: string, f: (...a: any[]) => any, t: Transform, specs: ParsedSpec[], sizes: Record<string, number>): Analysis {
  const g = transformed(f, t);
  const args = exampleArgs(specs, sizes);
  const shapes = specs.map((s) => s.shape);
  const lowered = attempt(() => jit(g, { shapes, name: g.name }).lower(...args));
  const stages: Record<string, string> = {};
  for (const s of STAGE_PANES) {
    stages[s] =
      typeof lowered === "string"
        ? lowered
        : attempt(() => lowered.text(s));
  }
  // at the example sizes: a residual's byte count needs concrete shapes
  const residuals = attempt(() => jit(grad(f), { name: `grad_${f.name}` }).lower(...args).residuals());
  const fusion =
    typeof lowered === "string"
      ? lowered
      : attempt(() =>
          lowered
            .fusion()
            .map((k) => `kernel ${k.kernel} (${k.kind}): ${k.equations.map((e) => `${e.primitive}#${e.index}${e.source ? ` @ ${e.source}` : ""}`).join(", ") || "(copy)"}`)
            .join("\n"),
        );
  const jkey = `${t}\u0000${key}`;
  let j = jitted.get(jkey);
  if (!j) jitted.set(jkey, (j = jit(g, { name: g.name })));
  const result = attempt(() => adgen.tree.map((x: adgen.Tensor) => x.toString(), j!(...args)) as unknown);
  const exported = attempt(() => {
    const e = exportFunction(g, specs.map((s) => spec(s.dtype, s.shape)), { name: "playground" });
    return { module: e.source, manifest: JSON.stringify(e.manifest, null, 2), name: e.name };
  });
  return { stages, residuals, fusion, result: typeof result === "string" ? result : JSON.stringify(result, null, 1), exported };
}
