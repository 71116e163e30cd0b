// Path safety for every file adgen reads or writes on its own behalf (the jit disk cache, AOT
// export output, the CLI's inputs). Kernel pseudo file systems are refused before any operation:
// Node's `mkdir(..., {recursive: true})` loops forever under /proc (mkdir keeps answering ENOENT),
// and files there or in /sys and /dev are not storage. Directories are created one level at a time
// (a bounded walk, each step fails fast), and reads open non-blocking and refuse anything but a
// regular file, so a FIFO or a character device where a file is expected can never block a read.
// The node:fs and node:path modules are passed in, so this file loads in a browser too.

import { ArgumentError } from "./errors.js";

type Fs = typeof import("node:fs");
type Path = typeof import("node:path");

/** statfs magic numbers of pseudo file systems (Linux) that never hold user files. */
const PSEUDO_FS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x1cd1, "devpts"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x64626720, "debugfs"],
  [0x73636673, "securityfs"],
  [0x74726163, "tracefs"],
  [0xcafe4a11, "bpf"],
  [0x6165676c, "pstore"],
  [0x62656570, "configfs"],
  [0x65735543, "fusectl"],
  [0x42494e4d, "binfmt_misc"],
  [0x19800202, "mqueue"],
]);

/** Mount points refused by path (on Linux /dev is often a plain tmpfs, so statfs cannot tell). */
const PSEUDO_ROOTS = ["/proc", "/sys", "/dev"];
/** ...except this ordinary shared-memory file system, meant for files. */
const ALLOWED_UNDER_ROOTS = ["/dev/shm"];

const under = (p: string, root: string) => p === root || p.startsWith(root + "/");

/** An error a file operation of adgen raises for a path it refuses (a typed ArgumentError). */
export class UnsafePathError extends ArgumentError {}

/** The nearest existing ancestor of an absolute path (itself when it exists); bounded by its depth. */
function existingAncestor(fs: Fs, path: Path, abs: string): string {
  let p = abs;
  for (let i = 0; i < 4096; i++) {
    if (fs.statSync(p, { throwIfNoEntry: false })) return p;
    const up = path.dirname(p);
    if (up === p) return p;
    p = up;
  }
  return p;
}

/**
 * Why `target` (a file or directory, existing or not) must not be touched, or null when it may.
 * Looks at the real path of its nearest existing ancestor (symlinks resolved) and that ancestor's
 * file system type.
 */
export function pseudoFsProblem(fs: Fs, path: Path, target: string): string | null {
  const abs = path.resolve(target);
  const anc = existingAncestor(fs, path, abs);
  let real = anc;
  try {
    real = fs.realpathSync(anc);
  } catch {
    // unreadable: judge the path as written
  }
  const full = (real + abs.slice(anc.length)).replace(/\\/g, "/");
  if (typeof process === "undefined" || process.platform !== "win32") {
    const root = PSEUDO_ROOTS.find((r) => under(full, r));
    if (root && !ALLOWED_UNDER_ROOTS.some((r) => under(full, r))) return `${JSON.stringify(target)} is under ${root}, a kernel pseudo file system (not storage)`;
  }
  try {
    const kind = PSEUDO_FS.get(Number((fs.statfsSync?.(real) as { type?: number } | undefined)?.type));
    if (kind) return `${JSON.stringify(target)} is on a ${kind} pseudo file system (not storage)`;
  } catch {
    // statfs unavailable (old Node, some platforms): the path rule above stands alone
  }
  return null;
}

/** Throws UnsafePathError when `target` is on a pseudo file system. */
export function checkPath(fs: Fs, path: Path, target: string, what: string): void {
  const why = pseudoFsProblem(fs, path, target);
  if (why) throw new UnsafePathError(`${what}: refusing ${why}; choose a directory on a regular disk or tmpfs`);
}

/**
 * Creates `dir` and its missing parents one level at a time (never Node's recursive mkdir), after
 * checking it is not on a pseudo file system. An existing non-directory on the way is an error.
 */
export function ensureDir(fs: Fs, path: Path, dir: string, what: string, mode = 0o777): void {
  checkPath(fs, path, dir, what);
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let p = abs;
  for (;;) {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st) {
      if (!st.isDirectory()) throw new UnsafePathError(`${what}: ${JSON.stringify(p)} exists and is not a directory`);
      break;
    }
    missing.push(p);
    const up = path.dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const m of missing.reverse()) {
    try {
      fs.mkdirSync(m, { mode });
    } catch (err) {
      // created concurrently by another writer: fine when it is a directory now
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || !fs.statSync(m, { throwIfNoEntry: false })?.isDirectory()) throw err;
    }
  }
}

/**
 * The bytes of a regular file. Opened non-blocking and checked on the open descriptor (no race
 * with a rename): a FIFO, socket, device or directory is refused with an error instead of read.
 */
export function readRegularFile(fs: Fs, file: string): Buffer {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    if (!fs.fstatSync(fd).isFile()) throw new UnsafePathError(`${JSON.stringify(file)} is not a regular file (a FIFO, device, socket or directory): refusing to read it`);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Throws when `file` exists and is not a regular file (so writing over it would be wrong or block). */
export function checkRegularOrAbsent(fs: Fs, file: string, what: string): void {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st && !st.isFile()) throw new UnsafePathError(`${what}: ${JSON.stringify(file)} exists and is not a regular file`);
}
