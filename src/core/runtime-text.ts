// Runtime code written once (DESIGN principle 11: one text, evaluated in-process for jit, embedded
// in exports), obtained without evaluating strings: each runtime is a real, self-contained JS
// function that builds its helpers and returns them in an object. In-process code calls the
// function; generated code (jit JS kernels, exported modules) embeds its text, from
// Function.prototype.toString, as
//     const { erf: $erf, erfc: $erfc } = ((__name) => (function erfRuntime() { ... }))((f) => f)();
// so that `import "adgen"` needs no `eval`/`new Function` (CSP without 'unsafe-eval', Node's
// --disallow-code-generation-from-strings) and both paths still run the very same code.
//
// Rules for a runtime function, so that its text means the same wherever it is embedded:
//   - it references no outer name (imports, module constants): only its parameters, its own
//     locals and standard globals (Math, NaN, ...). Names the embedding context provides (e.g. an
//     exported module's $fail) are parameters, bound to in-process values here and to the same
//     names in the text;
//   - it uses only syntax that no transpiler rewrites with helper calls (no `**`, spread, for-of,
//     classes, optional chaining), because a bundler targeting old engines could inject a
//     reference to a helper outside the function (the one such helper a current bundler adds,
//     esbuild's keepNames `__name`, is bound by the text itself); code instrumentation that
//     rewrites function bodies (Istanbul coverage) is not supported;
//   - results are what it returns: its local names may be renamed by a minifier, the returned
//     object's keys are not (they become the `$key` names of the embedded text);
//   - no template literal or string spans lines, and a comment is on lines of its own or at the
//     end of a code line: the embedded text is compacted line by line (indentation and
//     whole-line comments dropped, see compactSource), which keeps exported modules small.

/** A runtime's in-process value and the text that declares its members as `$key` in generated code. */
export interface Runtime<T extends object> {
  readonly value: T;
  readonly text: string;
}

/**
 * Runs `fn` in-process with `args` and returns that value with the embeddable text. `params` are
 * the names the text passes for the parameters (names of the embedding module, e.g. "$fail").
 */
export function defineRuntime<A extends unknown[], T extends object>(fn: (...args: A) => T, args: A, params: string[] = []): Runtime<T> {
  if (params.length !== fn.length || args.length !== fn.length) {
    throw new Error(`defineRuntime(${fn.name}): ${fn.length} parameters, given ${args.length} values and ${params.length} names`);
  }
  const value = fn(...args);
  const members = Object.keys(value).map((k) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`defineRuntime(${fn.name}): member name ${JSON.stringify(k)} is not an identifier`);
    return `${k}: $${k}`;
  });
  // esbuild's keepNames (tsx, `esbuild --keep-names`) adds `__name(f, "f")` calls referencing a
  // helper of the enclosing bundle: the text binds a no-op __name of its own around the function
  const text = `const { ${members.join(", ")} } = ((__name) => (${compactSource(fn.toString())}))((f) => f)(${params.join(", ")});`;
  return { value, text };
}

/**
 * A function's source without indentation, blank lines and comments that start a line (`//`
 * lines, and block comments up to their end). Line breaks stay where code had them, so
 * automatic semicolon insertion reads the text as before; under the rules above (no string or
 * template literal spanning lines) nothing inside a literal is touched.
 */
export function compactSource(src: string): string {
  const out: string[] = [];
  let inBlock = false;
  for (const raw of src.split("\n")) {
    let line = raw.trim();
    if (inBlock || line.startsWith("/*")) {
      const end = line.indexOf("*/", inBlock ? 0 : 2);
      inBlock = end < 0;
      line = inBlock ? "" : line.slice(end + 2).trim(); // code after a comment's end stays
    }
    if (line && !line.startsWith("//")) out.push(line);
  }
  return out.join("\n");
}
