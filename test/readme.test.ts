// The README's code examples run: each ```ts block that imports from "adgen" is transpiled (types
// stripped), pointed at this checkout, and executed; a `console.log(...)` line ending in
// `// prints: <text>` must print exactly that text (util.format, as console.log does).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";
import { transformSync } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('from "adgen"'));
const entry = pathToFileURL(new URL("../src/index.ts", import.meta.url).pathname).href;
const dir = mkdtempSync(join(tmpdir(), "adgen-readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README examples", () => {
  it("has runnable examples", () => expect(blocks.length).toBeGreaterThanOrEqual(2));
  blocks.forEach((code, i) => {
    const runnable = !code.includes("// elsewhere");
    it.runIf(runnable)(`example ${i + 1} runs`, async () => {
      const js = transformSync(code.replaceAll('from "adgen"', `from ${JSON.stringify(entry)}`), { loader: "ts", format: "esm" }).code;
      const file = join(dir, `example${i}.mjs`);
      writeFileSync(file, js.replaceAll('"build/"', JSON.stringify(join(dir, "build"))));
      const logs: unknown[] = [];
      const orig = console.log;
      console.log = (...a: unknown[]) => logs.push(a);
      try {
        await import(/* @vite-ignore */ pathToFileURL(file).href);
      } finally {
        console.log = orig;
      }
      const printed = logs.map((a) => format(...(a as unknown[])));
      const lines = code.split("\n").filter((l) => l.includes("console.log("));
      lines.forEach((line, k) => {
        const m = /\/\/ prints: (.*)$/.exec(line);
        if (m) expect(printed[k], line.trim()).toBe(m[1]!.trim());
      });
    });
  });
});
