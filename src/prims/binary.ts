// Elementwise binary arithmetic: add, sub, mul, div, pow, max, min, mod, floor_divide, atan2, hypot. Operands have equal shapes
// or are rank-0 scalars (np functions broadcast before binding). add/sub are linear in both
// operands, mul in either one, div in its numerator; their transposes live here too.

import { type DTypeClass, elementwiseAval, mapBinary } from "../rules/elementwise.js";
import { elementwiseBatch, fromPartials } from "./rule-elementwise.js";
import { addTangents, broadcastTo, negTangent, unbroadcast } from "./rule-helpers.js";
import { scalarLike } from "../rules/scalar.js";
import { type Tangent, Zero, isLinearIn, isZero } from "../rules/zero.js";
import { InternalError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { compare, select } from "./compare.js";
import { type JvpRule, type Primitive, type TransposeRule, definePrimitive } from "./primitive.js";
import { convert, log, neg } from "./unary.js";
import { defineRuntime } from "../core/runtime-text.js";
import { scalarHelpers } from "../runtime/scalar.js";
import { divmod } from "./divmod.js";

/**
 * pow with C/IEEE 754 (NumPy, JAX) semantics, written once as a runtime (core/runtime-text.ts):
 * the interpreter and the wasm imports call it, JS kernels and exported modules embed its text
 * (POW_JS, declaring $pow). JS Math.pow differs from C pow in exactly two cases, both 1 in C:
 * pow(1, y) for y NaN, and pow(-1, +-Infinity). (pow(x, +-0) = 1 for every x already agrees.)
 */
function powRuntime() {
  function pow(a: number, b: number): number {
    return a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b);
  }
  return { pow };
}
const POW = defineRuntime(powRuntime, []);
/** The text generated code embeds: declares $pow. */
export const POW_JS = POW.text;

/** Math.hypot of exactly two operands (Math.hypot itself is variadic). */
function hypotScalar(a: number, b: number): number {
  return Math.hypot(a, b);
}

/** Scalar semantics per op; `jsInt` overrides the expression for int32 operands. */
export interface BinarySpec {
  cls: DTypeClass;
  f: (a: number, b: number) => number;
  fInt?: (a: number, b: number) => number;
  js: (a: string, b: string) => string;
  jsInt?: (a: string, b: string) => string;
}

export const BINARY: Record<string, BinarySpec> = {
  add: { cls: "numeric", f: (a, b) => a + b, js: (a, b) => `(${a} + ${b})` },
  sub: { cls: "numeric", f: (a, b) => a - b, js: (a, b) => `(${a} - ${b})` },
  mul: { cls: "numeric", f: (a, b) => a * b, fInt: Math.imul, js: (a, b) => `(${a} * ${b})`, jsInt: (a, b) => `Math.imul(${a}, ${b})` },
  div: {
    cls: "numeric",
    f: (a, b) => a / b,
    fInt: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)),
    js: (a, b) => `(${a} / ${b})`,
    jsInt: (a, b) => `(${b} === 0 ? 0 : Math.trunc(${a} / ${b}))`,
  },
  pow: { cls: "float", f: POW.value.pow, js: (a, b) => `$pow(${a}, ${b})` },
  max: { cls: "numeric", f: scalarHelpers.max, js: (a, b) => `$max(${a}, ${b})` },
  min: { cls: "numeric", f: scalarHelpers.min, js: (a, b) => `$min(${a}, ${b})` },
  // NumPy's remainder (sign of the divisor) and floor division, float and int32 (prims/divmod.ts)
  mod: { cls: "numeric", f: divmod.modF, fInt: divmod.modI, js: (a, b) => `$modF(${a}, ${b})`, jsInt: (a, b) => `$modI(${a}, ${b})` },
  floor_divide: {
    cls: "numeric",
    f: divmod.floorDivF,
    fInt: divmod.floorDivI,
    js: (a, b) => `$floorDivF(${a}, ${b})`,
    jsInt: (a, b) => `$floorDivI(${a}, ${b})`,
  },
  atan2: { cls: "float", f: Math.atan2, js: (a, b) => `Math.atan2(${a}, ${b})` },
  hypot: { cls: "float", f: hypotScalar, js: (a, b) => `Math.hypot(${a}, ${b})` },
};

