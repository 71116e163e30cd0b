// The `optim` namespace: optax-style optimizers over pytrees of parameters. An optimizer is a pair
// of pure functions `{ init(params) -> state, update(grads, state, params?) -> [updates, state] }`;
// `applyUpdates(params, updates)` adds the updates. State is a pytree of tensors (the step count
// is an int32 scalar), so a whole training step can be jitted.
//
// A learning rate is a number or a schedule `(step) => number | Tensor` of the step count (0 on
// the first update, as optax). The step is passed as a JS number when the count is concrete, and
// as an int32 scalar Tensor when it is traced (inside jit), where the schedule must use np ops.

import { ArgumentError } from "../core/errors.js";
import { Tensor } from "../core/tensor.js";
import { treeLeaves, treeMap } from "../core/tree.js";
import * as np from "./np/index.js";
import { scalarTensor } from "./np/coerce.js";
import { checkOptions, is } from "../core/options.js";

export type Schedule = number | ((step: number | Tensor) => number | Tensor);

export interface GradientTransformation<S = any> {
  init(params: any): S;
  update(grads: any, state: S, params?: any): [any, S];
}

type Num = number | Tensor;

/** The step as a JS number when known, else the traced count. */
function stepOf(count: Tensor): Num {
  return count.isConcrete ? count.item() : count;
}

function learningRate(name: string, lr: Schedule, count: Tensor): Num {
  if (typeof lr === "number") return lr;
  if (typeof lr !== "function") throw new ArgumentError(`${name}: the learning rate must be a number or a function of the step`);
  const v = lr(stepOf(count));
  if (typeof v !== "number" && !(v instanceof Tensor)) {
    throw new ArgumentError(`${name}: the learning-rate schedule must return a number or a scalar Tensor, got ${typeof v}`);
  }
  return v;
}

function checkLr(name: string, lr: Schedule): void {
  if (typeof lr === "number" ? !Number.isFinite(lr) : typeof lr !== "function") {
    throw new ArgumentError(`${name}: the learning rate must be a finite number or a schedule function, got ${String(lr)}`);
  }
}

const zerosTree = (params: any) => treeMap((p: any) => np.zerosLike(p), params);
const newCount = () => scalarTensor(0, "int32");
const mul = (a: Num, b: Num): Num => (typeof a === "number" && typeof b === "number" ? a * b : np.multiply(a, b));
const scaleTree = (tree: any, s: Num) => treeMap((g: Tensor) => np.multiply(g, s), tree);

export interface SgdOpts {
  momentum?: number;
  nesterov?: boolean;
}

export interface SgdState {
  count: Tensor;
  /** the momentum buffer (absent without momentum) */
  trace?: any;
}

/** sgd(lr, {momentum?, nesterov?}): p -= lr * g, or with a momentum trace t = g + momentum * t. */
export function sgd(lr: Schedule, opts: SgdOpts = {}): GradientTransformation<SgdState> {
  checkOptions("optim.sgd", opts, { momentum: is.number(0), nesterov: is.boolean });
  checkLr("optim.sgd", lr);
  const momentum = opts.momentum ?? 0;
  if (!(momentum >= 0)) throw new ArgumentError(`optim.sgd: momentum must be >= 0, got ${momentum}`);
  return {
    init: (params) => (momentum > 0 ? { count: newCount(), trace: zerosTree(params) } : { count: newCount() }),
    update: (grads, state) => {
      const step = mul(learningRate("optim.sgd", lr, state.count), -1);
      const count = np.add(state.count, 1);
      if (momentum === 0) return [scaleTree(grads, step), { count }];
      const trace = treeMap((g: Tensor, t: Tensor) => np.add(g, np.multiply(momentum, t)), grads, state.trace);
      const dir = opts.nesterov ? treeMap((g: Tensor, t: Tensor) => np.add(g, np.multiply(momentum, t)), grads, trace) : trace;
      return [scaleTree(dir, step), { count, trace }];
    },
  };
}

export interface AdamOpts {
  b1?: number;
  b2?: number;
  eps?: number;
}

export interface AdamState {
  count: Tensor;
  mu: any;
  nu: any;
}

/** Adam's direction mu_hat / (sqrt(nu_hat) + eps) and its new state. */
function adamStep(grads: any, state: AdamState, b1: number, b2: number, eps: number): [any, AdamState] {
  const mu = treeMap((g: Tensor, m: Tensor) => np.add(np.multiply(b1, m), np.multiply(1 - b1, g)), grads, state.mu);
  const nu = treeMap((g: Tensor, v: Tensor) => np.add(np.multiply(b2, v), np.multiply(1 - b2, np.multiply(g, g))), grads, state.nu);
  const count = np.add(state.count, 1);
  const t = stepOf(count);
  // bias corrections 1 - b^t, in float64 (1 - 0.999^t loses digits in float32), then rounded
  // once to each leaf's dtype
  const c1: Num = typeof t === "number" ? 1 - b1 ** t : np.subtract(1, np.power(b1, np.astype(t, "float64")));
  const c2: Num = typeof t === "number" ? 1 - b2 ** t : np.subtract(1, np.power(b2, np.astype(t, "float64")));
  const like = (c: Num, x: Tensor): Num => (typeof c === "number" ? c : np.astype(c, x.dtype));
  const dir = treeMap(
    (m: Tensor, v: Tensor) => np.divide(np.divide(m, like(c1, m)), np.add(np.sqrt(np.divide(v, like(c2, v))), eps)),
    mu,
    nu,
  );
  return [dir, { count, mu, nu }];
}

