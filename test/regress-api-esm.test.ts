// Regression test for issue 9 (README claims): adgen is ESM-only, and a CommonJS
// `require("adgen")` gets a message saying so and how to import it (package.json "exports"
// "require" condition -> cjs/adgen.cjs, which ships in "files"). Runs a real Node process in a
// consumer directory whose node_modules/adgen links to this repository (no build needed).

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(__dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const consumer = mkdtempSync(join(tmpdir(), "adgen-cjs-"));
mkdirSync(join(consumer, "node_modules"));
symlinkSync(root, join(consumer, "node_modules", "adgen"), "dir");
afterAll(() => rmSync(consumer, { recursive: true, force: true }));

function runNode(file: string, source: string): { code: number; stderr: string; stdout: string } {
  writeFileSync(join(consumer, file), source);
  try {
    const stdout = execFileSync(process.execPath, [file], { cwd: consumer, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { code: 0, stderr: "", stdout };
  } catch (e) {
    const err = e as { status: number; stderr: string; stdout: string };
    return { code: err.status, stderr: err.stderr, stdout: err.stdout };
  }
}

describe("issue 9 (ESM-only): require(\"adgen\") explains itself", () => {
  it("issue 9.esm: a CommonJS require(\"adgen\") fails with a message naming ESM and how to import", () => {
    const r = runNode("main.cjs", 'require("adgen");\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/adgen is ESM-only/);
    expect(r.stderr).toMatch(/import \{ grad, np \} from "adgen"/);
    expect(r.stderr).toMatch(/await import\("adgen"\)/);
    expect(r.stderr).not.toMatch(/ERR_REQUIRE_ESM|ERR_PACKAGE_PATH_NOT_EXPORTED/);
    const c = runNode("code.cjs", 'try { require("adgen"); } catch (e) { console.log(e.code); }\n');
    expect(c.stdout.trim()).toBe("ERR_ADGEN_ESM_ONLY");
  });

  it("issue 9.esm: the require stub ships in the package; import still resolves to the ES module", () => {
    const dot = pkg.exports["."];
    expect(dot.require).toBe("./cjs/adgen.cjs");
    expect(dot.import).toBe("./dist/adgen.mjs");
    expect(Object.keys(dot).indexOf("types")).toBe(0); // "types" must come first for TypeScript
    expect(pkg.files).toContain(dot.require.slice(2));
    expect(pkg.type).toBe("module");
    expect(readFileSync(join(root, dot.require), "utf8")).toMatch(/ESM-only/);
  });
});
