// JVP of a primitive that is linear in all of its inputs: the tangent map is the primitive itself
// applied to the tangents (symbolic zeros are materialized only when some tangent is non-zero).

import type { JvpRule, Primitive } from "./primitive.js";
import { zerosLike } from "./rule-helpers.js";
import { Zero, isZero } from "../rules/zero.js";

export function linearJvp<P>(prim: () => Primitive<P>): JvpRule<P> {
  return (primals, tangents, params) => {
    const p = prim();
    const outs = p.bind(primals, params);
    if (tangents.every(isZero)) return [outs, outs.map((o) => new Zero(o.aval.strong()))];
    const ts = tangents.map((t) => (isZero(t) ? zerosLike(t.aval) : t));
    return [outs, p.bind(ts, params)];
  };
}
