/**
 * The adgen peer's compile rows (bench/workloads/compile.ts): each sample is a fresh child process
 * (bench/peers/adgen-compile.ts) printing the wall time (the cell's value), its process CPU time
 * and the per-phase split in CPU ms; the cell's note gives the medians of the CPU total and of
 * each phase, largest first, plus "other" (CPU total minus phases: jit bookkeeping, the first run).
 */
import type { SampledSetup, SetupFactory } from "../harness.js";
import type { CompileCase } from "../workloads/compile.js";
import path from "node:path";
import { REPO_ROOT, runChildOut } from "./child.js";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : 0;
};

export function compileSetup(which: CompileCase): SetupFactory {
  return (): SampledSetup => {
    const totals: number[] = [];
    const cpus: number[] = [];
    const phases = new Map<string, number[]>();
    return {
      sample: async () => {
        const { value, stdout } = await runChildOut(["--import", "tsx", path.join(REPO_ROOT, "bench/peers/adgen-compile.ts"), which], /SAMPLE=([-+0-9.eE]+)/);
        const m = /PHASES=(\{.*\})/.exec(stdout);
        const split = m ? (JSON.parse(m[1]!) as Record<string, number>) : {};
        totals.push(value);
        cpus.push(Number(/CPU=([0-9.]+)/.exec(stdout)?.[1] ?? NaN));
        const names = new Set([...phases.keys(), ...Object.keys(split)]);
        for (const n of names) (phases.get(n) ?? phases.set(n, Array(totals.length - 1).fill(0)).get(n)!).push(split[n] ?? 0);
        return value;
      },
      get note() {
        if (!totals.length) return undefined;
        const rows = [...phases].map(([n, v]) => [n, median(v)] as const).sort((a, b) => b[1] - a[1]);
        const other = median(cpus.map((t, i) => t - [...phases.values()].reduce((s, v) => s + (v[i] ?? 0), 0)));
        return `${which}: CPU ${median(cpus).toFixed(1)} ms, phases (median CPU ms): ${[...rows, ["other", other] as const].map(([n, v]) => `${n} ${v.toFixed(1)}`).join(", ")}`;
      },
    };
  };
}
