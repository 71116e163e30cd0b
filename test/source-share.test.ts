// Source lines of differentiated programs: a built-in primitive's JVP rule captures the user's
// line once for all the primitives it binds (core/source.ts shareCapture), so every equation of
// jit(grad(f)) must still name the line of f that produced it, and the equations a customJvp rule
// binds must name the rule's own lines (never the line that called the custom function).
import { describe, expect, it } from "vitest";
import { customJvp, grad, jit, np, type Tensor } from "../src/index.js";

/** The line numbers (in this file) of the program's equations, and how many carry none. */
function linesOf(p: { equations: readonly { source?: unknown }[] }): { lines: Set<number>; missing: number } {
  const lines = new Set<number>();
  let missing = 0;
  for (const e of p.equations) {
    const m = /source-share\.test\.ts:(\d+):\d+$/.exec(String(e.source ?? ""));
    if (m) lines.add(Number(m[1]));
    else missing++;
  }
  return { lines, missing };
}

/** The line this is called on (the caller's line). */
function here(): number {
  const m = /source-share\.test\.ts:(\d+):\d+/.exec(new Error().stack!.split("\n")[2]!);
  return Number(m![1]);
}

describe("source lines under differentiation", () => {
  it("every equation of jit(grad(f)) names the line of f that produced it", () => {
    const opLines: number[] = [];
    const f = (x: Tensor) => {
      const a = np.multiply(x, x); opLines.push(here());
      const b = np.sin(a); opLines.push(here());
      const c = np.exp(np.negative(b)); opLines.push(here());
      return np.sum(np.multiply(c, a)); // (a line of its own: pushed below)
    };
    const sumLine = here() - 2;
    const x = np.array(Float32Array.from([0.5, -1, 2]));
    const p = jit(grad(f)).lower(x).program;
    const { lines, missing } = linesOf(p);
    expect(missing).toBe(0);
    const expected = new Set([...opLines.slice(0, 3), sumLine]);
    expect([...lines].sort()).toEqual([...expected].sort());
    expect(p.equations.length).toBeGreaterThan(8); // several equations per line (primal, tangent, transposed)
  });

  it("the equations a customJvp rule binds keep the rule's lines", () => {
    const ruleLines: number[] = [];
    const g = customJvp((v: Tensor) => np.sin(v), {
      jvp: ([v], [t]) => {
        const s = np.sin(v as Tensor); ruleLines.push(here());
        const d = np.multiply(t as Tensor, np.cos(v as Tensor)); ruleLines.push(here());
        return [s, d];
      },
    });
    const f = (x: Tensor) => np.sum(g(x));
    const callLine = here() - 1;
    const x = np.array(Float32Array.from([0.25, 1.5]));
    const { lines } = linesOf(jit(grad(f)).lower(x).program);
    // the rule's cos and multiply are named by the rule, not by the call of g
    expect(lines.has(ruleLines[1]!)).toBe(true);
    expect(lines.has(callLine)).toBe(true);
  });
});
