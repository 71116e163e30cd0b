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

/** The first stack frame outside adgen, as "path:line:col", or undefined if none is found. */
export function userSourceLine(): string | undefined {
  const prev = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = prev;
  const lines = stack.split("\n").slice(1);
  for (const line of lines) {
    if (!line.includes(" at ") || isOwnFrame(line)) continue;
    return frameLocation(line);
  }
  return undefined;
}
