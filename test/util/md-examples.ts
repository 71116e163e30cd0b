// Runs the ```ts code blocks of a Markdown page that import from "adgen" (the README, a docs/
// page): each is transpiled (types stripped), pointed at this checkout and executed, with
// "build/..." paths and "./build/..." imports in a temp directory; a `console.log(...)` line ending in `// prints: <text>`
// must print exactly that text (util.format, as console.log does). Blocks holding "// elsewhere"
// are illustrations, not run.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";
import { transformSync } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

export function describeMarkdownExamples(title: string, file: URL, minBlocks: number): void {
  const text = readFileSync(file, "utf8");
  const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('from "adgen"'));
  const entry = pathToFileURL(new URL("../../src/index.ts", import.meta.url).pathname).href;
  const dir = mkdtempSync(join(tmpdir(), "adgen-md-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  describe(title, () => {
    it("has runnable examples", () => expect(blocks.length).toBeGreaterThanOrEqual(minBlocks));
    blocks.forEach((code, i) => {
      const runnable = !code.includes("// elsewhere");
      it.runIf(runnable)(`example ${i + 1} runs`, async () => {
        const js = transformSync(code.replaceAll('from "adgen"', `from ${JSON.stringify(entry)}`), { loader: "ts", format: "esm" }).code;
        const f = join(dir, `example${i}.mjs`);
        // "build/..." paths and "./build/..." imports point into the temp directory
        const build = join(dir, "build");
        writeFileSync(f, js.replaceAll('"./build/', `"${pathToFileURL(build).href}/`).replaceAll('"build/', `${JSON.stringify(build).slice(0, -1)}/`));
        const logs: unknown[] = [];
        const orig = console.log;
        console.log = (...a: unknown[]) => logs.push(a);
        try {
          await import(/* @vite-ignore */ pathToFileURL(f).href);
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
}
