// The fuzzer reference's weak-type rules for control flow (FINDINGS F13), as adgen and JAX apply
// them: a lax.cond result has the join of its branches' dtypes (a weak branch result converted to
// it once, at the branch output), and a loop's weak initial carry (a JS number) is traced as
// float32 and takes float64, exactly, when the body gives float64.

import { type Ctx, type RDT, type RT, dtOf, promoteRT } from "./ref.js";

/** A weak value converted to a strong dtype (once: a JS number's exact value rounded at most to float32). */
export function strongAs(a: RT, dt: RDT): RT {
  if (!a.weak || dt === "weak") return a;
  return { ...a, weak: false, f32: dt === "f32", v: dt === "f32" ? a.v.map(Math.fround) : a.v };
}

/** The dtype `f` gives, evaluated for its type only (its kinks, ill-conditions and errors dropped). */
function typeOf(ctx: Ctx, f: () => RT): RDT | undefined {
  const { kink, ill } = ctx;
  try {
    return dtOf(f());
  } catch {
    return undefined;
  } finally {
    ctx.kink = kink;
    ctx.ill = ill;
  }
}

/** The taken branch's result `r` at the join of its dtype and the other branch's. */
export function joinBranches(ctx: Ctx, r: RT, other: () => RT): RT {
  const o = typeOf(ctx, other);
  return o === undefined ? r : strongAs(r, promoteRT([r, { weak: o === "weak", f32: o === "f32" } as RT]));
}

/** A loop's initial carry, typed by the rule above (`body` gives the body's result for a carry). */
export function carryInit(ctx: Ctx, init: RT, body: (c: RT) => RT): RT {
  if (!init.weak) return init;
  const as32 = strongAs(init, "f32");
  return typeOf(ctx, () => body(as32)) === "f64" ? strongAs(init, "f64") : as32;
}
