// Writing an ONNX export to disk (Node only: node:fs is loaded on demand, so the writer stays
// loadable in a browser). The same path rules as the module export (aot/write.ts, through
// core/fs-guard.ts): the directory is refused on /proc, /sys and /dev and created one level at a
// time (never Node's recursive mkdir, which loops forever under /proc); every target must be
// absent or a regular file, and each file is written to a fresh exclusive temp file that is
// renamed over it, so a reader never sees half a model.

import { checkRegularOrAbsent, ensureDir } from "../core/fs-guard.js";

/** Writes `files` (name -> bytes or text) into `dir`; returns the paths in order. */
export async function writeOnnxFiles(dir: string, files: [string, Uint8Array | string][], what: string): Promise<string[]> {
  const fs = await import("node:fs");
  const path = await import("node:path");
  ensureDir(fs, path, dir, what);
  const targets = files.map(([name]) => path.join(dir, name));
  for (const p of targets) checkRegularOrAbsent(fs, p, what);
  return files.map(([, data], i) => {
    const p = targets[i]!;
    const tmp = `${p}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const fd = fs.openSync(tmp, "wx", 0o644); // exclusive: never an existing file or FIFO
    try {
      try {
        fs.writeFileSync(fd, data);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, p);
    } catch (err) {
      fs.rmSync(tmp, { force: true }); // only the temp file this call created
      throw err;
    }
    return p;
  });
}
