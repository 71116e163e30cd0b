// Building an ONNX graph: fresh value names, nodes, constants, and the run-time values of
// symbolic dimensions. A symbol ("B") is read once from the shape of the first model input that
// has it as a bare dimension (Shape + Gather); a polynomial dim ("2*B+1") or a whole symbolic
// shape becomes a small int64 computation. Subgraphs (If/Loop bodies) are builders with a parent:
// ONNX lets a subgraph read any value of its enclosing graphs by name, so cached dimension
// tensors are looked up through the parents.

import type { DType } from "../core/dtype.js";
import { encodeNumber } from "../core/encode.js";
import { ShapeError } from "../core/errors.js";
import { type Dim, type Shape, isSymbolic } from "../core/shape.js";
import type { AttrValue, Node, OnnxElem, TypeDim } from "./proto.js";
import { rawOf } from "./proto.js";

export type Attrs = Record<string, AttrValue>;

export const attr = {
  int: (v: number | bigint): AttrValue => ({ kind: "int", v }),
  ints: (v: (number | bigint)[]): AttrValue => ({ kind: "ints", v }),
  float: (v: number): AttrValue => ({ kind: "float", v }),
  string: (v: string): AttrValue => ({ kind: "string", v }),
};

/** The ONNX element type of an adgen dtype. */
export function elemOf(d: DType): OnnxElem {
  return d;
}

/** A shape for a ValueInfo: numbers stay, symbolic dims become dim_param text. */
export function typeDims(s: Shape): TypeDim[] {
  return s.map((d) => (typeof d === "number" ? d : d.toString()));
}

interface Shared {
  counter: number;
  /** symbol -> name of an int64 [1] tensor holding its value (defined in the root graph) */
  symbols: Map<string, string>;
}

export class GraphBuilder {
  readonly nodes: Node[] = [];
  private readonly shared: Shared;
  /** cached dimension/shape tensors of this graph: key -> value name */
  private readonly cache = new Map<string, string>();
  /** the user's source line of the equation being emitted (node doc_string) */
  source = "";

  constructor(readonly parent: GraphBuilder | null = null) {
    this.shared = parent ? parent.shared : { counter: 0, symbols: new Map() };
  }

  /** A subgraph builder (If branch, Loop body). */
  child(): GraphBuilder {
    return new GraphBuilder(this);
  }

  fresh(hint: string): string {
    return `${hint}_${this.shared.counter++}`;
  }

  /** Adds a node (named `name`, default a fresh n_<Op>_<k>: ONNX Runtime's errors quote it); returns its output names. */
  node(op: string, inputs: string[], attrs: Attrs = {}, nOut = 1, outNames?: string[], name?: string): string[] {
    const outputs = outNames ?? Array.from({ length: nOut }, () => this.fresh(op.toLowerCase()));
    this.nodes.push({ op, inputs, outputs, name: name ?? this.fresh(`n_${op}`), attrs, ...(this.source ? { doc: this.source } : {}) });
    return outputs;
  }

  op(op: string, inputs: string[], attrs: Attrs = {}): string {
    return this.node(op, inputs, attrs)[0]!;
  }

  /** A Constant node holding a tensor. */
  constant(elem: OnnxElem, dims: number[], values: ArrayLike<number | bigint>): string {
    return this.node("Constant", [], { value: { kind: "tensor", v: { elem, dims, raw: rawOf(elem, values) } } })[0]!;
  }

  scalar(elem: OnnxElem, v: number): string {
    const key = `scalar:${elem}:${encodeNumber(v)}`;
    return this.cached(key, () => this.constant(elem, [], [v]));
  }

  ints(values: number[]): string {
    return this.cached(`ints:${values.map(encodeNumber).join(",")}`, () => this.constant("int64", [values.length], values));
  }

  private lookup(key: string): string | undefined {
    for (let g: GraphBuilder | null = this; g; g = g.parent) {
      const v = g.cache.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  private cached(key: string, make: () => string): string {
    const hit = this.lookup(key);
    if (hit !== undefined) return hit;
    const v = make();
    this.cache.set(key, v);
    return v;
  }

  /** Registers the run-time value of symbol `name` as axis `axis` of value `tensor` (root graph); false when it already was. */
  defineSymbol(name: string, tensor: string, axis: number): boolean {
    if (this.shared.symbols.has(name)) return false;
    const shape = this.op("Shape", [tensor], { start: attr.int(axis), end: attr.int(axis + 1) });
    this.shared.symbols.set(name, shape);
    return true;
  }

  /** Whether every symbol of `d` has a run-time value in this graph (so dim(d) can compute it). */
  knows(d: Dim): boolean {
    return !isSymbolic(d) || [...d.terms.keys()].every((mono) => mono.split("*").every((f) => !f || this.shared.symbols.has(f)));
  }

  /** An int64 [1] tensor holding a dimension's value. */
  dim(d: Dim): string {
    if (!isSymbolic(d)) return this.ints([d]);
    return this.cached(`dim:${d.toString()}`, () => {
      let total: string | null = null;
      for (const [mono, coef] of d.terms) {
        let term: string | null = null;
        for (const f of mono.split("*")) {
          if (!f) continue;
          const s = this.shared.symbols.get(f);
          if (s === undefined) {
            throw new ShapeError(`ONNX export: symbolic dimension ${f} (in ${d.toString()}) is not the size of any input axis, so the model cannot compute it`);
          }
          term = term === null ? s : this.op("Mul", [term, s]);
        }
        const c = this.ints([coef]);
        term = term === null ? c : coef === 1 ? term : this.op("Mul", [term, c]);
        total = total === null ? term : this.op("Add", [total, term]);
      }
      return total ?? this.ints([0]);
    });
  }

  /** An int64 [rank] tensor holding a (possibly symbolic) shape. */
  shape(s: Shape): string {
    if (s.every((d): d is number => typeof d === "number")) return this.ints([...s]);
    const key = `shape:${s.map((d) => (typeof d === "number" ? String(d) : d.toString())).join(",")}`;
    return this.cached(key, () => this.op("Concat", s.map((d) => this.dim(d)), { axis: attr.int(0) }));
  }

  /** A (possibly symbolic) dimension as an int64 scalar (rank 0). */
  dimScalar(d: Dim): string {
    if (!isSymbolic(d)) return this.scalar("int64", d);
    return this.cached(`dimScalar:${d.toString()}`, () => this.op("Reshape", [this.dim(d), this.ints([])]));
  }
}
