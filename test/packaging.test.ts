// Issue 17.5: adgen as users install it. `npm pack` the repository (the files package.json ships),
// install the tarball into an empty project with npm (offline: adgen has no runtime
// dependencies), then use it the four ways users do: import it as an ES module, type-check a
// TypeScript consumer against the shipped .d.ts with the repository's tsc, run the `adgen` bin
// through npx, and load the single-file bundle from a bare directory as a CDN would serve it.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, ensureDist } from "./util/dist.js";
// @ts-expect-error plain JS module shared with the browser page
import { compareProbes, probe } from "./browser/probe.mjs";
import * as src from "../src/index.js";

let dir = "";
let app = "";
let tgz = "";
const quiet = { stdio: ["ignore", "pipe", "pipe"] as ["ignore", "pipe", "pipe"], encoding: "utf8" as const };
const node = (cwd: string, code: string) => execFileSync(process.execPath, ["--input-type=module", "-e", code], { ...quiet, cwd });

beforeAll(() => {
  ensureDist();
  dir = mkdtempSync(join(tmpdir(), "adgen-pack-"));
  // dist/ is current (ensureDist), so skip "prepare": packing must not rebuild dist/ under other tests
  const packed = JSON.parse(execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { ...quiet, cwd: ROOT })) as {
    filename: string;
    files: { path: string }[];
  }[];
  tgz = join(dir, packed[0]!.filename);
  app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tgz], { ...quiet, cwd: app });
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("packaging", () => {
  it("issue 17.5: the tarball holds the bundle, the compiled sources with types and the README, and no tests", () => {
    const files = execFileSync("tar", ["-tzf", tgz], quiet).split("\n").filter(Boolean);
    for (const f of ["package/package.json", "package/README.md", "package/dist/adgen.mjs", "package/dist/src/index.d.ts", "package/dist/src/cli/main.js"]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^package\/(test|src|scripts|bench)\//.test(f))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(app, "node_modules", "adgen", "package.json"), "utf8"));
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it("issue 17.5: an ES module of the consumer imports adgen and computes a gradient", () => {
    const out = node(app, `import { np, grad, jit } from "adgen";
      const f = (x) => np.sum(np.multiply(np.sin(x), x));
      const x = np.array([0.5, 1, 2], { dtype: "float64" });
      console.log(JSON.stringify({ g: Array.from(grad(f)(x).data), j: Array.from(jit(grad(f))(x).data) }));`);
    const { g, j } = JSON.parse(out) as { g: number[]; j: number[] };
    const want = [0.5, 1, 2].map((v) => Math.sin(v) + v * Math.cos(v));
    g.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
    expect(j).toEqual(g);
  });

  it("issue 17.5: a TypeScript consumer type-checks against the shipped declarations (and a misuse is an error)", () => {
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, types: [], lib: ["ES2022"] } }),
    );
    writeFileSync(
      join(app, "main.ts"),
      `import { np, grad, jit, spec, exportFunction, random, type Tensor, type Jitted } from "adgen";
const f = (x: Tensor): Tensor => np.sum(np.tanh(x));
const g: Tensor = grad(f)(np.array([1, 2, 3]));
const jf: Jitted = jit(f);
const shape: number[] = jf(random.uniform(random.key(0), [3])).shape;
const src: string = exportFunction(f, [spec("float32", ["B"])]).source;
// @ts-expect-error grad takes a function
grad(42);
// @ts-expect-error a Tensor's shape is not a string
const bad: string = g.shape;
export { g, shape, src, bad };
`,
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    let out = "";
    try {
      out = execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { ...quiet, cwd: app });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout) + String((e as { stderr?: string }).stderr);
    }
    expect(out).toBe("");
  });

  it("issue 17.5: the adgen bin runs through npx", () => {
    const help = execFileSync("npx", ["--no-install", "adgen", "--help"], { ...quiet, cwd: app });
    expect(help).toMatch(/^adgen \d+\.\d+\.\d+/);
    expect(help).toMatch(/export\s+compile a function/);
    const version = execFileSync("npx", ["--no-install", "adgen", "--version"], { ...quiet, cwd: app }).trim();
    expect(version).toContain(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  it("issue 17.5: the single-file bundle works from a bare directory (CDN-style) and agrees with the sources", async () => {
    const cdn = join(dir, "cdn");
    mkdirSync(cdn);
    copyFileSync(join(app, "node_modules", "adgen", "dist", "adgen.mjs"), join(cdn, "adgen.mjs"));
    const probeUrl = pathToFileURL(join(ROOT, "test", "browser", "probe.mjs")).href;
    const url = pathToFileURL(join(cdn, "adgen.mjs")).href;
    // run from a directory with no node_modules: the file must need nothing else
    const elsewhere = mkdtempSync(join(tmpdir(), "adgen-cdn-cwd-"));
    try {
      const out = node(elsewhere, `const a = await import(${JSON.stringify(url)}); const { probe } = await import(${JSON.stringify(probeUrl)});
        console.log(JSON.stringify(await probe(a)));`);
      const want = await probe(src);
      expect(compareProbes(JSON.parse(out), want, 0)).toEqual([]); // same engine: bit for bit
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
