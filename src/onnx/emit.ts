// Emitting a Program as ONNX nodes: walks the equations in order, binds each variable to an ONNX
// value name, and applies the per-primitive rule of the typed table (table.ts). Nested programs
// either inline into the current graph (jit_call, checkpoint, custom rules) or become subgraphs
// (If branches, Loop bodies) through `EmitCtx.graph`. Anything without a mapping is an
// ArgumentError naming the primitive and the user's source line.

import type { ShapedArray } from "../core/aval.js";
import type { Shape } from "../core/shape.js";
import { ArgumentError } from "../core/errors.js";
import { type Atom, Literal, type Program, type Var } from "../ir/program.js";
import { GraphBuilder, attr, elemOf, typeDims } from "./graph.js";
import type { Graph, ValueInfo } from "./proto.js";
import { ONNX_RULES, type PrimName } from "./table.js";

/** What a primitive's rule sees: its operands as ONNX value names and their types. */
export interface EmitCtx {
  g: GraphBuilder;
  prim: string;
  params: any;
  ins: string[];
  inAvals: ShapedArray[];
  outAvals: ShapedArray[];
  /** emits `p` into graph `into` (default: the current one) with its inputs bound to `ins` */
  inline(p: Program, ins: string[], into?: GraphBuilder): string[];
  /**
   * A subgraph (If branch, Loop body) of graph `parent` (default: the current one) with these
   * inputs: `fill` emits its nodes into the subgraph's builder and returns its outputs and types.
   */
  graph(inputs: ValueInfo[], fill: (g: GraphBuilder) => GraphOutputs, parent?: GraphBuilder): Graph;
  /** throws the "cannot export" error for this equation */
  refuse(why: string): never;
}

export type ValueInfoType = Omit<ValueInfo, "name">;

export interface GraphOutputs {
  names: string[];
  types: ValueInfoType[];
}

export type OnnxRule = (c: EmitCtx) => string[];

export function refusal(prim: string, source: string, why: string): ArgumentError {
  return new ArgumentError(`exportOnnx: primitive ${prim}${source ? ` (from ${source})` : ""} cannot be exported to ONNX: ${why}`);
}

/** The ONNX type of an adgen abstract value. */
export function typeOf(a: ShapedArray): ValueInfoType {
  return { elem: elemOf(a.dtype), shape: typeDims(a.shape) };
}

/** Emits every equation of `p` into `g`; `ins` are the value names bound to p's inputs. */
export function emitProgram(g: GraphBuilder, p: Program, ins: string[]): string[] {
  const env = new Map<Var, string>();
  p.inputs.forEach((v, i) => env.set(v, ins[i]!));
  p.consts.forEach((v, i) => {
    const t = p.constValues[i]!;
    env.set(v, g.constant(elemOf(t.dtype), t.shape as number[], t.dataSync()));
  });
  const read = (a: Atom): string => (a instanceof Literal ? g.scalar(elemOf(a.aval.dtype), a.value) : env.get(a)!);
  for (const e of p.equations) {
    const source = e.source ? String(e.source) : "";
    const rule = (ONNX_RULES as Record<string, OnnxRule | undefined>)[e.prim.name as PrimName];
    if (!rule) throw refusal(e.prim.name, source, "it has no ONNX mapping (src/onnx/table.ts)");
    const prevSource = g.source;
    g.source = source;
    const ctx: EmitCtx = {
      g,
      prim: e.prim.name,
      params: e.params,
      ins: e.inputs.map(read),
      inAvals: e.inputs.map((a) => a.aval),
      outAvals: e.outs.map((o) => o.aval),
      inline: (q, qi, into = g) => emitProgram(into, q, qi),
      graph: (inputs, fill, parent = g) => subgraph(parent, inputs, fill),
      refuse: (why) => {
        throw refusal(e.prim.name, source, why);
      },
    };
    const outs = rule(ctx);
    g.source = prevSource;
    e.outs.forEach((o, i) => env.set(o, outs[i]!));
  }
  return p.outputs.map(read);
}

function subgraph(parent: GraphBuilder, inputs: ValueInfo[], fill: (g: GraphBuilder) => GraphOutputs): Graph {
  const g = parent.child();
  g.source = parent.source;
  const fin = fill(g);
  // a subgraph output must be produced inside the subgraph: name each through an Identity
  const outputs = fin.names.map((n, i) => ({ name: g.op("Identity", [n]), ...fin.types[i]! }));
  return { name: g.fresh("subgraph"), nodes: g.nodes, inputs, outputs };
}

/**
 * A whole top-level graph: inputs with names and types, symbols read from input shapes. ONNX
 * Runtime checks static dims but not that a dim_param means the same size in every input (B = 2
 * in one, B = 1 in another would broadcast into a wrong result), so each input whose symbolic dims
 * are not all read from it is checked against the bound symbols (checkedInput).
 */
export function emitGraph(name: string, p: Program, inputNames: string[], outputNames: string[], doc: string): Graph {
  const g = new GraphBuilder();
  const defines: boolean[][] = p.inputs.map((v) => v.aval.shape.map(() => false));
  p.inputs.forEach((v, i) => {
    v.aval.shape.forEach((d, axis) => {
      if (typeof d !== "number" && d.terms.size === 1 && d.terms.values().next().value === 1) {
        const sym = [...d.terms.keys()][0]!;
        if (!sym.includes("*")) defines[i]![axis] = g.defineSymbol(sym, inputNames[i]!, axis);
      }
    });
  });
  const ins = p.inputs.map((v, i) =>
    v.aval.shape.every((d, axis) => typeof d === "number" || defines[i]![axis]) ? inputNames[i]! : checkedInput(g, inputNames[i]!, v.aval.shape),
  );
  const outs = emitProgram(g, p, ins);
  outs.forEach((o, i) => g.node("Identity", [o], {}, 1, [outputNames[i]!]));
  return {
    name,
    doc,
    nodes: g.nodes,
    inputs: p.inputs.map((v, i) => ({ name: inputNames[i]!, ...typeOf(v.aval) })),
    outputs: p.outputs.map((a, i) => ({ name: outputNames[i]!, ...typeOf(a.aval) })),
  };
}

/**
 * The input, reshaped to its own shape when that equals its declared (symbolic) shape; otherwise
 * the Reshape gets -2 in the mismatched axes and fails at run time, naming the input and its
 * declared shape in the node's name (ONNX has no Assert operator).
 */
function checkedInput(g: GraphBuilder, input: string, declared: Shape): string {
  const actual = g.op("Shape", [input]);
  // an axis whose size no input axis gives (2*B with no bare B anywhere) is compared with itself
  const axis = (k: number) => g.op("Shape", [input], { start: attr.int(k), end: attr.int(k + 1) });
  const want = declared.some((d) => !g.knows(d)) ? g.op("Concat", declared.map((d, k) => (g.knows(d) ? g.dim(d) : axis(k))), { axis: attr.int(0) }) : g.shape(declared);
  const ok = g.op("Equal", [actual, want]);
  const bad = g.ints(declared.map(() => -2));
  const target = g.op("Where", [ok, actual, bad]);
  const text = declared.map((d) => (typeof d === "number" ? String(d) : d.toString())).join(",");
  const [out] = g.node("Reshape", [input, target], {}, 1, undefined, `input ${input} does not have its declared shape [${text}] (a dim_param must have one size in every input)`);
  return out!;
}
