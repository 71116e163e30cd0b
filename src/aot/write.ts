// Writing an export to disk (Node only: the fs module is loaded on demand, so the rest of adgen
// stays loadable in a browser). The target directory is checked first (never on /proc, /sys,
// /dev: see fs-guard.ts), created one level at a time, and each file is written to a fresh temp
// file (exclusive create) and renamed over the target, which must be absent or a regular file.

import type { Exported } from "./export.js";
import { checkRegularOrAbsent, ensureDir } from "../core/fs-guard.js";

export async function writeExport(dir: string, e: Exported): Promise<string[]> {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const what = `export ${e.name}: write(${JSON.stringify(dir)})`;
  ensureDir(fs, path, dir, what);
  const files: [string, string][] = [
    [e.manifest.files.module, e.source],
    [e.manifest.files.types, e.dts],
    [e.manifest.files.manifest, JSON.stringify(e.manifest, null, 2) + "\n"],
    // the shared runtime: named by its content's hash, so an existing file of that name is the same
    ...(e.runtime ? [[e.runtime.file, e.runtime.source] as [string, string]] : []),
  ];
  for (const [name] of files) checkRegularOrAbsent(fs, path.join(dir, name), what);
  const out: string[] = [];
  for (const [name, text] of files) {
    const p = path.join(dir, name);
    const tmp = `${p}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    let created = false;
    try {
      const fd = fs.openSync(tmp, "wx", 0o644); // exclusive: never an existing file or FIFO
      created = true;
      try {
        fs.writeFileSync(fd, text);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, p);
    } catch (err) {
      if (created) fs.rmSync(tmp, { force: true }); // only the temp file this call created
      throw err;
    }
    out.push(p);
  }
  return out;
}
