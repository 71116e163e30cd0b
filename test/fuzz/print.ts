// Prints a fuzzer program as readable adgen code, and builds the adgen function from that very
// text, so the repro printed for a failure is exactly the code that ran.

import { checkpoint, jit, lax, nn, np, vmap } from "../../src/index.js";
import { encodeNumber } from "../../src/core/encode.js";
import type { Expr, IndexItem, Prog } from "./ast.js";

const lit = (v: number) => encodeNumber(v);
const list = (xs: readonly (number | null)[]) => `[${xs.map((x) => (x === null ? "null" : lit(x))).join(", ")}]`;
const item = (it: IndexItem) => (it === null ? "null" : typeof it === "number" ? String(it) : `np.s(${it.s.map((x) => (x === null ? "null" : x)).join(", ")})`);

export function exprCode(e: Expr): string {
  const c = exprCode;
  switch (e.k) {
    case "in": return `x${e.i}`;
    case "var": return e.name;
    case "lit": return lit(e.v);
    case "un": return e.f === "relu" ? `nn.relu(${c(e.a)})` : `np.${e.f}(${c(e.a)})`;
    case "bin": return `np.${e.f}(${c(e.a)}, ${c(e.b)})`;
    case "where": return `np.where(np.${e.c}(${c(e.a)}, ${c(e.b)}), ${c(e.x)}, ${c(e.y)})`;
    case "red": {
      const opts: string[] = [];
      if (e.axes !== null) opts.push(`axis: ${e.axes.length === 1 ? e.axes[0] : list(e.axes)}`);
      if (e.keep) opts.push("keepdims: true");
      return `np.${e.f}(${c(e.a)}${opts.length ? `, { ${opts.join(", ")} }` : ""})`;
    }
    case "reshape": return `np.reshape(${c(e.a)}, ${list(e.sh)})`;
    case "broadcast": return `np.broadcastTo(${c(e.a)}, ${list(e.sh)})`;
    case "transpose": return `np.transpose(${c(e.a)}, ${list(e.perm)})`;
    case "index": return `np.index(${c(e.a)}, [${e.items.map(item).join(", ")}])`;
    case "pad": return `np.pad(${c(e.a)}, [${e.w.map((p) => list(p)).join(", ")}])`;
    case "concat": return `np.concatenate([${e.xs.map(c).join(", ")}], { axis: ${e.axis} })`;
    case "stack": return `np.stack([${e.xs.map(c).join(", ")}], { axis: ${e.axis} })`;
    case "take": return `np.take(${c(e.a)}, ${list(e.idx)}, { axis: ${e.axis} })`;
    case "matmul": return `np.matmul(${c(e.a)}, ${c(e.b)})`;
    case "cumsum": return `np.cumsum(${c(e.a)}, { axis: ${e.axis} })`;
    case "cond": return `lax.cond(np.greater(${c(e.p)}, 0), (${e.v}) => ${c(e.t)}, (${e.v}) => ${c(e.f)}, ${c(e.a)})`;
    case "scan":
      return `lax.scan((${e.c}, ${e.r}) => { const n = ${c(e.body)}; return [n, n]; }, ${c(e.init)}, ${c(e.xs)})[${e.out === "carry" ? 0 : 1}]`;
    case "fori": return `lax.foriLoop(0, ${e.n}, (i, ${e.c}) => ${c(e.body)}, ${c(e.init)})`;
    case "call": return `${e.how}((${e.p}) => ${c(e.body)})(${c(e.a)})`;
    case "let": return `((${e.name}) => ${c(e.body)})(${c(e.value)})`;
  }
}

export const params = (p: Prog) => p.inputs.map((_, i) => `x${i}`).join(", ");
export const programCode = (p: Prog) => `(${params(p)}) => ${exprCode(p.body)}`;

export type Fn = (...xs: unknown[]) => any;

/** The adgen function of a program, compiled from its printed code. */
export function buildFn(p: Prog): Fn {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function("np", "nn", "lax", "jit", "vmap", "checkpoint", `return ${programCode(p)};`)(np, nn, lax, jit, vmap, checkpoint) as Fn;
}

/** A pasteable repro: imports, the function, its inputs, and what to run. */
export function reproCode(p: Prog, inputs: Float64Array[], run: string): string {
  const arr = (d: Float64Array, sh: number[]) => `np.reshape(np.array(${list(Array.from(d))}, { dtype: "${p.dt}" }), ${list(sh)})`;
  return [
    `import { checkpoint, config, exportFunction, grad, jit, jvp, lax, nn, np, spec, variable, vjp, vmap } from "adgen";`,
    `const f = ${programCode(p)};`,
    ...inputs.map((d, i) => `const x${i} = ${arr(d, p.inputs[i]!)};`),
    run,
  ].join("\n");
}
