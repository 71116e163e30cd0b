// The names of the registered primitives, as a type: the per-primitive rule tables outside the
// primitive objects (lowering in lower/rules.ts, ONNX export in onnx/table.ts) are mapped types
// over it, so a primitive without a row is a compile error. test/onnx.test.ts and
// test/lower-rules.test.ts check that these names and the registry (higher-order/registry.ts) agree.

export type PrimName =
  | "exp" | "log" | "log1p" | "expm1" | "sin" | "cos" | "tan" | "tanh" | "logistic" | "sqrt"
  | "asin" | "acos" | "atan" | "sinh" | "cosh" | "asinh" | "acosh" | "atanh" | "log2" | "log10" | "exp2"
  | "abs" | "sign" | "floor" | "ceil" | "round" | "neg" | "stop_gradient" | "convert_element_type"
  | "add" | "sub" | "mul" | "div" | "pow" | "max" | "min" | "mod" | "floor_divide" | "atan2" | "hypot"
  | "compare" | "logical" | "not" | "select"
  | "reduce_sum" | "reduce_max" | "reduce_min" | "reduce_prod" | "argmax" | "argmin" | "cumsum" | "cumprod"
  | "dot_general"
  | "reshape" | "transpose" | "broadcast_in_dim" | "concatenate" | "pad" | "slice" | "rev" | "window_patches"
  | "gather" | "scatter_add" | "scatter" | "sort" | "index_check" | "erf" | "random_bits" | "random_split" | "random_fold_in" | "dim_value"
  | "jit_call" | "scan" | "cond" | "while" | "while_lin"
  | "custom_jvp_call" | "custom_vjp_call" | "custom_lin" | "checkpoint" | "checkpoint_name";
