import { it, expect } from "vitest";
import { jit, np, grad, type Tensor } from "../src/index.js";
import { rand } from "./util/check.js";
it("jit probe", () => {
  const f = (x: Tensor) => np.sum(np.multiply(np.index(x, [np.s(1, null)]), np.index(x, [np.s(null, -1)])));
  const j = jit(f, { shapes: [["B", 3]], constraints: ["B >= 2"] });
  for (const B of [2, 5, 9]) { const x = rand([B, 3], B); console.log(B, (j(x) as Tensor).data[0], (f(x) as Tensor).data[0]); }
  console.log(j.cacheInfo());
  try { j(rand([1, 3], 1)); } catch (e) { console.log((e as Error).message); }
  try { jit(f, { shapes: [["B", 3]] })(rand([3,3],1)); console.log("no-constraint ok?", ); } catch (e) { console.log((e as Error).message.slice(0, 300)); }
  const g = jit(grad(f), { shapes: [["B", 3]], constraints: ["B >= 2"] });
  for (const B of [2, 5]) { const x = rand([B, 3], B); console.log(Array.from((g(x) as Tensor).data).slice(0,3), Array.from((grad(f)(x) as Tensor).data).slice(0,3)); }
});
