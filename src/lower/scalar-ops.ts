// Which equations lower to a scalar operation inside a fused loop, and under what op name.
// Op names are backend-neutral ("exp", "add", "cmp:lt", "convert:float32", ...); each backend
// maps them to its own syntax.

import type { Equation } from "../ir/program.js";
import { BINARY } from "../prims/binary.js";
import { UNARY } from "../prims/unary.js";

/** The scalar op of an elementwise equation, "id" for identities, or null if not elementwise. */
export function scalarOpName(e: Equation): string | null {
  const n = e.prim.name;
  if (n in UNARY || n in BINARY) return n;
  switch (n) {
    case "neg":
    case "not":
    case "select":
    case "erf":
      return n;
    case "stop_gradient":
      return "id";
    case "convert_element_type":
      return `convert:${e.params.dtype}`;
    case "compare":
      return `cmp:${e.params.op}`;
    case "logical":
      return `logical:${e.params.op}`;
    default:
      return null;
  }
}
