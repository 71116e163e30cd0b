// Functions with ordinary JS control flow on values that depend on their input (if/else, a while
// loop with a data-dependent trip count, an early return, Math.max over .item()s, recursion, a JS
// sort over .toArray()), shared by the hybrid tests. Every decision is appended to `trail`, so a
// test can check that a transformation took the same path as eager evaluation, and skip central
// differences whose +-eps points would take another path.

import { Tensor, np } from "../../src/index.js";

export const trail: string[] = [];
const note = <T>(v: T): T => {
  trail.push(String(v));
  return v;
};

/** Runs fn and returns the decisions it made. */
export function pathOf(fn: () => unknown): string {
  const start = trail.length;
  fn();
  return trail.splice(start).join(",");
}

function rec(y: Tensor, depth: number): Tensor {
  if (np.sum(np.square(y)).item() < 0.25 || depth >= 30) {
    note(depth);
    return np.sum(np.cos(y)).mul(depth + 1);
  }
  return rec(np.tanh(y).mul(0.7), depth + 1);
}

/** Scalar functions of a float tensor of shape [3]. */
export const constructs: Record<string, (x: Tensor) => Tensor> = {
  "if/else on item": (x) => {
    if (note(np.sum(x).item() > 0)) return np.sum(np.sin(x).mul(x));
    return np.sum(np.cos(x)).mul(2);
  },
  "Number of x and a JS comparison": (x) => {
    const a = x.index(0);
    const b = x.index(1);
    if (note(Number(a) > (b as unknown as number))) return a.mul(b).add(np.exp(x.index(2)));
    return np.tanh(a).sub(x.index(2).mul(x.index(2)));
  },
  "while with a data-dependent trip count": (x) => {
    let y = x;
    let n = 0;
    while (np.max(np.abs(y)).item() > 0.4 && n < 60) {
      y = np.sin(y).mul(0.8).add(y.mul(0.1));
      n++;
    }
    note(n);
    return np.sum(y.mul(y)).add(np.sum(x));
  },
  "early return from a loop": (x) => {
    let acc = np.sum(x.mul(0.5));
    for (let i = 0; i < 3; i++) {
      const xi = x.index(i);
      if (xi.item() < -0.5) {
        note(i);
        return acc.mul(xi);
      }
      acc = acc.add(np.square(xi));
    }
    note(-1);
    return acc;
  },
  "Math.max over items": (x) => {
    const vals = [0, 1, 2].map((i) => x.index(i).item());
    const k = note(vals.indexOf(Math.max(...vals)));
    const reps = note(Math.ceil(Math.max(np.sum(x).item(), 0.5)));
    let y = x.index(k);
    for (let j = 0; j < reps; j++) y = np.sin(y).add(x.index((k + 1) % 3).mul(0.3));
    return y;
  },
  recursion: (x) => rec(x, 0),
  "toArray and a JS sort": (x) => {
    const v = x.toArray() as number[];
    const order = note([0, 1, 2].sort((a, b) => v[a]! - v[b]!).join(""));
    let acc = np.sum(np.sin(x));
    [...order].forEach((c, r) => (acc = acc.add(x.index(Number(c)).mul(r + 1))));
    return acc.mul(np.sum(np.cos(x)));
  },
};
