// JavaScript code generation from the kernel IR. Each kernel is an inlined loop nest over typed
// arrays (no per-op dispatch, no per-element allocation), grouped into functions of bounded
// size; a loop kernel is a for loop around its body's kernels; a cumulative reduce kernel
// (cumsum, cumprod) stores its accumulator at every step of its scanned loop. Symbolic dimensions become
// run-time values ($s0, $s1, ... in the order of lp.symbols), loop indices $l0, $l1, ...
// All names come from numeric ids. Expression emission: emit.ts.

import type { Dim } from "../../core/shape.js";
import {
  type CallKernel,
  type CondKernel,
  type DotKernel,
  type Kernel,
  type LoopKernel,
  type LoweredProgram,
  type MapKernel,
  type ReduceKernel,
  type ScatterKernel,
  type WhileKernel,
  callKernels,
} from "../../lower/kernel-ir.js";
import { kernelReads, kernelWrites } from "../../lower/memory.js";
import { useFastMatmul } from "../../prims/ref/matmul.js";
import { mapNest, reduceNest } from "../../lower/loop-nest.js";
import { ARRAY, type Ctx, DimJs, ExprEmitter, emitLoops, indent } from "./emit.js";
import { JS_PRELUDE, MATH_F32_PRELUDE, jsScalarOp, usesMathF32 } from "./scalar.js";
import type { DType } from "../../core/dtype.js";

export { ARRAY, DimJs } from "./emit.js";

function emitMap(k: MapKernel, i: string, ctx: Ctx): string[] {
  const { shape, expr } = mapNest(k);
  const em = new ExprEmitter(`k${i}_`, shape.length, ctx);
  const [root] = em.emit(expr);
  return [`let o${i} = ${k.outOffset ? ctx.d.js(k.outOffset) : "0"};`, ...emitLoops(shape, em, [`${ctx.buf(k.out)}[o${i}++] = ${root};`])];
}

/**
 * cumsum / cumprod: outer loops, the accumulator, the scanned loop (counting down when reversed)
 * storing the running value, rounded as the fused add / mul rounds it, at every step.
 */
function emitCumulative(k: ReduceKernel, i: string, ctx: Ctx, dtype: DType): string[] {
  const { shape, nOuter, expr, out } = reduceNest(k);
  const em = new ExprEmitter(`k${i}_`, shape.length, ctx);
  const [root] = em.emit(expr);
  const [at] = em.indexOf(out);
  const d = shape.length - 1; // the scanned axis: one loop of its own
  const n = ctx.d.js(shape[d]!);
  const sum = k.op === "cumsum";
  const init = sum ? (dtype === "int32" ? "0" : "(-0)") : "1"; // -0 + x is x, -0 included
  const step = jsScalarOp(sum ? "add" : "mul", [`acc${i}`, root], dtype, [dtype, dtype]);
  const lines: string[] = [...em.decls[0]!];
  for (let j = 0; j < nOuter; j++) {
    lines.push(...indent([`for (let i${j} = 0; i${j} < ${ctx.d.js(shape[j]!)}; i${j}++) {`], j));
    lines.push(...indent(em.decls[j + 1]!, j + 1));
  }
  const head = k.scan!.reverse ? `for (let i${d} = ${n} - 1; i${d} >= 0; i${d}--) {` : `for (let i${d} = 0; i${d} < ${n}; i${d}++) {`;
  lines.push(...indent([`let acc${i} = ${init};`, head], nOuter));
  lines.push(...indent([...em.decls[d + 1]!, `acc${i} = ${step};`, `${ctx.buf(k.out)}[${at}] = acc${i};`], d + 1));
  for (let j = d; j >= 0; j--) lines.push("  ".repeat(j) + "}");
  return lines;
}

