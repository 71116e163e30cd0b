// Specification of the nn namespace: activation values, numerical stability of the softmax
// family (logsumexp's gradient is exactly softmax), exact GELU through the erf primitive (values
// against high-precision references), float64 gradient checks, vmap, and typed errors.

import { describe, expect, it } from "vitest";
import { Tensor, grad, np, vmap } from "../src/index.js";
import * as nn from "../src/api/nn.js";
import { erfScalar, erfcScalar } from "../src/prims/special.js";
import { assertClose, checkGradients, rand, tensor } from "./util/check.js";

const f64 = (data: number[], shape = [data.length]) => tensor(data, shape, "float64");

// reference values from mpmath at 30 digits: [x, erf(x), x * Phi(x)]
const ERF_REF: [number, number, number][] = [
  [-3.5, -0.99999925690162765859, -0.00081420177662433762722],
  [-1.2, -0.91031397822963536837, -0.13808360426604992686],
  [-0.3, -0.32862675945912741619, -0.11462657334331420584],
  [0, 0, 0],
  [1e-10, 1.128379167095512615e-10, 5.0000000003989424626e-11],
  [0.25, 0.27632639016823693299, 0.14967658142073093106],
  [0.5, 0.52049987781304653768, 0.34573123063700655182],
  [0.9, 0.79690821242283213966, 0.73434588718791648374],
  [2, 0.99532226501895273416, 1.9544997361036415856],
  [4.5, 0.99999999980338395585, 4.4999847104709387147],
  [6, 0.99999999999999997848, 5.9999999940804741298],
];

describe("activations", () => {
  it("relu: values, and derivative 0 at 0 (as JAX)", () => {
    expect(nn.relu(np.array([-1, 0, 2])).toArray()).toEqual([0, 0, 2]);
    expect(nn.relu(np.array([-1, 3], { dtype: "int32" })).dtype).toBe("int32");
    const g = grad((x: Tensor) => np.sum(nn.relu(x)))(f64([-1, 0, 2])) as Tensor;
    expect(g.toArray()).toEqual([0, 0, 1]);
    expect(nn.relu6(np.array([-1, 3, 9])).toArray()).toEqual([0, 3, 6]);
  });
  it("sigmoid, softplus, silu, leakyRelu, elu values", () => {
    const x = f64([-30, -1, 0, 1, 800]);
    assertClose(nn.sigmoid(x).data, [1 / (1 + Math.exp(30)), 1 / (1 + Math.E), 0.5, 1 / (1 + Math.exp(-1)), 1]);
    assertClose(nn.softplus(x).data, [Math.log1p(Math.exp(-30)), Math.log1p(Math.exp(-1)), Math.LN2, Math.log1p(Math.E), 800]);
    assertClose(nn.logSigmoid(f64([-800])).data, [-800]);
    assertClose(nn.silu(f64([2])).data, [2 / (1 + Math.exp(-2))]);
    assertClose(nn.leakyRelu(f64([-2, 3]), 0.1).data, [-0.2, 3]);
    assertClose(nn.elu(f64([-1, 2, -1000])).data, [Math.expm1(-1), 2, -1]);
    assertClose(nn.tanh(f64([0.5])).data, [Math.tanh(0.5)]);
  });
  it("gradients (float64)", () => {
    const x = rand([2, 3], 1, -2, 2);
    for (const f of [nn.sigmoid, nn.tanh, nn.softplus, nn.silu, nn.logSigmoid, (v: Tensor) => nn.leakyRelu(v, 0.2), (v: Tensor) => nn.elu(v)]) {
      checkGradients(f, [x]);
    }
  });
});

