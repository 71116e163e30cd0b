// Tensor: the user-facing immutable n-d array. A concrete Tensor owns a row-major typed array;
// a Tracer (subclass, see trace/) stands for a value inside a transformation and has no data.
// Methods delegate to the `np` namespace through a hook installed by api/, so this file stays at
// the bottom of the dependency graph.

import { ShapedArray } from "./aval.js";
import { type DType, type TypedArray, dtypeOfArray } from "./dtype.js";
import { type Shape, concreteSize, isConcreteShape, shapeToString } from "./shape.js";
import { InternalError, ShapeError } from "./errors.js";

export type TensorLike = Tensor | number | boolean;
export type Axis = number | number[];
export interface ReduceOpts {
  axis?: Axis | null;
  keepdims?: boolean;
}

/** Functions the methods forward to; installed once by the api layer. */
export interface TensorMethodImpls {
  [name: string]: (...args: any[]) => any;
}
let impls: TensorMethodImpls | null = null;
export function installTensorMethods(m: TensorMethodImpls): void {
  impls = m;
}
function call(name: string, ...args: unknown[]): any {
  const f = impls?.[name];
  if (!f) throw new InternalError(`tensor method ${name} is not installed`);
  return f(...args);
}

/** Eager-tape bookkeeping (see eager/tape.ts); absent on ordinary tensors. */
export interface TapeSlot {
  requiresGrad: boolean;
  node: unknown;
  grad: Tensor | null;
}

export class Tensor {
  readonly aval: ShapedArray;
  /** Row-major element storage; null for tracers (and for a captured value until it is computed). */
  protected _data: TypedArray | null;
  /** @internal eager tape slot */
  _tape: TapeSlot | null = null;
  /**
   * @internal The JS number a weak scalar was made from (its float32 storage may have rounded
   * it); promotion to another dtype uses this exact value, so `0.1` stays 0.1 in float64.
   */
  _exact: number | undefined = undefined;

  /** @internal Use np.array / np.zeros etc. to make tensors. */
  constructor(aval: ShapedArray, data: TypedArray | null) {
    if (data && (!isConcreteShape(aval.shape) || data.length !== concreteSize(aval.shape))) {
      throw new InternalError(`tensor data of length ${data.length} for shape ${shapeToString(aval.shape)}`);
    }
    this.aval = aval;
    this._data = data;
  }

  /** @internal Wraps a typed array (not copied) as a tensor. */
  static fromData(data: TypedArray, shape: readonly number[], weak = false): Tensor {
    return new Tensor(new ShapedArray(shape.slice(), dtypeOfArray(data), weak), data);
  }

  get shape(): number[] {
    return this.aval.shape.slice() as number[];
  }
  get dtype(): DType {
    return this.aval.dtype;
  }
  get ndim(): number {
    return this.aval.shape.length;
  }
  get size(): number {
    return concreteSize(this.aval.shape as number[]);
  }
  get isConcrete(): boolean {
    return this._data !== null;
  }

  /** @internal The backing array (not a copy). Callers must not mutate it. */
  get data(): TypedArray {
    return this._data ?? this.concretize("read the data of");
  }

  /**
   * Hook for tracers, called wherever a value is observed (data, item, Number(x), toArray):
   * a tracer whose value is known returns it (a JVP tracer over a concrete primal, as outside
   * jit: only its tangent is traced), any other raises a ConcretizationError.
   */
  protected concretize(_what: string): TypedArray {
    throw new InternalError("concrete tensor without data");
  }

  /**
   * @internal False while a captured eager value (src/hybrid/capture.ts) waits to be computed:
   * consumers that would read its data early (to inline a scalar, say) keep it symbolic instead.
   */
  get _ready(): boolean {
    return true;
  }

  /**
   * @internal A new tensor with this one's value and the given type (the eager tape's tracked
   * copy, variable()); a captured value stays deferred rather than being computed for it.
   */
  _alias(aval: ShapedArray): Tensor {
    return new Tensor(aval, this.data);
  }

  /** @internal The elements (not a copy), observing a tracer's known value; `what` names the observation for errors. */
  _observe(what: string): TypedArray {
    return this._data ?? this.concretize(what);
  }

  /** A copy of the elements as a typed array. */
  dataSync(): TypedArray {
    return this._observe("call .dataSync() on").slice();
  }

  /** Nested JS arrays (numbers; booleans for bool tensors). A 0-d tensor gives a scalar. */
  toArray(): any {
    const d = this._observe("call .toArray() on");
    const shape = this.shape;
    const conv = this.dtype === "bool" ? (v: number) => v !== 0 : (v: number) => v;
    const rec = (axis: number, off: number): any => {
      if (axis === shape.length) return conv(d[off]!);
      const n = shape[axis]!;
      let stride = 1;
      for (let i = axis + 1; i < shape.length; i++) stride *= shape[i]!;
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = rec(axis + 1, off + i * stride);
      return out;
    };
    return rec(0, 0);
  }

  /** The single element of a size-1 tensor, as a number (or boolean for bool). */
  item(): number {
    return itemOf(this, this._observe("call .item() on"));
  }

  [Symbol.toPrimitive](hint: string): number | string {
    if (hint === "string") return this.toString();
    return itemOf(this, this._observe("convert to a JS number or boolean"));
  }