function emitReduce(k: ReduceKernel, i: string, ctx: Ctx, lp: LoweredProgram): string[] {
  if (k.op === "cumsum" || k.op === "cumprod") return emitCumulative(k, i, ctx, lp.buffers[k.out]!.dtype);
  const { shape, nOuter: nOuterGroups, expr } = reduceNest(k);
  const em = new ExprEmitter(`k${i}_`, shape.length, ctx);
  const [root] = em.emit(expr);
  // argmax/argmin keep the first extremum, or the first NaN (as the reference implementation)
  const arg = k.op === "argmax" ? ">" : "<";
  const init = { sum: "0", prod: "1", max: "-Infinity", min: "Infinity", argmax: "-1", argmin: "-1" }[k.op];
  const inner = `i${shape.length - 1}`;
  const argCombine = `if (acc${i} < 0) { acc${i} = ${inner}; best${i} = ${root}; } else if (best${i} === best${i} && (${root} ${arg} best${i} || ${root} !== ${root})) { acc${i} = ${inner}; best${i} = ${root}; }`;
  const combine = {
    sum: `acc${i} += ${root};`,
    prod: `acc${i} *= ${root};`,
    max: `if (${root} > acc${i} || ${root} !== ${root}) acc${i} = ${root};`,
    min: `if (${root} < acc${i} || ${root} !== ${root}) acc${i} = ${root};`,
    argmax: argCombine,
    argmin: argCombine,
  }[k.op];
  // outer loops, accumulator, inner (reduced) loops, store
  const lines: string[] = [`let o${i} = 0;`, ...em.decls[0]!];
  const open = (d: number) => {
    lines.push(...indent([`for (let i${d} = 0; i${d} < ${ctx.d.js(shape[d]!)}; i${d}++) {`], d));
    lines.push(...indent(em.decls[d + 1]!, d + 1));
  };
  for (let d = 0; d < nOuterGroups; d++) open(d);
  lines.push(...indent([`let acc${i} = ${init};${k.op.startsWith("arg") ? ` let best${i} = NaN;` : ""}`], nOuterGroups));
  for (let d = nOuterGroups; d < shape.length; d++) open(d);
  lines.push(...indent([combine], shape.length));
  for (let d = shape.length - 1; d >= nOuterGroups; d--) lines.push("  ".repeat(d) + "}");
  lines.push(...indent([`${ctx.buf(k.out)}[o${i}++] = acc${i};`], nOuterGroups));
  for (let d = nOuterGroups - 1; d >= 0; d--) lines.push("  ".repeat(d) + "}");
  return lines;
}

function emitDot(k: DotKernel, ctx: Ctx): string[] {
  const { B, M, N, K, lhs, rhs } = k;
  const isFloatDot = k.dtype === "float32" || k.dtype === "float64";
  const concrete = [B, M, N, K].every((d) => typeof d === "number");
  if (concrete && !k.batch && !(isFloatDot && useFastMatmul(M as number, N as number, K as number, B as number))) {
    return emitJsDot(k, ctx);
  }
  // large (or run-time sized) products: the shared kernel, the same one eager evaluation uses
  // (WebAssembly SIMD GEMM for large float products, decided from the run-time sizes)
  const j = (d: Dim) => ctx.d.js(d);
  const args = [
    `f64: ${k.dtype === "float64"}, B: ${j(B)},${k.batch ? ` batch: [${k.batch.map(j).join(", ")}],` : ""} M: ${j(M)}, N: ${j(N)}, K: ${j(K)}`,
    `a: ${ctx.buf(lhs.buf)}, aOff: ${j(lhs.offset)}, aStrides: [${lhs.strides.map(j).join(", ")}]`,
    `b: ${ctx.buf(rhs.buf)}, bOff: ${j(rhs.offset)}, bStrides: [${rhs.strides.map(j).join(", ")}]`,
    `out: ${ctx.buf(k.out)}, outOff: 0`,
  ];
  return [`matmul({ ${args.join(", ")} }, ${isFloatDot});`];
}

