// Prints a fuzzer program as readable adgen code, and builds the adgen function from that very
// text, so the repro printed for a failure is exactly the code that ran.

import { checkpoint, jit, lax, nn, np, vmap } from "../../src/index.js";
import { encodeNumber } from "../../src/core/encode.js";
import type { ConvPadding, Expr, IndexItem, Prog } from "./ast.js";

const lit = (v: number) => encodeNumber(v);
const list = (xs: readonly (number | null)[]) => `[${xs.map((x) => (x === null ? "null" : lit(x))).join(", ")}]`;
const item = (it: IndexItem) =>
  it === null ? "null" : typeof it === "number" ? String(it) : "arr" in it ? list(it.arr) : `np.s(${it.s.map((x) => (x === null ? "null" : x)).join(", ")})`;
const padding = (p: ConvPadding) => (typeof p === "string" ? `"${p}"` : `[${p.map((x) => list(x)).join(", ")}]`);
const linalgCode = (e: Extract<Expr, { k: "linalg" }>, c: (x: Expr) => string): string => {
  const a = c(e.a);
  switch (e.f) {
    case "det": return `np.linalg.det(${a})`;
    case "logdet": return `np.linalg.slogdet(${a})[1]`;
    case "solve": return `np.linalg.solve(${a}, ${c(e.b!)})`;
    case "eigh": return `np.linalg.eigh(${a})[0]`;
    case "norm": return `np.linalg.norm(${a}${e.opt === undefined ? "" : `, { ord: ${typeof e.opt === "string" ? `"${e.opt}"` : lit(e.opt)} }`})`;
    case "qr": return `np.abs(np.diagonal(np.linalg.qr(${a})[1], { axis1: -2, axis2: -1 }))`;
    default: return `np.linalg.${e.f}(${a})`;
  }
};

/**
 * How a program is printed: `dt` (for astype of integer results) and `hybrid`: JS control flow
 * on observed values (graph breaks under jit) at the program's top and at each let outside lax
 * bodies; both branches compute the same bits (the false one negates twice, except where the
 * value is a JS number: negating makes it a weak float32 tensor, rounded, FINDINGS F14).
 * `numbers`: the let names bound to JS numbers where the code being printed sits.
 */
export interface PrintCtx {
  dt: string;
  hybrid: boolean;
  numbers: Set<string>;
}
let ctx: PrintCtx = { dt: "float64", hybrid: false, numbers: new Set() };

/**
 * Does `e` evaluate to a JS number, or to a weak scalar keeping one's exact value (a lax.cond
 * branch returning its JS-number operand), whose rounding negation would change?
 */
function exactNumber(e: Expr, numbers: ReadonlySet<string>): boolean {
  const bind = (name: string, on: boolean) => {
    const s = new Set(numbers);
    if (on) s.add(name);
    else s.delete(name);
    return s;
  };
  switch (e.k) {
    case "lit": return true;
    case "var": return numbers.has(e.name);
    case "let": return exactNumber(e.body, bind(e.name, exactNumber(e.value, numbers)));
    case "cond": {
      const inner = bind(e.v, exactNumber(e.a, numbers));
      return exactNumber(e.t, inner) || exactNumber(e.f, inner);
    }
    default: return false;
  }
}

