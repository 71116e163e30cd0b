// Structural equality of two closed programs without serializing them: the fast guard of the
// captured paths (capture-grad.ts), which compare the program a call just recorded with the one
// the same code recorded last time before falling back to the canonical text (programText, the
// cache key). Equal here implies equal program text (primitives, parameters, input avals, wiring;
// output avals follow from those); a false "different" only costs the text lookup.

import { ShapedArray } from "../core/aval.js";
import { SymDim } from "../core/shape.js";
import { type Atom, Literal, type Program, Var } from "../ir/program.js";

/** True when `a` and `b` compute the same thing on the same kinds of inputs. */
export function sameStructure(a: Program, b: Program): boolean {
  if (a === b) return true;
  if (
    a.inputs.length !== b.inputs.length ||
    a.equations.length !== b.equations.length ||
    a.outputs.length !== b.outputs.length ||
    a.consts.length !== 0 ||
    b.consts.length !== 0
  ) {
    return false;
  }
  // each variable of `a` maps to its definition index; the same index must define `b`'s
  const ids = new Map<Var, number>();
  const idsB = new Map<Var, number>();
  let n = 0;
  for (let i = 0; i < a.inputs.length; i++) {
    if (!sameAval(a.inputs[i]!.aval, b.inputs[i]!.aval)) return false;
    ids.set(a.inputs[i]!, n);
    idsB.set(b.inputs[i]!, n++);
  }
  const sameAtom = (x: Atom, y: Atom): boolean => {
    if (x instanceof Var) return y instanceof Var && ids.get(x) === idsB.get(y) && ids.get(x) !== undefined;
    return y instanceof Literal && Object.is(x.value, y.value) && sameAval(x.aval, y.aval);
  };
  for (let i = 0; i < a.equations.length; i++) {
    const e = a.equations[i]!;
    const f = b.equations[i]!;
    if (e.prim !== f.prim || e.inputs.length !== f.inputs.length || e.outs.length !== f.outs.length) return false;
    for (let k = 0; k < e.inputs.length; k++) if (!sameAtom(e.inputs[k]!, f.inputs[k]!)) return false;
    if (!sameParam(e.params, f.params)) return false;
    for (let k = 0; k < e.outs.length; k++) {
      ids.set(e.outs[k]!, n);
      idsB.set(f.outs[k]!, n++);
    }
  }
  for (let i = 0; i < a.outputs.length; i++) if (!sameAtom(a.outputs[i]!, b.outputs[i]!)) return false;
  return true;
}

function sameAval(x: ShapedArray, y: ShapedArray): boolean {
  if (x === y) return true;
  if (x.dtype !== y.dtype || x.weak !== y.weak || x.shape.length !== y.shape.length) return false;
  for (let i = 0; i < x.shape.length; i++) if (!sameParam(x.shape[i], y.shape[i])) return false;
  return true;
}

/** Parameter values as the program text compares them; anything unusual is "different" (the text decides). */
function sameParam(x: unknown, y: unknown): boolean {
  if (typeof x === "number") return typeof y === "number" && Object.is(x, y);
  if (x === y) return true;
  if (x === null || y === null || typeof x !== "object" || typeof y !== "object") return false;
  if (Array.isArray(x)) {
    if (!Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameParam(x[i], y[i])) return false;
    return true;
  }
  if (x instanceof ShapedArray) return y instanceof ShapedArray && sameAval(x, y);
  if (x instanceof SymDim) return y instanceof SymDim && x.toString() === y.toString();
  const px = Object.getPrototypeOf(x);
  if ((px !== Object.prototype && px !== null) || Object.getPrototypeOf(y) !== px) return false; // Programs: by identity (above)
  // the keys whose value is defined, on both sides (plain loops: this runs for every parameter
  // object of every equation on each flush of a steady-state loop, so it allocates no key lists)
  const ox = x as Record<string, unknown>;
  const oy = y as Record<string, unknown>;
  let nx = 0;
  for (const k in ox) {
    if (!Object.hasOwn(ox, k) || ox[k] === undefined) continue;
    nx++;
    if (!Object.hasOwn(oy, k) || !sameParam(ox[k], oy[k])) return false;
  }
  let ny = 0;
  for (const k in oy) if (Object.hasOwn(oy, k) && oy[k] !== undefined) ny++;
  return nx === ny;
}
