// Drives the per-primitive table: for every row, in float64,
//   1. JVP against central differences, and VJP against JVP by the dot-product identity;
//   2. second order: forward-over-reverse and reverse-over-reverse of a scalarized row;
//   3. vmap equals a loop of calls (all inputs batched, and only the first);
//   4. the eager tape gives the same gradient as grad;
//   5. the interpreter running the traced Program equals eager evaluation.
// Every registered primitive must have at least one row.

import { describe, expect, it } from "vitest";
import { Tensor, grad, makeProgram, np, variable, vmap } from "../src/index.js";
import { interpret } from "../src/backends/interp/interpret.js";
import { primitives } from "../src/higher-order/registry.js";
import { reshape, concatenate } from "../src/prims/shape.js";
import { ROWS, type Row, type ArgSpec } from "./prims.table.js";
import { assertClose, checkGradients, rand, tensor } from "./util/check.js";

function makeArgs(specs: ArgSpec[], seed: number): Tensor[] {
  return specs.map((a, i) => {
    const t = rand(a.shape, seed * 101 + i, a.lo ?? -1, a.hi ?? 1);
    if (a.dtype === "int32") return tensor(Array.from(t.data, Math.floor), a.shape, "int32");
    return t;
  });
}

const title = (row: Row) => `${row.prim}${row.variant ? ` (${row.variant})` : ""}`;

/** A scalar function of the row: sum(fn(xs) * w) with fixed random weights w. */
function scalarized(row: Row, seed: number): (...xs: Tensor[]) => Tensor {
  let w: Tensor | null = null;
  return (...xs) => {
    const y = row.fn(...xs);
    w ??= rand(y.shape, seed + 7);
    return np.sum(np.multiply(y, w));
  };
}

function stack(ts: Tensor[]): Tensor {
  return concatenate(ts.map((t) => reshape(t, [1, ...t.shape])), 0);
}

describe("primitive table", () => {
  it("covers every registered primitive", () => {
    const covered = new Set(ROWS.map((r) => r.prim));
    // while_lin is the tangent half of a differentiated while loop: it is exercised (and only
    // reachable) through the gradient checks of the "while" row
    // (and custom_lin, the tangent map of custom_vjp_call, through the "custom_vjp_call" row;
    // index_check only appears in compiled kernel lists: test/regress-codegen.test.ts)
    const internal = new Set(["while_lin", "custom_lin", "index_check"]);
    const missing = [...primitives.keys()].filter((p) => !covered.has(p) && !internal.has(p));
    expect(missing).toEqual([]);
  });

  for (const row of ROWS) {
    describe(title(row), () => {
      const xs = makeArgs(row.args, 1);

      if (!row.nondiff) {
        it("jvp matches central differences; vjp matches jvp", () => {
          // rows that round through float32 only satisfy the identity to float32 precision
          checkGradients(row.fn, xs, { rtol: row.rtol, eps: row.eps, dotRtol: row.eps ? 1e-6 : undefined, reverseOnly: row.reverseOnly });
        });

        it.skipIf(!!row.firstOrderOnly)("second order: jvp and vjp of grad", () => {
          const g = scalarized(row, 3);
          const gradFirst = (...a: Tensor[]) => grad(g, { argnums: 0 })(...a) as Tensor;
          checkGradients(gradFirst, xs, { rtol: row.rtol ?? 1e-4, atol: 1e-6 });
        });

        it("eager tape equals grad", () => {
          const g = scalarized(row, 5);
          const vars = xs.map((x) => variable(x));
          g(...vars).backward();
          const expected = grad(g, { argnums: xs.map((_, i) => i) })(...xs) as Tensor[];
          // a leaf that no differentiable path reaches keeps grad === null (as in PyTorch)
          vars.forEach((v, i) => {
            const got = v.grad ? v.grad.data : new Float64Array(expected[i]!.size);
            assertClose(got, expected[i]!.data, { rtol: 1e-12, atol: 1e-14, what: `arg ${i}` });
          });
        });
      } else {
        it("has a zero derivative", () => {
          const g = scalarized(row, 3);
          const wrapped = (...a: Tensor[]) => {
            const y = g(...a);
            return y.dtype === "bool" || y.dtype === "int32" ? np.sum(y.astype("float64")) : y;
          };
          const gs = grad(wrapped, { argnums: xs.map((_, i) => i) })(...xs) as Tensor[];
          for (const gi of gs) expect(Array.from(gi.data).every((v) => v === 0)).toBe(true);
        });
      }

      it("vmap equals a loop of calls", () => {
        const examples = [1, 2, 3].map((seed) => makeArgs(row.args, seed + 10));
        const perExample = examples.map((a) => row.fn(...a));
        const batched = row.args.map((_, i) => stack(examples.map((e) => e[i]!)));
        const all = vmap(row.fn)(...batched) as Tensor;
        assertClose(all.data, stack(perExample).data, { rtol: 0, atol: 0, what: "all inputs batched" });
        // only the first input batched; the others shared
        const shared = examples[0]!;
        const firstOnly = vmap(row.fn, { inAxes: row.args.map((_, i) => (i === 0 ? 0 : null)) })(
          batched[0]!,
          ...shared.slice(1),
        ) as Tensor;
        const loop = examples.map((e) => row.fn(e[0]!, ...shared.slice(1)));
        assertClose(firstOnly.data, stack(loop).data, { rtol: 0, atol: 0, what: "first input batched" });
      });

      it("the interpreter running the traced program equals eager evaluation", () => {
        const program = makeProgram(row.fn)(...xs);
        const [out] = interpret(program, xs);
        const eager = row.fn(...xs);
        expect(out!.shape).toEqual(eager.shape);
        assertClose(out!.data, eager.data, { rtol: 0, atol: 0 });
      });
    });
  }
});
