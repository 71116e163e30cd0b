// Regression tests of the one canonical value encoding (DESIGN principle 13) where programs and
// calls are serialized, hashed and keyed: issue 10 item 4 (a literal -0 became +0 through IR
// serialization, so programHash, CSE and the disk cache could not tell x * -0 from x * 0) and
// issue 9 case 6, key part (jit keys printed pytree object keys unescaped, so {"a: null, b": t}
// reused the program of {a: null, b: t}). Properties: every literal round-trips bit for bit and
// keeps computing the same bits; the printed structure and the jit key are injective.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ShapedArray } from "../src/core/aval.js";
import type { DType } from "../src/core/dtype.js";
import { encodeValue } from "../src/core/encode.js";
import { type TreeDef, flatten, treedefEqual, treedefToString, unflatten } from "../src/core/tree.js";
import { type Jitted, Tensor, config, jit, np } from "../src/index.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { Literal, Program, Var } from "../src/ir/program.js";
import { printProgram } from "../src/ir/printer.js";
import { deserializeProgram, programHash, programText, serializeProgram } from "../src/ir/serialize.js";
import { type KeyParts, avalKey, explainDifference, keyString, staticKey, treeKey } from "../src/jit/key.js";
import { binaryPrims } from "../src/prims/binary.js";
import { definePrimitive } from "../src/prims/primitive.js";
import { lookupPrimitive } from "../src/higher-order/registry.js";
import { tensor } from "./util/check.js";

const { update: _u, ...saved } = { ...config };
afterEach(() => config.update(saved));

const lit = (v: number, dtype: DType, weak = false) => new Literal(v, new ShapedArray([], dtype, weak));
const roundTrip = (p: Program) => deserializeProgram(serializeProgram(p), lookup);

/** A test primitive carrying arbitrary params (identity on its input). */
const carryP = definePrimitive<Record<string, unknown>>({
  name: "test_carry_params",
  abstractEval: ([x]) => [x!],
  impl: ([x]) => [x!.data.slice()],
  jvp: () => {
    throw new Error("no jvp in this test");
  },
  batch: () => {
    throw new Error("no batching in this test");
  },
});
const lookup = (name: string) => (name === carryP.name ? carryP : lookupPrimitive(name));

/** out0 = x + l, out1 = l (a literal output), for one literal `l`. */
function literalProgram(v: number, dtype: DType, weak: boolean): Program {
  const x = new Var(new ShapedArray([3], dtype));
  const l = lit(v, dtype, weak);
  const out = new Var(new ShapedArray([3], dtype));
  return new Program([x], [], [], [{ prim: binaryPrims["add"]!, inputs: [x, l], params: {}, outs: [out] }], [out, l]);
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));
}

/** A literal's value arbitrary per dtype: any double, any float32, any int32 (extremes favoured). */
const literalArb = fc.oneof(
  fc.record({ dtype: fc.constant<DType>("float64"), v: fc.double() }),
  fc.record({ dtype: fc.constant<DType>("float64"), v: fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 2.2250738585072014e-308, Number.MAX_VALUE) }),
  fc.record({ dtype: fc.constant<DType>("float32"), v: fc.float() }),
  fc.record({ dtype: fc.constant<DType>("int32"), v: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, -1, 0)) }),
);

