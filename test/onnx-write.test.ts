// Writing an ONNX export goes through the same path guard as the module export (core/fs-guard.ts):
// an output directory under /proc, /sys or /dev is refused with an UnsafePathError (Node's
// recursive mkdir would loop forever under /proc), a FIFO where a model file goes is refused
// instead of opened, and nothing is left behind. Run in a child process with a timeout, so a
// regression that hangs fails the test instead of stalling the suite.

import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const ENTRY = pathToFileURL(path.join(ROOT, "src/index.ts")).href;
const dir = mkdtempSync(path.join(os.tmpdir(), "adgen-onnx-write-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ONNX export writes through the path guard", () => {
  it.runIf(process.platform === "linux")("/proc, /sys and /dev output directories and a FIFO model file are refused quickly with UnsafePathError", async () => {
    const fifoDir = path.join(dir, "fifo");
    execFileSync("mkdir", [fifoDir]);
    execFileSync("mkfifo", [path.join(fifoDir, "f.forward.onnx")]);
    const script = path.join(dir, "write.mts");
    writeFileSync(
      script,
      `import { exportOnnx, exportOnnxVjp, np, spec } from ${JSON.stringify(ENTRY)};
const out = {};
const e = exportOnnx((x) => np.sin(x), [spec("float32", [2])], { name: "f" });
for (const d of ["/proc/adgen-test/x", "/sys/adgen-test", "/dev/adgen-test"]) {
  try { await e.write(d); out[d] = "ok"; } catch (err) { out[d] = err.name + ": " + err.message.split("\\n")[0]; }
}
const v = exportOnnxVjp((x) => np.sum(np.sin(x)), [spec("float32", [2])], { name: "f" });
try { await v.write(process.argv[2]); out.fifo = "ok"; } catch (err) { out.fifo = err.name + ": " + err.message.split("\\n")[0]; }
process.stdout.write("RESULT=" + JSON.stringify(out) + "\\n");
`,
    );
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ["--import", TSX, script, fifoDir], { cwd: dir, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
      ),
    );
    const m = /RESULT=(.*)/.exec(r.stdout);
    expect(m, `child (exit ${r.code}) ${r.stderr.slice(-600)}`).not.toBeNull();
    const out = JSON.parse(m![1]!) as Record<string, string>;
    for (const d of ["/proc/adgen-test/x", "/sys/adgen-test", "/dev/adgen-test"]) {
      expect(out[d]).toMatch(/^UnsafePathError: exportOnnx f: write\(.*\): refusing ".*" is under \/(proc|sys|dev), a kernel pseudo file system/);
    }
    expect(out.fifo).toMatch(/^UnsafePathError: exportOnnx f: write\(.*\): ".*f\.forward\.onnx" exists and is not a regular file/);
    expect(existsSync("/dev/adgen-test")).toBe(false);
    // nothing written next to the FIFO: the check runs before the first file
    expect(readdirSync(fifoDir)).toEqual(["f.forward.onnx"]);
  });
});
