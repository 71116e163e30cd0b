// Issue 14 item 1: checkpoint policies and names. Every policy on an MLP and on a 16-layer
// residual network: the values it saves (read from the one residual report, jit's
// `.lower().residuals()`), and gradients bit for bit equal to plain grad (the recomputation runs
// the same operations on the same values), plus central differences in float64.

import { describe, expect, it } from "vitest";
import { ArgumentError, type Tensor, checkpoint, checkpointName, checkpointPolicies as P, grad, jit, np } from "../src/index.js";
import type { CheckpointPolicy } from "../src/index.js";
import { checkGradients, rand } from "./util/check.js";

const LAYERS = 16;
const Ws = Array.from({ length: LAYERS }, (_, i) => np.multiply(rand([3, 3], 100 + i), 0.5));
const x = rand([2, 3], 7);

/** h <- h + tanh(name(h @ W_i, "l<i>")), loss = sum(h^2) */
const resnet = (ws: Tensor[], x0: Tensor) => {
  let h = x0;
  ws.forEach((w, i) => {
    h = np.add(h, np.tanh(checkpointName(np.matmul(h, w), `l${i}`)));
  });
  return np.sum(np.square(h));
};

type MlpParams = { W1: Tensor; W2: Tensor };
const mlp = (p: MlpParams, x0: Tensor) => np.sum(np.square(np.matmul(np.tanh(checkpointName(np.matmul(x0, p.W1), "pre")), p.W2)));
const mp: MlpParams = { W1: rand([3, 4], 11), W2: rand([4, 2], 12) };

const policies: [string, CheckpointPolicy][] = [
  ["nothingSaveable", "nothingSaveable"],
  ["everythingSaveable", "everythingSaveable"],
  ["dotsSaveable", P.dotsSaveable],
  ["dotsWithNoBatchDimsSaveable", P.dotsWithNoBatchDimsSaveable],
  ["saveOnlyTheseNames", P.saveOnlyTheseNames(["l3", "l7", "pre"])],
  ["saveAnyNamesBut", P.saveAnyNamesBut(["l0"])],
  ["predicate", P.saveable((prim) => prim === "tanh")],
];

/** The non-input residuals of jit(grad(f)): their producing primitives (inside the checkpoint). */
function savedPrims(f: (...a: any[]) => Tensor, ...args: unknown[]): string[] {
  const r = jit(grad(f, { argnums: [0, 1] })).lower(...args).residuals();
  return r.filter((q) => !q.producedBy.startsWith("input")).map((q) => q.producedBy.split(" ")[0]!);
}
const totalBytes = (f: (...a: any[]) => Tensor, ...args: unknown[]) =>
  jit(grad(f, { argnums: [0, 1] })).lower(...args).residuals().reduce((s, q) => s + (q.bytes as number), 0);

const count = (xs: string[], v: string) => xs.filter((s) => s === v).length;