interface BinaryRules {
  linear?: { transpose: TransposeRule<{}> };
  jvp: JvpRule<{}>;
}

function binaryPrim(name: string, rules: BinaryRules): Primitive {
  const spec = BINARY[name]!;
  const base = {
    name,
    traits: { elementwise: true },
    abstractEval: (ins: any) => elementwiseAval(name, ins, spec.cls),
    impl: ([x, y]: Tensor[], _p: {}, [o]: any) => [
      mapBinary(x!, y!, o!, o!.dtype === "int32" && spec.fInt ? spec.fInt : spec.f),
    ],
    jvp: rules.jvp,
    batch: elementwiseBatch<{}>((args) => [bin(name, args[0]!, args[1]!)]),
  };
  return rules.linear
    ? definePrimitive<{}>({ ...base, linear: true, transpose: rules.linear.transpose })
    : definePrimitive<{}>(base);
}

const bin = (name: string, x: Tensor, y: Tensor): Tensor => binaryPrims[name]!.bind1([x, y], {});

function sumTangents(out: Tensor, a: Tangent, b: Tangent): Tangent {
  const t = addTangents(a, b);
  return isZero(t) ? new Zero(out.aval.strong()) : broadcastTo(t, out.aval.shape);
}

export const binaryPrims: Record<string, Primitive> = {};

binaryPrims["add"] = binaryPrim("add", {
  jvp: ([x, y], [tx, ty]) => {
    const out = add(x!, y!);
    return [[out], [sumTangents(out, tx!, ty!)]];
  },
  linear: {
    transpose: ([ct], [x, y]) => [
      isLinearIn(x) ? unbroadcast(ct!, x.aval) : null,
      isLinearIn(y) ? unbroadcast(ct!, y.aval) : null,
    ],
  },
});

binaryPrims["sub"] = binaryPrim("sub", {
  jvp: ([x, y], [tx, ty]) => {
    const out = sub(x!, y!);
    return [[out], [sumTangents(out, tx!, negTangent(ty!))]];
  },
  linear: {
    transpose: ([ct], [x, y]) => [
      isLinearIn(x) ? unbroadcast(ct!, x.aval) : null,
      isLinearIn(y) ? unbroadcast(negTangent(ct!), y.aval) : null,
    ],
  },
});

binaryPrims["mul"] = binaryPrim("mul", {
  jvp: ([x, y], [tx, ty]) => {
    const out = mul(x!, y!);
    const a = isZero(tx) ? tx! : mul(tx!, y!);
    const b = isZero(ty) ? ty! : mul(x!, ty!);
    return [[out], [sumTangents(out, a, b)]];
  },
  linear: {
    transpose: ([ct], [x, y]) => {
      if (isLinearIn(x) && isLinearIn(y)) throw new InternalError("mul: transpose with both operands linear");
      if (isLinearIn(x)) return [isZero(ct) ? new Zero(x.aval) : unbroadcast(mul(ct!, y as Tensor), x.aval), null];
      return [null, isZero(ct) ? new Zero((y as any).aval) : unbroadcast(mul(x as Tensor, ct!), (y as any).aval)];
    },
  },
});

binaryPrims["div"] = binaryPrim("div", {
  jvp: ([x, y], [tx, ty]) => {
    const out = div(x!, y!);
    // d(x/y) = tx/y - (x/y) * ty/y = (tx - out*ty) / y
    const num = sumTangents(out, tx!, isZero(ty) ? ty! : negTangent(mul(out, ty!)));
    return [[out], [isZero(num) ? num : div(num, y!)]];
  },
  linear: {
    transpose: ([ct], [x, y]) => {
      if (isLinearIn(y)) throw new InternalError("div: transpose with a linear denominator");
      return [isZero(ct) ? new Zero((x as any).aval) : unbroadcast(div(ct!, y as Tensor), (x as any).aval), null];
    },
  },
});

