/**
 * The BUILT adgen library (dist/), for rows that run plain node in a child process (rss-import,
 * jit-first-call-mlp). `ensureDist()` rebuilds dist/ with `npm run build` (tsc -p
 * tsconfig.build.json, ~5 s) when it is missing or older than any file of src/ (or the tsconfig /
 * package.json), once per bench run. Set ADGEN_BENCH_NO_BUILD=1 to never build: a stale or missing
 * dist/ then makes those rows n/a with a message saying to run `npm run build`.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "./child.js";

/** The package entry users import (one bundled ESM file, see package.json "exports"). */
export const ADGEN_DIST_ENTRY = path.join(REPO_ROOT, "dist", "adgen.mjs");
export const ADGEN_DIST_URL = pathToFileURL(ADGEN_DIST_ENTRY).href;

/** The newest input of the build (path and mtime in ms). */
function newestSource(): { file: string; mtime: number } {
  let best = { file: "", mtime: 0 };
  const visit = (dir: string) => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, ent.name);
      if (ent.isDirectory()) visit(p);
      else if (ent.isFile()) {
        const m = statSync(p).mtimeMs;
        if (m > best.mtime) best = { file: p, mtime: m };
      }
    }
  };
  visit(path.join(REPO_ROOT, "src"));
  for (const f of ["package.json", "tsconfig.json", "tsconfig.build.json"]) {
    const p = path.join(REPO_ROOT, f);
    if (existsSync(p)) {
      const m = statSync(p).mtimeMs;
      if (m > best.mtime) best = { file: p, mtime: m };
    }
  }
  return best;
}

/** Why dist/ is stale, or undefined when it is up to date. */
export function distStaleness(): string | undefined {
  if (!existsSync(ADGEN_DIST_ENTRY)) return "dist/adgen.mjs does not exist";
  const built = statSync(ADGEN_DIST_ENTRY).mtimeMs;
  const src = newestSource();
  return src.mtime > built ? `${path.relative(REPO_ROOT, src.file)} is newer than dist/adgen.mjs` : undefined;
}

function runBuild(): Promise<{ ok: boolean; output: string }> {
  // `npm run build`: tsc (declarations) then the esbuild bundle that is the package entry
  return new Promise((resolve) => {
    execFile(
      process.platform === "win32" ? "npm.cmd" : "npm",
      ["run", "build", "--silent"],
      { cwd: REPO_ROOT, timeout: 180_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ ok: !err, output: `${stdout}${stderr}`.trim() }),
    );
  });
}

let ready: Promise<string | undefined> | undefined;

/**
 * Makes sure dist/ is built from the current src/. Resolves to a note for the table (e.g. "built
 * with type errors") or undefined; rejects (-> the row is n/a) when dist cannot be used.
 */
export function ensureDist(): Promise<string | undefined> {
  ready ??= (async () => {
    const stale = distStaleness();
    if (!stale) return undefined;
    if (process.env["ADGEN_BENCH_NO_BUILD"]) {
      throw new Error(`adgen dist/ is stale (${stale}): run \`npm run build\` (ADGEN_BENCH_NO_BUILD is set)`);
    }
    process.stderr.write(`adgen: ${stale}; building dist/ (npm run build)...\n`);
    const t0 = performance.now();
    const { ok, output } = await runBuild();
    process.stderr.write(`adgen: build ${ok ? "done" : "FAILED"} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    if (ok) return undefined;
    // tsc emits despite type errors (noEmitOnError is off): use dist/ if it was written.
    const first = output.split("\n").find((l) => l.includes("error")) ?? output.split("\n")[0] ?? "";
    if (!distStaleness()) return `dist/ built with type errors (${first.slice(0, 160)})`;
    throw new Error(`\`npm run build\` failed: ${first.slice(0, 200)}`);
  })();
  return ready;
}
