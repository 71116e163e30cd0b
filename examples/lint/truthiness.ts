// The JS-truthiness pitfall, and the lint rule that catches it. In JavaScript every object is
// truthy, so `if (tensor)` is always true whatever the tensor holds; adgen cannot intercept it
// (there is no hook for truthiness). typescript-eslint's `strict-boolean-expressions` and
// `no-unnecessary-condition` report it at lint time; see eslint.config.mjs beside this file and
// the README's "Limits".

import { np, type Tensor } from "../../src/index.js";

export function clampedWrong(x: Tensor): Tensor {
  const positive = np.greater(np.sum(x), 0);
  if (positive) return x; // BUG: always taken, `positive` is an object. Lint reports this line.
  return np.zerosLike(x);
}

export function clampedRight(x: Tensor): Tensor {
  const positive = np.greater(np.sum(x), 0);
  if (positive.item() !== 0) return x; // explicit: a concrete value (or lax.cond / np.where)
  return np.zerosLike(x);
}
