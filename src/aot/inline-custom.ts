// Exported programs are final: no transformation will ask for a custom derivative rule again, so
// custom_jvp_call / custom_vjp_call equations (np.linalg's closed-form rules, user customJvp /
// customVjp) are replaced by the programs they call. Their rules are JS closures, which an IR
// hash or a written module cannot hold; the values computed are the same.

import type { Tensor } from "../core/tensor.js";
import { type Atom, Literal, type Program, type Var, subPrograms } from "../ir/program.js";
import { mapSubPrograms } from "../passes/rewrite.js";
import { scalar } from "../rules/scalar.js";
import { traceFlat } from "../trace/make-program.js";
import { withSource } from "../core/source.js";

const CUSTOM_CALLS = new Set(["custom_jvp_call", "custom_vjp_call"]);

function hasCustomCall(p: Program): boolean {
  return p.equations.some((e) => CUSTOM_CALLS.has(e.prim.name) || subPrograms(e).some(hasCustomCall));
}

function run(p: Program, args: Tensor[]): Tensor[] {
  const env = new Map<Var, Tensor>();
  p.consts.forEach((v, i) => env.set(v, p.constValues[i]!));
  p.inputs.forEach((v, i) => env.set(v, args[i]!));
  const read = (a: Atom): Tensor => (a instanceof Literal ? scalar(a.value, a.aval.dtype, a.aval.weak) : env.get(a)!);
  for (const e of p.equations) {
    const ins = e.inputs.map(read);
    const outs = withSource(e.source, () => {
      if (CUSTOM_CALLS.has(e.prim.name)) return run((e.params as { program: Program }).program, ins);
      const inner = mapSubPrograms(e, inlineCustomCalls);
      return inner.prim.bind(ins, inner.params);
    });
    e.outs.forEach((o, i) => env.set(o, outs[i]!));
  }
  return p.outputs.map(read);
}

/** p with every custom-rule call (also inside loop and branch bodies) replaced by its program. */
export function inlineCustomCalls(p: Program): Program {
  if (!hasCustomCall(p)) return p;
  return traceFlat((xs) => run(p, xs), p.inputs.map((v) => v.aval), "export").program;
}
