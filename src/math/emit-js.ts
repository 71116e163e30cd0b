// JS source for the math functions (math/dsl.ts), as the text of one self-contained runtime
// function (core/runtime-text.ts rules: no outer names, no syntax a transpiler rewrites). The
// generator script (scripts/gen-math.ts) writes it to math/runtime-f32.ts, so in-process code runs
// it as ordinary compiled JS (no eval), and generated code and exports embed the same function's
// text. Every float operation is wrapped in Math.fround: the double result of + - * / sqrt on
// float32 inputs, rounded once, is the float32 result WebAssembly computes.

import type { MathFn, Stmt } from "./dsl.js";

function literal(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

const CMP: Record<string, string> = { lt: "<", le: "<=", gt: ">", ge: ">=", eq: "===", ne: "!==" };

function expr(s: Stmt, t: (i: number) => string): string {
  switch (s.op) {
    case "arg":
      return `x${s.i}`;
    case "const":
      return literal(s.v);
    case "add":
      return `fr(${t(s.a)} + ${t(s.b)})`;
    case "sub":
      return `fr(${t(s.a)} - ${t(s.b)})`;
    case "mul":
      return `fr(${t(s.a)} * ${t(s.b)})`;
    case "div":
      return `fr(${t(s.a)} / ${t(s.b)})`;
    case "neg":
      return `-${t(s.a)}`;
    case "abs":
      return `Math.abs(${t(s.a)})`;
    case "floor":
      return `Math.floor(${t(s.a)})`;
    case "nearest":
      return `nearest(${t(s.a)})`;
    case "sqrt":
      return `fr(Math.sqrt(${t(s.a)}))`;
    case "cmp":
      return `${t(s.a)} ${CMP[s.cmp]} ${t(s.b)}`;
    case "and":
      return `${t(s.a)} && ${t(s.b)}`;
    case "or":
      return `${t(s.a)} || ${t(s.b)}`;
    case "not":
      return `!${t(s.a)}`;
    case "select":
      return `${t(s.c)} ? ${t(s.a)} : ${t(s.b)}`;
    case "scaleb":
      return `scaleb(${t(s.a)}, ${t(s.n)})`;
    case "exponent":
      return `exponent(${t(s.a)})`;
    case "significand":
      return `significand(${t(s.a)})`;
    case "promote":
      return t(s.a);
    case "demote":
      return `fr(${t(s.a)})`;
    case "dconst":
      return literal(s.v);
    case "dadd":
      return `${t(s.a)} + ${t(s.b)}`;
    case "dsub":
      return `${t(s.a)} - ${t(s.b)}`;
    case "dmul":
      return `${t(s.a)} * ${t(s.b)}`;
    case "dfloor":
      return `Math.floor(${t(s.a)})`;
    case "patch":
      return `${t(s.c)} ? fr(Math.${s.fn}(${t(s.x)})) : ${t(s.fast)}`;
  }
}

/** One function's JS declaration (uses the helpers declared by `runtimeText`). */
export function functionText(fn: MathFn): string {
  const args = Array.from({ length: fn.arity }, (_, i) => `x${i}`);
  const name = (i: number): string => {
    const s = fn.stmts[i]!;
    if (s.op === "arg") return `x${s.i}`;
    if (s.op === "const" || s.op === "dconst") return s.v < 0 || Object.is(s.v, -0) ? `(${literal(s.v)})` : literal(s.v);
    return `t${i}`;
  };
  const lines: string[] = [];
  fn.stmts.forEach((s, i) => {
    if (s.op !== "arg" && s.op !== "const" && s.op !== "dconst") lines.push(`    var t${i} = ${expr(s, name)};`);
  });
  lines.push(`    return ${name(fn.result)};`);
  return `  function ${fn.name}(${args.join(", ")}) {\n${lines.join("\n")}\n  }`;
}

/** The whole runtime function's source: helpers, every function, and the returned object. */
export function runtimeText(runtimeName: string, fns: readonly MathFn[]): string {
  return `function ${runtimeName}() {
  var fr = Math.fround;
  var F32 = new Float32Array(1);
  var I32 = new Int32Array(F32.buffer);
  // POW2[k + 75] = 2^k for k in [-75, 64], exact (built by doubling and halving)
  var POW2 = new Float64Array(140);
  var p = 1;
  var k;
  for (k = 0; k <= 64; k++) { POW2[k + 75] = p; p = p * 2; }
  p = 1;
  for (k = 0; k <= 75; k++) { POW2[75 - k] = p; p = p / 2; }
  // round half to even (f32.nearest); -0 and NaN pass through
  function nearest(a) {
    var r = Math.round(a);
    if (r - a === 0.5 && r % 2 !== 0) r = r - 1;
    return r;
  }
  // a * 2^n in two exact-power steps (f32.mul twice), n an integer in [-150, 128]
  function scaleb(a, n) {
    var n1 = n >> 1;
    return fr(fr(a * POW2[n1 + 75]) * POW2[n - n1 + 75]);
  }
  function exponent(a) {
    F32[0] = a;
    return ((I32[0] >>> 23) & 255) - 127;
  }
  function significand(a) {
    F32[0] = a;
    I32[0] = (I32[0] & 8388607) | 1065353216;
    return F32[0];
  }
${fns.map(functionText).join("\n")}
  return { ${fns.map((f) => `${f.name}: ${f.name}`).join(", ")} };
}`;
}
