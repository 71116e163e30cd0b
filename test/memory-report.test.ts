// Issue 14 item 5 (first step): the peak live bytes of a gradient as a formula in the symbolic
// dimensions (lower/memory.ts livePeak) and memoryReport's comparison before/after checkpointing.
// The formula at B equals the peak of the program traced with B fixed (an independent trace and
// lowering), never exceeds the arena planned at B (the arena holds every live set) and is at least
// its largest temporary; the verdicts follow from evaluating both formulas over a range of sizes.

import { describe, expect, it } from "vitest";
import { checkpoint, grad, jit, memoryReport, np, type Tensor } from "../src/index.js";
import { evalDim } from "../src/core/shape.js";
import { livePeak, planMemory } from "../src/lower/memory.js";

const block = (h: Tensor, w1: Tensor, w2: Tensor) => np.add(h, np.matmul(np.tanh(np.matmul(h, w1)), w2));
const net = (ws: Tensor[][], x: Tensor) => np.sum(np.square(ws.reduce((h, [a, b]) => block(h, a!, b!), x)));
const netC = (ws: Tensor[][], x: Tensor) => np.sum(np.square(ws.reduce((h, [a, b]) => checkpoint(block)(h, a!, b!), x)));
const ws = [0, 1, 2, 3].map(() => [np.multiply(np.ones([32, 128]), 0.01), np.multiply(np.ones([128, 32]), 0.01)]);
const jitted = new Map<string, ReturnType<typeof jit>>();
const lowered = (f: typeof net, B: number, symbolic: boolean) => {
  const key = `${f === net}:${symbolic}`;
  if (!jitted.has(key)) jitted.set(key, jit(grad(f, { argnums: [0, 1] }), symbolic ? { shapes: [null, ["B", 32]] } : {}));
  return jitted.get(key)!.lower(ws, np.ones([B, 32])).lowered;
};

describe("peak live bytes as a formula in the symbolic dims", () => {
  for (const f of [net, netC]) {
    it(`${f === net ? "plain" : "checkpointed"} grad: the formula at B equals the fixed-size program's peak, <= the planned arena`, () => {
      const sym = livePeak(lowered(f, 8, true));
      for (const B of [1, 8, 33, 200]) {
        const lp = lowered(f, B, false);
        const fixed = livePeak(lp);
        expect(fixed.candidates.length).toBe(1); // concrete: one number
        expect(sym.at({ B })).toBe(fixed.at({}));
        const symLp = lowered(f, 8, true);
        const sizes = symLp.buffers.map((b) => evalDim(b.size, { B }));
        const arena = planMemory(symLp, sizes).arenaBytes;
        expect(sym.at({ B })).toBeLessThanOrEqual(arena);
        const temps = symLp.buffers.filter((b) => b.kind === "temp");
        const biggest = Math.max(0, ...temps.map((b) => evalDim(b.size, { B }) * (b.dtype === "float64" ? 8 : b.dtype === "bool" ? 1 : 4)));
        expect(sym.at({ B })).toBeGreaterThanOrEqual(biggest);
      }
    });
  }

  it("memoryReport prints both formulas and a verdict that holds for every size it claims", () => {
    const r = memoryReport(net, { checkpoint: netC, shapes: [null, ["B", 32]], at: { B: 256 } }, ws, np.ones([8, 32]));
    expect(r.symbols).toEqual(["B"]);
    expect(r.without.formula).toBe("3200*B"); // one polynomial: the same kernel peaks at every size
    const Bs = [1, 2, 10, 50, 100, 1000, 100000];
    const lower = Bs.map((B) => r.with.at({ B }) < r.without.at({ B }));
    expect(lower).toContain(true);
    expect(lower).toContain(false);
    expect(r.verdict).toBe("depends");
    const text = String(r);
    expect(text).toContain("without checkpointing: 3200*B");
    expect(text).toContain(`at B=256: ${r.without.at({ B: 256 })} -> ${r.with.at({ B: 256 })} bytes`);
    // without symbolic dims: plain numbers, and a verdict for the one size
    const c = memoryReport(net, { checkpoint: netC }, ws, np.ones([512, 32]));
    expect(c.symbols).toEqual([]);
    expect(c.verdict).toBe("lower");
    expect(c.with.at({})).toBeLessThan(c.without.at({}));
  });
});