describe("issue 14 item 1: checkpoint policies and checkpointName", () => {
  const expectedResnet: Record<string, (s: string[]) => void> = {
    nothingSaveable: (s) => expect(s).toEqual([]),
    everythingSaveable: () => expect(totalBytes(checkpoint(resnet, { policy: "everythingSaveable" }), Ws, x)).toBe(totalBytes(resnet, Ws, x)),
    dotsSaveable: (s) => expect(s).toEqual(Array(LAYERS).fill("dot_general")),
    dotsWithNoBatchDimsSaveable: (s) => expect(s).toEqual(Array(LAYERS).fill("dot_general")),
    saveOnlyTheseNames: (s) => expect(s).toEqual(["checkpoint_name", "checkpoint_name"]),
    saveAnyNamesBut: (s) => expect(s).toEqual(Array(LAYERS - 1).fill("checkpoint_name")),
    predicate: (s) => expect(s).toEqual(Array(LAYERS).fill("tanh")),
  };

  for (const [name, policy] of policies) {
    it(`${name}: saved set on a 16-layer residual network; gradients bit for bit equal to plain grad`, () => {
      const f = checkpoint(resnet, { policy });
      expectedResnet[name]!(savedPrims(f, Ws, x));
      const [gw, gx] = grad(f, { argnums: [0, 1] })(Ws, x) as [Tensor[], Tensor];
      const [rw, rx] = grad(resnet, { argnums: [0, 1] })(Ws, x) as [Tensor[], Tensor];
      expect(Array.from(gx.data)).toEqual(Array.from(rx.data));
      gw.forEach((g, i) => expect(Array.from(g.data)).toEqual(Array.from(rw[i]!.data)));
      // compiled: same ops up to fusion, float64 within 1e-12
      const [jw] = jit(grad(f, { argnums: [0, 1] }))(Ws, x) as [Tensor[], Tensor];
      jw.forEach((g, i) => g.data.forEach((v, k) => expect(Math.abs(v - rw[i]!.data[k]!)).toBeLessThan(1e-12)));
    });

    it(`${name}: MLP gradients equal plain grad and central differences`, () => {
      const f = checkpoint(mlp, { policy });
      const g = grad(f)(mp, x) as MlpParams;
      const r = grad(mlp)(mp, x) as MlpParams;
      expect(Array.from(g.W1.data)).toEqual(Array.from(r.W1.data));
      expect(Array.from(g.W2.data)).toEqual(Array.from(r.W2.data));
      checkGradients((w1: Tensor, w2: Tensor, xx: Tensor) => f({ W1: w1, W2: w2 }, xx), [mp.W1, mp.W2, x]);
    });
  }

  it("MLP saved sets: dots save both products, names save the named one, nothing saves no intermediate", () => {
    const saved = (policy: CheckpointPolicy) => savedPrims(checkpoint(mlp, { policy }), mp, x);
    expect(saved("nothingSaveable")).toEqual([]);
    expect(count(saved("dotsSaveable"), "dot_general")).toBe(saved("dotsSaveable").length);
    expect(saved(P.saveOnlyTheseNames(["pre"]))).toEqual(["checkpoint_name"]);
    expect(saved(P.saveAnyNamesBut(["pre"]))).toEqual([]);
  });

  it("dotsWithNoBatchDimsSaveable saves no batched product; dotsSaveable does", () => {
    const A = rand([2, 3, 3], 21);
    const B = rand([2, 3, 3], 22);
    const f = (a: Tensor, b: Tensor) => np.sum(np.sin(np.matmul(a, b)));
    expect(savedPrims(checkpoint(f, { policy: P.dotsWithNoBatchDimsSaveable }), A, B)).toEqual([]);
    expect(savedPrims(checkpoint(f, { policy: P.dotsSaveable }), A, B)).toEqual(["dot_general"]);
    expect(Array.from((grad(checkpoint(f, { policy: P.dotsSaveable }))(A, B) as Tensor).data)).toEqual(Array.from((grad(f)(A, B) as Tensor).data));
  });

  it("the residual report names the producer inside the checkpoint and the policy", () => {
    const r = jit(grad(checkpoint(mlp, { policy: P.saveOnlyTheseNames(["pre"]) }))).lower(mp, x).residuals();
    expect(r.map((q) => q.producedBy)).toContainEqual(expect.stringMatching(/^checkpoint_name at test\/checkpoint-policies\.test\.ts:\d+:\d+, saved by checkpoint.* \(saveOnlyTheseNames\)$/));
  });

  it("second derivatives through a policy checkpoint match plain", () => {
    const f = (v: Tensor) => np.sum(np.sin(checkpointName(np.multiply(v, v), "sq")));
    const h = grad((v: Tensor) => np.sum(grad(checkpoint(f, { policy: P.saveOnlyTheseNames(["sq"]) }))(v) as Tensor));
    const r = grad((v: Tensor) => np.sum(grad(f)(v) as Tensor));
    expect(Array.from((h(x.reshape([6])) as Tensor).data)).toEqual(Array.from((r(x.reshape([6])) as Tensor).data));
  });

  it("checkpointName is the identity outside checkpoint, under vmap and jit", () => {
    expect(Array.from((checkpointName(x, "a") as Tensor).data)).toEqual(Array.from(x.data));
    expect(Array.from((jit((v: Tensor) => np.multiply(checkpointName(v, "a"), 2))(x) as Tensor).data)).toEqual(Array.from(np.multiply(x, 2).data));
  });

  it("bad policies and names are ArgumentErrors", () => {
    expect(() => checkpoint(mlp, { policy: "dotSaveable" as never })).toThrow(ArgumentError);
    expect(() => checkpoint(mlp, { policy: { saveOnlyTheseNames: "a" } as never })).toThrow(/list of names/);
    expect(() => checkpointName(x, "")).toThrow(ArgumentError);
  });
});
