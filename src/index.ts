// adgen: automatic differentiation for TypeScript as program generation. Public entry point,
// and the one place that connects the layers (src/README.md lists them, lowest first). A lower
// layer that needs a capability of a higher one exposes a single hook; no module installs
// anything when it is imported, so the wiring below is the whole story, read top to bottom.

import { setRootTrace } from "./trace/trace.js";
import { evalTrace, installCaptureHook, installTapeHook } from "./trace/eval.js";
import { captureOp, repeatsSoFar } from "./hybrid/capture.js";
import { backward, record, tapeSourceHook } from "./eager/tape.js";
import { installProgramRunner } from "./higher-order/runner.js";
import { compiledFor } from "./jit/compile.js";
import { installOrtCompiler } from "./jit/tier.js";
import { compileOrtSpecialization } from "./onnx/jit-backend.js";
import { installMethods } from "./api/methods.js";
import { verifyEveryProgram } from "./ir/program.js";
import { verifyProgram } from "./ir/verify.js";
import { verifyEveryLoweredProgram } from "./lower/verify.js";
import { observePhases } from "./core/profile.js";
import { timelinePhases } from "./jit/timeline.js";
import { gradCaptureHook, rematHook } from "./transforms/args.js";
import { capturedValueAndGrad } from "./hybrid/capture-grad.js";
import { budgetPolicy, checkpointed } from "./higher-order/checkpoint.js";

// trace: primitives applied outside any transformation run eagerly (reference implementations)
setRootTrace(evalTrace);
// trace <- eager: eager ops on tensors tracked by `variable` are recorded for `backward()`
installTapeHook(record);
// trace <- hybrid: with config.capture, eager ops are deferred into captured regions
installCaptureHook(captureOp);
// higher-order <- jit: jit_call and the bodies of scan / while / cond / checkpoint / custom_*
// run compiled (cached per Program)
installProgramRunner((p, args, name) => compiledFor(p, name).run(args));
// jit <- onnx: config.backend "onnxruntime" compiles specializations to ONNX Runtime sessions
// (onnxruntime-node is loaded on first use, not here)
installOrtCompiler(compileOrtSpecialization);
// core/tensor <- api: the Tensor methods (x.sum(), x.reshape(...), x.backward())
installMethods({ backward });
// ir, lower: with ADGEN_VERIFY=1 (the test suite), every Program is verified as it is built (after
// tracing, each transformation and each pass), and every lowered program's kernels after lowering
if ((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.ADGEN_VERIFY === "1") {
  verifyEveryProgram((p) => verifyProgram(p, "new program"));
  verifyEveryLoweredProgram(true);
}
// core/profile <- jit/timeline: with config.traceFile, every measured compile phase is a span
observePhases(timelinePhases);
// transforms <- higher-order: grad's memoryBudget makes f one checkpoint region with a budget policy
rematHook.wrap = (what, f, budget, dims) => checkpointed(f, budgetPolicy(what, budget, dims));
// transforms <- hybrid: with config.capture, a grad/valueAndGrad call outside any transformation
// replays a cached compiled program when the structure its JS records repeats
gradCaptureHook.run = capturedValueAndGrad;
// eager <- hybrid: tape nodes of a captured region that repeats a known structure skip their source line
tapeSourceHook.skip = repeatsSoFar;

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
export { savedTensors, savedTensorsHooks, SavedTensors } from "./eager/saved.js";
export type { SavedTensor, SavedTensorHooks } from "./eager/saved.js";
export { makeProgram } from "./trace/make-program.js";
export { spec, ArgSpec } from "./core/spec.js";
export { Program } from "./ir/program.js";
export { stopGradient } from "./prims/unary.js";
export { customJvp, customVjp } from "./api/custom.js";
export { checkpoint, checkpointName, checkpointPolicies, planCheckpoint } from "./api/checkpoint.js";
export { memoryReport } from "./api/memory-report.js";
export type { MemoryReport, MemoryReportOptions } from "./api/memory-report.js";
export type { CheckpointOptions, CheckpointPolicy, MemoryBudget, RematPlan, SaveablePredicate } from "./api/checkpoint.js";
export { jit } from "./hybrid/graph-breaks.js";
export type { Jitted, JitOptions, CacheInfo } from "./jit/jit.js";
export type { GraphBreak, GraphBreakStats } from "./hybrid/graph-breaks.js";
export { Lowered } from "./jit/lowered.js";
export { cacheReport, SpecializationTable } from "./jit/report.js";
export type { Specialization } from "./jit/report.js";
export { flushTimeline } from "./jit/timeline.js";
export { profileKernels, KernelProfile } from "./jit/profile.js";
export type { KernelTime, ProfileOptions } from "./jit/profile.js";
export { config } from "./core/config.js";
export type { Config, LogEvent } from "./core/config.js";
export { exportFunction, exportVjp, exportJvp, Exported } from "./aot/export.js";
export { exportModule, vjpOf, jvpOf } from "./aot/export-module.js";
export { importModule } from "./aot/import.js";
export { extendModule } from "./aot/extend.js";
export type { Manifest } from "./aot/manifest.js";
export { exportOnnx, exportOnnxVjp, exportOnnxJvp, OnnxExported } from "./onnx/export.js";
