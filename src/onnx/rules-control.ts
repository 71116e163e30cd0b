// ONNX rules of the higher-order primitives and the rest: calls (jit_call, checkpoint, custom
// rules, while_lin) inline their program; cond becomes If; scan and while become Loop (the
// body graph reads loop-invariant operands from the enclosing graph by name); dim_value reads a
// symbol's run-time value; the random-number rules live in rules-random.ts.

import { attr } from "./graph.js";
import type { GraphBuilder } from "./graph.js";
import type { EmitCtx, OnnxRule } from "./emit.js";
import { typeOf } from "./emit.js";
import type { ValueInfo } from "./proto.js";
import { cast, erf } from "./rules-elementwise.js";
import { RANDOM_RULES } from "./rules-random.js";
import type { Program } from "../ir/program.js";

const inlineProgram: OnnxRule = (c) => c.inline(c.params.program, c.ins);

/**
 * cond -> If. The branch index is clamped into [0, n - 1]; n > 2 branches become a chain of
 * Ifs (index > 0 ? (index > 1 ? ... : branch 1) : branch 0), each later If in the then branch.
 */
const cond: OnnxRule = (c) => {
  const branches = c.params.branches as Program[];
  const [index, ...ops] = c.ins;
  const types = c.outAvals.map(typeOf);
  const from = (lo: number, g: GraphBuilder): string[] => {
    if (lo === branches.length - 1) return c.inline(branches[lo]!, ops, g);
    const pred = g.op("Greater", [index!, g.scalar("int32", lo)]);
    const later = c.graph([], (b) => ({ names: from(lo + 1, b), types }), g);
    const here = c.graph([], (b) => ({ names: c.inline(branches[lo]!, ops, b), types }), g);
    return g.node("If", [pred], { then_branch: { kind: "graph", v: later }, else_branch: { kind: "graph", v: here } }, types.length);
  };
  return from(0, c.g);
};

const iterInputs = (g: GraphBuilder): [ValueInfo, ValueInfo] => [
  { name: g.fresh("iter"), elem: "int64", shape: [] },
  { name: g.fresh("cond_in"), elem: "bool", shape: [] },
];

/** scan -> Loop: carries are loop-carried values, x slices Gather'ed at the iteration index. */
const scan: OnnxRule = (c) => {
  const { body, reverse, numConsts, numCarry } = c.params;
  const g = c.g;
  const consts = c.ins.slice(0, numConsts);
  const carry = c.ins.slice(numConsts, numConsts + numCarry);
  const xs = c.ins.slice(numConsts + numCarry);
  const trip = xs.length ? g.op("Reshape", [g.op("Shape", [xs[0]!], { start: attr.int(0), end: attr.int(1) }), g.ints([])]) : g.dimScalar(c.params.length);
  const [iter, condIn] = iterInputs(g);
  const carryIn = c.inAvals.slice(numConsts, numConsts + numCarry).map((a) => ({ name: g.fresh("carry"), ...typeOf(a) }));
  const graph = c.graph([iter, condIn, ...carryIn], (b) => {
    const i = reverse ? b.op("Sub", [b.op("Sub", [trip, b.scalar("int64", 1)]), iter.name]) : iter.name;
    const slices = xs.map((x) => b.op("Gather", [x, i], { axis: attr.int(0) }));
    const outs = c.inline(body, [...consts, ...carryIn.map((v) => v.name), ...slices], b);
    return { names: [b.op("Identity", [condIn.name]), ...outs], types: [{ elem: "bool", shape: [] }, ...body.outAvals.map(typeOf)] };
  });
  const res = g.node("Loop", [trip, "", ...carry], { body: { kind: "graph", v: graph } }, c.outAvals.length);
  // Loop stacks scan outputs in iteration order; a reverse scan stores iteration k at n - 1 - k
  if (!reverse) return res;
  return [...res.slice(0, numCarry), ...res.slice(numCarry).map((y) => reverseAxis0(g, y))];
};

function reverseAxis0(g: GraphBuilder, y: string): string {
  const ends = g.constant("int64", [1], [BigInt(-(2 ** 63))]);
  return g.op("Slice", [y, g.ints([-1]), ends, g.ints([0]), g.ints([-1])]);
}

/** while -> Loop with no trip limit: the condition runs once before the loop and after each body. */
function whileLoop(): OnnxRule {
  return (c) => {
    const { cond: condP, body, numCondConsts, numBodyConsts } = c.params;
    const g = c.g;
    const cc = c.ins.slice(0, numCondConsts);
    const bc = c.ins.slice(numCondConsts, numCondConsts + numBodyConsts);
    const init = c.ins.slice(numCondConsts + numBodyConsts);
    const carryAvals = c.inAvals.slice(numCondConsts + numBodyConsts);
    const nK = init.length;
    const first = c.inline(condP, [...cc, ...init])[0]!;
    const [iter, condIn] = iterInputs(g);
    const carryIn = carryAvals.map((a) => ({ name: g.fresh("carry"), ...typeOf(a) }));
    const graph = c.graph([iter, condIn, ...carryIn], (b) => {
      const next = c.inline(body, [...bc, ...carryIn.map((v) => v.name)], b).slice(0, nK);
      const again = c.inline(condP, [...cc, ...next], b)[0]!;
      return { names: [again, ...next], types: [{ elem: "bool", shape: [] }, ...carryAvals.map(typeOf)] };
    });
    return g.node("Loop", ["", first, ...init], { body: { kind: "graph", v: graph } }, nK);
  };
}

const dimValue: OnnxRule = ({ g, params }) => [cast(g, g.dimScalar(params.dim), "int64", "int32")];

export const CONTROL_RULES = {
  jit_call: inlineProgram,
  checkpoint: inlineProgram,
  custom_jvp_call: inlineProgram,
  custom_vjp_call: inlineProgram,
  custom_lin: (c: EmitCtx) => c.refuse("the tangent map of a customVjp function only exists inside reverse mode, which transposes it away"),
  cond,
  scan,
  while: whileLoop(),
  while_lin: inlineProgram,
  dim_value: dimValue,
  erf,
  index_check: (c: EmitCtx) => c.refuse("it is a kernel-level bounds check that programs do not contain"),
  ...RANDOM_RULES,
} satisfies Record<string, OnnxRule>;