/** A static JS matrix product: rows four at a time, every output summed over k in order in float64. */
function emitJsDot(k: DotKernel, ctx: Ctx): string[] {
  const [B, M, N, K] = [k.B, k.M, k.N, k.K] as number[] as [number, number, number, number];
  const { lhs, rhs } = k;
  const [lb, lm, lk] = lhs.strides as number[] as [number, number, number];
  const [rb, rk, rn] = rhs.strides as number[] as [number, number, number];
  const L = ctx.buf(lhs.buf);
  const R = ctx.buf(rhs.buf);
  const O = ctx.buf(k.out);
  const acc = [0, 1, 2, 3].map(() => ctx.scratch(N));
  const rIdx = (n: string) => (rn === 1 ? `rb + ${n}` : `rb + ${n} * ${rn}`);
  return [
    `for (let b = 0; b < ${B}; b++) {`,
    `  const lbase = ${ctx.d.js(lhs.offset)} + b * ${lb}, rbase = ${ctx.d.js(rhs.offset)} + b * ${rb}, obase = b * ${M * N};`,
    `  let m = 0;`,
    `  for (; m + 4 <= ${M}; m += 4) {`,
    `    ${acc[0]}.fill(0); ${acc[1]}.fill(0); ${acc[2]}.fill(0); ${acc[3]}.fill(0);`,
    `    for (let kk = 0; kk < ${K}; kk++) {`,
    `      const la = lbase + m * ${lm} + kk * ${lk};`,
    `      const a0 = ${L}[la], a1 = ${L}[la + ${lm}], a2 = ${L}[la + ${2 * lm}], a3 = ${L}[la + ${3 * lm}];`,
    `      const rb = rbase + kk * ${rk};`,
    `      for (let n = 0; n < ${N}; n++) {`,
    `        const bv = ${R}[${rIdx("n")}];`,
    `        ${acc[0]}[n] += a0 * bv; ${acc[1]}[n] += a1 * bv; ${acc[2]}[n] += a2 * bv; ${acc[3]}[n] += a3 * bv;`,
    `      }`,
    `    }`,
    `    const ob = obase + m * ${N};`,
    `    for (let n = 0; n < ${N}; n++) { ${O}[ob + n] = ${acc[0]}[n]; ${O}[ob + ${N} + n] = ${acc[1]}[n]; ${O}[ob + ${2 * N} + n] = ${acc[2]}[n]; ${O}[ob + ${3 * N} + n] = ${acc[3]}[n]; }`,
    `  }`,
    `  for (; m < ${M}; m++) {`,
    `    ${acc[0]}.fill(0);`,
    `    for (let kk = 0; kk < ${K}; kk++) {`,
    `      const a0 = ${L}[lbase + m * ${lm} + kk * ${lk}];`,
    `      const rb = rbase + kk * ${rk};`,
    `      for (let n = 0; n < ${N}; n++) ${acc[0]}[n] += a0 * ${R}[${rIdx("n")}];`,
    `    }`,
    `    const ob = obase + m * ${N};`,
    `    for (let n = 0; n < ${N}; n++) ${O}[ob + n] = ${acc[0]}[n];`,
    `  }`,
    `}`,
  ];
}

function emitScatter(k: ScatterKernel, i: string, ctx: Ctx): string[] {
  const em = new ExprEmitter(`k${i}_`, k.shape.length, ctx);
  const [v] = em.emit(k.value);
  const [ix] = em.emit(k.index);
  const [base] = em.indexOf(k.base);
  const d = ctx.d;
  const clamped = `(${ix} < 0 ? 0 : ${ix} > ${d.js(k.size)} - 1 ? ${d.js(k.size)} - 1 : ${ix})`;
  const out = ctx.buf(k.out);
  if (!k.combine) return [`${out}.fill(0);`, ...emitLoops(k.shape, em, [`${out}[${base} + ${clamped} * ${d.js(k.stride)}] += ${v};`])];
  // out already holds the operand: fold each update into its element with the elementwise op
  const dt = k.value.dtype;
  const c = `c${i}`;
  const combined = jsScalarOp(k.combine, [`${c}v`, `${out}[${c}]`], dt, [dt, dt]);
  return emitLoops(k.shape, em, [`const ${c} = ${base} + ${clamped} * ${d.js(k.stride)}, ${c}v = ${v};`, `${out}[${c}] = ${combined};`]);
}

function emitCall(k: CallKernel, ctx: Ctx): string[] {
  return [`calls[${ctx.calls.get(k)}](S, ${[...k.ins, ...k.outs].map(ctx.buf).join(", ")});`];
}

