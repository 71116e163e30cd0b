// The built package (dist/: tsc output and the esbuild single-file bundle dist/adgen.mjs), for
// the tests that exercise what users install: packaging, CSP-safe loading, the browser. `npm ci`
// builds it (package.json "prepare"); when dist/ is missing or older than a file of src/ (an edit
// since), it is rebuilt here with `npm run build`, once, under a lock directory so that test
// files running in parallel do not build at the same time or read a half-written bundle.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BUNDLE = join(ROOT, "dist", "adgen.mjs");
const OUTPUTS = [BUNDLE, join(ROOT, "dist", "src", "index.js"), join(ROOT, "dist", "src", "index.d.ts"), join(ROOT, "dist", "src", "cli", "main.js")];
const LOCK = join(ROOT, "dist.build-lock");

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

function fresh(): boolean {
  const src = Math.max(newestSource(join(ROOT, "src")), statSync(join(ROOT, "package.json")).mtimeMs);
  return OUTPUTS.every((f) => existsSync(f) && statSync(f).mtimeMs >= src);
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Makes sure dist/ is built from the current sources; returns the bundle's path. */
export function ensureDist(): string {
  for (let waited = 0; !fresh(); ) {
    try {
      mkdirSync(LOCK);
    } catch {
      // another test file is building: wait for it (a lock older than 5 minutes is stale)
      const lock = statSync(LOCK, { throwIfNoEntry: false });
      if (lock && Date.now() - lock.mtimeMs > 300_000) rmdirSync(LOCK);
      sleep(200);
      if ((waited += 200) > 300_000) throw new Error("timed out waiting for another test's npm run build");
      continue;
    }
    try {
      if (!fresh()) execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    } finally {
      rmdirSync(LOCK);
    }
  }
  return BUNDLE;
}
