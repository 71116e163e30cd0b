// Writes an exported module (exportFunction / exportVjp / exportJvp) to a fresh temporary
// directory and imports it; the directories are removed after the test file's last test.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll } from "vitest";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

export async function loadExported(e: { write(d: string): Promise<string[]>; manifest: { files: { module: string } } }): Promise<any> {
  const dir = mkdtempSync(join(tmpdir(), "adgen-aot-"));
  dirs.push(dir);
  await e.write(dir);
  return import(/* @vite-ignore */ pathToFileURL(join(dir, e.manifest.files.module)).href);
}
