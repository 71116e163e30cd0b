import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    pool: "threads",
    // every Program is checked by the IR verifier as it is built (src/index.ts)
    env: { ADGEN_VERIFY: "1" },
  },
});