describe("issue 10.4: IR serialization keeps every number bit for bit", () => {
  it("issue 10.4: every literal (any double incl. -0, NaN, +-Inf, subnormals; int32 extremes) round-trips serialize -> parse and computes the same bits", () => {
    const inputs: Record<string, number[]> = {
      float64: [-0, 0, NaN],
      float32: [-0, 0, 1],
      int32: [2 ** 31 - 1, -(2 ** 31), 0],
    };
    fc.assert(
      fc.property(literalArb, fc.boolean(), ({ dtype, v }, weak) => {
        const p = literalProgram(v, dtype, weak);
        const q = roundTrip(p);
        const l = q.equations[0]!.inputs[1] as Literal;
        const o = q.outputs[1] as Literal;
        expect(l).toBeInstanceOf(Literal);
        expect(Object.is(l.value, v), `literal ${v}`).toBe(true);
        expect(Object.is(o.value, v), `literal output ${v}`).toBe(true);
        expect(l.aval.dtype).toBe(dtype);
        expect(l.aval.weak).toBe(weak);
        expect(programHash(q)).toBe(programHash(p));
        const x = tensor(inputs[dtype]!, [3], dtype);
        const [a0, a1] = interpret(p, [x]);
        const [b0, b1] = interpret(q, [x]);
        expect(sameBits(b0!.data, a0!.data) && sameBits(b1!.data, a1!.data), `computed bits for literal ${v}`).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("issue 10.4: programHash differs for -0 vs 0, NaN vs Infinity, Infinity vs -Infinity, and for any two distinct literals", () => {
    const h = (v: number) => programHash(literalProgram(v, "float64", false));
    expect(h(-0)).not.toBe(h(0));
    expect(h(NaN)).not.toBe(h(Infinity));
    expect(h(Infinity)).not.toBe(h(-Infinity));
    expect(h(NaN)).toBe(h(NaN));
    expect(programHash(literalProgram(1, "float64", true))).not.toBe(h(1));
    expect(programHash(literalProgram(1, "float32", false))).not.toBe(h(1));
    fc.assert(
      fc.property(fc.double(), fc.double(), (a, b) => {
        fc.pre(!Object.is(a, b));
        expect(programText(literalProgram(a, "float64", false))).not.toBe(programText(literalProgram(b, "float64", false)));
      }),
      { numRuns: 300 },
    );
  });

  it("issue 10.4: params keep -0, NaN, +-Inf, undefined array items and $-keys; sub-programs keep their literals", () => {
    const inner = literalProgram(-0, "float32", true);
    const params = {
      v: -0,
      w: [NaN, -Infinity, Infinity, undefined, 5e-324],
      o: { $num: "-0", $program: 1, plain: [0, -0] },
      s: "x",
      body: inner,
    };
    const x = new Var(new ShapedArray([3], "float32"));
    const out = new Var(x.aval);
    const p = new Program([x], [], [], [{ prim: carryP, inputs: [x], params, outs: [out] }], [out]);
    const q = roundTrip(p);
    const back = q.equations[0]!.params;
    const enc = (v: unknown) => encodeValue(v, (o) => (o instanceof Program ? `P:${programText(o)}` : undefined));
    expect(enc(back)).toBe(enc(params));
    const innerLit = (back.body as Program).equations[0]!.inputs[1] as Literal;
    expect(Object.is(innerLit.value, -0)).toBe(true);
    expect(programHash(q)).toBe(programHash(p));
    const flipped = new Program([x], [], [], [{ prim: carryP, inputs: [x], params: { ...params, v: 0 }, outs: [out] }], [out]);
    expect(programHash(flipped)).not.toBe(programHash(p));
  });

  it("issue 10.4: the printer shows a -0 literal as -0.0 (not 0.0)", () => {
    const text = printProgram(literalProgram(-0, "float64", false));
    expect(text).toContain("add a -0.0:f64[]");
    expect(text).toContain("in (b, -0.0:f64[])");
    expect(printProgram(literalProgram(0, "float64", false))).toContain("add a 0.0:f64[]");
  });
});

describe("issue 10.4: the disk cache tells x * -0 from x * 0", () => {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "adgen-regress-encoding-"));
    config.update({ cacheDir: dir, interpretBelowWork: 0, autoGeneralizeShapes: false });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Jits made here share the creation site and the source text: only the captured literal differs. */
  const scaled = (k: number): Jitted => jit((x: Tensor) => np.divide(1, np.multiply(x, k)), { name: "scaled" });

  it("issue 10.4: a cached program for k = 0 is not loaded for k = -0 (their program hashes differ)", () => {
    const x = tensor([1, -2], [2], "float32");
    const a = scaled(0);
    expect(Array.from((a(x) as Tensor).data)).toEqual([Infinity, -Infinity]);
    expect(a.cacheInfo().disk.last).toBe("stored");
    const b = scaled(-0);
    expect(Array.from((b(x) as Tensor).data)).toEqual([-Infinity, Infinity]);
    expect(b.cacheInfo().disk.last).not.toBe("loaded");
    const c = scaled(0);
    expect(Array.from((c(x) as Tensor).data)).toEqual([Infinity, -Infinity]);
  });
});

// ---------------------------------------------------------------- keys
/** Parses treedefToString's output back (so equal prints imply equal structures: injectivity). */
function parseTree(s: string): TreeDef {
  let i = 0;
  const eat = (t: string) => {
    if (!s.startsWith(t, i)) throw new Error(`expected ${t} at ${i} in ${s}`);
    i += t.length;
  };
  const key = (): string => {
    if (s[i] === '"') {
      let j = i + 1;
      while (s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      const k = JSON.parse(s.slice(i, j + 1)) as string;
      i = j + 1;
      return k;
    }
    const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(s.slice(i))!;
    i += m[0].length;
    return m[0];
  };
  const tree = (): TreeDef => {
    if (s.startsWith("*", i)) return eat("*"), { kind: "leaf" };
    if (s.startsWith("null", i)) return eat("null"), { kind: "none", value: null };
    if (s.startsWith("undefined", i)) return eat("undefined"), { kind: "none", value: undefined };
    if (s[i] === "[") {
      eat("[");
      const children: TreeDef[] = [];
      while (s[i] !== "]") {
        if (children.length) eat(", ");
        children.push(tree());
      }
      eat("]");
      return { kind: "array", children };
    }
    eat("{");
    const keys: string[] = [];
    const children: TreeDef[] = [];
    while (s[i] !== "}") {
      if (keys.length) eat(", ");
      keys.push(key());
      eat(": ");
      children.push(tree());
    }
    eat("}");
    return { kind: "object", keys, children };
  };
  const t = tree();
  if (i !== s.length) throw new Error(`trailing text in ${s}`);
  return t;
}

const KEYS = ["a", "b", "a: null, b", "", '"', "*", "}", ", c: *", "null", "0", "a b", "\\", "é", "$num"];
const leaf = tensor([1], [1], "float32");
const { tree: pytreeArb } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant<unknown>(leaf),
    fc.constant<unknown>(null),
    fc.constant<unknown>(undefined),
    fc.array(tie("tree"), { maxLength: 3 }),
    fc.array(fc.tuple(fc.constantFrom(...KEYS), tie("tree")), { maxLength: 3 }).map((kv) => Object.fromEntries(kv)),
  ),
}));
const fnA = () => 1;
const fnB = () => 1;
const STATICS: unknown[] = [-0, 0, NaN, Infinity, -Infinity, 1, "1", "n:1", "a: null, b", null, undefined, "null", true, "b:true", fnA, fnB, leaf, 10n, Symbol.for("s")];
const { value: staticArb } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(...STATICS),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.array(fc.tuple(fc.constantFrom(...KEYS), tie("value")), { maxLength: 2 }).map((kv) => Object.fromEntries(kv)),
  ),
}));

