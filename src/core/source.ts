// Finds the user's source line ("file:line:col") that led to the current call, by walking the JS
// stack past adgen's own frames. Used to tag IR equations and error messages.

const ownDir = (() => {
  // This file lives at <pkg>/src/core/source.ts (or <pkg>/dist/src/core/source.js).
  const url = new URL("..", import.meta.url).href; // .../src/
  return url.replace(/^file:\/\//, "");
})();

function isOwnFrame(line: string): boolean {
  return line.includes(ownDir) || line.includes("node:internal") || line.includes("(node:");
}

function frameLocation(line: string): string {
  const m = /\((.*)\)\s*$/.exec(line) ?? /at (.*)$/.exec(line);
  let loc = (m ? m[1]! : line).trim();
  loc = loc.replace(/^file:\/\//, "");
  const cwd = typeof process !== "undefined" && process.cwd ? process.cwd() + "/" : "";
  if (cwd && loc.startsWith(cwd)) loc = loc.slice(cwd.length);
  return loc;
}

/**
 * A source location captured cheaply at trace time and resolved to "path:line:col" only when
 * printed (formatting a JS stack is the expensive part, especially with source maps).
 */
export class LazySource {
  private text: string | null = null;
  constructor(private err: Error | null) {}
  toString(): string {
    if (this.text === null) {
      this.text = this.err ? firstUserFrame(this.err.stack ?? "") ?? "" : "";
      this.err = null;
    }
    return this.text;
  }
}

/** An equation's source: a resolved string, or a lazily resolved capture. */
export type SourceRef = string | LazySource;

let override: SourceRef | undefined;

/** Inside shareCapture: the capture its first captureSource() took (null: none yet). */
let shared: { ref: LazySource | null } | null = null;

/**
 * Runs `fn` so that every captureSource() inside it returns one capture, taken at the first call
 * (none if nothing asks). For a derivative rule of a built-in primitive, which binds several
 * primitives for one user operation: the frames between them and the user's are all adgen's, so
 * each capture would resolve to the same line, and capturing a stack is the costly part of
 * tracing. Not for rules that run user functions (custom_jvp), whose own lines must stay theirs.
 */
export function shareCapture<T>(fn: () => T): T {
  if (override !== undefined || shared !== null) return fn();
  shared = { ref: null };
  try {
    return fn();
  } finally {
    shared = null;
  }
}

/** Captures the current user source location without formatting the stack. */
export function captureSource(): SourceRef {
  if (override !== undefined) return override;
  if (shared !== null) return (shared.ref ??= newCapture());
  return newCapture();
}

function newCapture(): LazySource {
  const prev = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const err = new Error();
  Error.stackTraceLimit = prev;
  return new LazySource(err);
}

/**
 * Runs `fn` with the user source line fixed to `src` (used when re-tracing a staged equation, so
 * that derived equations keep the line of the user code that produced the original).
 */
export function withSource<T>(src: SourceRef | undefined, fn: () => T): T {
  if (src === undefined) return fn();
  const prev = override;
  override = src;
  try {
    return fn();
  } finally {
    override = prev;
  }
}

/** The first stack frame outside adgen, as "path:line:col", or undefined if none is found. */
export function userSourceLine(): string | undefined {
  if (override !== undefined) return String(override) || undefined;
  const prev = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = prev;
  return firstUserFrame(stack);
}

function firstUserFrame(stack: string): string | undefined {
  const lines = stack.split("\n").slice(1);
  for (const line of lines) {
    if (!line.includes(" at ") || isOwnFrame(line)) continue;
    const loc = frameLocation(line);
    if (!/:\d+:\d+$/.test(loc)) continue; // "<anonymous>", native frames
    return loc;
  }
  return undefined;
}

/**
 * A cheap identity of the current call path, for keys only: the unformatted positions of the
 * innermost frames (V8's structured stack, so no source map is read; under tsx or vitest,
 * formatting a stack that passes through a large source-mapped file costs ~100 ms the first
 * time). Engines without the structured API get the formatted first user frame.
 */
export function callPathKey(): string | undefined {
  const E = Error as ErrorConstructor & { prepareStackTrace?: unknown; captureStackTrace?: (o: object, f?: (...a: any[]) => unknown) => void };
  if (override !== undefined || typeof E.captureStackTrace !== "function") return userSourceLine();
  const prevPrepare = E.prepareStackTrace;
  const prevLimit = E.stackTraceLimit;
  type Site = { getFileName(): string | null; getLineNumber(): number | null; getColumnNumber(): number | null };
  E.prepareStackTrace = (_e: unknown, sites: Site[]) => sites.map((x) => `${x.getFileName() ?? ""}:${x.getLineNumber() ?? ""}:${x.getColumnNumber() ?? ""}`).join("|");
  E.stackTraceLimit = 16;
  const o: { stack?: unknown } = {};
  try {
    E.captureStackTrace(o, callPathKey);
    return typeof o.stack === "string" ? o.stack : userSourceLine();
  } finally {
    E.prepareStackTrace = prevPrepare;
    E.stackTraceLimit = prevLimit;
  }
}
