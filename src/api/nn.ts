// The `nn` namespace: activation functions, softmax family and losses, as composites of np
// functions (DESIGN principle 2: no primitives of their own; exact GELU uses the erf primitive).
// The softmax family subtracts a stop-gradient maximum for numerical stability, so the gradient
// of logsumexp is exactly softmax and no derivative flows through the shift.

import { shapeEq } from "../core/shape.js";
import { ArgumentError } from "../core/errors.js";
import type { Axis, Tensor } from "../core/tensor.js";
import { stopGradient } from "../prims/unary.js";
import * as np from "./np/index.js";
import { type ArrayInput, asTensor, promote } from "./np/coerce.js";
import { intArg, dtypeArg } from "./np/args.js";
import type { DType } from "../core/dtype.js";
import { checkOptions, is } from "../core/options.js";

type X = Tensor | ArrayInput;

const floatArg = (name: string, x: X): Tensor => promote(name, [asTensor(x, name)], "float")[0]!;

/**
 * relu(x) = max(x, 0), with derivative 0 at x = 0 (as JAX). Written as where(x <= 0, 0, x) so a
 * NaN fails the test and passes through (NumPy maximum, JAX, PyTorch): where(x > 0, x, 0) would
 * turn an upstream NaN into 0 and hide it from debugNans.
 */
export function relu(x: X): Tensor {
  const t = asTensor(x, "relu");
  return np.where(np.lessEqual(t, 0), np.zerosLike(t), t);
}

/** relu6(x) = min(max(x, 0), 6); NaN stays NaN (NaN > 6 is false, and relu keeps it). */
export function relu6(x: X): Tensor {
  const t = asTensor(x, "relu6");
  return np.where(np.greater(t, 6), np.fullLike(t, 6), relu(t));
}

/** The logistic function 1 / (1 + exp(-x)). */
export function sigmoid(x: X): Tensor {
  return np.sigmoid(floatArg("sigmoid", x));
}

export function tanh(x: X): Tensor {
  return np.tanh(floatArg("tanh", x));
}

/** softplus(x) = log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) to avoid overflow. */
export function softplus(x: X): Tensor {
  const t = floatArg("softplus", x);
  return np.add(relu(t), np.log1p(np.exp(np.negative(np.abs(t)))));
}

/** log(sigmoid(x)) = -softplus(-x). */
export function logSigmoid(x: X): Tensor {
  return np.negative(softplus(np.negative(floatArg("logSigmoid", x))));
}

/** silu(x) = x * sigmoid(x) (also called swish). */
export function silu(x: X): Tensor {
  const t = floatArg("silu", x);
  return np.multiply(t, np.sigmoid(t));
}
export const swish = silu;

/** leakyRelu(x, negativeSlope = 0.01): x for x >= 0, negativeSlope * x otherwise. */
export function leakyRelu(x: X, negativeSlope = 0.01): Tensor {
  const t = floatArg("leakyRelu", x);
  return np.where(np.greaterEqual(t, 0), t, np.multiply(negativeSlope, t));
}

/** elu(x, alpha = 1): x for x > 0, alpha * (exp(x) - 1) otherwise. */
export function elu(x: X, alpha = 1): Tensor {
  const t = floatArg("elu", x);
  const pos = np.greater(t, 0);
  // expm1 sees only non-positive values, so the unused branch cannot overflow to inf * 0 = NaN
  return np.where(pos, t, np.multiply(alpha, np.expm1(np.where(pos, np.zerosLike(t), t))));
}

export interface GeluOpts {
  /** true (default): the tanh approximation; false: the exact x * Phi(x) via erf */
  approximate?: boolean;
}

/** gelu(x) = x * Phi(x) (Phi: the standard normal CDF), by default with JAX's tanh approximation. */
export function gelu(x: X, opts: GeluOpts = {}): Tensor {
  checkOptions("gelu", opts, { approximate: is.boolean });
  const t = floatArg("gelu", x);
  if (opts.approximate ?? true) {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const inner = np.multiply(Math.sqrt(2 / Math.PI), np.add(t, np.multiply(0.044715, np.multiply(t, np.multiply(t, t)))));
    return np.multiply(np.multiply(0.5, t), np.add(1, np.tanh(inner)));
  }
  return np.multiply(np.multiply(0.5, t), np.add(1, np.erf(np.multiply(t, Math.SQRT1_2))));
}

export interface AxisOpts {
  axis?: Axis | null;
}

/** The stop-gradient shift for the softmax family: the max over axes, or 0 where it is infinite. */
function stableShift(t: Tensor, axis: Axis | null | undefined): Tensor {
  if (t.aval.shape.some((d) => d === 0)) return np.zerosLike(np.sum(t, { axis, keepdims: true }));
  const m = np.max(t, { axis, keepdims: true });
  return stopGradient(np.where(np.isfinite(m), m, np.zerosLike(m)));
}

/** softmax(x, {axis = -1}): exp(x) / sum(exp(x)) along axis, computed stably. */
export function softmax(x: X, opts: AxisOpts = {}): Tensor {
  checkOptions("softmax", opts, { axis: is.nullable(is.axes) });
  const t = floatArg("softmax", x);
  const axis = np.normalizeAxes("softmax", opts.axis === undefined ? -1 : opts.axis, t.aval.ndim);
  const e = np.exp(np.subtract(t, stableShift(t, axis)));
  return np.divide(e, np.sum(e, { axis, keepdims: true }));
}