describe("gelu and erf", () => {
  it("erf matches high-precision references to within 2 ulp", () => {
    for (const [x, e] of ERF_REF) {
      const got = erfScalar(x);
      expect(Math.abs(got - e)).toBeLessThanOrEqual(4e-16 * Math.abs(e));
    }
    expect(erfcScalar(10)).toBeCloseTo(2.088487583762545e-45, 58);
    expect(Number.isNaN(erfScalar(NaN))).toBe(true);
    expect(erfScalar(Infinity)).toBe(1);
    assertClose(np.erf(f64(ERF_REF.map((r) => r[0]))).data, ERF_REF.map((r) => r[1]), { rtol: 1e-15, atol: 0 });
  });
  it("exact gelu is x * Phi(x) (computed as JAX does: x (1 + erf(x / sqrt 2)) / 2)", () => {
    const xs = f64(ERF_REF.map((r) => r[0]));
    assertClose(nn.gelu(xs, { approximate: false }).data, ERF_REF.map((r) => r[2]), { rtol: 1e-14, atol: 1e-16 });
  });
  it("approximate gelu is the tanh formula and close to the exact one", () => {
    const x = rand([20], 3, -4, 4);
    const ref = Array.from(x.data, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    assertClose(nn.gelu(x).data, ref, { rtol: 1e-12 });
    assertClose(nn.gelu(x).data, nn.gelu(x, { approximate: false }).data, { rtol: 0, atol: 1e-3 });
  });
  it("gradients (float64), incl. erf's derivative 2/sqrt(pi) exp(-x^2)", () => {
    const x = rand([7], 4, -3, 3);
    checkGradients((v) => np.erf(v), [x]);
    checkGradients((v) => nn.gelu(v), [x]);
    checkGradients((v) => nn.gelu(v, { approximate: false }), [x]);
    const g = grad((v: Tensor) => np.sum(np.erf(v)))(f64([0, 1])) as Tensor;
    assertClose(g.data, [2 / Math.sqrt(Math.PI), (2 / Math.sqrt(Math.PI)) * Math.exp(-1)], { rtol: 1e-15 });
  });
});

describe("softmax family", () => {
  const naiveSoftmax = (row: number[]) => {
    const e = row.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  it("softmax over the last axis by default; any axis on request", () => {
    const x = f64([1, 2, 3, 0, 0, 0], [2, 3]);
    assertClose(nn.softmax(x).data, [...naiveSoftmax([1, 2, 3]), 1 / 3, 1 / 3, 1 / 3], { rtol: 1e-15 });
    const s0 = nn.softmax(x, { axis: 0 });
    assertClose(np.sum(s0, { axis: 0 }).data, [1, 1, 1], { rtol: 1e-15 });
    assertClose(np.sum(nn.softmax(x, { axis: [0, 1] })).data, [1], { rtol: 1e-15 });
  });
  it("is stable for huge logits and handles -inf", () => {
    const big = f64([1000, 1001, -Infinity]);
    assertClose(nn.softmax(big).data, [...naiveSoftmax([0, 1]), 0], { rtol: 1e-14 });
    assertClose(nn.logSoftmax(big).data, [Math.log(naiveSoftmax([0, 1])[0]!), Math.log(naiveSoftmax([0, 1])[1]!), -Infinity], { rtol: 1e-14 });
    assertClose(nn.logsumexp(big).data, [1001 + Math.log1p(Math.exp(-1))], { rtol: 1e-15 });
    expect(nn.logsumexp(f64([-Infinity, -Infinity])).item()).toBe(-Infinity);
  });
  it("logsumexp options: axis and keepdims", () => {
    const x = f64([0, Math.log(3), 1, 1], [2, 2]);
    assertClose(nn.logsumexp(x, { axis: 1 }).data, [Math.log(4), 1 + Math.LN2], { rtol: 1e-15 });
    expect(nn.logsumexp(x, { axis: 0, keepdims: true }).shape).toEqual([1, 2]);
    expect(nn.logsumexp(x).shape).toEqual([]);
  });
  it("logSoftmax = log(softmax)", () => {
    const x = rand([3, 4], 5, -3, 3);
    assertClose(nn.logSoftmax(x).data, np.log(nn.softmax(x)).data, { rtol: 1e-14 });
  });
  it("the gradient of logsumexp is exactly softmax", () => {
    const x = rand([2, 5], 6, -50, 50);
    const g = grad((v: Tensor) => np.sum(nn.logsumexp(v, { axis: 1 })))(x) as Tensor;
    assertClose(g.data, nn.softmax(x).data, { rtol: 1e-15, atol: 0 });
  });
  it("gradients (float64)", () => {
    const x = rand([2, 4], 7, -3, 3);
    checkGradients((v) => nn.softmax(v), [x]);
    checkGradients((v) => nn.softmax(v, { axis: 0 }), [x]);
    checkGradients((v) => nn.logSoftmax(v), [x]);
    checkGradients((v) => nn.logsumexp(v), [x]);
    checkGradients((v) => nn.logsumexp(v, { axis: 0, keepdims: true }), [x]);
  });
  it("bad axes name the function", () => {
    const x = rand([2, 3], 11);
    expect(() => nn.softmax(x, { axis: 2 })).toThrow(/softmax: axis 2 is out of range for an array of rank 2/);
    expect(() => nn.logsumexp(x, { axis: [0, 0] })).toThrow(/logsumexp: repeated axis/);
    expect(() => nn.logSoftmax(x, { axis: -3 })).toThrow(/logSoftmax: axis -3/);
  });
  it("vmap of softmax equals a loop", () => {
    const xb = rand([3, 4], 8);
    const got = vmap((v: Tensor) => nn.softmax(v))(xb) as Tensor;
    assertClose(got.data, nn.softmax(xb, { axis: 1 }).data, { rtol: 1e-15 });
  });
});

describe("oneHot and losses", () => {
  it("oneHot: float32 rows, zeros for out-of-range labels, axis option", () => {
    const h = nn.oneHot(np.array([0, 2, 5], { dtype: "int32" }), 3);
    expect(h.dtype).toBe("float32");
    expect(h.toArray()).toEqual([[1, 0, 0], [0, 0, 1], [0, 0, 0]]);
    expect(nn.oneHot([1], 2, { dtype: "int32", axis: 0 }).toArray()).toEqual([[0], [1]]);
    expect(() => nn.oneHot([1], -2)).toThrow(/oneHot: numClasses must be an integer >= 0/);
  });
  it("cross-entropy helpers agree with each other and with the definition", () => {
    const logits = rand([3, 4], 9, -2, 2);
    const labels = np.array([3, 0, 1], { dtype: "int32" });
    const a = nn.softmaxCrossEntropyWithIntegerLabels(logits, labels);
    const b = nn.softmaxCrossEntropy(logits, nn.oneHot(labels, 4, { dtype: "float64" }));
    assertClose(a.data, b.data, { rtol: 1e-14 });
    const lp = nn.logSoftmax(logits).toArray() as number[][];
    assertClose(a.data, [-lp[0]![3]!, -lp[1]![0]!, -lp[2]![1]!], { rtol: 1e-14 });
    checkGradients((l) => nn.softmaxCrossEntropyWithIntegerLabels(l, labels), [logits]);
    const y = f64([0, 1, 1]);
    const bce = nn.sigmoidBinaryCrossEntropy(f64([-1, 2, 50]), y);
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    assertClose(bce.data, [-Math.log(1 - s(-1)), -Math.log(s(2)), Math.log1p(Math.exp(-50))], { rtol: 1e-12 });
    expect(() => nn.softmaxCrossEntropyWithIntegerLabels(logits, np.array([1], { dtype: "int32" }))).toThrow(
      /softmaxCrossEntropyWithIntegerLabels: labels i32\[1\] must have the shape of logits f64\[3,4\] without axis 1/,
    );
  });
  it("standardize has zero mean and unit variance", () => {
    const x = rand([2, 6], 10, -3, 3);
    const z = nn.standardize(x, { eps: 0 });
    assertClose(np.mean(z, { axis: -1 }).data, [0, 0], { atol: 1e-14 });
    assertClose(np.var(z, { axis: -1 }).data, [1, 1], { rtol: 1e-12 });
    checkGradients((v) => nn.standardize(v), [x]);
  });
});
