// adgen: automatic differentiation for TypeScript as program generation. Public entry point.
import "./trace/eval.js";
export { Tensor } from "./core/tensor.js";
export { jvp } from "./transforms/jvp.js";
export { vjp, grad, valueAndGrad } from "./transforms/vjp.js";
export { vmap } from "./transforms/vmap.js";
