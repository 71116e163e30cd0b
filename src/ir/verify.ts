// The IR verifier: SSA (each variable defined once, before use), operand types matching their
// definitions, and every equation's output types re-derived from its primitive's shape rule.
// Run after each pass in tests; a failure is always a bug in adgen, never the user's.

import { InternalError } from "../core/errors.js";
import { shapeToString } from "../core/shape.js";
import { type Atom, Literal, type Program, type Var, subPrograms } from "./program.js";

export function verifyProgram(p: Program, where = "program"): void {
  const defined = new Set<Var>();
  const fail = (msg: string) => {
    throw new InternalError(`verify ${where}: ${msg}`);
  };
  const def = (v: Var, what: string) => {
    if (defined.has(v)) fail(`variable %${v.id} (${what}) is defined twice`);
    defined.add(v);
  };
  const use = (a: Atom, what: string) => {
    if (a instanceof Literal) {
      if (a.aval.shape.length !== 0) fail(`literal in ${what} is not rank-0`);
      return;
    }
    if (!defined.has(a)) fail(`variable %${a.id} used in ${what} before it is defined`);
  };
  p.consts.forEach((v, i) => {
    def(v, "constant");
    const val = p.constValues[i];
    if (!val) fail(`constant ${i} has no value`);
    else if (!val.aval.equals(v.aval)) fail(`constant ${i} is ${val.aval} but its variable is ${v.aval}`);
  });
  p.inputs.forEach((v) => def(v, "input"));
  p.equations.forEach((e, k) => {
    const what = `equation ${k} (${e.prim.name})`;
    e.inputs.forEach((a) => use(a, what));
    let outs;
    try {
      outs = e.prim.abstractEval(e.inputs.map((a) => a.aval), e.params);
    } catch (err) {
      fail(`${what} does not type-check: ${(err as Error).message}`);
    }
    if (outs!.length !== e.outs.length) fail(`${what} has ${e.outs.length} outputs, its rule gives ${outs!.length}`);
    outs!.forEach((a, i) => {
      const o = e.outs[i]!;
      if (!a.equals(o.aval)) fail(`${what} output ${i} is ${o.aval}, its rule gives ${a} (${shapeToString(a.shape)})`);
    });
    e.outs.forEach((o) => def(o, what));
    subPrograms(e).forEach((sp, i) => verifyProgram(sp, `${where} / ${what} sub-program ${i}`));
  });
  p.outputs.forEach((a) => use(a, "outputs"));
}