/** logSoftmax(x, {axis = -1}): x - logsumexp(x) along axis, computed stably. */
export function logSoftmax(x: X, opts: AxisOpts = {}): Tensor {
  checkOptions("logSoftmax", opts, { axis: is.nullable(is.axes) });
  const t = floatArg("logSoftmax", x);
  const axis = np.normalizeAxes("logSoftmax", opts.axis === undefined ? -1 : opts.axis, t.aval.ndim);
  const shifted = np.subtract(t, stableShift(t, axis));
  return np.subtract(shifted, np.log(np.sum(np.exp(shifted), { axis, keepdims: true })));
}

export interface LogsumexpOpts {
  /** default: all axes */
  axis?: Axis | null;
  keepdims?: boolean;
}

/** logsumexp(x, {axis?, keepdims?}): log(sum(exp(x))), stable; its gradient is softmax(x). */
export function logsumexp(x: X, opts: LogsumexpOpts = {}): Tensor {
  checkOptions("logsumexp", opts, { axis: is.nullable(is.axes), keepdims: is.boolean });
  const t = floatArg("logsumexp", x);
  const axes = np.normalizeAxes("logsumexp", opts.axis, t.aval.ndim);
  const m = stableShift(t, axes);
  const out = np.add(np.log(np.sum(np.exp(np.subtract(t, m)), { axis: axes, keepdims: true })), m);
  return opts.keepdims ? out : np.squeeze(out, axes);
}

export interface OneHotOpts {
  dtype?: DType;
  /** where the class axis goes in the result (default -1: last) */
  axis?: number;
}

/**
 * oneHot(labels, numClasses, {dtype = float32, axis = -1}): 1 where the label equals the class
 * index, 0 elsewhere; labels outside [0, numClasses) give an all-zero row (as JAX).
 */
export function oneHot(labels: X, numClasses: number, opts: OneHotOpts = {}): Tensor {
  checkOptions("oneHot", opts, { dtype: is.any, axis: is.int() });
  const l = asTensor(labels, "oneHot");
  intArg("oneHot", "numClasses", numClasses, 0);
  const dtype = dtypeArg("oneHot", opts.dtype) ?? "float32";
  const classes = np.arange(numClasses, { dtype: "int32" });
  const hot = np.equal(np.expandDims(l, -1), classes);
  const out = np.astype(hot, dtype);
  const axis = opts.axis ?? -1;
  return axis === -1 || axis === l.aval.ndim ? out : np.moveaxis(out, -1, axis);
}

export interface LossOpts {
  /** the class axis (default -1) */
  axis?: number;
}

/** softmaxCrossEntropy(logits, labels): -sum(labels * logSoftmax(logits)) over the class axis. */
export function softmaxCrossEntropy(logits: X, labels: X, opts: LossOpts = {}): Tensor {
  checkOptions("softmaxCrossEntropy", opts, { axis: is.int() });
  const axis = opts.axis ?? -1;
  return np.negative(np.sum(np.multiply(asTensor(labels, "softmaxCrossEntropy"), logSoftmax(logits, { axis })), { axis }));
}

/**
 * softmaxCrossEntropyWithIntegerLabels(logits, labels): -logSoftmax(logits)[label] per example;
 * `labels` (int32) has the logits' shape without the class axis.
 */
export function softmaxCrossEntropyWithIntegerLabels(logits: X, labels: X, opts: LossOpts = {}): Tensor {
  checkOptions("softmaxCrossEntropyWithIntegerLabels", opts, { axis: is.int() });
  const lp = logSoftmax(logits, { axis: opts.axis ?? -1 });
  const axis = np.normalizeAxes("softmaxCrossEntropyWithIntegerLabels", opts.axis ?? -1, lp.aval.ndim)[0]!;
  const l = asTensor(labels, "softmaxCrossEntropyWithIntegerLabels");
  const expected = lp.aval.shape.filter((_, i) => i !== axis);
  if (!shapeEq(l.aval.shape, expected)) {
    throw new ArgumentError(
      `softmaxCrossEntropyWithIntegerLabels: labels ${l.aval} must have the shape of logits ${lp.aval} without axis ${axis}`,
    );
  }
  const picked = np.takeAlongAxis(lp, np.expandDims(l, axis), axis);
  return np.negative(np.squeeze(picked, axis));
}

/** sigmoidBinaryCrossEntropy(logits, labels): elementwise -[y log s(x) + (1 - y) log(1 - s(x))], stably. */
export function sigmoidBinaryCrossEntropy(logits: X, labels: X): Tensor {
  const x = floatArg("sigmoidBinaryCrossEntropy", logits);
  // -y log s(x) - (1 - y) log s(-x) = softplus(x) - y x
  return np.subtract(softplus(x), np.multiply(asTensor(labels, "sigmoidBinaryCrossEntropy"), x));
}

/** standardize(x, {axis = -1, eps = 1e-5}): (x - mean) / sqrt(var + eps) along axis (layer norm without scale). */
export function standardize(x: X, opts: { axis?: Axis; eps?: number } = {}): Tensor {
  checkOptions("standardize", opts, { axis: is.axes, eps: is.number(0) });
  const t = floatArg("standardize", x);
  const axis = opts.axis ?? -1;
  const m = np.mean(t, { axis, keepdims: true });
  const v = np.var(t, { axis, keepdims: true });
  return np.divide(np.subtract(t, m), np.sqrt(np.add(v, opts.eps ?? 1e-5)));
}
export { conv1d, conv2d, maxPool, avgPool } from "./nn-conv.js";
export type { ConvNdOpts, PoolOpts } from "./nn-conv.js";
