// Argument specifications: a dtype and a shape (possibly with symbolic dimensions such as "B" or
// "2*B") standing for a tensor that is not available, for tracing and ahead-of-time export.

import { ShapedArray } from "./aval.js";
import { type DType, isDType } from "./dtype.js";
import { ArgumentError } from "./errors.js";
import { type Dim, parseDim, shapeToString } from "./shape.js";

export class ArgSpec {
  readonly aval: ShapedArray;
  constructor(dtype: DType, shape: readonly (number | string | Dim)[]) {
    if (!isDType(dtype)) throw new ArgumentError(`spec: unknown dtype ${JSON.stringify(dtype)}`);
    const dims = shape.map((d): Dim => {
      if (typeof d === "string") {
        if (d.includes("/")) throw new ArgumentError(`spec: dimension ${JSON.stringify(d)}: write the symbol whole (B) and declare its divisibility (constraints: ["B % 2 == 0"]); shapes then divide it exactly`);
        try {
          return parseDim(d);
        } catch (e) {
          throw new ArgumentError(`spec: ${(e as Error).message}`);
        }
      }
      if (typeof d === "number" && (!Number.isInteger(d) || d < 0)) {
        throw new ArgumentError(`spec: dimension ${d} must be a non-negative integer or a symbol name`);
      }
      return d;
    });
    this.aval = new ShapedArray(dims, dtype);
  }
  get dtype(): DType {
    return this.aval.dtype;
  }
  get shape(): readonly Dim[] {
    return this.aval.shape;
  }
  toString(): string {
    return `${this.aval.dtype}${shapeToString(this.aval.shape)}`;
  }
}

/** `spec("float32", ["B", 784])`: a tensor argument known only by dtype and (symbolic) shape. */
export function spec(dtype: DType, shape: readonly (number | string)[]): ArgSpec {
  return new ArgSpec(dtype, shape);
}
