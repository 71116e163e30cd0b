// The layering check (issue 10 item 3): dependency-cruiser, with the rules of
// .dependency-cruiser.cjs (the layer order, lowest first, is listed there and in src/README.md),
// finds no import from a lower layer into a higher one and no cycle between folders, type-only
// imports aside. A fixture tree shows that each rule catches what it is for, among the kernel's
// four folders (rules, interp, trace, prims) as elsewhere, and that type-only imports and
// downward imports stay allowed.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { cruise } from "dependency-cruiser";
import extractDepcruiseConfig from "dependency-cruiser/config-utl/extract-depcruise-config";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** The violations of the project's rules in `<baseDir>/src` (tsconfig.json from `baseDir`). */
async function violations(baseDir: string): Promise<string[]> {
  const config = await extractDepcruiseConfig(path.join(ROOT, ".dependency-cruiser.cjs"));
  const tsConfig = extractTSConfig(path.join(baseDir, "tsconfig.json"));
  const result = await cruise(
    ["src"],
    {
      ...config.options,
      tsConfig: { fileName: path.join(baseDir, "tsconfig.json") },
      baseDir, // modules are named relative to it
      ruleSet: { forbidden: config.forbidden },
      validate: true,
      outputType: "json",
    },
    {},
    { tsConfig },
  );
  const out = JSON.parse(result.output as string) as { summary: { violations: Violation[]; totalCruised: number } };
  expect(out.summary.totalCruised).toBeGreaterThan(0);
  return out.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
}

const fixtureDir = fs.mkdtempSync(path.join(os.tmpdir(), "adgen-layers-"));
afterAll(() => fs.rmSync(fixtureDir, { recursive: true, force: true }));

function write(files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(fixtureDir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}

describe("layers: dependency-cruiser rules", () => {
  it("src/ imports only downward, with no folder cycle", async () => {
    expect(await violations(ROOT)).toEqual([]);
  }, 120_000);

  it("a fixture's wrong imports are caught, and only those", async () => {
    write({
      "tsconfig.json": JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true } }),
      // upward: the lowest layer imports a primitive
      "src/core/a.ts": `import { p } from "../prims/p.js";\nexport const a = p + 1;\n`,
      // type-only upward imports: allowed (erased by compilation); prims -> trace -> interp:
      // downward through the kernel's layers, allowed
      "src/prims/p.ts": `import type { J } from "../jit/j.js";\nimport { r } from "../rules/r.js";\nimport { s } from "../trace/s.js";\nexport const p: J = r + s;\n`,
      "src/trace/s.ts": `import { i } from "../backends/interp/i.js";\nexport const s = i;\n`,
      "src/backends/interp/i.ts": `import type { J } from "../../jit/j.js";\nexport const i: J = 1;\n`,
      // rules -> prims: upward between two kernel folders, and with prims -> rules a folder cycle
      "src/rules/r.ts": `import { q } from "../prims/q.js";\nexport const r = q;\n`,
      "src/prims/q.ts": `export const q = 2;\n`,
      // a cycle through a folder outside the kernel is caught too (and is upward somewhere)
      "src/prims/up.ts": `import { t } from "../transforms/t.js";\nexport const up = t;\n`,
      "src/transforms/t.ts": `import { q } from "../prims/q.js";\nexport const t = q;\n`,
      // jit <-> aot: upward (jit below aot) and a folder cycle
      "src/jit/j.ts": `import { x } from "../aot/x.js";\nexport type J = number;\nexport const j = x;\n`,
      "src/aot/x.ts": `import { j0 } from "../jit/j0.js";\nexport const x = j0;\n`,
      "src/jit/j0.ts": `export const j0 = 0;\n`,
      // a folder that belongs to no layer
      "src/extra/e.ts": `import { q } from "../prims/q.js";\nexport const e = q;\n`,
    });
    expect(await violations(fixtureDir)).toEqual([
      "layer-core: src/core/a.ts -> src/prims/p.ts",
      "layer-jit: src/jit/j.ts -> src/aot/x.ts",
      "layer-prims: src/prims/up.ts -> src/transforms/t.ts",
      "layer-rules: src/rules/r.ts -> src/prims/q.ts",
      "no-folder-cycle: src/aot -> src/jit",
      "no-folder-cycle: src/jit -> src/aot",
      "no-folder-cycle: src/prims -> src/rules",
      "no-folder-cycle: src/prims -> src/transforms",
      "no-folder-cycle: src/rules -> src/prims",
      "no-folder-cycle: src/transforms -> src/prims",
      "no-unlayered-module: src/extra/e.ts -> src/prims/q.ts",
    ]);
  }, 120_000);
});
