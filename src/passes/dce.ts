// Dead-code elimination: drops every equation none of whose outputs reaches the program's
// outputs (transitively) and every constant nothing uses. Sound because all primitives are pure.
// Program inputs are never removed (they are the program's signature); higher-order equations
// are kept or dropped whole (their unused outputs cannot be removed without changing them).

import { type Atom, type Equation, type Program, Var } from "../ir/program.js";
import { rebuild } from "./rewrite.js";

/** Variables whose values reach the outputs: the outputs and the inputs of equations kept. */
export function liveVariables(p: Program): Set<Var> {
  return liveSweep(p).live;
}

function liveSweep(p: Program): { live: Set<Var>; kept: Equation[] } {
  const live = new Set<Var>();
  const mark = (a: Atom) => {
    if (a instanceof Var) live.add(a);
  };
  p.outputs.forEach(mark);
  const kept: Equation[] = [];
  for (let k = p.equations.length - 1; k >= 0; k--) {
    const e = p.equations[k]!;
    if (!e.outs.some((o) => live.has(o))) continue;
    kept.push(e);
    e.inputs.forEach(mark);
  }
  kept.reverse();
  return { live, kept };
}

export function dce(p: Program): Program {
  const { live, kept } = liveSweep(p);
  const consts: Var[] = [];
  const constValues = [];
  for (let i = 0; i < p.consts.length; i++) {
    if (!live.has(p.consts[i]!)) continue;
    consts.push(p.consts[i]!);
    constValues.push(p.constValues[i]!);
  }
  return rebuild(p, { consts, constValues, equations: kept });
}
