// A minimal protocol-buffers writer for the subset of onnx.proto that adgen emits (ModelProto,
// GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto with dim_param for symbolic
// dimensions). Written by hand so that the writer adds no runtime dependency: protobuf's wire
// format is only varints, fixed 32-bit floats and length-delimited bytes. Field numbers are those
// of onnx/onnx.proto (proto2; repeated scalars are written unpacked, which every parser accepts).

/** ONNX TensorProto.DataType codes for the element types adgen uses. */
export const ONNX_DTYPE = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 } as const;
export type OnnxElem = keyof typeof ONNX_DTYPE;

export interface TensorValue {
  name?: string;
  elem: OnnxElem;
  dims: number[];
  /** little-endian element bytes (raw_data) */
  raw: Uint8Array;
}

/** A dimension of a value's type: a number, or a dim_param name (symbolic). */
export type TypeDim = number | string;

export interface ValueInfo {
  name: string;
  elem: OnnxElem;
  /** null: rank unknown (no shape written) */
  shape: TypeDim[] | null;
  doc?: string;
}

export type AttrValue =
  | { kind: "int"; v: number | bigint }
  | { kind: "float"; v: number }
  | { kind: "string"; v: string }
  | { kind: "ints"; v: (number | bigint)[] }
  | { kind: "tensor"; v: TensorValue }
  | { kind: "graph"; v: Graph };

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
  doc?: string;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: TensorValue[];
  doc?: string;
}

export interface Model {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  graph: Graph;
  doc?: string;
  metadata?: Record<string, string>;
}

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_BYTES = 2;

/** Appends protobuf fields to a growing byte buffer. */
class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** An unsigned varint; negative int64 values are written as their 64-bit two's complement. */
  varint(v: number | bigint): void {
    let x = typeof v === "bigint" ? v : BigInt(v);
    if (x < 0n) x += 1n << 64n;
    this.ensure(10);
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.len++] = Number(x);
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, WIRE_BYTES);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, fill: (w: Writer) => void): void {
    const w = new Writer();
    fill(w);
    this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

// ---- onnx.proto messages (field numbers as in the schema) ----

function tensorProto(w: Writer, t: TensorValue): void {
  for (const d of t.dims) w.int(1, d); // dims
  w.int(2, ONNX_DTYPE[t.elem]); // data_type
  if (t.name !== undefined) w.string(8, t.name); // name
  w.bytes(9, t.raw); // raw_data
}

function valueInfoProto(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  // type (TypeProto) -> tensor_type (TypeProto.Tensor) -> elem_type, shape (TensorShapeProto)
  w.message(2, (tp) =>
    tp.message(1, (tt) => {
      tt.int(1, ONNX_DTYPE[v.elem]);
      if (v.shape) {
        const shape = v.shape;
        tt.message(2, (sh) => {
          for (const d of shape) sh.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)));
        });
      }
    }),
  );
  if (v.doc) w.string(3, v.doc);
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, ints: 7 } as const;

function attributeProto(w: Writer, name: string, a: AttrValue): void {
  w.string(1, name);
  switch (a.kind) {
    case "float":
      w.float(2, a.v);
      break;
    case "int":
      w.int(3, a.v);
      break;
    case "string":
      w.string(4, a.v);
      break;
    case "tensor":
      w.message(5, (m) => tensorProto(m, a.v));
      break;
    case "graph":
      w.message(6, (m) => graphProto(m, a.v));
      break;
    case "ints":
      for (const v of a.v) w.int(8, v);
      break;
  }
  w.int(20, ATTR_TYPE[a.kind]);
}

function nodeProto(w: Writer, n: Node): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, a] of Object.entries(n.attrs ?? {})) w.message(5, (m) => attributeProto(m, k, a));
  if (n.doc) w.string(6, n.doc);
}

function graphProto(w: Writer, g: Graph): void {
  for (const n of g.nodes) w.message(1, (m) => nodeProto(m, n));
  w.string(2, g.name);
  for (const t of g.initializers ?? []) w.message(5, (m) => tensorProto(m, t));
  if (g.doc) w.string(10, g.doc);
  for (const v of g.inputs) w.message(11, (m) => valueInfoProto(m, v));
  for (const v of g.outputs) w.message(12, (m) => valueInfoProto(m, v));
}

/** Serializes a model to the bytes of a `.onnx` file. */
export function encodeModel(m: Model): Uint8Array {
  const w = new Writer();
  w.int(1, m.irVersion); // ir_version
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  if (m.doc) w.string(6, m.doc);
  w.message(7, (g) => graphProto(g, m.graph));
  w.message(8, (o) => {
    o.string(1, ""); // the default ("ai.onnx") domain
    o.int(2, m.opset);
  });
  for (const [k, v] of Object.entries(m.metadata ?? {})) {
    w.message(14, (e) => {
      e.string(1, k);
      e.string(2, v);
    });
  }
  return w.finish();
}

/** Element bytes of a tensor (little-endian raw_data) from JS numbers. */
export function rawOf(elem: OnnxElem, values: ArrayLike<number | bigint>): Uint8Array {
  const n = values.length;
  switch (elem) {
    case "float32":
      return new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer);
    case "float64":
      return new Uint8Array(Float64Array.from(values as ArrayLike<number>).buffer);
    case "int32":
      return new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer);
    case "int64": {
      const b = new BigInt64Array(n);
      for (let i = 0; i < n; i++) b[i] = BigInt(values[i]!);
      return new Uint8Array(b.buffer);
    }
    case "bool":
      return Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
  }
}