function adamOpts(name: string, opts: AdamOpts): [number, number, number] {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8 } = opts;
  for (const [k, v] of [["b1", b1], ["b2", b2]] as const) {
    if (!(v >= 0 && v < 1)) throw new ArgumentError(`${name}: ${k} must be in [0, 1), got ${v}`);
  }
  if (!(eps >= 0)) throw new ArgumentError(`${name}: eps must be >= 0, got ${eps}`);
  return [b1, b2, eps];
}

/** adam(lr, {b1 = 0.9, b2 = 0.999, eps = 1e-8}) (Kingma & Ba), with bias-corrected moments. */
export function adam(lr: Schedule, opts: AdamOpts = {}): GradientTransformation<AdamState> {
  checkOptions("optim.adam", opts, { b1: is.number(0, 1), b2: is.number(0, 1), eps: is.number(0) });
  checkLr("optim.adam", lr);
  const [b1, b2, eps] = adamOpts("optim.adam", opts);
  return {
    init: (params) => ({ count: newCount(), mu: zerosTree(params), nu: zerosTree(params) }),
    update: (grads, state) => {
      const step = mul(learningRate("optim.adam", lr, state.count), -1);
      const [dir, next] = adamStep(grads, state, b1, b2, eps);
      return [scaleTree(dir, step), next];
    },
  };
}

/** adamw(lr, {b1, b2, eps, weightDecay = 1e-4}): Adam with decoupled weight decay (needs params in update). */
export function adamw(lr: Schedule, opts: AdamOpts & { weightDecay?: number } = {}): GradientTransformation<AdamState> {
  checkOptions("optim.adamw", opts, { b1: is.number(0, 1), b2: is.number(0, 1), eps: is.number(0), weightDecay: is.number(0) });
  checkLr("optim.adamw", lr);
  const [b1, b2, eps] = adamOpts("optim.adamw", opts);
  const wd = opts.weightDecay ?? 1e-4;
  return {
    init: (params) => ({ count: newCount(), mu: zerosTree(params), nu: zerosTree(params) }),
    update: (grads, state, params) => {
      if (params === undefined) throw new ArgumentError("optim.adamw: update(grads, state, params) needs params for the weight decay");
      const step = mul(learningRate("optim.adamw", lr, state.count), -1);
      const [dir, next] = adamStep(grads, state, b1, b2, eps);
      const decayed = treeMap((d: Tensor, p: Tensor) => np.add(d, np.multiply(wd, p)), dir, params);
      return [scaleTree(decayed, step), next];
    },
  };
}

/** clipByGlobalNorm(maxNorm): scales all gradients down when their joint L2 norm exceeds maxNorm. */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<Record<string, never>> {
  if (!(maxNorm > 0)) throw new ArgumentError(`optim.clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  return {
    init: () => ({}),
    update: (grads, state) => {
      const leaves = treeLeaves(grads) as Tensor[];
      if (leaves.length === 0) return [grads, state];
      const sq = leaves.map((g) => np.sum(np.multiply(g, g)));
      const norm = np.sqrt(sq.reduce((a, b) => np.add(a, b)));
      const scale = np.divide(maxNorm, np.maximum(norm, maxNorm));
      return [treeMap((g: Tensor) => np.multiply(g, np.astype(scale, g.dtype)), grads), state];
    },
  };
}

/** chain(...transforms): applies transformations in sequence (e.g. clipping, then adam). */
export function chain(...ts: GradientTransformation[]): GradientTransformation<any[]> {
  return {
    init: (params) => ts.map((t) => t.init(params)),
    update: (grads, state, params) => {
      let u = grads;
      const next = ts.map((t, i) => {
        const [v, s] = t.update(u, state[i], params);
        u = v;
        return s;
      });
      return [u, next];
    },
  };
}

/** applyUpdates(params, updates): params + updates, leaf by leaf, keeping each parameter's dtype. */
export function applyUpdates(params: any, updates: any): any {
  return treeMap((p: Tensor | number, u: Tensor | number) => {
    const r = np.add(p, u);
    return p instanceof Tensor && r.dtype !== p.dtype ? np.astype(r, p.dtype) : r;
  }, params, updates);
}
