// The eager tape (PyTorch style): `variable(t)` marks a leaf; every primitive applied eagerly to a
// tracked tensor is linearized on the spot (the same JVP rules and transposes as `grad`, one
// primitive at a time) and remembered; `loss.backward()` walks the recorded graph in reverse
// topological order and accumulates `.grad` on the leaves it reaches. Each node keeps the values
// its pullback needs (the residuals of its linearization), passed through the active
// saved-tensor hooks (saved.ts: introspection with `savedTensors(loss)`, pack/unpack hooks with
// `savedTensorsHooks`) and unpacked when `backward()` reaches the node.

import { isFloat } from "../core/dtype.js";
import { DTypeError, GradError } from "../core/errors.js";
import { leafToTensor } from "../core/convert.js";
import { withSource } from "../core/source.js";
import { Tensor, type TapeSlot } from "../core/tensor.js";
import type { Primitive } from "../prims/primitive.js";
import { convert } from "../prims/unary.js";
import { addTangents } from "../prims/rule-helpers.js";
import { scalar } from "../rules/scalar.js";
import { type Tangent, Zero, isZero } from "../rules/zero.js";
import { pullbackOf, vjpFlat } from "../transforms/vjp.js";
import { type TapeNode, nodeSource, packResiduals, tapeOrder, unpackResiduals } from "./saved.js";

let recording = true;

/**
 * hybrid/capture.ts's repeatsSoFar (installed in index.ts): true when the node being recorded
 * belongs to a captured region that repeats one already seen, whose nodes skip their source line.
 */
export const tapeSourceHook: { skip: ((prim: Primitive<any>) => boolean) | null } = { skip: null };

function slot(t: Tensor): TapeSlot | null {
  return t._tape;
}

/** The tape hook of the eager trace (connected in index.ts): records one tracked primitive. */
export function record(prim: Primitive<any>, inputs: Tensor[], params: any): Tensor[] | null {
  if (!recording) return null;
  const active = inputs.map((x) => !!slot(x)?.requiresGrad && isFloat(x.aval.dtype));
  if (!active.some(Boolean)) return null;
  recording = false;
  let res, saved;
  // one stack capture per operation: its linearization's equations share the node's user line
  // ("" is "no line": a repeating captured region's nodes capture none)
  const source = tapeSourceHook.skip?.(prim) ? "" : nodeSource();
  try {
    res = withSource(source, () => vjpFlat((xs) => prim.bind(xs, params), inputs, active));
    saved = packResiduals(res.lin.residuals, inputs); // (pack hooks are not recorded)
  } finally {
    recording = true;
  }
  const node: TapeNode = { prim: prim.name, inputs: inputs.filter((_, i) => active[i]), lin: res.lin, saved, outs: res.outs, source };
  return res.outs.map((o, i) => {
    if (res.lin.outZero[i] || !isFloat(o.aval.dtype)) return o;
    // (a captured value stays deferred: the tracked copy shares it)
    const t = o._alias(o.aval);
    t._tape = { requiresGrad: true, node, grad: null };
    node.outs[i] = t;
    return t;
  });
}

/** Marks a tensor as a leaf whose gradient `backward()` accumulates in `.grad`. */
export function variable(x: Tensor | number | unknown): Tensor {
  const t = leafToTensor(x, "variable");
  if (!isFloat(t.aval.dtype)) throw new DTypeError(`variable: only float tensors can have gradients, got ${t.aval}`);
  const v = t._alias(t.aval.strong());
  v._tape = { requiresGrad: true, node: null, grad: null };
  return v;
}

/** Runs `fn` without recording operations on the tape. */
export function noGrad<T>(fn: () => T): T {
  const prev = recording;
  recording = false;
  try {
    return fn();
  } finally {
    recording = prev;
  }
}

/** Reverse pass from `out` (seeded with `outBar`, default 1 for a scalar). */
export function backward(out: Tensor, outBar?: Tensor | number): void {
  const s = slot(out);
  if (!s?.requiresGrad) {
    throw new GradError(`backward: this tensor (${out.aval}) does not depend on any variable(); nothing to differentiate`);
  }
  let seed: Tensor;
  if (outBar === undefined) {
    if (out.aval.shape.length !== 0) {
      throw new GradError(`backward: the output is ${out.aval}, not a scalar; pass a cotangent: out.backward(outBar)`);
    }
    seed = scalar(1, out.aval.dtype);
  } else {
    seed = leafToTensor(outBar, "backward: outBar");
    if (seed.aval.weak) seed = convert(seed, out.aval.dtype);
    if (!seed.aval.equals(out.aval.strong())) {
      throw new GradError(`backward: outBar is ${seed.aval} but the output is ${out.aval}`);
    }
  }
  // the nodes reachable from `out`, producers first (walked in reverse)
  const order = tapeOrder(s.node as TapeNode | null);
  const cts = new Map<Tensor, Tangent>([[out, seed]]);
  noGrad(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const n = order[k]!;
      const outCts = n.outs.map((o) => cts.get(o) ?? null);
      if (outCts.every((c) => c === null)) continue;
      for (const o of n.outs) cts.delete(o);
      const inCts = pullbackOf(n.lin, unpackResiduals(n), outCts.map((c, i) => c ?? zeroCt(n.outs[i]!)));
      n.inputs.forEach((x, i) => {
        const c = inCts[i]!;
        if (isZero(c)) return;
        const prev = cts.get(x);
        cts.set(x, prev ? addTangents(prev, c) : c);
      });
    }
    // leaves: accumulate into .grad
    for (const [t, c] of cts) {
      const ts = slot(t);
      if (!ts || ts.node !== null || isZero(c)) continue;
      ts.grad = ts.grad ? (addTangents(ts.grad, c) as Tensor) : (c as Tensor);
    }
  });
}

function zeroCt(o: Tensor): Tangent {
  return new Zero(o.aval.strong());
}