/** The body kernels inside a for loop over the index (each in its own block). */
function emitLoop(k: LoopKernel, i: string, ctx: Ctx, lp: LoweredProgram): string[] {
  const v = ctx.d.bindLoop(k.index);
  const n = ctx.d.js(k.length);
  const head = k.reverse ? `for (let ${v} = ${n} - 1; ${v} >= 0; ${v}--) {` : `for (let ${v} = 0; ${v} < ${n}; ${v}++) {`;
  const body = k.body.flatMap((bk, j) => emitBlock(bk, `${i}_${j}`, ctx, lp));
  return [head, ...indent(body, 1), "}"];
}

/** The branch chosen by the (clamped) index, as an if/else chain. */
function emitCond(k: CondKernel, i: string, ctx: Ctx, lp: LoweredProgram): string[] {
  const n = k.branches.length;
  const branch = (j: number) => k.branches[j]!.flatMap((bk, m) => emitBlock(bk, `${i}_${j}_${m}`, ctx, lp));
  if (n === 1) return branch(0);
  const lines = [`const c${i} = ${ctx.buf(k.index)}[0];`];
  for (let j = 0; j < n; j++) {
    lines.push(j === 0 ? `if (c${i} <= 0) {` : j === n - 1 ? "} else {" : `} else if (c${i} === ${j}) {`, ...indent(branch(j), 1));
  }
  return [...lines, "}"];
}

/** for (;;) { cond kernels; stop unless pred; body kernels } */
function emitWhile(k: WhileKernel, i: string, ctx: Ctx, lp: LoweredProgram): string[] {
  const cond = k.cond.flatMap((bk, m) => emitBlock(bk, `${i}_c${m}`, ctx, lp));
  const body = k.body.flatMap((bk, m) => emitBlock(bk, `${i}_${m}`, ctx, lp));
  return ["for (;;) {", ...indent([...cond, `if (!${ctx.buf(k.pred)}[0]) break;`, ...body], 1), "}"];
}

function emitKernel(k: Kernel, i: string, ctx: Ctx, lp: LoweredProgram): string[] {
  switch (k.kind) {
    case "map":
      return emitMap(k, i, ctx);
    case "reduce":
      return emitReduce(k, i, ctx, lp);
    case "dot":
      return emitDot(k, ctx);
    case "scatter":
      return emitScatter(k, i, ctx);
    case "call":
      return emitCall(k, ctx);
    case "loop":
      return emitLoop(k, i, ctx, lp);
    case "cond":
      return emitCond(k, i, ctx, lp);
    case "while":
      return emitWhile(k, i, ctx, lp);
  }
}

/** A kernel as a commented block. */
function emitBlock(k: Kernel, i: string, ctx: Ctx, lp: LoweredProgram): string[] {
  const eqns = k.eqns.length ? ` (equations ${[...new Set(k.eqns)].join(",")})` : "";
  return [`// kernel ${i.replace(/_/g, ".")}: ${describe(k, lp)}${eqns}`, "{", ...indent(emitKernel(k, i, ctx, lp), 1), "}"];
}

function describe(k: Kernel, lp: LoweredProgram): string {
  if (k.kind === "loop") return `loop over ${k.index.replace(/^__/, "")} < ${k.length}${k.reverse ? " (reverse)" : ""}, ${k.body.length} kernels`;
  if (k.kind === "cond") return `cond of ${k.branches.length} branches (${k.branches.map((b) => b.length).join(", ")} kernels)`;
  if (k.kind === "while") return `while loop, ${k.cond.length} + ${k.body.length} kernels`;
  const b = lp.buffers[k.kind === "call" ? k.outs[0]! : k.out]!;
  switch (k.kind) {
    case "map":
      return `map ${b.dtype}[${k.shape}]`;
    case "reduce":
      if (k.scan) return `${k.op} ${b.dtype}[${k.outShape}] along [${k.redShape}]${k.scan.reverse ? " (reverse)" : ""}`;
      return `reduce_${k.op} ${b.dtype}[${k.outShape}] over [${k.redShape}]`;
    case "dot":
      return `dot ${b.dtype} B=${k.B} M=${k.M} N=${k.N} K=${k.K}`;
    case "call":
      return `call ${k.prim.name}`;
    case "scatter":
      return `scatter_${k.combine ?? "add"} ${b.dtype}, updates [${k.shape}]`;
  }
}

