// adgen: automatic differentiation for TypeScript as program generation. Public entry point.

import "./trace/eval.js";
import "./backends/wasm/matmul.js";
import { installMethods } from "./api/methods.js";
import { backward } from "./eager/tape.js";

installMethods({ backward });

export { Tensor } from "./core/tensor.js";
export type { TensorLike } from "./core/tensor.js";
export type { DType } from "./core/dtype.js";
export * from "./core/errors.js";
export * as np from "./api/np/index.js";
export * as nn from "./api/nn.js";
export * as random from "./api/random.js";
export * as optim from "./api/optim.js";
export * as tree from "./api/tree.js";
export * as lax from "./api/lax.js";
export { jvp } from "./transforms/jvp.js";
export { vjp, grad, valueAndGrad } from "./transforms/vjp.js";
export { vmap } from "./transforms/vmap.js";
export { linearize } from "./transforms/linearize.js";
export { linearTranspose } from "./transforms/transpose.js";
export { jacfwd, jacrev, hessian } from "./transforms/jac.js";
export { variable, noGrad } from "./eager/tape.js";
export { makeProgram } from "./trace/make-program.js";
export { spec, ArgSpec } from "./core/spec.js";
export { Program } from "./ir/program.js";
export { stopGradient } from "./prims/unary.js";
export { customJvp, customVjp } from "./transforms/custom.js";
export { checkpoint } from "./transforms/checkpoint.js";
export { jit } from "./jit/jit.js";
export type { Jitted, JitOptions, CacheInfo } from "./jit/jit.js";
export type { GraphBreak, GraphBreakStats } from "./hybrid/graph-breaks.js";
export { Lowered } from "./jit/lowered.js";
export { config } from "./core/config.js";
export type { Config, LogEvent } from "./core/config.js";
export { exportFunction, exportVjp, exportJvp, Exported } from "./aot/export.js";
export type { Manifest } from "./aot/manifest.js";
export { exportOnnx, exportOnnxVjp, exportOnnxJvp, OnnxExported } from "./onnx/export.js";
