// Scalar helpers of the generated JavaScript, written once as a runtime (core/runtime-text.ts):
// max and min that propagate NaN (NumPy/JAX) and otherwise keep the second operand when the two
// compare equal (-0 and +0: unlike Math.max), and round-half-to-even. The
// primitives' reference functions (prims/binary.ts, prims/unary.ts) are these very functions; the
// JS backend's prelude (backends/js/scalar.ts) embeds their text as $max, $min, $roundHalfEven.

import { defineRuntime } from "../core/runtime-text.js";

function scalarRuntime() {
  function max(a: number, b: number): number {
    return a !== a || b !== b ? NaN : a > b ? a : b;
  }
  function min(a: number, b: number): number {
    return a !== a || b !== b ? NaN : a < b ? a : b;
  }
  function roundHalfEven(a: number): number {
    const r = Math.round(a);
    return Math.abs(a % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }
  return { max, min, roundHalfEven };
}

const SCALAR = defineRuntime(scalarRuntime, []);
/** The helpers, in-process. */
export const scalarHelpers = SCALAR.value;
/** The text generated code embeds: declares $max, $min, $roundHalfEven. */
export const SCALAR_JS = SCALAR.text;
