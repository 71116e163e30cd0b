// Rule combinators for elementwise primitives that need no primitive: shape/dtype inference
// (operands share one shape or are rank-0 scalars) and reference loops that apply a scalar
// function (run as monomorphic copies, rules/loops.ts). The batching rule and JVPs from partial
// derivatives are written with primitives: prims/rule-elementwise.ts.

import { ShapedArray } from "../core/aval.js";
import { type DType, type TypedArray, allocArray, isFloat } from "../core/dtype.js";
import { DTypeError, ShapeError } from "../core/errors.js";
import { type Shape, concreteSize, shapeEq, shapeToString } from "../core/shape.js";
import type { Tensor } from "../core/tensor.js";
import { specializedLoop } from "./loops.js";

export type DTypeClass = "float" | "numeric" | "int" | "bool" | "any" | "intOrBool";

function dtypeOk(d: DType, c: DTypeClass): boolean {
  switch (c) {
    case "float":
      return isFloat(d);
    case "numeric":
      return d !== "bool";
    case "int":
      return d === "int32";
    case "bool":
      return d === "bool";
    case "intOrBool":
      return d === "int32" || d === "bool";
    case "any":
      return true;
  }
}

/** The common shape of elementwise operands: all equal, except rank-0 scalars. */
export function elementwiseShape(name: string, inputs: ShapedArray[]): Shape {
  let shape: Shape = [];
  for (const a of inputs) {
    if (a.shape.length === 0) continue;
    if (shape.length === 0) shape = a.shape;
    else if (!shapeEq(shape, a.shape)) {
      throw new ShapeError(
        `${name}: operand shapes ${inputs.map((x) => shapeToString(x.shape)).join(" and ")} differ ` +
          `(an elementwise primitive needs equal shapes or scalars; np functions broadcast first)`,
      );
    }
  }
  return shape;
}

/**
 * Abstract-eval for an elementwise primitive whose operands share a dtype of class `cls`.
 * `outDType` overrides the result dtype (comparisons give bool).
 */
export function elementwiseAval(
  name: string,
  inputs: ShapedArray[],
  cls: DTypeClass,
  outDType?: DType,
): ShapedArray[] {
  const d = inputs[0]!.dtype;
  for (const a of inputs) {
    if (a.dtype !== d) {
      throw new DTypeError(`${name}: operand dtypes ${inputs.map((x) => x.dtype).join(" and ")} differ`);
    }
  }
  if (!dtypeOk(d, cls)) {
    throw new DTypeError(`${name}: dtype ${d} is not supported (needs ${cls === "any" ? "any" : cls} operands)`);
  }
  const weak = inputs.every((a) => a.weak);
  return [new ShapedArray(elementwiseShape(name, inputs), outDType ?? d, weak && !outDType)];
}

/** Reference loop for a unary scalar function. */
export function mapUnary(x: Tensor, out: ShapedArray, f: (a: number) => number): TypedArray {
  const a = x.data;
  const n = a.length;
  const r = allocArray(out.dtype, n);
  const loop = specializedLoop(f, "u", a, null, r);
  if (loop) loop(a, null, r, n);
  else for (let i = 0; i < n; i++) r[i] = f(a[i]!);
  return r;
}

/** Reference loop for a binary scalar function; rank-0 operands are reused for every element. */
export function mapBinary(x: Tensor, y: Tensor, out: ShapedArray, f: (a: number, b: number) => number): TypedArray {
  const a = x.data;
  const b = y.data;
  const n = concreteSize(out.shape as number[]);
  const r = allocArray(out.dtype, n);
  const loop = specializedLoop(f, a.length === b.length ? "bb" : a.length === 1 ? "sb" : "bs", a, b, r);
  if (loop) loop(a, b, r, n);
  else if (a.length === b.length) for (let i = 0; i < n; i++) r[i] = f(a[i]!, b[i]!);
  else if (a.length === 1) {
    const s = a[0]!;
    for (let i = 0; i < n; i++) r[i] = f(s, b[i]!);
  } else {
    const s = b[0]!;
    for (let i = 0; i < n; i++) r[i] = f(a[i]!, s);
  }
  return r;
}

/** Reference loop for an n-ary scalar function (select). */
export function mapNary(xs: Tensor[], out: ShapedArray, f: (v: number[]) => number): TypedArray {
  const ds = xs.map((x) => x.data);
  const n = concreteSize(out.shape as number[]);
  const r = allocArray(out.dtype, n);
  const v = new Array<number>(ds.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < ds.length; k++) v[k] = ds[k]!.length === 1 ? ds[k]![0]! : ds[k]![i]!;
    r[i] = f(v);
  }
  return r;
}
