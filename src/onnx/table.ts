// The per-primitive ONNX mapping table: one rule per registered primitive name. `PrimName` lists
// the registry's names (the registry types them as plain strings), and the table is a mapped type
// over it, so a name without a row is a compile error; test/onnx.test.ts checks that PrimName and
// the registry hold exactly the same names, so a primitive added to the registry without a row
// here fails the suite.

import type { OnnxRule } from "./emit.js";
import { ARRAY_RULES } from "./rules-array.js";
import { CONTROL_RULES } from "./rules-control.js";
import { ELEMENTWISE_RULES } from "./rules-elementwise.js";

export type PrimName =
  | "exp" | "log" | "log1p" | "expm1" | "sin" | "cos" | "tan" | "tanh" | "logistic" | "sqrt"
  | "abs" | "sign" | "floor" | "ceil" | "round" | "neg" | "stop_gradient" | "convert_element_type"
  | "add" | "sub" | "mul" | "div" | "pow" | "max" | "min"
  | "compare" | "logical" | "not" | "select"
  | "reduce_sum" | "reduce_max" | "reduce_min" | "reduce_prod" | "argmax" | "argmin"
  | "dot_general"
  | "reshape" | "transpose" | "broadcast_in_dim" | "concatenate" | "pad" | "slice" | "rev"
  | "gather" | "scatter_add" | "index_check" | "erf" | "random_bits" | "random_split" | "random_fold_in" | "dim_value"
  | "jit_call" | "scan" | "cond" | "while" | "while_stack"
  | "custom_jvp_call" | "custom_vjp_call" | "custom_lin" | "checkpoint";

export const ONNX_RULES: { readonly [K in PrimName]: OnnxRule } = {
  ...ELEMENTWISE_RULES,
  ...ARRAY_RULES,
  ...CONTROL_RULES,
};

/** The default opset the exporter targets (ai.onnx). */
export const ONNX_OPSET = 18;
/** The IR version written with it (IR 8 is the first that supports opset 18). */
export const ONNX_IR_VERSION = 8;
