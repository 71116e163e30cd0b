// The one rule for an exported module's name (its function's exported binding and its file
// names), shared by exportFunction/exportVjp/exportJvp and the CLI's --name: an ECMAScript
// identifier (Unicode ID_Start/ID_Continue, `$`, `_`) that is not a reserved word in a module
// (strict mode, so also `let`, `static`, `yield`, `await`, `implements`, ..., and `eval` and
// `arguments`, which cannot be bound there), at most 128 characters (it names files too).
// Collisions with the module's own helpers (`matmul`, `$fail`, `Float32Array`, ...) cannot happen
// by construction: the generated module binds its functions to internal names ($f0, $f1) and
// exports them with `export { $f0 as <name> }`, so a user name is never a binding in the module.

const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in " +
    "instanceof new null return super switch this throw true try typeof var void while with " +
    // strict-mode (module) reserved words and names that cannot be bound there
    "implements interface let package private protected public static yield await eval arguments"
  ).split(" "),
);

const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;
export const MAX_NAME_LENGTH = 128;

/** Why `name` cannot name an export, or null when it can. */
export function exportNameProblem(name: unknown): string | null {
  if (typeof name !== "string") return `must be a string, got ${name === null ? "null" : typeof name}`;
  if (name === "") return "is empty";
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters (it also names the module's files)`;
  if (!IDENTIFIER.test(name)) return "is not a valid JavaScript identifier";
  if (RESERVED.has(name)) return "is a reserved word in JavaScript modules";
  return null;
}
