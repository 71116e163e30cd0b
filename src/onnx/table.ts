// The per-primitive ONNX mapping table: one rule per registered primitive name. `PrimName`
// (prims/names.ts) lists the registry's names (the registry types them as plain strings), and the
// table is a mapped type over it, so a name without a row is a compile error; test/onnx.test.ts
// checks that PrimName and the registry hold exactly the same names, so a primitive added to the
// registry without a row here fails the suite.

import type { PrimName } from "../prims/names.js";
import type { OnnxRule } from "./emit.js";
import { ARRAY_RULES } from "./rules-array.js";
import { CONTROL_RULES } from "./rules-control.js";
import { ELEMENTWISE_RULES } from "./rules-elementwise.js";
import { MATH_RULES } from "./rules-math.js";

export type { PrimName } from "../prims/names.js";

export const ONNX_RULES: { readonly [K in PrimName]: OnnxRule } = {
  ...ELEMENTWISE_RULES,
  ...MATH_RULES,
  ...ARRAY_RULES,
  ...CONTROL_RULES,
};

/** The default opset the exporter targets (ai.onnx). */
export const ONNX_OPSET = 18;
/** The IR version written with it (IR 8 is the first that supports opset 18). */
export const ONNX_IR_VERSION = 8;