/**
 * The attack of issue 9.6: the first object with two members `k1: v1, k2: v2` becomes one member
 * named `k1: <v1 printed>, k2` holding v2 (a different structure that printed unescaped keys
 * could not tell apart). Trees without such an object come back unchanged.
 */
function mergeFirstKeys(t: unknown): unknown {
  if (Array.isArray(t)) {
    let done = false;
    return t.map((c) => {
      if (done) return c;
      const m = mergeFirstKeys(c);
      if (m !== c) done = true;
      return m;
    });
  }
  if (t !== null && typeof t === "object" && Object.getPrototypeOf(t) === Object.prototype) {
    const entries = Object.entries(t);
    if (entries.length >= 2) {
      const [[k1, v1], [k2, v2], ...rest] = entries as [string, unknown][];
      return Object.fromEntries([[`${k1}: ${treedefToString(flatten(v1)[1])}, ${k2}`, v2], ...rest]);
    }
    for (const [k, v] of entries) {
      const m = mergeFirstKeys(v);
      if (m !== v) return { ...t, [k]: m };
    }
  }
  return t;
}

/** Structural equality of TreeDefs, independent of treedefToString (JSON keeps every key exact). */
const sameDef = (a: TreeDef, b: TreeDef) => JSON.stringify(a) === JSON.stringify(b);

/** Structural equality with numbers by Object.is and everything else by identity. */
function deepSame(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepSame(x, b[i]));
  if (a !== null && typeof a === "object" && Object.getPrototypeOf(a) === Object.prototype) {
    if (b === null || typeof b !== "object" || Array.isArray(b) || Object.getPrototypeOf(b) !== Object.prototype) return false;
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepSame((a as any)[k], (b as any)[k]));
  }
  return Object.is(a, b);
}

/** The key parts jit builds for arguments `args` with the statics at `statics` (as jit.ts does). */
function partsOf(args: unknown[], statics: number[]): KeyParts {
  const [leaves, def] = flatten(args.map((a, i) => (statics.includes(i) ? null : a)));
  return {
    tree: treeKey(def),
    leaves: leaves.map((l, i) => [`leaf ${i}`, avalKey((l as Tensor).aval)]),
    statics: statics.map((i) => [i, staticKey(args[i])]),
    backend: "wasm",
    options: "",
  };
}

