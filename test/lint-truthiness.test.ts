// The README's JS-truthiness limit: `if (tensor)` is always true in JavaScript, and the
// typescript-eslint rules it recommends report it (and only it) in examples/lint/truthiness.ts.

import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

describe("lint rule for tensor truthiness (issue 9 item 6)", () => {
  it("reports `if (tensor)` and nothing in the explicit version", async () => {
    const eslint = new ESLint({ overrideConfigFile: "examples/lint/eslint.config.mjs" });
    const [result] = await eslint.lintFiles(["examples/lint/truthiness.ts"]);
    const found = result!.messages.map((m) => `${m.line}:${m.ruleId}`).sort();
    expect(found).toEqual([
      "11:@typescript-eslint/no-unnecessary-condition",
      "11:@typescript-eslint/strict-boolean-expressions",
    ]);
  });
});
