// Validation of public options objects (`grad(f, {argnums})`, `jit(f, {name})`, `config.update`,
// `np.sum(x, {axis})`, ...). One helper, `checkOptions(what, opts, schema)`, so every options
// object rejects unknown keys with a did-you-mean and wrong types/values with the same wording:
// a misspelled `{keepDims: true}` silently ignored is a wrong answer, not a convenience.

import { ArgumentError } from "./errors.js";

/** A value check: returns undefined when `v` is valid, else what was expected ("a boolean"). */
export type Rule = (v: unknown) => string | undefined;

/** Key -> rule. A key given as `undefined` is always accepted (it means "use the default"). */
export type Schema = Record<string, Rule>;

/** Short description of a value for error messages (never dumps a whole tensor or object). */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "a function";
  if (Array.isArray(v)) return v.length <= 8 && v.every((x) => typeof x !== "object" || x === null) ? `[${v.map(describeValue).join(", ")}]` : `an array of length ${v.length}`;
  if (typeof v === "object") return `an object (${v.constructor?.name ?? "Object"})`;
  return String(v);
}

/** Building blocks for schemas. */
export const is = {
  any: (() => undefined) as Rule,
  boolean: ((v) => (typeof v === "boolean" ? undefined : "a boolean (true or false)")) as Rule,
  string: ((v) => (typeof v === "string" ? undefined : "a string")) as Rule,
  func: ((v) => (typeof v === "function" ? undefined : "a function")) as Rule,
  /** a finite number in [min, max] */
  number(min = -Infinity, max = Infinity): Rule {
    return (v) => (typeof v === "number" && Number.isFinite(v) && v >= min && v <= max ? undefined : `a finite number${range(min, max)}`);
  },
  /** a (non-finite allowed) number, e.g. a float range bound */
  anyNumber: ((v) => (typeof v === "number" ? undefined : "a number")) as Rule,
  /** an integer in [min, max] */
  int(min = -Infinity, max = Infinity): Rule {
    return (v) => (Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `an integer${range(min, max)}`);
  },
  /** one of the listed values (compared with Object.is) */
  oneOf(...values: readonly unknown[]): Rule {
    const names = values.map(describeValue);
    const list = names.length <= 2 ? names.join(" or ") : `one of ${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
    return (v) => (values.some((x) => Object.is(x, v)) ? undefined : list);
  },
  nullable(rule: Rule): Rule {
    return (v) => {
      if (v === null) return undefined;
      const e = rule(v);
      return e && `${e} or null`;
    };
  },
  /** an array whose every element passes `rule` */
  arrayOf(rule: Rule, what = "values"): Rule {
    return (v) => (Array.isArray(v) && v.every((x) => rule(x) === undefined) ? undefined : `an array of ${what}`);
  },
  /** a value passing either rule */
  either(a: Rule, b: Rule): Rule {
    return (v) => {
      const ea = a(v);
      if (ea === undefined) return undefined;
      const eb = b(v);
      return eb === undefined ? undefined : `${ea} or ${eb}`;
    };
  },
  /** an axis or a list of axes (integers; range checks belong to the op, which knows the rank) */
  axes: ((v) => (Number.isInteger(v) || (Array.isArray(v) && v.every((x) => Number.isInteger(x))) ? undefined : "an integer axis or an array of integer axes")) as Rule,
  /** a plain object (pytree of options, e.g. per-argument specs) */
  object: ((v) => (typeof v === "object" && v !== null && !Array.isArray(v) ? undefined : "an object")) as Rule,
};

function range(min: number, max: number): string {
  if (min === -Infinity && max === Infinity) return "";
  if (max === Infinity) return ` >= ${min}`;
  if (min === -Infinity) return ` <= ${max}`;
  return ` in [${min}, ${max}]`;
}

/** Levenshtein distance (small strings only: option names). */
function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The valid name closest to `name`, when it is close enough to be a plausible typo. */
export function closestName(name: string, valid: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const v of valid) {
    // case and separators are the commonest slips (keepDims, static_argnums): rank them first
    const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
    const d = norm(v) === norm(name) ? 0 : editDistance(lower, v.toLowerCase());
    if (d < bestD) [best, bestD] = [v, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** "unknown option "x"; did you mean "y"? Valid options: a, b." */
export function unknownNameMessage(what: string, kind: string, name: string, valid: readonly string[]): string {
  const guess = closestName(name, valid);
  const hint = guess !== undefined ? ` Did you mean ${JSON.stringify(guess)}?` : "";
  const list = valid.length ? ` Valid ${kind}s: ${valid.join(", ")}.` : ` ${what} takes no ${kind}s.`;
  return `${what}: unknown ${kind} ${JSON.stringify(name)}.${hint}${list}`;
}

/**
 * Checks a public options object against `schema`: `opts` must be undefined or a plain object,
 * every key must be in the schema (else an ArgumentError with a did-you-mean) and every value
 * that is not undefined must pass its rule. `what` names the API call ("grad", "np.sum").
 * Returns `opts` (or {} when undefined) so callers can write `const o = checkOptions(...)`.
 */
export function checkOptions<T extends object>(what: string, opts: T | undefined, schema: Schema): T {
  if (opts === undefined) return {} as T;
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new ArgumentError(`${what}: options must be an object like {${Object.keys(schema).slice(0, 3).join(", ")}}, got ${describeValue(opts)}`);
  }
  const valid = Object.keys(schema);
  for (const key of Object.keys(opts)) {
    const rule = Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : undefined;
    if (!rule) throw new ArgumentError(unknownNameMessage(what, "option", key, valid));
    const v = (opts as Record<string, unknown>)[key];
    if (v === undefined) continue;
    const expected = rule(v);
    if (expected !== undefined) throw new ArgumentError(`${what}: ${key} must be ${expected}, got ${describeValue(v)}`);
  }
  return opts;
}
