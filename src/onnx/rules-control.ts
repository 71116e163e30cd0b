// ONNX rules of the higher-order primitives and the rest: calls (jit_call, checkpoint, custom
// rules) inline their program; cond becomes If; scan, while and while_stack become Loop (the
// body graph reads loop-invariant operands from the enclosing graph by name); dim_value reads a
// symbol's run-time value. Random-number primitives are refused for now.

import { attr } from "./graph.js";
import type { GraphBuilder } from "./graph.js";
import type { EmitCtx, OnnxRule, ValueInfoType } from "./emit.js";
import { typeOf } from "./emit.js";
import type { ValueInfo } from "./proto.js";
import { cast, erf } from "./rules-elementwise.js";

const inlineProgram: OnnxRule = (c) => c.inline(c.params.program, c.ins);

const cond: OnnxRule = (c) => {
  const branches = c.params.branches as import("../ir/program.js").Program[];
  const [index, ...ops] = c.ins;
  if (branches.length === 1) return c.inline(branches[0]!, ops);
  if (branches.length > 2) c.refuse(`a cond with ${branches.length} branches is not mapped yet (two are: If)`);
  // the branch index is clamped into [0, 1]: branch 1 runs for index >= 1
  const pred = c.g.op("Greater", [index!, c.g.scalar("int32", 0)]);
  const branch = (i: number) => ({ kind: "graph" as const, v: c.subgraph(branches[i]!, [], () => ops) });
  return c.g.node("If", [pred], { then_branch: branch(1), else_branch: branch(0) }, c.outAvals.length);
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
  const graph = c.subgraph(
    body,
    [iter, condIn, ...carryIn],
    (b) => {
      const i = reverse ? b.op("Sub", [b.op("Sub", [trip, b.scalar("int64", 1)]), iter.name]) : iter.name;
      const slices = xs.map((x) => b.op("Gather", [x, i], { axis: attr.int(0) }));
      return [...consts, ...carryIn.map((v) => v.name), ...slices];
    },
    (b, outs) => ({
      names: [b.op("Identity", [condIn.name]), ...outs],
      types: [{ elem: "bool", shape: [] } as ValueInfoType, ...body.outAvals.map(typeOf)],
    }),
  );
  const res = g.node("Loop", [trip, "", ...carry], { body: { kind: "graph", v: graph } }, c.outAvals.length);
  // Loop stacks scan outputs in iteration order; a reverse scan stores iteration k at n - 1 - k
  if (!reverse) return res;
  return [...res.slice(0, numCarry), ...res.slice(numCarry).map((y) => reverseAxis0(g, y))];
};

function reverseAxis0(g: GraphBuilder, y: string): string {
  const ends = g.constant("int64", [1], [BigInt(-(2 ** 63))]);
  return g.op("Slice", [y, g.ints([-1]), ends, g.ints([0]), g.ints([-1])]);
}

/**
 * while / while_stack -> Loop with no trip limit: the condition runs once before the loop and
 * after each body; while_stack also stacks the iteration index and the body's residuals.
 */
function whileLoop(stack: boolean): OnnxRule {
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
    const graph = c.subgraph(
      body,
      [iter, condIn, ...carryIn],
      () => [...bc, ...carryIn.map((v) => v.name)],
      (b, outs) => {
        const next = outs.slice(0, nK);
        const again = c.inline(condP, [...cc, ...next], b)[0]!;
        const stacked = stack ? [cast(b, iter.name, "int64", "int32"), ...outs.slice(nK)] : [];
        const stackTypes = stack ? [{ elem: "int32", shape: [] } as ValueInfoType, ...body.outAvals.slice(nK).map(typeOf)] : [];
        return {
          names: [again, ...next, ...stacked],
          types: [{ elem: "bool", shape: [] } as ValueInfoType, ...carryAvals.map(typeOf), ...stackTypes],
        };
      },
    );
    const res = g.node("Loop", ["", first, ...init], { body: { kind: "graph", v: graph } }, stack ? nK + 1 + (body.outAvals.length - nK) : nK);
    if (stack) {
      // the stacks' leading dimension is the trip count: a new symbol, read from the index stack
      const trip = c.params.trip as import("../core/shape.js").SymDim;
      const sym = trip.symbols();
      if (sym.length === 1 && trip.toString() === sym[0]) g.defineSymbol(sym[0]!, res[nK]!, 0);
    }
    return res;
  };
}

const dimValue: OnnxRule = ({ g, params }) => [cast(g, g.dimScalar(params.dim), "int64", "int32")];

const random: OnnxRule = (c) =>
  c.refuse("random numbers (Threefry) are not mapped to ONNX bitwise ops yet; draw them outside the exported function and pass them in");

export const CONTROL_RULES = {
  jit_call: inlineProgram,
  checkpoint: inlineProgram,
  custom_jvp_call: inlineProgram,
  custom_vjp_call: inlineProgram,
  custom_lin: (c: EmitCtx) => c.refuse("the tangent map of a customVjp function only exists inside reverse mode, which transposes it away"),
  cond,
  scan,
  while: whileLoop(false),
  while_stack: whileLoop(true),
  dim_value: dimValue,
  erf,
  index_check: (c: EmitCtx) => c.refuse("it is a kernel-level bounds check that programs do not contain"),
  random_bits: random,
  random_split: random,
  random_fold_in: random,
} satisfies Record<string, OnnxRule>;
