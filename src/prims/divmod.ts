// NumPy's floor division and remainder (np.floor_divide, np.mod / np.remainder) as scalar
// functions, written once as a runtime (core/runtime-text.ts): the reference implementations in
// prims/binary.ts and the wasm imports call them, JS kernels and exported modules embed their
// text (DIVMOD_JS, declaring $modF, $modI, $floorDivF, $floorDivI).
//
// Floats follow NumPy's npy_divmod exactly: the remainder has the sign of the divisor (a zero
// remainder is +0 or -0 after the divisor), the quotient is (a - mod) / b rounded to the
// integer it approximates (so 1 // 0.1 is 9, as NumPy, where floor(1 / 0.1) would give 10), and
// division by zero gives a / b (+-inf or NaN) for the quotient and NaN for the remainder.
// int32 follows NumPy's integer semantics: x // 0 and x % 0 are 0 (NumPy warns; JAX/XLA gives
// other values), INT_MIN // -1 wraps to INT_MIN and INT_MIN % -1 is 0.

import { defineRuntime } from "../core/runtime-text.js";

function divmodRuntime() {
  function modF(a: number, b: number): number {
    const m = a % b; // C fmod, exact
    if (b === 0) return m; // NaN
    if (m !== 0) return b < 0 !== m < 0 ? m + b : m;
    return b < 0 ? -0 : 0;
  }
  function floorDivF(a: number, b: number): number {
    if (b === 0) return a / b;
    const m = a % b;
    let d = (a - m) / b;
    if (m !== 0 && b < 0 !== m < 0) d -= 1;
    if (d === 0) return 0 * (a / b); // a zero with the quotient's sign
    const f = Math.floor(d);
    return d - f > 0.5 ? f + 1 : f;
  }
  function modI(a: number, b: number): number {
    if (b === 0) return 0;
    const m = a % b;
    return m !== 0 && b < 0 !== m < 0 ? m + b : m;
  }
  function floorDivI(a: number, b: number): number {
    // the double quotient of two int32 values floors exactly (its distance to an integer exceeds
    // half an ulp); | 0 wraps INT_MIN / -1 as NumPy does
    return b === 0 ? 0 : Math.floor(a / b) | 0;
  }
  return { modF, floorDivF, modI, floorDivI };
}

const DIVMOD = defineRuntime(divmodRuntime, []);
/** The functions, in-process. */
export const divmod = DIVMOD.value;
/** The text generated code embeds: declares $modF, $floorDivF, $modI, $floorDivI. */
export const DIVMOD_JS = DIVMOD.text;
