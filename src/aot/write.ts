// Writing an export to disk (Node only: the fs module is loaded on demand, so the rest of adgen
// stays loadable in a browser). Files are written atomically (temp file + rename).

import type { Exported } from "./export.js";

export async function writeExport(dir: string, e: Exported): Promise<string[]> {
  const fs = await import("node:fs/promises");
  const path = await import("node:path");
  await fs.mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    [e.manifest.files.module, e.source],
    [e.manifest.files.types, e.dts],
    [e.manifest.files.manifest, JSON.stringify(e.manifest, null, 2) + "\n"],
  ];
  const out: string[] = [];
  for (const [name, text] of files) {
    const p = path.join(dir, name);
    const tmp = `${p}.${process.pid}.tmp`;
    await fs.writeFile(tmp, text);
    await fs.rename(tmp, p);
    out.push(p);
  }
  return out;
}