export function exprCode(e: Expr, inBody = false): string {
  const c = (x: Expr) => exprCode(x, inBody);
  const cb = (x: Expr) => exprCode(x, true); // inside a lax body / nested transform: no JS reads
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
    case "pad": return `np.pad(${c(e.a)}, [${e.w.map((p) => list(p)).join(", ")}]${e.mode ? `, { mode: "${e.mode}" }` : ""})`;
    case "concat": return `np.concatenate([${e.xs.map(c).join(", ")}], { axis: ${e.axis} })`;
    case "stack": return `np.stack([${e.xs.map(c).join(", ")}], { axis: ${e.axis} })`;
    case "take": return `np.take(${c(e.a)}, ${list(e.idx)}, { axis: ${e.axis} })`;
    case "matmul": return `np.matmul(${c(e.a)}, ${c(e.b)})`;
    case "cumsum": return `np.${e.prod ? "cumprod" : "cumsum"}(${c(e.a)}, { axis: ${e.axis} })`;
    case "cond": return `lax.cond(np.greater(${c(e.p)}, 0), (${e.v}) => ${cb(e.t)}, (${e.v}) => ${cb(e.f)}, ${c(e.a)})`;
    case "scan":
      return `lax.scan((${e.c}, ${e.r}) => { const n = ${cb(e.body)}; return [n, n]; }, ${c(e.init)}, ${c(e.xs)})[${e.out === "carry" ? 0 : 1}]`;
    case "fori": return `lax.foriLoop(0, ${e.n}, (i, ${e.c}) => ${cb(e.body)}, ${c(e.init)})`;
    case "call": return `${e.how}((${e.p}) => ${cb(e.body)})(${c(e.a)})`;
    case "let": {
      const outer = ctx.numbers;
      ctx.numbers = new Set(outer);
      if (exactNumber(e.value, outer)) ctx.numbers.add(e.name);
      else ctx.numbers.delete(e.name);
      try {
        const body = c(e.body);
        const obs = ctx.hybrid && !inBody ? observed(e.name, body, exactNumber(e.body, ctx.numbers)) : body;
        return `((${e.name}) => ${obs})(${c(e.value)})`;
      } finally {
        ctx.numbers = outer;
      }
    }
    case "roll": return `np.roll(${c(e.a)}, ${e.axes === null ? e.shift[0] : list(e.shift)}, { axis: ${e.axes === null ? "null" : list(e.axes)} })`;
    case "diag": case "trace": return `np.${e.k === "diag" ? "diagonal" : "trace"}(${c(e.a)}, { offset: ${e.offset}, axis1: ${e.ax1}, axis2: ${e.ax2} })`;
    case "tri": return `np.${e.upper ? "triu" : "tril"}(${c(e.a)}, ${e.kk})`;
    case "at": return `np.at(${c(e.a)}, [${e.items.map(item).join(", ")}]).${e.op}(${c(e.v)})`;
    case "sort": {
      const opts = `{ axis: ${e.axis === null ? "null" : e.axis}${e.desc ? ", descending: true" : ""} }`;
      return e.arg ? `np.astype(np.argsort(${c(e.a)}, ${opts}), "${ctx.dt}")` : `np.sort(${c(e.a)}, ${opts})`;
    }
    case "topk": return e.out === 0 ? `lax.topK(${c(e.a)}, ${e.kk})[0]` : `np.astype(lax.topK(${c(e.a)}, ${e.kk})[1], "${ctx.dt}")`;
    case "einsum": return `np.einsum("${e.sub}", ${e.xs.map(c).join(", ")})`;
    case "tdot": return `np.tensordot(${c(e.a)}, ${c(e.b)}, ${typeof e.axes === "number" ? e.axes : `[${e.axes.map((x) => list(x)).join(", ")}]`})`;
    case "spd": {
      const m = c(e.a);
      const n = e.sh[e.sh.length - 1]!;
      return `np.add(np.matmul(${m}, np.swapaxes(${m}, -1, -2)), np.multiply(np.eye(${n}), ${n}))`;
    }
    case "linalg": return linalgCode(e, c);
    case "conv": {
      const opts = `{ strides: ${list(e.strides)}, padding: ${padding(e.padding)}, lhsDilation: ${list(e.lhsDil)}, rhsDilation: ${list(e.rhsDil)}, featureGroupCount: ${e.groups} }`;
      return `${e.how === "lax" ? "lax.conv" : "nn.conv2d"}(${c(e.a)}, ${c(e.w)}, ${opts})`;
    }
    case "pool": return `nn.${e.kind}Pool(${c(e.a)}, ${list(e.win)}, { strides: ${list(e.strides)}, padding: ${padding(e.padding)} })`;
    case "cast": return `np.astype(${c(e.a)}, "${e.to}")`;
  }
}

/** A JS branch on an observed value (a graph break under jit) whose two sides give the same bits. */
const observed = (name: string, body: string, number: boolean) =>
  `(np.sum(${name}).item() > 0 ? ${body} : ${number ? body : `np.negative(np.negative(${body}))`})`;

export const params = (p: Prog) => p.inputs.map((_, i) => `x${i}`).join(", ");
export function programCode(p: Prog, hybrid = false): string {
  const old = ctx;
  ctx = { dt: p.dt, hybrid, numbers: new Set() };
  try {
    const body = exprCode(p.body);
    return `(${params(p)}) => ${hybrid ? observed("x0", body, exactNumber(p.body, new Set())) : body}`;
  } finally {
    ctx = old;
  }
}

export type Fn = (...xs: unknown[]) => any;

/** The adgen function of a program, compiled from its printed code. */
export function buildFn(p: Prog, hybrid = false): Fn {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function("np", "nn", "lax", "jit", "vmap", "checkpoint", `return ${programCode(p, hybrid)};`)(np, nn, lax, jit, vmap, checkpoint) as Fn;
}

/** A pasteable repro: imports, the function, its inputs, and what to run. */
export function reproCode(p: Prog, inputs: Float64Array[], run: string, hybrid = false): string {
  const arr = (d: Float64Array, sh: number[]) => `np.reshape(np.array(${list(Array.from(d))}, { dtype: "${p.dt}" }), ${list(sh)})`;
  return [
    `import { checkpoint, config, exportFunction, grad, jit, jvp, lax, nn, np, spec, variable, vjp, vmap } from "adgen";`,
    `const f = ${programCode(p, hybrid)};`,
    ...inputs.map((d, i) => `const x${i} = ${arr(d, p.inputs[i]!)};`),
    run,
  ].join("\n");
}
