// Strict options everywhere (issue 13 item 7): every public options object rejects an unknown key
// (a typo) with an ArgumentError naming the call and the closest valid option, through one helper
// (core/options checkOptions); the CLI's unknown flags get the same did-you-mean (closestName).

import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import * as A from "../src/index.js";

const { np, spec } = A;
const f = (x: A.Tensor) => np.sum(np.sin(x));
const specs = [spec("float32", [3])];
const x = () => np.ones([3]);

describe("unknown options are typed errors with a did-you-mean", () => {
  const cases: [string, () => unknown, string][] = [
    ["jit", () => A.jit(f, { staticArgNum: [0] } as any), "staticArgnums"],
    ["grad", () => A.grad(f, { argnum: 0 } as any), "argnums"],
    ["valueAndGrad", () => A.valueAndGrad(f, { hasaux: true } as any), "hasAux"],
    ["jacfwd", () => A.jacfwd(f, { argnum: 0 } as any), "argnums"],
    ["jacrev", () => A.jacrev(f, { argnum: 0 } as any), "argnums"],
    ["hessian", () => A.hessian(f, { argnum: 0 } as any), "argnums"],
    ["vmap", () => A.vmap(f, { inAxis: 0 } as any), "inAxes"],
    ["checkpoint", () => A.checkpoint(f, { polcy: A.checkpointPolicies.nothingSaveable } as any), "policy"],
    ["exportFunction", () => A.exportFunction(f, specs, { nmae: "g" } as any), "name"],
    ["exportVjp", () => A.exportVjp(f, specs, { argnum: 0 } as any), "argnums"],
    ["exportJvp", () => A.exportJvp(f, specs, { bundel: true } as any), "bundle"],
    ["exportModule", () => A.exportModule({ f }, specs, { backnd: "js" } as any), "backend"],
    ["vjpOf", () => A.vjpOf(f, { argnum: 0 } as any), "argnums"],
    ["exportOnnx", () => A.exportOnnx(f, specs, { nmae: "g" } as any), "name"],
    ["config.update", () => A.config.update({ jitCacheSiz: 3 } as any), "jitCacheSize"],
    ["lax.scan", () => A.lax.scan((c: A.Tensor, y: A.Tensor) => [c, y], np.ones([1]), np.ones([3]), { lenght: 3 } as any), "length"],
    ["profileKernels", () => A.profileKernels(A.jit(f), [x()], { repeat: 1 } as any), "repeats"],
    ["savedTensorsHooks", () => A.savedTensorsHooks({ pack: (t: A.Tensor) => t, unpak: (t: unknown) => t } as any, () => 0), "unpack"],
  ];
  for (const [what, call, guess] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(A.ArgumentError);
      expect(err).toBeInstanceOf(A.AdgenError);
      expect((err as Error).message).toMatch(new RegExp(`^${what.replace(".", "\\.")}: unknown option "\\w+"\\. Did you mean "${guess}"\\?`));
    });
  }

  it("jvpOf takes no options: any key is refused", () => {
    expect(() => A.jvpOf(f, { argnums: 0 } as any)).toThrow(/^jvpOf: unknown option "argnums"\. jvpOf takes no options\./);
  });

  it("valid options still work (vmap with inAxes/outAxes)", () => {
    const g = A.vmap((a: A.Tensor) => np.multiply(a, 2), { inAxes: 0, outAxes: 0 });
    expect(Array.from((g(np.array([1, 2])) as A.Tensor).dataSync())).toEqual([2, 4]);
  });
});

describe("CLI flags", () => {
  const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const MAIN = path.join(ROOT, "src/cli/main.ts");
  const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const adgen = (args: string[]) =>
    new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, ["--import", TSX, MAIN, ...args], { encoding: "utf8", timeout: 60_000 }, (err, _out, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr })),
    );

  it("an unknown flag close to a valid one gets a did-you-mean (exit code 2)", async () => {
    const r = await adgen(["export", "model.mjs", "--fn", "loss", "--nmae", "g", "--out", "o"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('adgen export: unknown flag "--nmae" (did you mean "--name"? see adgen export --help)');
    const c = await adgen(["exprot"]);
    expect(c.stderr.trim()).toBe('adgen: unknown command "exprot" (did you mean "export"?)');
  }, 60_000);
});
