// Runs a command (the adgen CLI through tsx, or plain node on an exported module) as a child
// process for the CLI tests: exit code, stdout and stderr, ADGEN_DEBUG cleared unless given.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = path.join(ROOT, "src/cli/main.ts");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
export const VERSION = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
/** The adgen sources as a file URL, for generated model files to import. */
export const INDEX_URL = pathToFileURL(path.join(ROOT, "src/index.ts")).href;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}, timeout = 25_000): Promise<Run> {
  return new Promise((resolve) => {
    const e = { ...process.env, ...env };
    if (!("ADGEN_DEBUG" in env)) delete e.ADGEN_DEBUG;
    execFile(cmd, args, { cwd, env: e, timeout }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `adgen <args>` in `cwd` (src/cli/main.ts through tsx). */
export const runAdgen = (args: string[], cwd: string, env: Record<string, string> = {}, timeout = 25_000): Promise<Run> =>
  run(process.execPath, ["--import", TSX, MAIN, ...args], cwd, env, timeout);