  toString(): string {
    return call("formatTensor", this);
  }

  /** Iterates over the first axis (like NumPy and JAX): `const [k1, k2] = random.split(key)`. */
  *[Symbol.iterator](): Iterator<Tensor> {
    const n = this.aval.shape[0];
    if (n === undefined) throw new ShapeError(`cannot iterate over a 0-d tensor (${this.aval})`);
    if (typeof n !== "number") throw new ShapeError(`cannot iterate over a symbolic dimension ${n} (${this.aval})`);
    for (let i = 0; i < n; i++) yield call("index", this, [i]);
  }

  // ----- methods mirroring the np namespace -----
  add(y: TensorLike): Tensor { return call("add", this, y); }
  sub(y: TensorLike): Tensor { return call("subtract", this, y); }
  mul(y: TensorLike): Tensor { return call("multiply", this, y); }
  div(y: TensorLike): Tensor { return call("divide", this, y); }
  pow(y: TensorLike): Tensor { return call("power", this, y); }
  maximum(y: TensorLike): Tensor { return call("maximum", this, y); }
  minimum(y: TensorLike): Tensor { return call("minimum", this, y); }
  neg(): Tensor { return call("negative", this); }
  exp(): Tensor { return call("exp", this); }
  log(): Tensor { return call("log", this); }
  log1p(): Tensor { return call("log1p", this); }
  expm1(): Tensor { return call("expm1", this); }
  sin(): Tensor { return call("sin", this); }
  cos(): Tensor { return call("cos", this); }
  tan(): Tensor { return call("tan", this); }
  tanh(): Tensor { return call("tanh", this); }
  sqrt(): Tensor { return call("sqrt", this); }
  square(): Tensor { return call("square", this); }
  abs(): Tensor { return call("abs", this); }
  sign(): Tensor { return call("sign", this); }
  clip(lo: TensorLike | null, hi: TensorLike | null): Tensor { return call("clip", this, lo, hi); }
  equal(y: TensorLike): Tensor { return call("equal", this, y); }
  notEqual(y: TensorLike): Tensor { return call("notEqual", this, y); }
  less(y: TensorLike): Tensor { return call("less", this, y); }
  lessEqual(y: TensorLike): Tensor { return call("lessEqual", this, y); }
  greater(y: TensorLike): Tensor { return call("greater", this, y); }
  greaterEqual(y: TensorLike): Tensor { return call("greaterEqual", this, y); }
  matmul(y: TensorLike): Tensor { return call("matmul", this, y); }
  dot(y: TensorLike): Tensor { return call("dot", this, y); }
  sum(opts?: ReduceOpts): Tensor { return call("sum", this, opts); }
  mean(opts?: ReduceOpts): Tensor { return call("mean", this, opts); }
  max(opts?: ReduceOpts): Tensor { return call("max", this, opts); }
  min(opts?: ReduceOpts): Tensor { return call("min", this, opts); }
  prod(opts?: ReduceOpts): Tensor { return call("prod", this, opts); }
  argmax(opts?: { axis?: number; keepdims?: boolean }): Tensor { return call("argmax", this, opts); }
  argmin(opts?: { axis?: number; keepdims?: boolean }): Tensor { return call("argmin", this, opts); }
  reshape(shape: number[]): Tensor { return call("reshape", this, shape); }
  transpose(axes?: number[]): Tensor { return call("transpose", this, axes); }
  get T(): Tensor { return call("transpose", this); }
  expandDims(axis: Axis): Tensor { return call("expandDims", this, axis); }
  squeeze(axis?: Axis): Tensor { return call("squeeze", this, axis); }
  broadcastTo(shape: number[]): Tensor { return call("broadcastTo", this, shape); }
  flatten(): Tensor { return call("reshape", this, [-1]); }
  flip(axis?: Axis): Tensor { return call("flip", this, axis); }
  take(indices: TensorLike | number[], opts?: { axis?: number }): Tensor { return call("take", this, indices, opts); }
  astype(dtype: DType): Tensor { return call("astype", this, dtype); }
  /** NumPy basic/integer-array indexing, like x[spec] (see np.index). */
  index(spec: unknown): Tensor { return call("index", this, spec); }
  /** Index updates, JAX's x.at[spec]: x.at(spec).set(v) / .add / .multiply / .min / .max / .get (see np.at). */
  at(spec: unknown): { get(): Tensor; set(v: unknown): Tensor; add(v: unknown): Tensor; multiply(v: unknown): Tensor; min(v: unknown): Tensor; max(v: unknown): Tensor } {
    return call("at", this, spec);
  }

  // ----- eager tape (PyTorch style; see eager/tape.ts) -----
  /** Gradient accumulated by `backward()` on a `variable`, or null. */
  get grad(): Tensor | null { return this._tape?.grad ?? null; }
  get requiresGrad(): boolean { return this._tape?.requiresGrad ?? false; }
  backward(outBar?: TensorLike): void { call("backward", this, outBar); }
  zeroGrad(): void { if (this._tape) this._tape.grad = null; }
}

function itemOf(t: Tensor, d: TypedArray): number {
  if (d.length !== 1) {
    throw new ShapeError(`item(): tensor of shape ${shapeToString(t.aval.shape)} has ${d.length} elements, expected 1`);
  }
  return d[0]!;
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

export type { Shape };
