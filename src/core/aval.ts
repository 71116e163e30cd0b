// Abstract values: what a transformation knows about a tensor without its data (shape, dtype,
// and whether the dtype is "weak", i.e. came from a plain JS number).

import { type DType } from "./dtype.js";
import { type Shape, shapeEq, shapeSize, shapeToString } from "./shape.js";

const SHORT: Record<DType, string> = { float32: "f32", float64: "f64", int32: "i32", bool: "bool" };

export class ShapedArray {
  constructor(
    readonly shape: Shape,
    readonly dtype: DType,
    readonly weak: boolean = false,
  ) {}

  get ndim(): number {
    return this.shape.length;
  }

  get size() {
    return shapeSize(this.shape);
  }

  equals(o: ShapedArray): boolean {
    return this.dtype === o.dtype && shapeEq(this.shape, o.shape);
  }

  strong(): ShapedArray {
    return this.weak ? new ShapedArray(this.shape, this.dtype) : this;
  }

  /** e.g. "f32[3,4]" */
  toString(): string {
    return `${SHORT[this.dtype]}${shapeToString(this.shape)}`;
  }
}

export function shortDType(d: DType): string {
  return SHORT[d];
}
