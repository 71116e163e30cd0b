// Monomorphic copies of the reference elementwise loops, for eager execution speed. One shared
// loop `r[i] = f(a[i], b[i])` sees every scalar function and every typed-array kind, so V8 can
// neither inline `f` nor specialise the element accesses (about 12 ns per element). Here each
// (scalar function, array kinds, operand pattern) gets its own copy of the loop, compiled from a
// constant source text with `f` passed in as a value, so V8 inlines `f` (about 3 ns per element).
// Results are identical: the same `f` runs on the same values and is stored the same way.
// A function is specialised from its second use on, so per-call closures never pay a compile.
// Where code generation from strings is disallowed (a Content-Security-Policy without
// 'unsafe-eval', Node's --disallow-code-generation-from-strings), the first attempt throws an
// EvalError: from then on every function runs the generic loop (same results, slower), and
// adgen makes no further attempt. In a browser (a window or a worker) no attempt is made at all:
// there a refused attempt is also reported as a CSP violation (securitypolicyviolation event,
// report-uri), and a page cannot read its CSP header to ask first, so eager loops stay generic.

import type { TypedArray } from "../core/dtype.js";

type Fn = (...a: number[]) => number;
type Loop = (a: TypedArray, b: TypedArray | null, r: TypedArray, n: number) => void;

/** Loop bodies by operand pattern: u = unary, bb = two arrays, sb / bs = scalar and array. */
const BODIES = {
  u: "for (let i = 0; i < n; i++) r[i] = f(a[i]);",
  bb: "for (let i = 0; i < n; i++) r[i] = f(a[i], b[i]);",
  sb: "const s = a[0]; for (let i = 0; i < n; i++) r[i] = f(s, b[i]);",
  bs: "const s = b[0]; for (let i = 0; i < n; i++) r[i] = f(a[i], s);",
} as const;
export type LoopPattern = keyof typeof BODIES;

const seen = new WeakMap<Fn, Map<string, Loop> | number>();
const MAX_VARIANTS = 32;
const g = globalThis as { document?: unknown; WorkerGlobalScope?: unknown };
/** false in browsers, and once the engine has refused to compile a string */
let stringCodeAllowed = g.document === undefined && g.WorkerGlobalScope === undefined;

/** A copy of the loop of `pattern` calling `f`, or null where strings cannot be compiled. */
function compileLoop(f: Fn, pattern: LoopPattern): Loop | null {
  try {
    return new Function("f", `"use strict"; return function loop(a, b, r, n) { ${BODIES[pattern]} };`)(f) as Loop;
  } catch (e) {
    if (!(e instanceof EvalError)) throw e;
    stringCodeAllowed = false;
    return null;
  }
}

/** The loop for `f` and these arrays, or null while `f` is new (then run the generic loop). */
export function specializedLoop(f: Fn, pattern: LoopPattern, a: TypedArray, b: TypedArray | null, r: TypedArray): Loop | null {
  if (!stringCodeAllowed) return null;
  const entry = seen.get(f);
  if (entry === undefined) {
    seen.set(f, 1);
    return null;
  }
  const loops = typeof entry === "number" ? new Map<string, Loop>() : entry;
  if (typeof entry === "number") seen.set(f, loops);
  const key = `${pattern} ${a.constructor.name} ${b?.constructor.name ?? ""} ${r.constructor.name}`;
  let loop = loops.get(key);
  if (!loop) {
    if (loops.size >= MAX_VARIANTS) return null;
    loop = compileLoop(f, pattern) ?? undefined;
    if (!loop) return null;
    loops.set(key, loop);
  }
  return loop;
}
