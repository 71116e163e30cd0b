// The per-primitive lowering table (src/lower/rules.ts): it covers exactly the registered
// primitives (a missing row is already a compile error through the mapped type over PrimName;
// this checks PrimName against the registry in both directions), fuse.ts dispatches on rule
// kinds only (no case for a primitive name), and every elementwise primitive's scalar op has
// syntax on both code generators.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { primitives } from "../src/higher-order/registry.js";
import { LOWER_RULES, exprCost } from "../src/lower/rules.js";
import { jsScalarOp } from "../src/backends/js/scalar.js";

describe("lowering rule table", () => {
  it("has one row per registered primitive, and no other", () => {
    expect(Object.keys(LOWER_RULES).sort()).toEqual([...primitives.keys()].sort());
  });

  it("fuse.ts names no primitive", () => {
    const src = readFileSync(new URL("../src/lower/fuse.ts", import.meta.url), "utf8");
    for (const name of primitives.keys()) expect(src, name).not.toMatch(new RegExp(`["'\`]${name}["'\`]`));
  });

  it("a primitive is lowered to a fused scalar op exactly when it is elementwise", () => {
    const elementwise = [...primitives.values()].filter((p) => p.traits.elementwise).map((p) => p.name).sort();
    const rows = Object.entries(LOWER_RULES).filter(([, r]) => r.kind === "elementwise").map(([n]) => n).sort();
    expect(rows).toEqual(elementwise);
  });

  it("every elementwise row's scalar op has JS syntax", () => {
    for (const [name, rule] of Object.entries(LOWER_RULES)) {
      if (rule.kind !== "elementwise" || name === "stop_gradient" || name === "checkpoint_name") continue; // "id" rows: fuse forwards the operand
      const params = name === "compare" ? { op: "lt" } : name === "logical" ? { op: "and" } : name === "convert_element_type" ? { dtype: "int32" } : {};
      const op = rule.op({ prim: primitives.get(name)!, params } as never);
      expect(() => jsScalarOp(op, ["a", "b", "c"], "float64", ["float64", "float64", "float64"]), name).not.toThrow();
    }
  });

  it("costs transcendental ops more than arithmetic (the fusion heuristic's weights)", () => {
    const x = { k: "const", value: 1, dtype: "float64" } as const;
    expect(exprCost({ k: "op", op: "exp", args: [x], dtype: "float64" })).toBe(8);
    expect(exprCost({ k: "op", op: "add", args: [x, x], dtype: "float64" })).toBe(1);
    expect(exprCost({ k: "op", op: "cmp:lt", args: [x, x], dtype: "bool" })).toBe(1);
  });
});
