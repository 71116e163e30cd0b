// One canonical, bit-exact, injective encoding of values (DESIGN principle 13). Everything that
// compares, hashes or keys values (CSE, kernel expression dedup, cache keys, IR serialization,
// program hashes) goes through here, so -0 and +0, NaN, +-Infinity and object keys containing any
// characters stay distinct everywhere. NaN payloads are not distinguished (JS cannot observe them
// portably); every other float64 bit pattern has its own encoding.

/** The canonical text of a number: `-0`, `NaN`, `Infinity`, `-Infinity`, else the shortest round trip. */
export function encodeNumber(n: number): string {
  if (Object.is(n, -0)) return "-0";
  return String(n); // String() is the shortest text that parses back to the same double
}

/** Inverse of encodeNumber (also accepts any text Number() parses, for hand-written IR). */
export function decodeNumber(s: string): number {
  if (s === "-0") return -0;
  if (s === "NaN") return NaN;
  const n = Number(s);
  if (Number.isNaN(n)) throw new TypeError(`not a number encoding: ${JSON.stringify(s)}`);
  return n;
}

/**
 * A number as a JSON value that survives JSON.stringify/parse bit for bit: finite non-negative-zero
 * numbers stay numbers; -0, NaN and the infinities become tagged strings (`{"$num": "-0"}`).
 */
export type JsonNumber = number | { $num: string };
export function numberToJson(n: number): JsonNumber {
  return Number.isFinite(n) && !Object.is(n, -0) ? n : { $num: encodeNumber(n) };
}
export function numberFromJson(j: unknown): number {
  if (typeof j === "number") return j;
  if (j !== null && typeof j === "object" && typeof (j as { $num?: unknown }).$num === "string") {
    return decodeNumber((j as { $num: string }).$num);
  }
  throw new TypeError(`not a JSON number encoding: ${JSON.stringify(j)}`);
}

/** Object identities for values compared by identity (functions, class instances, tensors). */
const identities = new WeakMap<object, number>();
let nextIdentity = 1;
export function identityOf(o: object): number {
  let id = identities.get(o);
  if (id === undefined) identities.set(o, (id = nextIdentity++));
  return id;
}

/**
 * Symbols by identity too; Object(sym) makes a new wrapper each time, so they get their own table
 * (Node >= 20 accepts unregistered symbols as WeakMap keys); registered ones by their key.
 */
const symbolIds = new WeakMap<object, number>();
function encodeSymbol(s: symbol): string {
  const registered = Symbol.keyFor(s);
  if (registered !== undefined) return `sym.for:${JSON.stringify(registered)}`;
  const key = s as unknown as object;
  let id = symbolIds.get(key);
  if (id === undefined) symbolIds.set(key, (id = nextIdentity++));
  return `sym:${encodeName(String(s.description))}#${id}`;
}

/** A name as printed in an encoding: bare when an identifier (readable), else a JSON string. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
export function encodeName(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

/**
 * Canonical, injective text of a plain value tree: numbers by encodeNumber, strings and object
 * keys quoted by JSON (so `{"a: null, b": 1}` and `{a: null, b: 1}` differ), arrays and plain
 * objects structurally (keys sorted; an `undefined` member differs from an absent one), anything
 * else through `other` (default: by identity, with its constructor name). Names (of functions,
 * symbols, classes) are printed by encodeName: bare identifiers stay readable in cache-miss
 * explanations, anything else is quoted, so no name can imitate other syntax.
 */
export function encodeValue(v: unknown, other?: (o: object) => string | undefined): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "undefined":
      return "undefined";
    case "number":
      return `n:${encodeNumber(v)}`;
    case "bigint":
      return `big:${v}`;
    case "string":
      return `s:${JSON.stringify(v)}`;
    case "boolean":
      return `b:${v}`;
    case "symbol":
      return encodeSymbol(v);
    case "function":
      return `fn:${encodeName(v.name || "anonymous")}#${identityOf(v)}`;
  }
  const custom = other?.(v as object);
  if (custom !== undefined) return custom;
  if (Array.isArray(v)) return `[${v.map((x) => encodeValue(x, other)).join(",")}]`;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${encodeValue(o[k], other)}`)
      .join(",")}}`;
  }
  const kind = (proto?.constructor?.name as string | undefined) ?? "object";
  return `${encodeName(kind)}#${identityOf(v as object)}`;
}
