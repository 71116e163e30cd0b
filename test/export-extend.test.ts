// extendModule (issue 15, lazy derivative generation): a derivative added to an exported
// artifact from its IR alone, in a new module that shares the runtime file with the original;
// both modules run and agree with adgen's grad / vjp in float64, the artifact's declared
// constraints carry over, and bad requests are typed errors.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ArgumentError, type Tensor, exportFunction, exportModule, exportVjp, extendModule, grad, jvpOf, np, spec, vjp, vjpOf } from "../src/index.js";
import { assertClose, rand } from "./util/check.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), "adgen-extend-"));
  dirs.push(d);
  return d;
};
const load = (dir: string, file: string) => import(/* @vite-ignore */ pathToFileURL(join(dir, file)).href);
const close = { rtol: 1e-12, atol: 1e-13 };

// a loss over weights [3,4] and a batch [B,3]
const loss = (w: Tensor, x: Tensor) => np.mean(np.square(np.tanh(np.matmul(x, w))));
const specs = [spec("float64", [3, 4]), spec("float64", ["B", 3])];
const w = rand([3, 4], 1);

describe("extendModule", () => {
  it("adds a VJP and a gradient to a value export: both modules run, the runtime file is written once", async () => {
    const dir = fresh();
    await exportFunction(loss, specs, { name: "loss", bundle: false, constraints: ["B <= 64"] }).write(dir);
    const e2 = extendModule(join(dir, "loss.manifest.json"), (f) => ({ step: vjpOf(f.loss!, { argnums: 0 }), dw: grad(f.loss!) }), { name: "loss2" });
    expect(e2.manifest.functions.map((f) => f.name)).toEqual(["loss", "step_forward", "step_backward", "dw"]);
    expect(e2.manifest.symbolicDims).toEqual([{ name: "B", constraints: ["B >= 1", "B <= 64"] }]);
    await e2.write(dir);
    const files = readdirSync(dir);
    expect(files.filter((f) => f.startsWith("adgen-runtime-"))).toHaveLength(1);
    const runtime = files.find((f) => f.startsWith("adgen-runtime-"))!;
    for (const m of ["loss.mjs", "loss2.mjs"]) expect(readFileSync(join(dir, m), "utf8")).toContain(`from "./${runtime}"`);
    const [m1, m2] = [await load(dir, "loss.mjs"), await load(dir, "loss2.mjs")];
    for (const B of [1, 6]) {
      const x = rand([B, 3], B);
      assertClose(m1.loss(w, x).data, loss(w, x).data, close);
      assertClose(m2.loss(w, x).data, loss(w, x).data, close);
      const fw = m2.step_forward(w, x);
      const [gw] = m2.step_backward(fw.residuals, { data: new Float64Array([1]), shape: [] });
      const want = grad(loss)(w, x) as Tensor;
      assertClose(gw.data, want.data, close);
      assertClose(m2.dw(w, x).data, want.data, close);
    }
    expect(() => m2.dw(w, rand([65, 3], 1))).toThrow(/bind B = 65, which violates the declared constraint B <= 64/);
  });

  it("extends a module of several entries (value, vjp, jvp) keeping their kinds and argnums, and a vjp export", async () => {
    const e = exportModule({ loss, v: vjpOf(loss, { argnums: 1 }), t: jvpOf(loss) }, specs, { name: "m" });
    const e2 = extendModule(e.manifest, (f) => ({ g: grad(f.loss!, { argnums: 1 }) }));
    expect(e2.name).toBe("m");
    expect(e2.manifest.functions.map((f) => f.name)).toEqual(["loss", "v_forward", "v_backward", "t", "g"]);
    const dir = fresh();
    await e2.write(dir);
    const m = await load(dir, "m.mjs");
    const x = rand([4, 3], 7);
    const fw = m.v_forward(w, x);
    const [gx] = m.v_backward(fw.residuals, { data: new Float64Array([1]), shape: [] });
    const [, pull] = vjp(loss, w, x);
    const [, wantX] = pull(np.array(1, { dtype: "float64" })) as [Tensor, Tensor];
    assertClose(gx.data, wantX.data, close);
    assertClose(m.g(w, x).data, wantX.data, close);
    // an exportVjp artifact: its entry keeps argnums; a value entry can be added beside it
    const v = exportVjp(loss, specs, { name: "lv", argnums: 0 });
    const v2 = extendModule(v.manifest, (f) => ({ value: f.lv! }));
    expect(v2.manifest.functions.map((f) => f.name)).toEqual(["lv_forward", "lv_backward", "value"]);
  });

  it("typed errors: a key the artifact has, no IR, a bad callback", () => {
    const e = exportFunction(loss, specs, { name: "loss" });
    expect(() => extendModule(e.manifest, (f) => ({ loss: grad(f.loss!) }))).toThrow(/already has an entry "loss"; choose another key/);
    expect(() => extendModule(exportFunction(loss, specs, { name: "noir", ir: false }).manifest, () => ({}))).toThrow(/carries no IR/);
    expect(() => extendModule(e.manifest, (() => null) as never)).toThrow(ArgumentError);
    expect(() => extendModule(e.manifest, "vjp" as never)).toThrow(/must be a function/);
  });
});