binaryPrims["pow"] = binaryPrim("pow", {
  jvp: fromPartials<{}>(
    ([x, y]) => pow(x!, y!),
    ([x, y], out, _p, need) => {
      const zero = scalarLike(x!, 0);
      const onePlus = scalarLike(x!, 1);
      // d/dx x^y = y * x^(y-1), defined as 0 where y == 0 (so 0^0 has derivative 0, not NaN)
      const px = need[0]
        ? select(compare(y!, zero, "eq"), zero, mul(y!, pow(x!, sub(y!, onePlus))))
        : null;
      // d/dy x^y = log(x) * x^y, with log(0) replaced by 0 (JAX's convention)
      const py = need[1] ? mul(out, log(select(compare(x!, zero, "eq"), onePlus, x!))) : null;
      return [px, py];
    },
  ),
});

function maxMinJvp(name: "max" | "min"): JvpRule<{}> {
  return fromPartials<{}>(
    ([x, y]) => bin(name, x!, y!),
    ([x, y]) => {
      // the winner gets the whole tangent; a tie splits it evenly
      const d = x!.aval.dtype;
      const win = convert(compare(x!, y!, name === "max" ? "gt" : "lt"), d);
      const tie = mul(convert(compare(x!, y!, "eq"), d), scalarLike(x!, 0.5));
      const px = add(win, tie);
      return [px, sub(scalarLike(x!, 1), px)];
    },
  );
}
binaryPrims["max"] = binaryPrim("max", { jvp: maxMinJvp("max") });
binaryPrims["min"] = binaryPrim("min", { jvp: maxMinJvp("min") });

binaryPrims["mod"] = binaryPrim("mod", {
  // mod(x, y) = x - y * floor(x / y): d/dx = 1, d/dy = -floor(x / y) (piecewise; jumps where
  // x / y is an integer, as JAX's rem)
  jvp: fromPartials<{}>(
    ([x, y]) => mod(x!, y!),
    ([x, y], _out, _p, need) => [need[0] ? scalarLike(x!, 1) : null, need[1] ? neg(floorDivide(x!, y!)) : null],
  ),
});

binaryPrims["floor_divide"] = binaryPrim("floor_divide", {
  // piecewise constant: derivative zero wherever it exists
  jvp: ([x, y]) => {
    const out = floorDivide(x!, y!);
    return [[out], [new Zero(out.aval.strong())]];
  },
});

binaryPrims["atan2"] = binaryPrim("atan2", {
  // d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)
  jvp: fromPartials<{}>(
    ([y, x]) => atan2(y!, x!),
    ([y, x], _out, _p, need) => {
      const r2 = add(mul(x!, x!), mul(y!, y!));
      return [need[0] ? div(x!, r2) : null, need[1] ? neg(div(y!, r2)) : null];
    },
  ),
});

binaryPrims["hypot"] = binaryPrim("hypot", {
  // d hypot(x, y) = (x dx + y dy) / hypot(x, y); at the origin (a kink) the derivative is taken as 0
  jvp: fromPartials<{}>(
    ([x, y]) => hypot(x!, y!),
    ([x, y], out) => {
      const zero = scalarLike(out, 0);
      const atOrigin = compare(out, zero, "eq");
      const safe = select(atOrigin, scalarLike(out, 1), out);
      return [select(atOrigin, zero, div(x!, safe)), select(atOrigin, zero, div(y!, safe))];
    },
  ),
});

// ----- typed wrappers -----
export const add = (x: Tensor, y: Tensor) => bin("add", x, y);
export const sub = (x: Tensor, y: Tensor) => bin("sub", x, y);
export const mul = (x: Tensor, y: Tensor) => bin("mul", x, y);
export const div = (x: Tensor, y: Tensor) => bin("div", x, y);
export const pow = (x: Tensor, y: Tensor) => bin("pow", x, y);
export const max = (x: Tensor, y: Tensor) => bin("max", x, y);
export const min = (x: Tensor, y: Tensor) => bin("min", x, y);
export const mod = (x: Tensor, y: Tensor) => bin("mod", x, y);
export const floorDivide = (x: Tensor, y: Tensor) => bin("floor_divide", x, y);
export const atan2 = (y: Tensor, x: Tensor) => bin("atan2", y, x);
export const hypot = (x: Tensor, y: Tensor) => bin("hypot", x, y);