describe("issue 9.6: jit cache keys are injective", () => {
  it('issue 9.6: {"a: null, b": t} and {a: null, b: t} get different programs under one jit', () => {
    const f = jit((o: Record<string, Tensor | null>) => (o["b"] != null ? np.multiply(o["b"], 10) : np.add(o["a: null, b"]!, 1)));
    const t = tensor([1, 2], [2], "float32");
    expect(Array.from((f({ "a: null, b": t }) as Tensor).data)).toEqual([2, 3]);
    expect(Array.from((f({ a: null, b: t }) as Tensor).data)).toEqual([10, 20]);
    expect(f.cacheInfo().misses).toBe(2);
    expect(f.cacheInfo().lastMiss!.reason).toBe('argument structure [{"a: null, b": *}] -> [{a: null, b: *}]');
  });

  it("issue 9.6: explainDifference still names the component, readably", () => {
    const t = tensor([1], [1], "float32");
    const p1 = partsOf([{ w: t }, 2], [1]);
    const p2 = partsOf([{ w: t }, -0], [1]);
    const p3 = partsOf([{ "w x": t }, 2], [1]);
    expect(explainDifference(p1, p2)).toBe("static arg 1 value n:2 -> n:-0");
    expect(explainDifference(p1, p3)).toBe('argument structure [{w: *}, null] -> [{"w x": *}, null]');
    expect(keyString(p1)).not.toBe(keyString(p2));
  });

  it("issue 9.6: the printed structure parses back to the structure (so it is injective), and treedefEqual agrees with it", () => {
    fc.assert(
      fc.property(pytreeArb, pytreeArb, (a, b) => {
        const [, da] = flatten(a);
        const [, db] = flatten(b);
        expect(sameDef(parseTree(treedefToString(da)), da)).toBe(true);
        expect(treedefToString(da) === treedefToString(db)).toBe(sameDef(da, db));
        expect(treedefEqual(da, db)).toBe(sameDef(da, db));
      }),
      { numRuns: 500 },
    );
  });

  it("issue 9.6: equal jit keys imply structurally equal inputs and equal static values (random pairs)", () => {
    const pair = fc.oneof(
      fc.tuple(pytreeArb, staticArb, pytreeArb, staticArb),
      // near-equal pairs: same structure, static from the small domain
      fc.tuple(pytreeArb, staticArb, staticArb).map(([t, s1, s2]) => [t, s1, t, s2] as [unknown, unknown, unknown, unknown]),
      // adversarial pairs: two members fused into one whose name spells the pair
      fc.tuple(pytreeArb, staticArb).map(([t, s1]) => [t, s1, mergeFirstKeys(t), s1] as [unknown, unknown, unknown, unknown]),
    );
    let equalKeys = 0;
    fc.assert(
      fc.property(pair, ([ta, sa, tb, sb]) => {
        const ka = keyString(partsOf([ta, sa], [1]));
        const kb = keyString(partsOf([tb, sb], [1]));
        const [, da] = flatten([ta, null]);
        const [, db] = flatten([tb, null]);
        const same = sameDef(da, db) && deepSame(sa, sb);
        if (ka === kb) equalKeys++;
        expect(ka === kb, `${ka} vs ${kb}`).toBe(same);
      }),
      { numRuns: 1000 },
    );
    expect(equalKeys).toBeGreaterThan(0);
  });

  it("issue 9.6: a static symbol keeps its key from call to call (it was a new wrapper object each time)", () => {
    const s = Symbol("mode");
    expect(staticKey(s)).toBe(staticKey(s));
    expect(staticKey(s)).not.toBe(staticKey(Symbol("mode")));
    const f = jit((x: Tensor, _m: symbol) => np.add(x, 1), { staticArgnums: [1] });
    const t = tensor([1], [1], "float32");
    f(t, s);
    f(t, s);
    expect(f.cacheInfo().misses).toBe(1);
  });

  it("issue 9.6: a pytree key named __proto__ survives flatten/unflatten (it is a member, not the prototype)", () => {
    const t = tensor([3], [1], "float32");
    const o = JSON.parse('{"__proto__": 0, "a": 1}') as Record<string, unknown>;
    Object.defineProperty(o, "__proto__", { value: t, enumerable: true, writable: true, configurable: true });
    const [leaves, def] = flatten(o);
    expect(treedefToString(def)).toBe("{__proto__: *, a: *}");
    const back = unflatten(def, leaves) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__", "a"]);
    expect(Object.getOwnPropertyDescriptor(back, "__proto__")!.value).toBe(t);
  });
});