/** Generated lines per function: V8 optimizes small functions, and huge ones overflow the stack. */
const PART_LINES = 400;

/**
 * The JS source of a factory `(consts, calls, matmul) => run`, where `run(inputs, temps, S)`
 * takes the input arrays, the arena views of the temps (by buffer id; an output's entry, when
 * set, is the donated memory it is written into) and the symbol values, and
 * returns the output arrays (the buffer outputs, in buffer-id order). Kernels are grouped into
 * functions of bounded size; every buffer a group uses is passed to it as a parameter.
 */
export function generateJs(lp: LoweredProgram, name = "program"): string {
  const scratchDecls: string[] = [];
  const ctx: Ctx = {
    buf: (id) => `b${id}`,
    d: new DimJs(lp.symbols),
    calls: new Map(callKernels(lp.kernels).map((k, i) => [k, i])),
    scratch: (n: number) => {
      const s = `s${scratchDecls.length}`;
      scratchDecls.push(`const ${s} = new Float64Array(${n});`);
      return s;
    },
  };
  const perCall = new Set(lp.buffers.filter((b) => b.kind !== "const").map((b) => b.id));
  const parts: { lines: string[]; params: Set<number> }[] = [];
  let part = { lines: [] as string[], params: new Set<number>() };
  lp.kernels.forEach((k, i) => {
    const lines = emitBlock(k, String(i), ctx, lp);
    if (part.lines.length && part.lines.length + lines.length > PART_LINES) {
      parts.push(part);
      part = { lines: [], params: new Set() };
    }
    part.lines.push(...lines);
    for (const b of [...kernelReads(k), ...kernelWrites(k)]) if (perCall.has(b)) part.params.add(b);
  });
  if (part.lines.length) parts.push(part);
  const symDecls = lp.symbols.map((s, i) => `const ${ctx.d.sym(s)} = S[${i}];`);
  const paramList = (pt: { params: Set<number> }) => ["S", ...[...pt.params].sort((a, b) => a - b).map(ctx.buf)].join(", ");
  const fns = parts.flatMap((pt, i) => [`function part${i}(${paramList(pt)}) {`, ...indent([...symDecls, ...pt.lines], 1), `}`]);
  const calls = parts.map((pt, i) => `part${i}(${paramList(pt)});`);
  const inputs = lp.inputs.map((b, i) => `const ${ctx.buf(b)} = inputs[${i}];`);
  const temps = lp.buffers.filter((b) => b.kind === "temp").map((b) => `const ${ctx.buf(b.id)} = temps[${b.id}];`);
  const outs = lp.buffers.filter((b) => b.kind === "output");
  // an output written in place of a donated input comes in `temps` (lower/memory-donate.ts)
  const allocs = outs.map((b) => `const ${ctx.buf(b.id)} = temps[${b.id}] || new ${ARRAY[b.dtype]}(${ctx.d.js(b.size)});`);
  const ret = `return [${outs.map((b) => ctx.buf(b.id)).join(", ")}];`;
  return [
    `// adgen generated code: ${name} (${lp.kernels.length} kernels${lp.symbols.length ? `, symbolic dims ${lp.symbols.join(", ")}` : `, arena ${lp.arenaBytes} bytes`})`,
    `"use strict";`,
    JS_PRELUDE,
    fns.some(usesMathF32) ? MATH_F32_PRELUDE : "",
    ...lp.consts.map((c, i) => `const ${ctx.buf(c.buf)} = consts[${i}];`),
    ...scratchDecls,
    ...fns,
    `return function run(inputs, temps, S) {`,
    ...indent([...symDecls, ...inputs, ...temps, ...allocs, ...calls, ret], 1),
    `};`,
  ].join("\n");
}
