// The optimization passes' public surface: each pass by name, the pipeline, and the pieces
// (rule table, size rule, keys) other stages build on.

export { optimize, countEquations, recursively, lookupPass, PASSES, DEFAULT_PASSES, type OptimizeOptions } from "./pipeline.js";
export { dce, liveVariables } from "./dce.js";
export { cse, equationKey, canonicalParam, atomKey } from "./cse.js";
export { fold, foldWhere, foldSizeAllowed, evaluateConstantEquation } from "./fold.js";
export { simplify, simplifyWith, makeSimplifier, type SimplifyRule, type RuleContext, type Rewrite, type SimplifyResult } from "./simplify.js";
export { DEFAULT_RULES } from "./simplify-rules.js";
export { activity } from "./activity.js";
export type { Pass } from "./rewrite.js";
